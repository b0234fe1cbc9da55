"""Airflow provider for retail store data: RetailNext and Oracle Retail OCDS into PostgreSQL.

Vendor first, as Airflow's own providers are: ``ocds`` and ``retailnext`` each own their
hook, models, catalog, sync, operators and DAG builders, over the shared layers both really
share: ``http`` (client, retries, errors, paging; no Airflow), ``warehouse`` (table layouts,
COPY staging and merges, the ledger, one table-sync orchestration) and ``orchestration``
(the Airflow glue: base hook and sync operator, watermarks, DAG defaults, notifications).
"""

from __future__ import annotations

__version__ = "0.1.0"


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
        "notifications": [
            "retail_provider.orchestration.notifications.notifier.RetailFailureNotifier",
        ],
        "connection-types": [
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
                    "base_url": {
                        "label": "Base URL",
                        "description": "Overrides the subscription host, e.g. https://acme.api.retailnext.net",
                        "schema": {"type": ["string", "null"]},
                    },
                    "allow_insecure_http": {
                        "label": "Allow plain HTTP",
                        "description": "Only for test hosts such as the emulator; RetailNext itself needs HTTPS",
                        "schema": {"type": ["boolean", "null"]},
                    },
                    "max_concurrency": {
                        "label": "Max concurrent requests",
                        "description": "Client-side cap per subscription (RetailNext allows 3 for some endpoints)",
                        "schema": {"type": ["integer", "null"]},
                    },
                    "timeout": {
                        "label": "Timeout (s)",
                        "description": "Read timeout per request in seconds, default 60",
                        "schema": {"type": ["number", "null"]},
                    },
                },
            },
            {
                "hook-class-name": "retail_provider.ocds.hook.OcdsHook",
                "hook-name": "Oracle Retail OCDS",
                "connection-type": "ocds",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema"],
                    "relabeling": {"login": "User or OAuth client id", "password": "Password or client secret"},
                    "placeholders": {
                        "host": "ocds.example.com",
                        "port": "443",
                        "login": "ocds_user",
                    },
                },
                "conn-fields": {
                    "protocol": {
                        "label": "Protocol",
                        "description": "https (default) or http",
                        "schema": {"type": ["string", "null"], "enum": ["https", "http", None]},
                    },
                    "allow_insecure_http": {
                        "label": "Allow plain HTTP",
                        "description": "Only for test hosts such as the emulator; credentials otherwise need HTTPS",
                        "schema": {"type": ["boolean", "null"]},
                    },
                    "base_path": {
                        "label": "Base path",
                        "description": "Path of the omnichannel service, default /ords/ocds/omnichannel",
                        "schema": {"type": ["string", "null"]},
                    },
                    "auth_type": {
                        "label": "Authentication",
                        "description": "basic (default) or oauth2 (client credentials)",
                        "schema": {"type": ["string", "null"], "enum": ["basic", "oauth2", None]},
                    },
                    "token_path": {
                        "label": "OAuth2 token path",
                        "description": "Token endpoint for oauth2, default /ords/ocds/oauth/token",
                        "schema": {"type": ["string", "null"]},
                    },
                    "timeout": {
                        "label": "Timeout (s)",
                        "description": "Read timeout per request in seconds, default 60",
                        "schema": {"type": ["number", "null"]},
                    },
                },
            },
        ],
    }
