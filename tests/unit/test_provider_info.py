"""The connection forms the provider declares (Admin > Connections > Add)."""

from __future__ import annotations

from retail_provider import CONNECTION_TYPES, get_provider_info


def _fields():
    for conn_type in CONNECTION_TYPES:
        for name, field in conn_type["conn-fields"].items():
            yield conn_type["connection-type"], name, field


def test_dropdowns_list_only_real_choices_and_preselect_the_default():
    """A ``None`` in an enum is shown as the literal text "null" in the form's dropdown."""
    dropdowns = {(t, n): f["schema"] for t, n, f in _fields() if "enum" in f["schema"]}
    assert dropdowns == {
        ("ocds", "protocol"): {"type": ["string", "null"], "enum": ["https", "http"], "default": "https"},
        ("ocds", "auth_type"): {"type": ["string", "null"], "enum": ["basic", "oauth2"], "default": "basic"},
    }


def test_every_extra_field_is_optional_labelled_and_described():
    for conn_type, name, field in _fields():
        assert "null" in field["schema"]["type"], f"{conn_type}.{name} is required"
        assert field["label"] and field["description"], f"{conn_type}.{name}"
    assert {c["connection-type"] for c in get_provider_info()["connection-types"]} == {"ocds", "retailnext"}
