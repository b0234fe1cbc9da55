"""Promotions as the reference documents them: no top-level action, nested locations carry
the changes, rewards/conditions/merchandise change over time, withdrawn offers stay offers."""

from __future__ import annotations

from tests.emulator.helpers import fetch_all, get

OFFER = ["promoid", "offerid", "desc", "custdesc", "levelcode", "typecode", "templateid", "couponcode",
         "couponcodereq", "startdatetime", "enddatetime", "canceldatetime", "rewards", "conditions", "locations"]
REWARD = ["rewardid", "changetype", "changeamount", "changepercent", "qtytodisc", "qtytodiscuom", "applyind",
          "pricerestrictcode", "pricerestrictvalue1", "pricerestrictvalue2", "rewardsmerch"]
CONDITION = ["conditionid", "buyspendtype", "buyspendvalue", "buyuom", "pricerestrictcode", "pricerestrictvalue1",
             "pricerestrictvalue2", "conditionsmerch"]
MERCH = ["merchlevel", "dept", "class", "uniqueclass", "subclass", "uniquesubclass", "item", "diffid", "excludeind",
         "canceldatetime"]


def _by_offer(rows):
    return {(r["promoid"], r["offerid"]): r for r in rows}


def _locations(row):
    return {loc["location"]: loc.get("action") for loc in row["locations"]}


def test_offers_have_no_top_level_action_and_every_documented_field(client):
    offers, _ = fetch_all(client, "item_promotion")
    assert offers and all("action" not in o for o in offers)
    assert all(list(o) == OFFER for o in offers)
    rewards = [r for o in offers for r in o["rewards"]]
    assert all(list(r) == REWARD for r in rewards)
    assert all(list(m) == ["rewardmerchid", *MERCH] for r in rewards for m in r["rewardsmerch"] or ())
    conditions = [c for o in offers for c in o["conditions"]]
    assert conditions and all(list(c) == CONDITION for c in conditions)
    assert all(list(m) == ["condmerchid", *MERCH] for c in conditions for m in c["conditionsmerch"])
    assert all(list(loc) == ["action", "location", "canceldatetime"] for o in offers for loc in o["locations"])
    # the documented values are used, not only documented
    assert any(r["qtytodisc"] and r["qtytodiscuom"] for r in rewards)
    assert any(r["pricerestrictcode"] == "B" and r["pricerestrictvalue2"] for r in rewards)
    cond_merch = [m for c in conditions for m in c["conditionsmerch"]]
    assert any(m["item"] and m["diffid"] for m in cond_merch)
    assert any(m["uniquesubclass"] and m["class"] for m in cond_merch)
    assert any(m["canceldatetime"] for m in cond_merch)
    # a first load: live locations are INSERT, locations withdrawn before are DELETE
    assert {a for o in offers for a in _locations(o).values()} == {"INSERT", "DELETE"}


def test_a_delete_withdraws_one_location_and_the_offer_stays(client, state):
    ocds = state.ocds
    before = _by_offer(ocds.truth("item_promotion"))
    t0 = ocds.now()
    deleted = ocds.mutate("item_promotion", deletes=2, seed=4)["deleted"]
    window = get(client, "item_promotion", since=t0.isoformat()).json()["items"]
    assert all("action" not in o for o in window)
    after = _by_offer(ocds.truth("item_promotion"))
    assert after.keys() == before.keys(), "an offer is never deleted"
    for served in window:
        key = (served["promoid"], served["offerid"])
        assert {"promoid": key[0], "offerid": key[1]} in deleted
        assert list(_locations(served).values()) == ["DELETE"]  # only the withdrawn location
        gone = next(iter(_locations(served)))
        assert gone in _locations(before[key]) and gone not in _locations(after[key])


def test_an_offer_with_no_live_location_is_still_an_offer(client, state):
    ocds = state.ocds
    offer = next(o for o in ocds.truth("item_promotion") if len(o["locations"]) == 1)
    key = {"promoid": offer["promoid"], "offerid": offer["offerid"]}
    t0 = ocds.now()
    for seed in range(200):  # withdraw that offer's last location
        if key in ocds.mutate("item_promotion", deletes=1, seed=seed)["deleted"]:
            break
    withdrawn = _by_offer(ocds.truth("item_promotion"))[(offer["promoid"], offer["offerid"])]
    assert withdrawn["locations"] == [] and withdrawn["rewards"] == offer["rewards"]
    served = _by_offer(fetch_all(client, "item_promotion", since=t0.isoformat())[0])
    assert list(_locations(served[(offer["promoid"], offer["offerid"])]).values()) == ["DELETE"]


def test_updates_change_nested_lists_and_serve_only_changed_locations(client, state):
    ocds = state.ocds
    before = _by_offer(ocds.truth("item_promotion"))
    t0 = ocds.now()
    ocds.mutate("item_promotion", updates=12, seed=7)
    after = _by_offer(ocds.truth("item_promotion"))
    changed = {k for k in after if after[k] != before[k]}
    assert changed
    nested = {k for k in changed if (after[k]["rewards"], after[k]["conditions"]) != (before[k]["rewards"],
                                                                                       before[k]["conditions"])}
    assert nested, "rewards, conditions or their merchandise change over time"
    window = _by_offer(fetch_all(client, "item_promotion", since=t0.isoformat())[0])
    assert window.keys() == changed
    for key, served in window.items():
        assert served["rewards"] == after[key]["rewards"] and served["conditions"] == after[key]["conditions"]
        for location, action in _locations(served).items():
            was, now = _locations(before[key]).get(location, "gone"), _locations(after[key]).get(location, "gone")
            assert (action, was == "gone") in (("INSERT", True), ("UPDATE", False)), (location, action)
            assert now != "gone"
        unchanged = set(_locations(after[key])) - set(_locations(served))
        assert all(_locations(before[key]).get(loc, "gone") != "gone" for loc in unchanged)


def test_reading_all_serves_unchanged_live_locations_as_no_change(client, state):
    ocds = state.ocds
    ocds.set_readings(promotion_locations="all")
    t0 = ocds.now()
    ocds.mutate("item_promotion", updates=6, seed=7)
    window = fetch_all(client, "item_promotion", since=t0.isoformat())[0]
    actions = [a for o in window for a in _locations(o).values()]
    assert "NO_CHANGE" in actions
    truth = _by_offer(ocds.truth("item_promotion"))
    for served in window:  # every live location is there
        live = {loc for loc, action in _locations(served).items() if action != "DELETE"}
        assert live == set(_locations(truth[(served["promoid"], served["offerid"])]))


def test_a_node_feed_sees_a_location_withdrawn_under_the_node(client, state):
    ocds = state.ocds
    t0 = ocds.now()
    deleted = ocds.mutate("item_promotion", deletes=3, seed=5)["deleted"]
    window = fetch_all(client, "item_promotion", since=t0.isoformat())[0]
    for served in window:
        (store, action), = _locations(served).items()
        node = get(client, "item_promotion", since=t0.isoformat(), nodelevel="STORE", nodeid=store).json()["items"]
        assert [(o["offerid"], _locations(o)) for o in node if o["offerid"] == served["offerid"]] == [
            (served["offerid"], {store: "DELETE"})
        ]
    assert len(window) == len(deleted)
