"""Pydantic models of the 23 Oracle Retail OCDS v2 endpoints (reference: OCDS 19.1, Appendix B).

Lenient with what the vendor sends: unknown fields are kept (``extra="allow"``), numbers
are accepted where the reference shows strings and the other way round, and the field
spellings used by the reference's own example payloads are accepted beside the spellings
of its field tables (``loc_type``/``loctype``, ``orginalunitretail``/``originalunitretail``,
``selllingsqfeet``/``sellingsqfeet`` ...).  The canonical (first) name of each field is the
warehouse column name; ``docs/ocds-endpoints.md`` lists them.

Closed vocabularies are ``Literal``: the change ``action`` (read case-insensitively), the
price type, the log severity and the org hierarchy levels.  A record that breaks them, or
lacks a key field, cannot be applied: the page decoder puts it aside as a reject
(:mod:`retail_provider.ocds.envelope`).  Promotions live in :mod:`retail_provider.ocds.promotions`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

ACTIONS: tuple[str, ...] = ("INSERT", "UPDATE", "UPSERT", "DELETE", "NO_CHANGE", "NA")
PriceType = Literal["INITIAL", "REGULAR", "CLEARANCE"]
Severity = Literal["ERROR", "INFO", "DEBUG"]
NodeLevel = Literal["COMPANY", "CHAIN", "AREA", "REGION", "DISTRICT", "STORE", "WAREHOUSE"]
NODE_LEVELS: tuple[str, ...] = NodeLevel.__args__  # type: ignore[attr-defined]
PRICE_TYPES: tuple[str, ...] = PriceType.__args__  # type: ignore[attr-defined]
SEVERITIES: tuple[str, ...] = Severity.__args__  # type: ignore[attr-defined]


def _wall_time(value: Any) -> Any:
    """Local date-times are wall times: one sent with an offset keeps the wall time it shows
    (``2025-08-05T00:00:00-05:00`` is stored as ``2025-08-05 00:00:00``, like the same value
    sent without the offset); the offset is dropped, never applied."""
    if isinstance(value, str | datetime) and value:
        parsed = _DATETIME.validate_python(value)
        return parsed.replace(tzinfo=None)
    return value


def _action(value: Any) -> Any:
    """The reference spells actions in upper case; other cases are read the same way."""
    return value.strip().upper() if isinstance(value, str) else value


def _flag(value: Any) -> Any:
    """Indicators come as ``"Y"``/``"N"``, numbers or booleans: keep them as text."""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return value


def _json_value(value: Any) -> Any:
    """A field that is JSON inside a string in some payloads (``vatcodes``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


_DATETIME = TypeAdapter(datetime)
Action = Annotated[Literal["INSERT", "UPDATE", "UPSERT", "DELETE", "NO_CHANGE", "NA"], BeforeValidator(_action)]
LocalDateTime = Annotated[datetime, BeforeValidator(_wall_time)]
Flag = Annotated[str | None, BeforeValidator(_flag)]
JsonValue = Annotated[Any, BeforeValidator(_json_value)]


def alias(*names: str) -> Any:
    """A field accepted under several spellings; the first is the canonical column name."""
    return Field(default=None, validation_alias=AliasChoices(*names))


class OcdsModel(BaseModel):
    """Base of every OCDS payload model."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        coerce_numbers_to_str=True,
        frozen=False,
    )


class ChangeRecord(OcdsModel):
    """A row of an incremental change feed: its ``action`` says what happened in the window."""

    action: Action


# --- admin -----------------------------------------------------------------------------


class LogEntry(OcdsModel):
    """A log line.  Nothing documented identifies one: two lines may share ``logged`` and
    ``message`` (and differ in ``supplemental``), so ``linehash`` (MD5 of severity, message
    and supplemental; computed here, never sent) completes the key ``(logged, linehash)``."""

    logged: AwareDatetime
    severity: str
    message: str
    supplemental: str | None = None
    linehash: str | None = None

    @model_validator(mode="after")
    def _hash_line(self) -> LogEntry:
        text = "\x1f".join((self.severity, self.message, self.supplemental or ""))
        self.linehash = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
        return self


class Version(OcdsModel):
    """The installed release and each hot fix: one row per ``(version, hotfix)``."""

    version: str
    hotfix: str
    installed: AwareDatetime | None = None


class RefreshDate(OcdsModel):
    entity: str
    refreshdate: AwareDatetime


# --- reference data --------------------------------------------------------------------


class Diff(ChangeRecord):
    diffid: str
    diffdesc: str | None = None
    difftype: str | None = None
    difftypedesc: str | None = None


class DiffGroup(ChangeRecord):
    diffgroupid: str
    diffgroupdesc: str | None = None
    difftypeid: str | None = None
    diffid: str


class DimensionType(ChangeRecord):
    itemaction: Action | None = None
    dimensionsystem: str
    dimension: str
    description: str | None = None
    seq: int | None = None


class DimensionValue(ChangeRecord):
    itemaction: Action | None = None
    dimensionsystem: str
    dimension: str
    value: str
    description: str | None = None
    displayseq: int | None = alias("displayseq", "displayseg")


class Vat(ChangeRecord):
    vatregion: int
    vatregionname: str | None = None
    vatcode: str
    vatcodedesc: str | None = None
    activedate: LocalDateTime
    enddate: LocalDateTime | None = None


# --- inventory -------------------------------------------------------------------------


class FutureInventory(ChangeRecord):
    item: str
    onorderquantity: Decimal | None = alias("onorderquantity", "onorderquqntity")
    receivedquantity: Decimal | None = None
    backorderquantity: Decimal | None = None


class StockInventory(ChangeRecord):
    """Store and warehouse inventory share one shape."""

    item: str
    location: str
    loctype: str = Field(validation_alias=AliasChoices("loctype", "loc_type"))
    availablequantity: Decimal | None = None
    stockonhand: Decimal | None = None
    standarduom: str | None = None
    physicalwarehouse: Flag = None


# --- items -----------------------------------------------------------------------------


class Item(ChangeRecord):
    """``v2/item`` and ``v2/item/upc`` share this shape."""

    itemlocation: str = "ent"
    item: str
    itemparent: str | None = None
    itemgrandparent: str | None = None
    itemlevel: int | None = None
    tranlevel: int | None = None
    inventoryind: Flag = None
    diff1level: str | None = None
    diff1type: str | None = None
    diff1: str | None = None
    diff2level: str | None = None
    diff2type: str | None = None
    diff2: str | None = None
    diff3level: str | None = None
    diff3type: str | None = None
    diff3: str | None = None
    division: int | None = None
    groupid: int | None = None
    dept: int | None = None
    class_: int | None = Field(default=None, validation_alias=AliasChoices("class", "class_"), serialization_alias="class")
    uniqueclass: int | None = None
    subclass: int | None = None
    uniquesubclass: int | None = None
    description: str | None = None
    localdescription: str | None = None
    merchandiseind: Flag = None
    uintype: str | None = None
    mfgrecretail: Decimal | None = None
    originalunitretail: Decimal | None = alias("originalunitretail", "orginalunitretail")
    catchweightind: Flag = None
    itemservicelevel: str | None = None
    giftwrapind: Flag = None
    shipaloneind: Flag = None
    standarduom: str | None = None
    productclassification: str | None = None
    xdiff1desc: str | None = None
    xdiff2desc: str | None = None
    xdiff3desc: str | None = None


class ItemImage(ChangeRecord):
    item: str
    imagename: str
    imageaddr: str | None = None
    imageuri: str | None = None
    imagedesc: str | None = None
    imagetype: str | None = None
    primaryind: Flag = None
    displaypriority: int | None = None


class ItemLocation(ChangeRecord):
    loctype: str = Field(validation_alias=AliasChoices("loctype", "loc_type"))
    location: int
    item: str
    sellingunitretail: Decimal | None = None
    sellinguom: str | None = None
    taxableind: Flag = None
    localitemdesc: str | None = None
    status: str | None = None
    qtykeyoptions: str | None = None
    manualpriceentry: str | None = None
    foodstampind: Flag = None
    fixedtarevalue: Decimal | None = None
    fixedtareuom: str | None = None
    stopsaleind: Flag = None
    returnableind: Flag = None
    merchandiseind: Flag = None
    clearanceind: Flag = None
    crosssell: Flag = None
    attacheditem: Flag = None
    vatcodes: JsonValue = None


class ItemPrice(ChangeRecord):
    loctype: str = Field(validation_alias=AliasChoices("loctype", "loc_type"))
    location: int
    item: str
    pricetype: PriceType
    price: Decimal | None = None
    effective: LocalDateTime | None = None
    source: str | None = None
    eventid: int  # "Pricing Service event id for the price activity": identifies the event
    resetind: Flag = None
    clearanceind: Flag = None


class RelatedItem(ChangeRecord):
    """Two levels of action: ``action`` for the relationship, ``relateditemaction`` for the pair."""

    relationshipid: int
    item: str
    relationshiptype: str | None = None
    mandatoryind: Flag = None
    relateditem: str
    relateditemaction: Action | None = None
    startdate: date | None = None
    enddate: date | None = None
    priority: int | None = None


# --- locations and hierarchies ---------------------------------------------------------


class RetailStore(ChangeRecord):
    storeid: int
    storename: str | None = None
    storename10: str | None = None
    manager: str | None = None
    phonenumber: str | None = None
    faxnumber: str | None = None
    email: str | None = None
    totalsqfeet: Decimal | None = None
    sellingsqfeet: Decimal | None = alias("sellingsqfeet", "selllingsqfeet")
    currencycode: str | None = None
    vatregion: str | None = None  # "Valid values are Y or N", shown as 1000: kept as sent
    stockholdingind: Flag = None
    integratedpos: Flag = None
    contactname: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postalcode: str | None = None


class Warehouse(ChangeRecord):
    warehouseid: int = Field(validation_alias=AliasChoices("warehouseid", "warehouseId"))
    type: str = "physical"
    warehousename: str | None = None
    whnamesecondary: str | None = None
    contactname: str | None = None
    phonenumber: str | None = None
    faxnumber: str | None = None
    email: str | None = None
    currencycode: str | None = None
    physicalwh: int | None = None
    vatregion: int | None = None
    orghiertype: int | None = None
    orghiervalue: int | None = None
    orgentitytype: str | None = alias("orgentitytype", "ordentitytype")
    channelid: int | None = None
    channelname: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postalcode: str | None = None


class MerchHierarchyNode(ChangeRecord):
    nodeid: int
    hierarchylevel: str
    nodename: str | None = None
    parentlevel: str | None = None
    parentnodeid: int | None = None
    merchdisplayid: str | None = None
    buyer: str | None = None


class OrgHierarchyNode(ChangeRecord):
    hierarchylevel: NodeLevel
    hierarchynodeid: int
    hierarchynodename: str | None = None
    parentlevel: NodeLevel | None = None
    parentid: int | None = None
    mgrname: str | None = None
    stockholding: Flag = None
    integratedpos: Flag = None


class OrgHierarchyDescendant(OcdsModel):
    hierarchylevel: NodeLevel
    hierarchynodeid: int
    hierarchynodename: str | None = None
    parentlevel: NodeLevel | None = None
    parentid: int | None = None
    levelorder: int | None = None
