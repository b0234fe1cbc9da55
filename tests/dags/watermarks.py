"""Leave the session's watermark Variables as a test module found them.

Other modules' tests assume an endpoint they sync for the first time has no watermark yet
(a first sync is a full one); a module that syncs the same endpoints restores them after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

PREFIXES = ("ocds_watermark__", "retailnext_watermark__")


def _watermarks() -> dict[str, str]:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        keys = [k for k in session.scalars(select(Variable.key)) if k.startswith(PREFIXES)]
    return {k: Variable.get(k) for k in keys}


@contextmanager
def restored_watermarks() -> Iterator[None]:
    from airflow.models.variable import Variable

    saved = _watermarks()
    try:
        yield
    finally:
        for key in set(_watermarks()) - set(saved):
            Variable.delete(key)
        for key, value in saved.items():
            Variable.set(key, value)
