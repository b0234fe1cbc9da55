"""Failures that retrying cannot fix fail the task at once.

The HTTP layer knows nothing of Airflow; here its non-transient errors (bad input, refused
credentials) become twins that are also ``AirflowFailException``, so Airflow fails the task
without spending its retries (a wrong password retried for a quarter of an hour helps no
one).  The twin is still an ``InputValidationError`` / ``AuthenticationError``: callers that
catch those keep working.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from retail_provider.http.errors import ApiError, AuthenticationError, InputValidationError

F = TypeVar("F", bound=Callable[..., Any])


class InputRejected(InputValidationError, AirflowFailException):
    """Bad input: nothing was sent, and a retry would send nothing either."""

    reported_type = "InputValidationError"  # what logs and alerts call it


class CredentialsRejected(AuthenticationError, AirflowFailException):
    """401/403: the API refused the credentials; fix the connection, then re-run."""

    reported_type = "AuthenticationError"


_TWINS: dict[type[ApiError], type[ApiError]] = {
    InputValidationError: InputRejected,
    AuthenticationError: CredentialsRejected,
}


def non_retryable(exc: BaseException) -> BaseException | None:
    """The Airflow-aware twin of a non-transient error, or ``None`` for anything else."""
    if isinstance(exc, AirflowFailException):
        return None
    for base, twin in _TWINS.items():
        if isinstance(exc, base):
            assert isinstance(exc, ApiError)
            return twin(str(exc), api=exc.api, status_code=exc.status_code, url=exc.url,
                        retry_after=exc.retry_after)
    return None


def fail_fast(method: F) -> F:
    """Decorate ``execute`` (or ``poke``): non-transient errors fail the task without retries."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ApiError as exc:
            twin = non_retryable(exc)
            if twin is None:
                raise
            raise twin from exc

    return wrapper  # type: ignore[return-value]
