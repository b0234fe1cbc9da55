"""Envelopes and spellings the reference itself shows: counts that disagree with the items, both
spellings of a field, vatregion as a flag or a number, local date-times with an offset, a
server that caps ``limit``."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from include.emulator.ocds.readings import ALTERNATE, Readings
from retail_provider.http.errors import InputValidationError
from retail_provider.http.retry import RetryPolicy
from retail_provider.ocds.catalog import get_endpoint
from retail_provider.ocds.hook import OcdsHook
from retail_provider.ocds.sync import sync_endpoint
from tests.support import assert_table_equals_truth

SCHEMA = "ocds_envelope_test"


@pytest.fixture
def hook(airflow_connections, emulator):
    h = OcdsHook("ocds_default", retry_policy=RetryPolicy(max_attempts=3, sleep=lambda s: None))
    yield h
    h.close()
    emulator.state.ocds.set_readings(**Readings().as_dict())


def _sync(hook, emulator, dsn, name, filters=None, since=None, page_size=None):
    endpoint = get_endpoint(name)
    before = emulator.state.ocds.now() + timedelta(microseconds=1)
    with psycopg.connect(dsn) as conn:
        result = sync_endpoint(hook, conn, endpoint, filters=filters, since=since, before=before,
                               sweep=since is None, schema=SCHEMA, page_size=page_size)
        conn.commit()
    return result, before


def _round_trip(hook, emulator, dsn, name, filters=None):
    """A full sync, a batch of changes, an incremental sync: the table equals the truth each time."""
    ocds, f = emulator.state.ocds, filters or {}
    _, t1 = _sync(hook, emulator, dsn, name, filters, page_size=50)
    with psycopg.connect(dsn) as conn:
        assert_table_equals_truth(conn, get_endpoint(name), ocds.truth(name, **f), SCHEMA, filters)
    ocds.mutate(name, inserts=2, updates=3, deletes=1, seed=f"round trip {ocds.readings}",
                pricetype=f.get("pricetype"))
    result, _ = _sync(hook, emulator, dsn, name, filters, since=t1, page_size=50)
    with psycopg.connect(dsn) as conn:
        assert_table_equals_truth(conn, get_endpoint(name), ocds.truth(name, **f), SCHEMA, filters)
    return result


def test_a_count_that_disagrees_warns_and_is_recorded(hook, emulator, warehouse_dsn):
    emulator.state.ocds.set_readings(count_skew=1)  # like the reference's promotion and price examples
    result = _round_trip(hook, emulator, warehouse_dsn, "diff_group")
    assert result.count_mismatches == result.pages == 1
    with psycopg.connect(warehouse_dsn) as conn:
        status, warnings = conn.execute("SELECT status, warnings FROM retail_meta.sync_ledger WHERE id = %s",
                                        (result.sync_id,)).fetchone()
    assert status == "success"
    assert warnings["count_mismatch_pages"] == 1
    page = warnings["count_mismatch"][0]
    assert page["count"] == page["items"] + 1


@pytest.mark.parametrize("name", sorted(ALTERNATE))
def test_both_spellings_of_a_field_load_the_same(hook, emulator, warehouse_dsn, name):
    emulator.state.ocds.set_readings(spelling="alternate")
    _round_trip(hook, emulator, warehouse_dsn, name)


def test_vatregion_as_the_documented_flag_or_the_shown_number(hook, emulator, warehouse_dsn):
    _round_trip(hook, emulator, warehouse_dsn, "location_retailstore")
    emulator.state.ocds.set_readings(vatregion="flag")
    _sync(hook, emulator, warehouse_dsn, "location_retailstore")
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute(f"SELECT DISTINCT vatregion FROM {SCHEMA}.location_retailstore").fetchall() == [("Y",)]


@pytest.mark.parametrize(("name", "filters"), [("vat", None), ("item_price", {"pricetype": "REGULAR"})])
def test_local_date_times_sent_with_an_offset_keep_their_wall_time(hook, emulator, warehouse_dsn, name, filters):
    emulator.state.ocds.set_readings(local_datetimes="offset")
    shown = next(hook.iter_pages(name, filters=filters, limit=1)).records[0]
    assert shown.model_dump().get("effective", shown.model_dump().get("activedate")).tzinfo is None
    _round_trip(hook, emulator, warehouse_dsn, name, filters)  # the truth has the same values without offset
    column = "effective" if name == "item_price" else "activedate"
    with psycopg.connect(warehouse_dsn) as conn:
        value = conn.execute(f"SELECT {column} FROM {SCHEMA}.{name} ORDER BY 1 LIMIT 1").fetchone()[0]
    assert isinstance(value, datetime) and value.tzinfo is None and value.hour in (0, 12)


def test_a_server_that_caps_limit_is_followed_to_the_end(hook, emulator, warehouse_dsn):
    emulator.state.ocds.set_readings(max_limit=40)
    result = _round_trip(hook, emulator, warehouse_dsn, "item_dimensionvalue")
    assert result.count_mismatches == 0


def test_limit_zero_is_refused_before_any_request(hook, emulator):
    calls = len(emulator.state.requests)
    with pytest.raises(InputValidationError, match="limit must be an integer from 1 to 10000.*0 asks OCDS"):
        list(hook.iter_pages("diff", limit=0))
    assert len(emulator.state.requests) == calls
