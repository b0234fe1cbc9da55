"""Airflow provider for retail store data: RetailNext and Oracle Retail OCDS into PostgreSQL.

Vendor first, as Airflow's own providers are: ``ocds`` and ``retailnext`` each own their
hook, models, catalog, sync, operators and DAG builders, over the shared layers both really
share: ``http`` (client, retries, errors, paging; no Airflow), ``warehouse`` (table layouts,
COPY staging and merges, the ledger, one table-sync orchestration) and ``orchestration``
(the Airflow glue: base hook and sync operator, watermarks, DAG defaults, notifications).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _field(label: str, description: str, kind: str, enum: list[Any] | None = None) -> dict[str, Any]:
    """One extra field of a connection form (optional: ``null`` is a valid value).

    A closed vocabulary is a dropdown of its values, the first being the default (as the
    smtp provider's ``auth_type``); ``null`` stays allowed by the type, not listed in the
    ``enum``, where the UI would offer it as the literal text "null".
    """
    schema: dict[str, Any] = {"type": [kind, "null"]}
    if enum:
        schema["enum"] = list(enum)
        schema["default"] = enum[0]
    return {"label": label, "description": description, "schema": schema}


_INSECURE = _field("Allow plain HTTP", "Only for test hosts such as the emulator; credentials otherwise need HTTPS",
                   "boolean")
_TIMEOUT = _field("Timeout (s)", "Read timeout per request in seconds, default 60", "number")

CONNECTION_TYPES: list[dict[str, Any]] = [
    {
        "hook-class-name": "retail_provider.retailnext.hook.RetailNextHook",
        "hook-name": "RetailNext",
        "connection-type": "retailnext",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {"host": "Subscription or base URL", "login": "Access key", "password": "Secret key"},
            "placeholders": {"host": "acme  (or https://acme.api.retailnext.net)", "login": "access key"},
        },
        "conn-fields": {
            "base_url": _field("Base URL", "Overrides the subscription host, e.g. https://acme.api.retailnext.net",
                               "string"),
            "allow_insecure_http": _INSECURE,
            "max_concurrency": _field("Max concurrent requests",
                                      "Client-side cap per subscription (RetailNext allows 3 for some endpoints)",
                                      "integer"),
            "timeout": _TIMEOUT,
        },
    },
    {
        "hook-class-name": "retail_provider.ocds.hook.OcdsHook",
        "hook-name": "Oracle Retail OCDS",
        "connection-type": "ocds",
        "ui-field-behaviour": {
            "hidden-fields": ["schema"],
            "relabeling": {"login": "User or OAuth client id", "password": "Password or client secret"},
            "placeholders": {"host": "ocds.example.com", "port": "443", "login": "ocds_user"},
        },
        "conn-fields": {
            "protocol": _field("Protocol", "https (default) or http", "string", ["https", "http"]),
            "allow_insecure_http": _INSECURE,
            "base_path": _field("Base path", "Path of the omnichannel service, default /ords/ocds/omnichannel",
                                "string"),
            "auth_type": _field("Authentication", "basic (default) or oauth2 (client credentials)", "string",
                                ["basic", "oauth2"]),
            "token_path": _field("OAuth2 token path", "Token endpoint for oauth2, default /ords/ocds/oauth/token",
                                 "string"),
            "timeout": _TIMEOUT,
        },
    },
]


def connection_type(conn_type: str) -> dict[str, Any]:
    """The provider-info entry of one connection type (``ocds`` or ``retailnext``)."""
    return next(c for c in CONNECTION_TYPES if c["connection-type"] == conn_type)


def get_provider_info() -> dict:
    """Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""
    return {
        "package-name": "airflow-provider-retail",
        "name": "Retail (RetailNext, Oracle Retail OCDS)",
        "description": "Load RetailNext store analytics and Oracle Retail OCDS change feeds into PostgreSQL.",
        "versions": [__version__],
        "hooks": [
            {"integration-name": "Oracle Retail OCDS", "python-modules": ["retail_provider.ocds.hook"]},
            {"integration-name": "RetailNext", "python-modules": ["retail_provider.retailnext.hook"]},
        ],
        "operators": [
            {"integration-name": "Oracle Retail OCDS", "python-modules": ["retail_provider.ocds.operators"]},
            {
                "integration-name": "RetailNext",
                "python-modules": [
                    "retail_provider.retailnext.operators",
                    "retail_provider.retailnext.datamine.operator",
                    "retail_provider.retailnext.video.operators",
                    "retail_provider.retailnext.writes.operators",
                ],
            },
        ],
        "sensors": [{"integration-name": "RetailNext", "python-modules": ["retail_provider.retailnext.video.sensor"]}],
        "triggers": [{"integration-name": "RetailNext", "python-modules": ["retail_provider.retailnext.video.trigger"]}],
        "notifications": ["retail_provider.orchestration.notifications.notifier.RetailFailureNotifier"],
        "connection-types": CONNECTION_TYPES,
    }
