"""The endpoint catalog: 23 endpoints, keys that are model fields, filter rules."""

from __future__ import annotations

import pytest

from retail_provider.http.errors import InputValidationError
from retail_provider.ocds.catalog import ENDPOINTS, get_endpoint
from retail_provider.ocds.operators import watermark_key
from retail_provider.ocds.sync import spec_for


def test_every_documented_endpoint_is_in_the_catalog():
    paths = {e.path for e in ENDPOINTS.values()}
    assert len(paths) == 23
    assert get_endpoint("v2/item/price").name == "item_price"
    assert get_endpoint("diffs").name == "diff"
    assert get_endpoint("/item/upc/").name == "item_upc"


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_keys_are_columns_and_tables_are_derivable(name):
    spec = spec_for(ENDPOINTS[name], "ocds")
    assert set(spec.key) <= set(spec.column_names)
    assert len(set(spec.column_names)) == len(spec.column_names)


def test_filters_are_normalised_and_checked():
    ep = get_endpoint("item_price")
    assert ep.validate_filters({"pricetype": "regular", "nodeLevel": "store", "nodeId": "12"}) == {
        "nodeid": "12", "nodelevel": "STORE", "pricetype": "REGULAR"}
    with pytest.raises(InputValidationError, match="'nodeid' must be a non-negative integer"):
        ep.validate_filters({"pricetype": "REGULAR", "nodelevel": "STORE", "nodeid": "x"})
    with pytest.raises(InputValidationError, match="'nodelevel' must be one of"):
        get_endpoint("item_promotion").validate_filters({"nodelevel": "WAREHOUSE", "nodeid": 1})
    with pytest.raises(InputValidationError, match="'entitytype' must be one of"):
        get_endpoint("refreshdate").validate_filters({"entitytype": "promotions"})


def test_watermark_keys_are_per_endpoint_and_filters():
    ep = get_endpoint("item_price")
    assert watermark_key(ep, {"pricetype": "REGULAR"}) == "ocds_watermark__item_price__pricetype_regular"
    assert watermark_key(get_endpoint("item"), {}) == "ocds_watermark__item"
    keys = {watermark_key(ep, {"pricetype": t}) for t in ("INITIAL", "REGULAR", "CLEARANCE")}
    assert len(keys) == 3
