"""The change model: INSERT / UPDATE / DELETE by window, bulk reloads, append-only log, snapshots."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.emulator.helpers import KEYS, SCALE, fetch_all, get, key, without_action

INCREMENTAL = sorted(set(KEYS) - {"admin_log", "admin_version", "orghier_descendant", "refreshdate", "item_promotion"})


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _key_of(name: str, mapping: dict) -> tuple:
    return tuple(mapping[k] for k in KEYS[name])


def test_generated_windows_over_2025_show_every_action(client):
    items, _ = fetch_all(client, "item", since="2025-04-01T00:00:00Z", before="2025-09-01T00:00:00Z")
    assert {r["action"] for r in items} == {"INSERT", "UPDATE", "DELETE"}


def test_initial_load_is_inserts_and_tombstones(client):
    items, _ = fetch_all(client, "item")
    assert len(items) == SCALE
    assert {r["action"] for r in items} == {"INSERT", "DELETE"}


@pytest.mark.parametrize("name", INCREMENTAL)
def test_window_after_a_mutation_sees_exactly_the_changes(client, state, name):
    params = {"pricetype": "REGULAR"} if name == "item_price" else {}
    t0 = state.ocds.now()
    changed = state.ocds.mutate(name, inserts=3, updates=2, deletes=2, seed=11, **params)
    t1 = state.ocds.now()
    assert [len(changed[k]) for k in ("inserted", "updated", "deleted")] == [3, 2, 2]
    items, _ = fetch_all(client, name, since=_iso(t0), before=_iso(t1), **params)
    actions: dict[str, set] = {"INSERT": set(), "UPDATE": set(), "DELETE": set()}
    for row in items:
        actions[row["action"]].add(key(name, row))
    assert actions["INSERT"] == {_key_of(name, k) for k in changed["inserted"]}
    assert actions["UPDATE"] == {_key_of(name, k) for k in changed["updated"]}
    assert actions["DELETE"] == {_key_of(name, k) for k in changed["deleted"]}
    truth = {key(name, r): r for r in state.ocds.truth(name, **params)}
    for row in without_action([r for r in items if r["action"] != "DELETE"]):
        assert row == truth[key(name, row)], "rows carry their current values"
    for gone in actions["DELETE"]:
        assert gone not in truth
    assert get(client, name, since=_iso(t1), **params).json()["items"] == []
    earlier, _ = fetch_all(client, name, before=_iso(t0), **params)
    assert not {key(name, r) for r in earlier} & actions["INSERT"]


def test_update_of_a_row_created_in_the_window_is_insert(client, state):
    t0 = state.ocds.now()
    inserted = state.ocds.mutate("diff", inserts=40, seed=1)["inserted"]
    state.ocds.mutate("diff", updates=60, seed=2)
    rows, _ = fetch_all(client, "diff", since=_iso(t0))
    new = {_key_of("diff", k) for k in inserted}
    assert {r["action"] for r in rows if key("diff", r) in new} == {"INSERT"}
    assert {r["action"] for r in rows if key("diff", r) not in new} == {"UPDATE"}


def test_related_item_tombstones(client, state):
    t0 = state.ocds.now()
    state.ocds.mutate("item_relateditem", deletes=2, seed=4)
    pairs = get(client, "item_relateditem", since=_iso(t0)).json()["items"]
    assert [(p["action"], p["relateditemaction"]) for p in pairs] == [("DELETE", "DELETE")] * 2


def _refreshdates(client) -> dict[str, str]:
    return {r["entity"]: r["refreshdate"] for r in get(client, "refreshdate").json()["items"]}


def test_bulk_reload_moves_refreshdate_and_drops_rows_silently(client, state):
    state.ocds.mutate("item", inserts=3, updates=3, deletes=4, seed=2)
    before = _refreshdates(client)
    t0 = state.ocds.now()
    result = state.ocds.bulk_reload("item", drop=5)
    after = _refreshdates(client)
    assert after["Item"] == result["refreshdate"] != before["Item"]
    assert datetime.fromisoformat(after["Item"]) > t0
    assert {k: v for k, v in after.items() if k != "Item"} == {k: v for k, v in before.items() if k != "Item"}
    dropped = {_key_of("item", k) for k in result["dropped"]}
    assert len(dropped) == 5
    truth = state.ocds.truth("item")
    assert not dropped & {key("item", r) for r in truth}
    window, _ = fetch_all(client, "item", since=_iso(t0))
    assert {r["action"] for r in window} == {"INSERT"}
    assert without_action(window) == truth
    everything, _ = fetch_all(client, "item")
    assert "DELETE" not in {r["action"] for r in everything}, "tombstones are purged by a reload"
    assert not dropped & {key("item", r) for r in everything}, "no DELETE is ever served for dropped rows"
    single = get(client, "refreshdate", entitytype="item").json()["items"]
    assert single == [{"entity": "Item", "refreshdate": result["refreshdate"]}]


def test_bulk_reload_over_http(client, state):
    response = client.post("/_emulator/ocds/reload", json={"entity": "itemprice", "drop": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["endpoints"] == ["item_price"]
    assert len(body["dropped"]) == 2
    assert client.post("/_emulator/ocds/reload", json={"entity": "nonsense"}).status_code == 400


def test_changes_after_a_reload_are_incremental_again(client, state):
    state.ocds.bulk_reload("diff")
    t0 = state.ocds.now()
    changed = state.ocds.mutate("diff", updates=2, deletes=1, seed=5)
    rows = get(client, "diff", since=_iso(t0)).json()["items"]
    assert sorted(r["action"] for r in rows) == ["DELETE", "UPDATE", "UPDATE"]
    assert len(changed["updated"]) == 2


def test_reset_restores_the_generated_dataset(client, state):
    original = state.ocds.truth("item_image")
    state.ocds.mutate("item_image", inserts=5, updates=5, deletes=5)
    state.ocds.bulk_reload("itemimage", drop=3)
    assert state.ocds.truth("item_image") != original
    assert client.post("/_emulator/ocds/reset").status_code == 200
    assert state.ocds.truth("item_image") == original


def test_admin_log_is_selected_by_logged_and_has_no_action(client, state):
    rows, _ = fetch_all(client, "admin_log", since="2025-03-01T00:00:00Z", before="2025-05-01T00:00:00Z")
    assert rows
    assert all("action" not in r for r in rows)
    for r in rows:
        moment = datetime.fromisoformat(r["logged"][:26] + r["logged"][29:])
        assert (
            datetime.fromisoformat("2025-03-01T00:00:00+00:00")
            <= moment
            < datetime.fromisoformat("2025-05-01T00:00:00+00:00")
        )
    t0 = state.ocds.now()
    state.ocds.mutate("admin_log", inserts=2)
    new = get(client, "admin_log", since=_iso(t0)).json()["items"]
    assert [r["message"] for r in new] == [
        "Emulator.mutate admin_log: test line 1",
        "Emulator.mutate admin_log: test line 2",
    ]
    errors, _ = fetch_all(client, "admin_log", severity="ERROR")
    assert errors and {r["severity"] for r in errors} == {"ERROR"}


def test_every_mutation_is_logged(client, state):
    t0 = state.ocds.now()
    state.ocds.mutate("vat", updates=1)
    lines = get(client, "admin_log", since=_iso(t0)).json()["items"]
    assert len(lines) == 1
    assert "vat" in lines[0]["message"]


def test_admin_version_ignores_every_parameter(client):
    plain = get(client, "admin_version").json()
    assert [(r["version"], r["hotfix"]) for r in plain["items"]] == [
        ("19.1.000", "000"), ("19.1.000", "001"), ("19.1.000", "002")
    ]  # the installed release and its hot fixes, sorted by installed
    assert [r["installed"] for r in plain["items"]] == sorted(r["installed"] for r in plain["items"])
    odd = get(client, "admin_version", since="2999-01-01T00:00:00Z", nodelevel="STORE").json()
    assert odd["items"] == plain["items"]


def test_refreshdate_lists_every_entity(client):
    rows = get(client, "refreshdate").json()["items"]
    assert len(rows) == 12
    assert [r["entity"] for r in rows] == sorted(r["entity"] for r in rows)
    assert all("action" not in r for r in rows)


def test_orghier_descendant_is_the_current_branch(client, state):
    everything = get(client, "orghier_descendant").json()["items"]
    assert len(everything) == len(state.ocds.truth("orghier"))
    company = get(client, "orghier_descendant", nodelevel="COMPANY", nodeid=1).json()["items"]
    assert len(company) == len(everything) - 1
    assert {"levelorder"} <= set(company[0]) and "action" not in company[0]
    district = get(client, "orghier_descendant", nodelevel="DISTRICT", nodeid=1).json()["items"]
    assert {r["hierarchylevel"] for r in district} == {"STORE"}
    assert all(r["parentlevel"] == "DISTRICT" and r["parentid"] == 1 for r in district)
    added = state.ocds.mutate("orghier", inserts=1, seed=3)["inserted"][0]
    region = get(client, "orghier_descendant", nodelevel="REGION", nodeid=1).json()["items"]
    after = get(client, "orghier_descendant").json()["items"]
    assert (added["hierarchylevel"], added["hierarchynodeid"]) in {
        (r["hierarchylevel"], r["hierarchynodeid"]) for r in after
    }
    assert region


def test_log_lines_can_share_logged_and_message(client):
    """A second thread logs the same step at the same time: only ``supplemental`` differs."""
    rows, _ = fetch_all(client, "admin_log")
    pairs = {}
    for row in rows:
        pairs.setdefault((row["logged"], row["message"]), []).append(row)
    twins = [group for group in pairs.values() if len(group) > 1]
    assert twins and all(len({r["supplemental"] for r in group}) == len(group) for group in twins)
    assert len({key("admin_log", r) for r in rows}) == len(rows)


def test_prices_have_several_events_per_item_and_location(client, state):
    """Successive clearance markdowns: events of one item/store differ by ``eventid`` and ``effective``."""
    rows, _ = fetch_all(client, "item_price", pricetype="CLEARANCE")  # a first load: tombstones too
    events: dict[tuple, list[dict]] = {}
    for row in rows:
        events.setdefault((row["loctype"], row["location"], row["item"]), []).append(row)
    assert {len(v) for v in events.values()} == {2}
    for first, second in events.values():
        assert first["eventid"] < second["eventid"] and first["effective"] < second["effective"]
        assert second["price"] < first["price"]
    assert {len(v) for v in _events(state, "INITIAL").values()} == {1}
    assert max(len(v) for v in _events(state, "REGULAR").values()) == 2
    t0 = state.ocds.now()
    added = state.ocds.mutate("item_price", inserts=2, seed=3, pricetype="CLEARANCE")["inserted"]
    window, _ = fetch_all(client, "item_price", pricetype="CLEARANCE", since=_iso(t0))
    assert {(r["action"], r["eventid"]) for r in window} == {("INSERT", k["eventid"]) for k in added}
    for new in added:  # a further markdown of a ranged pair: its earlier events stay
        assert len(events[(new["loctype"], new["location"], new["item"])]) == 2


def _events(state, pricetype: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for row in state.ocds.truth("item_price", pricetype=pricetype):
        out.setdefault((row["loctype"], row["location"], row["item"]), []).append(row)
    return out


def test_a_touched_row_is_no_change_in_a_window_after_its_last_change(client, state):
    t0 = state.ocds.now()
    changed = state.ocds.mutate("diff", updates=1, seed=1)["updated"][0]
    t1 = state.ocds.now()
    touched = state.ocds.mutate("diff", touches=2, seed=2)["touched"]
    later, _ = fetch_all(client, "diff", since=_iso(t1))
    assert {(r["diffid"], r["action"]) for r in later} == {(k["diffid"], "NO_CHANGE") for k in touched}
    wider, _ = fetch_all(client, "diff", since=_iso(t0))
    assert ("UPDATE", changed["diffid"]) in {(r["action"], r["diffid"]) for r in wider}
