"""Promotions (``v2/item/promotion``): an offer and its nested collections in six tables.

The reference's offer items have **no top-level action**: changes are carried by
``locations[].action``.  Rewards, conditions and their merchandise carry no action: a record
holds the offer's current collections.  So, per record:

* ``item_promotion``: the offer's own fields, upserted (an offer is never deleted);
* ``item_promotion_location``: each location applied by its own action (INSERT/UPDATE/
  UPSERT/NO_CHANGE/NA upsert it, DELETE deletes it); a location the record does not carry
  is left as it is (a window carries only the locations that changed);
* ``item_promotion_reward``, ``..._reward_merch``, ``..._condition``, ``..._condition_merch``:
  replaced for the offer: rows of this offer that the record no longer carries are deleted
  (as explicit DELETE rows, so the one loader applies them).

An offer whose locations were all deleted stays (with its rewards and conditions);
the view ``item_promotion_state`` says ``withdrawn`` (no live location).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AliasChoices, AwareDatetime, BeforeValidator, Field, TypeAdapter, create_model

from retail_provider.ocds.models import Action, Flag, LocalDateTime, OcdsModel, alias
from retail_provider.warehouse.schema import TableSpec, _json, quote, table_spec

_DATETIME = TypeAdapter(datetime)


def _assume_utc(value: Any) -> Any:
    """Nested cancel times are shown in UTC (``...Z``); one without a zone is read as UTC."""
    if isinstance(value, str | datetime) and value:
        parsed = _DATETIME.validate_python(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


UtcDateTime = Annotated[AwareDatetime, BeforeValidator(_assume_utc)]


class RewardMerch(OcdsModel):
    rewardmerchid: int
    merchlevel: int | None = alias("merchlevel", "mrchlevel")
    dept: int | None = None
    class_: int | None = Field(default=None, validation_alias=AliasChoices("class", "class_"),
                               serialization_alias="class")
    uniqueclass: int | None = None
    subclass: int | None = None
    uniquesubclass: int | None = alias("uniquesubclass", "unisubclass")
    item: str | None = None
    diffid: str | None = None
    excludeind: int | None = None
    canceldatetime: UtcDateTime | None = None


class Reward(OcdsModel):
    rewardid: int
    changetype: int | None = None
    changeamount: Decimal | None = None
    changepercent: Decimal | None = None
    qtytodisc: Decimal | None = None
    qtytodiscuom: str | None = None
    applyind: int | None = alias("applyind", "appyind")
    pricerestrictcode: str | None = None
    pricerestrictvalue1: Decimal | None = alias("pricerestrictvalue1", "pricestrictvalue1")
    pricerestrictvalue2: Decimal | None = None
    rewardsmerch: list[RewardMerch] | None = alias("rewardsmerch", "rwardsmerch")


class ConditionMerch(OcdsModel):
    condmerchid: int
    merchlevel: int | None = None
    dept: int | None = None
    class_: int | None = Field(default=None, validation_alias=AliasChoices("class", "class_"),
                               serialization_alias="class")
    uniqueclass: int | None = None
    subclass: int | None = None
    uniquesubclass: int | None = None
    item: str | None = None
    diffid: str | None = None
    excludeind: int | None = None
    canceldatetime: UtcDateTime | None = None


class Condition(OcdsModel):
    conditionid: int
    buyspendtype: int | None = None
    buyspendvalue: Decimal | None = None
    buyuom: str | None = None
    pricerestrictcode: str | None = None
    pricerestrictvalue1: Decimal | None = None
    pricerestrictvalue2: Decimal | None = None
    conditionsmerch: list[ConditionMerch] | None = None


class PromotionLocation(OcdsModel):
    action: Action
    location: int
    canceldatetime: UtcDateTime | None = None


class Offer(OcdsModel):
    """The offer's own fields (the ``item_promotion`` table)."""

    promoid: int
    offerid: int
    desc: str | None = None
    custdesc: str | None = None
    levelcode: int | None = None
    typecode: int | None = None
    templateid: int | None = None
    couponcode: str | None = None
    couponcodereq: Flag = None
    startdatetime: LocalDateTime | None = None
    enddatetime: LocalDateTime | None = None
    canceldatetime: LocalDateTime | None = None


class Promotion(Offer):
    """One item of ``v2/item/promotion``: no ``action``; the nested locations carry theirs."""

    rewards: list[Reward] | None = None
    conditions: list[Condition] | None = None
    locations: list[PromotionLocation] | None = None


OFFER_KEY = ("promoid", "offerid")


def _row_model(name: str, nested: type[OcdsModel], parents: tuple[str, ...], skip: str = "") -> type[OcdsModel]:
    """A flat row model: the parents' key fields, then ``nested``'s fields (``skip`` left out)."""
    fields: dict[str, Any] = {p: (int, ...) for p in parents}
    fields.update({n: (f.annotation, f) for n, f in nested.model_fields.items() if n not in (skip, "action")})
    return create_model(name, __base__=OcdsModel, **fields)


