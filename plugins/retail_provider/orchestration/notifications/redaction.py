"""Keep secrets out of alerts.

Every alert text goes through :func:`scrub`: known secret values (the passwords of the
failed task's connections, the webhook URL, the SMTP password) are replaced first, then
Airflow's secrets masker (everything Airflow masked in the task's logs), then the
provider's pattern-based :func:`retail_provider.http.errors.redact` (``password=...``,
``Authorization: ...``, ``token=...``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from retail_provider.http.errors import redact

log = logging.getLogger(__name__)

MASK = "***"
#: values shorter than this are not masked (Airflow's own default): "1" or "a" would shred the text
MIN_SECRET_LENGTH = 5
_SENSITIVE_EXTRA = ("password", "secret", "token", "key", "private", "credential", "passphrase")


def _airflow_redact(text: str) -> str:
    try:
        from airflow.sdk._shared.secrets_masker import redact as masker_redact
    except ImportError:  # pragma: no cover - the Task SDK moved it
        return text
    try:
        out = masker_redact(text)
    except Exception:  # pragma: no cover - the masker must never break an alert
        log.debug("Airflow's secrets masker failed", exc_info=True)
        return text
    return out if isinstance(out, str) else text


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret, every value Airflow masks and every credential-looking
    pattern replaced by ``***``.

    :param text: the alert text.
    :param secrets: extra values to mask (longer ones first, so a URL goes before its token).
    """
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact(_airflow_redact(text))


def url_secrets(url: str | None) -> list[str]:
    """The parts of a webhook URL that are secret: the URL itself, its path (Slack's
    ``/services/T../B../<token>``), its last path segment and its query values."""
    if not url:
        return []
    parts = urlsplit(url)
    out = [url, parts.path, parts.path.rstrip("/").rsplit("/", 1)[-1], parts.query]
    out += [value for _, value in parse_qsl(parts.query)]
    if parts.password:
        out.append(parts.password)
    return [s for s in out if s and len(s) >= MIN_SECRET_LENGTH and s != "/"]


def connection_secrets(conn_ids: Iterable[str]) -> list[str]:
    """Passwords and secret-looking extras of these Airflow connections (read now, at alert
    time; a connection that cannot be read is skipped: it may be why the task failed)."""
    from airflow.sdk import BaseHook

    out: list[str] = []
    for conn_id in dict.fromkeys(c for c in conn_ids if c):
        try:
            conn = BaseHook.get_connection(conn_id)
        except Exception:
            continue
        if conn.password:
            out.append(str(conn.password))
        out += _secret_extras(conn.extra)
    return out


def _secret_extras(extra: Any) -> list[str]:
    if not extra:
        return []
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return []
    if not isinstance(extra, dict):
        return []
    return [str(v) for k, v in extra.items()
            if isinstance(v, str | int) and any(word in str(k).lower() for word in _SENSITIVE_EXTRA)]


def task_conn_ids(task: Any) -> list[str]:
    """Connection ids a task uses: its attributes named ``*conn_id`` (``ocds_conn_id``,
    ``postgres_conn_id``, ``retailnext_conn_id``...)."""
    if task is None:
        return []
    try:
        attrs = vars(task)
    except TypeError:
        return []
    return [v for k, v in attrs.items() if k.endswith("conn_id") and isinstance(v, str) and v]
