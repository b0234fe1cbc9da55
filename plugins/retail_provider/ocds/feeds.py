"""Filters chosen without writing Python: per run (DAG Params) and per task (a config file).

* Per run: every OCDS DAG offers the filters its endpoints document (``nodelevel`` +
  ``nodeid``, ``severity``, ``entitytype``) as Params.  A run given one syncs each task for
  that scope (its own watermark); tasks whose endpoint does not take that filter skip.
* Per task: ``config/ocds_scoped_feeds.yaml`` (or the file named by ``OCDS_SCOPED_FEEDS``)
  declares DAGs of scoped tasks, for example one inventory feed per store;
  ``dags/ocds_scoped_feeds.py`` builds them.  The file is checked when the DAG folder is
  parsed: an unknown endpoint, a filter the endpoint does not document or a bad value is an
  import error naming the file, the DAG and the rule.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retail_provider.http.errors import InputValidationError
from retail_provider.ocds.catalog import REFRESH_ENTITIES, get_endpoint
from retail_provider.ocds.models import NODE_LEVELS, SEVERITIES

FEEDS_ENV = "OCDS_SCOPED_FEEDS"
FEEDS_FILE = "ocds_scoped_feeds.yaml"
#: the filters a run may set, as Params: ``(names, JSON schema of each)``
RUN_FILTERS: dict[str, dict[str, Any]] = {
    "nodelevel": {"type": ["null", "string"], "enum": [None, *NODE_LEVELS],
                  "description": "Sync only this org hierarchy node (with nodeid): its own watermark."},
    "nodeid": {"type": ["null", "integer"], "minimum": 0, "description": "The node's id (with nodelevel)."},
    "severity": {"type": ["null", "string"], "enum": [None, *SEVERITIES],
                 "description": "admin/log: only entries of this severity."},
    "entitytype": {"type": ["null", "string"], "enum": [None, *REFRESH_ENTITIES],
                   "description": "refreshdate: only this entity."},
}
#: what the operator's ``run_filters`` renders from the Params
RUN_FILTER_TEMPLATES = {name: f"{{{{ params.{name} if params.{name} is not none else '' }}}}" for name in RUN_FILTERS}


def filter_params(endpoints: list[str]) -> dict[str, Any]:
    """Params for the run filters that at least one of ``endpoints`` documents."""
    from airflow.sdk import Param

    taken = set().union(*(get_endpoint(e).filters for e in endpoints))
    return {name: Param(None, **schema) for name, schema in RUN_FILTERS.items() if name in taken}


class FeedTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str
    filters: dict[str, str | int] = Field(default_factory=dict)
    task_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")


class FeedDag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dag_id: str = Field(pattern=r"^ocds_[a-z0-9_]+$")
    title: str
    summary: str
    cron: str
    tags: list[str] = Field(default_factory=list)
    tasks: list[FeedTask] = Field(min_length=1)


class FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dags: list[FeedDag] = Field(default_factory=list)


def feeds_path(dag_file: str | Path) -> Path:
    """``OCDS_SCOPED_FEEDS``, else ``config/ocds_scoped_feeds.yaml`` beside the DAG folder."""
    configured = os.environ.get(FEEDS_ENV, "").strip()
    return Path(configured) if configured else Path(dag_file).resolve().parents[1] / "config" / FEEDS_FILE


def load_feeds(path: Path) -> list[FeedDag]:
    """The scoped feeds of ``path`` (none when it does not exist), every task checked.

    :raises InputValidationError: naming the file, the DAG and the rule a feed breaks.
    """
    import yaml

    if not path.exists():
        return []
    try:
        feeds = FeedsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise InputValidationError(f"{path}: not a valid scoped feeds file: {exc}", api="ocds") from None
    for dag in feeds.dags:
        for task in dag.tasks:
            try:
                get_endpoint(task.endpoint).validate_filters(task.filters)
            except InputValidationError as exc:
                raise InputValidationError(f"{path}: DAG {dag.dag_id!r}: {exc}", api="ocds") from None
    return feeds.dags


def build_feed_dags(path: Path) -> dict[str, Any]:
    """One DAG per feed of ``path``, by dag id (a DAG file puts them in its globals)."""
    from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

    dags = {}
    for feed in load_feeds(path):
        tasks = [EndpointTask(t.endpoint, {k: str(v) for k, v in t.filters.items()}, t.task_id) for t in feed.tasks]
        ids = [t.id for t in tasks]
        if len(set(ids)) != len(ids):
            raise InputValidationError(f"{path}: DAG {feed.dag_id!r} has two tasks with the same id; "
                                       "give them task_id", api="ocds")
        dags[feed.dag_id] = build_ocds_dag(feed.dag_id, title=feed.title, summary=feed.summary, tasks=tasks,
                                           cron=feed.cron, tags=["scoped", *feed.tags])
    return dags
