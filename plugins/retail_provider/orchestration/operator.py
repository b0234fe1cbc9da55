"""SyncOperator: the skeleton every "API into the warehouse" operator shares.

``execute`` runs the same steps for every vendor and resource:

1. skip unless this task is ``selected`` (a manual run may resync one task of a DAG);
2. :meth:`~SyncOperator.plan`: validate every input and resolve the window, before any API
   call (bad input fails at once, without Airflow retries);
3. open the hook and the warehouse connection; :meth:`~SyncOperator.sync` writes in one
   transaction, which is committed once;
4. after a rollback, a ``failed`` ledger row per table of :meth:`~SyncOperator.targets`
   (read after the sync, so it carries the true mode), then the error is raised;
5. :meth:`~SyncOperator.after_commit`: what may only happen once the data is safe
   (watermarks, data alerts), and the XCom.

Steps 3 and 4 run under a :class:`~retail_provider.orchestration.progress.SyncProgress`: a
start line, progress lines and a summary at INFO, and Airflow metrics, for every vendor.

Every table of :meth:`~SyncOperator.targets` is an outlet of the task (an Asset, see
:mod:`retail_provider.orchestration.assets`), so DAGs can be scheduled on the data; with the
OpenLineage provider installed, the task reports its lineage (the endpoint in, the tables out).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from airflow.sdk import BaseOperator

from retail_provider.orchestration.assets import StaticPlan, lineage_datasets, operator_lineage, table_assets
from retail_provider.orchestration.failures import fail_fast
from retail_provider.orchestration.inputs import is_template, parse_names
from retail_provider.orchestration.progress import SyncProgress, track
from retail_provider.warehouse import WAREHOUSE_CONN_ID
from retail_provider.warehouse.ledger import RUN_INFO_KEYS
from retail_provider.warehouse.tablesync import Target, record_failure


def run_info(context: Any) -> dict[str, Any]:
    """``dag_id``, ``run_id``, ``task_id``, ``try_number`` of the running task (for the ledger)."""
    ti = context.get("ti") if context else None
    return {k: getattr(ti, k, None) for k in RUN_INFO_KEYS}


@contextmanager
def warehouse_connection(conn_id: str) -> Iterator[Any]:
    """A psycopg connection to the warehouse, not in autocommit, closed afterwards."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=conn_id).get_conn()
    try:
        conn.autocommit = False
        yield conn
    finally:
        conn.close()


class SyncOperator(BaseOperator):
    """Base of the operators that load an API into PostgreSQL, one transaction per task.

    :param selected: when set to other names (comma separated) and not ``all``, this task
        skips: one manual run can resync a single endpoint or resource of a DAG. (templated)
    :param postgres_conn_id: the warehouse connection.
    :param schema: warehouse schema of the tables.
    :param batch_rows: staged rows per merge.
    """

    template_fields: Sequence[str] = ("selected",)

    def __init__(self, *, selected: str | None = None, postgres_conn_id: str = WAREHOUSE_CONN_ID,
                 schema: str = "", batch_rows: int = 50_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.selected = selected
        self.postgres_conn_id = postgres_conn_id
        self.schema = schema
        self.batch_rows = batch_rows

    # -- what subclasses provide ----------------------------------------------------------

    def selection_names(self) -> set[str]:
        """Names by which ``selected`` picks this task (besides its task id)."""
        return set()

    def plan(self, context: Any) -> dict[str, Any] | None:
        """Every input checked and the window resolved, before any API call; ``None``: nothing to do."""
        raise NotImplementedError  # pragma: no cover

    def make_hook(self) -> Any:
        raise NotImplementedError  # pragma: no cover

    def sync(self, hook: Any, conn: Any, plan: dict[str, Any], run_info: dict[str, Any]) -> Any:
        """Write into the warehouse inside ``conn``'s transaction; never commit."""
        raise NotImplementedError  # pragma: no cover

    def targets(self, plan: dict[str, Any]) -> list[Target]:
        """The tables of this sync, as the ledger should name them if it fails."""
        raise NotImplementedError  # pragma: no cover

    def after_commit(self, result: Any, plan: dict[str, Any], context: Any) -> Any:
        return result.as_dict()

    def nothing_to_do(self, plan: dict[str, Any] | None) -> Any:
        return {"skipped": "nothing to do"}

    # -- the skeleton ---------------------------------------------------------------------

    @fail_fast
    def execute(self, context: Any) -> Any:
        self.skip_unless_selected()
        plan = self.plan(context)
        if plan is None:
            return self.nothing_to_do(plan)
        info = run_info(context)
        with track(SyncProgress(self.log, self.targets(plan))) as progress, self.make_hook() as hook, \
                warehouse_connection(self.postgres_conn_id) as conn:
            try:
                result = self.sync(hook, conn, plan, info)
                conn.commit()
            except BaseException as exc:
                conn.rollback()
                record_failure(conn, self.targets(plan), exc, run_info=info)
                progress.failed(exc)
                raise
            progress.finished()
        self.__dict__["_synced_targets"] = self.targets(plan)
        return self.after_commit(result, plan, context)

    def skip_unless_selected(self) -> None:
        chosen = parse_names(self.selected)
        if chosen and "all" not in chosen and not chosen & {*self.selection_names(), self.task_id}:
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"this run syncs {', '.join(sorted(chosen))} only")

    # -- Assets and lineage -----------------------------------------------------------------

    def output_tables(self) -> list[str]:
        """The tables this task writes, as known when the DAG file is parsed (``schema.table``)."""
        try:
            plan = self.plan_inputs()
        except Exception:  # templated inputs: the tables do not depend on them
            plan = {}
        try:
            return [t.table for t in self.targets(StaticPlan(plan))]
        except Exception:  # a table named by a template: known only when the task runs
            return []

    @property
    def outlets(self) -> list[Any]:
        """The Assets of :meth:`output_tables` (a successful run updates them), and any others given."""
        given = list(self.__dict__.get("_given_outlets", []))
        return given + [a for a in table_assets(self.output_tables(), self.postgres_conn_id) if a not in given]

    @outlets.setter
    def outlets(self, value: Any) -> None:
        self.__dict__["_given_outlets"] = list(value or [])

    def add_outlets(self, outlets: Any) -> None:
        self.__dict__.setdefault("_given_outlets", []).extend(outlets)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The OpenLineage provider's hook: the endpoints read in, the tables written out."""
        targets = self.__dict__.get("_synced_targets") or []
        if not targets:
            return None
        from airflow.sdk import BaseHook

        with self.make_hook() as hook:
            base_url = hook.base_url()
        inputs, outputs = lineage_datasets(base_url, [t.endpoint for t in targets],
                                           BaseHook.get_connection(self.postgres_conn_id), [t.table for t in targets])
        return operator_lineage(inputs, outputs)

    def check_static(self, fields: Sequence[str]) -> None:
        """Fail at DAG parse time when none of ``fields`` is templated and one breaks a rule."""
        if not any(is_template(getattr(self, name, None)) for name in fields):
            self.plan_inputs()

    def plan_inputs(self) -> dict[str, Any]:
        """The inputs alone, checked without context (used at parse time); default: nothing."""
        return {}