@dataclass(frozen=True)
class Child:
    """One child table: where its records sit in an offer and how the table is keyed."""

    suffix: str
    model: type[OcdsModel]
    key: tuple[str, ...]
    replaced: bool  # rows not carried by the record are deleted (no action of their own)


CHILDREN = (
    Child("location", _row_model("OfferLocationRow", PromotionLocation, OFFER_KEY), (*OFFER_KEY, "location"), False),
    Child("reward", _row_model("RewardRow", Reward, OFFER_KEY, "rewardsmerch"), (*OFFER_KEY, "rewardid"), True),
    Child("reward_merch", _row_model("RewardMerchRow", RewardMerch, (*OFFER_KEY, "rewardid")),
          (*OFFER_KEY, "rewardid", "rewardmerchid"), True),
    Child("condition", _row_model("ConditionRow", Condition, OFFER_KEY, "conditionsmerch"),
          (*OFFER_KEY, "conditionid"), True),
    Child("condition_merch", _row_model("ConditionMerchRow", ConditionMerch, (*OFFER_KEY, "conditionid")),
          (*OFFER_KEY, "conditionid", "condmerchid"), True),
)


def child_specs(schema: str, table: str, scope_in_key: bool = False) -> list[TableSpec]:
    """The five child tables of the offer table ``table``."""
    return [table_spec(c.model, schema=schema, table=f"{table}_{c.suffix}", key=c.key, scope_in_key=scope_in_key)
            for c in CHILDREN]


def state_view(schema: str, table: str) -> tuple[str, str, str]:
    """``(schema, name, sql)`` of the view that flags offers without a live location."""
    offers, locations = f"{quote(schema)}.{quote(table)}", f"{quote(schema)}.{quote(table + '_location')}"
    name = f"{table}_state"
    sql = (f"CREATE VIEW {quote(schema)}.{quote(name)} AS SELECT o.promoid, o.offerid, "
           "count(l.location) AS live_locations, count(l.location) = 0 AS withdrawn "
           f"FROM {offers} o LEFT JOIN {locations} l ON l.promoid = o.promoid AND l.offerid = o.offerid "
           "GROUP BY o.promoid, o.offerid")
    return schema, name, sql


def _children(record: Promotion, suffix: str) -> Iterator[tuple[dict[str, int], OcdsModel]]:
    """``(parent key values, child)`` of one kind (``Child.suffix``) in an offer record."""
    offer = {"promoid": record.promoid, "offerid": record.offerid}
    if suffix == "location":
        yield from ((offer, loc) for loc in record.locations or ())
    elif suffix == "reward":
        yield from ((offer, reward) for reward in record.rewards or ())
    elif suffix == "reward_merch":
        for reward in record.rewards or ():
            yield from (({**offer, "rewardid": reward.rewardid}, m) for m in reward.rewardsmerch or ())
    elif suffix == "condition":
        yield from ((offer, cond) for cond in record.conditions or ())
    else:
        for cond in record.conditions or ():
            yield from (({**offer, "conditionid": cond.conditionid}, m) for m in cond.conditionsmerch or ())


def child_rows(spec: TableSpec, child: Child, records: Iterable[Promotion],
               stored: set[tuple] | None = None) -> Iterator[tuple[Any, ...]]:
    """``(action, *columns, extra)`` rows of one child table for a page of offer records.

    :param stored: keys of this table's rows that belong to the page's offers (for a
        ``replaced`` child): those the records no longer carry come out as DELETE rows.
    """
    seen: set[tuple] = set()
    for record in records:
        for parent, item in _children(record, child.suffix):
            values = [parent[c.field] if c.field in parent else getattr(item, c.field) for c in spec.columns]
            values = [c.to_db(v) if c.to_db else v for v, c in zip(values, spec.columns, strict=True)]
            extra = item.__pydantic_extra__
            action = getattr(item, "action", None) or "UPSERT"
            seen.add(tuple(values[spec.column_names.index(k)] for k in spec.key))
            yield (action, *values, _json(extra) if extra else None)
    width = len(spec.columns)
    for key in sorted((stored or set()) - seen):
        values: list[Any] = [None] * width
        for name, value in zip(spec.key, key, strict=True):
            values[spec.column_names.index(name)] = value
        yield ("DELETE", *values, None)


def stored_keys(conn: Any, spec: TableSpec, records: list[Promotion]) -> set[tuple]:
    """Keys of ``spec``'s rows that belong to the offers of ``records``."""
    if not records:
        return set()
    keys = ", ".join(quote(k) for k in spec.key)
    sql = (f"SELECT {keys} FROM {spec.qualified} t JOIN unnest(%s::bigint[], %s::bigint[]) AS o(p, f) "
           "ON t.promoid = o.p AND t.offerid = o.f")
    with conn.cursor() as cur:
        cur.execute(sql, ([r.promoid for r in records], [r.offerid for r in records]))
        return {tuple(row) for row in cur.fetchall()}
