"""Where alerts go: e-mail through SMTP and a Slack-compatible webhook.

The channels are chosen by configuration **when an alert is sent** (never when a DAG file
is parsed), each from an environment variable or, when that is unset or empty, the Airflow
Variable of the same name in lower case:

=============================  ==================================================  ================
environment / Variable         what                                                default
=============================  ==================================================  ================
``RETAIL_ALERT_EMAIL_TO``      comma-separated recipients; e-mail is off without   (off)
``RETAIL_ALERT_EMAIL_FROM``    sender; else the SMTP connection's ``from_email``   airflow@localhost
``RETAIL_ALERT_SMTP_CONN_ID``  the SMTP connection (smtp provider's notifier)      ``smtp_default``
``RETAIL_ALERT_WEBHOOK_URL``   Slack-compatible incoming webhook (JSON ``text``)   (off)
=============================  ==================================================  ================

With no channel configured an alert is only logged.
"""

from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass

import httpx

from retail_provider.orchestration.notifications.redaction import connection_secrets, scrub, url_secrets

log = logging.getLogger(__name__)

EMAIL_TO = "RETAIL_ALERT_EMAIL_TO"
EMAIL_FROM = "RETAIL_ALERT_EMAIL_FROM"
SMTP_CONN_ID = "RETAIL_ALERT_SMTP_CONN_ID"
WEBHOOK_URL = "RETAIL_ALERT_WEBHOOK_URL"
DEFAULT_SMTP_CONN_ID = "smtp_default"
DEFAULT_FROM = "airflow@localhost"
WEBHOOK_TIMEOUT = 10.0


class AlertDeliveryError(RuntimeError):
    """No configured channel accepted the alert (the message never names the webhook URL)."""


@dataclass(frozen=True)
class Alert:
    """One message: a subject line (e-mail) and a plain text body (both channels)."""

    subject: str
    text: str


def _setting(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    try:
        from airflow.sdk import Variable

        stored = Variable.get(name.lower(), default=None)
    except Exception:  # no Variable backend here (or it failed): the environment decides alone
        return None
    if stored is None:
        return None
    return str(stored).strip() or None


@dataclass(frozen=True)
class AlertSettings:
    """The configured channels.

    :param email_to: recipients; empty turns e-mail off.
    :param email_from: sender address.
    :param smtp_conn_id: Airflow connection of the SMTP server.
    :param webhook_url: Slack-compatible webhook; ``None`` turns it off.
    """

    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    smtp_conn_id: str = DEFAULT_SMTP_CONN_ID
    webhook_url: str | None = None

    @classmethod
    def load(cls) -> AlertSettings:
        """Read the settings now (environment first, then Airflow Variables)."""
        to = _setting(EMAIL_TO) or ""
        return cls(
            email_to=tuple(a.strip() for a in to.replace(";", ",").split(",") if a.strip()),
            email_from=_setting(EMAIL_FROM),
            smtp_conn_id=_setting(SMTP_CONN_ID) or DEFAULT_SMTP_CONN_ID,
            webhook_url=_setting(WEBHOOK_URL),
        )

    @property
    def channels(self) -> list[str]:
        return [name for name, on in (("email", bool(self.email_to)), ("webhook", bool(self.webhook_url))) if on]

    def secrets(self) -> list[str]:
        """Values no alert may contain: the webhook URL and its token, the SMTP password."""
        out = url_secrets(self.webhook_url)
        if self.email_to:
            out += connection_secrets([self.smtp_conn_id])
        return out


def send_email(settings: AlertSettings, alert: Alert) -> None:
    """Send ``alert`` to ``settings.email_to`` with the smtp provider's ``SmtpNotifier`` (the text is
    passed as it is: not rendered as a template, so braces in an error message stay braces)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier
    from airflow.sdk import BaseHook

    sender = settings.email_from or BaseHook.get_connection(settings.smtp_conn_id).extra_dejson.get("from_email")
    SmtpNotifier(to=list(settings.email_to), subject=alert.subject, from_email=sender or DEFAULT_FROM,
                 html_content=f'<pre style="font-family: monospace">{html.escape(alert.text)}</pre>',
                 smtp_conn_id=settings.smtp_conn_id).notify({})


def post_webhook(url: str, alert: Alert, *, timeout: float = WEBHOOK_TIMEOUT) -> None:
    """POST ``{"text": ...}`` to a Slack-compatible webhook.

    :raises AlertDeliveryError: transport error or a non-2xx answer (without the URL).
    """
    try:
        response = httpx.post(url, json={"text": f"*{alert.subject}*\n{alert.text}"}, timeout=timeout)
    except httpx.HTTPError as exc:
        raise AlertDeliveryError(f"webhook unreachable ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise AlertDeliveryError(f"webhook answered HTTP {response.status_code}")


def deliver(alert: Alert, settings: AlertSettings | None = None, *, secrets: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Scrub ``alert`` and send it to every configured channel; return the channels that took it.

    A failing channel does not stop the others.

    :param secrets: more values to mask (e.g. the failed task's connection passwords).
    :raises AlertDeliveryError: channels are configured and none of them took the alert.
    """
    settings = settings or AlertSettings.load()
    hidden = [*secrets, *settings.secrets()]
    alert = Alert(subject=scrub(alert.subject, hidden), text=scrub(alert.text, hidden))
    if not settings.channels:
        log.warning("No alert channel configured (%s, %s): %s\n%s", EMAIL_TO, WEBHOOK_URL, alert.subject, alert.text)
        return []
    sent, errors = [], []
    for channel in settings.channels:
        try:
            if channel == "email":
                send_email(settings, alert)
            else:
                post_webhook(settings.webhook_url or "", alert)
        except Exception as exc:  # noqa: BLE001 - one channel failing must not silence the others
            errors.append(f"{channel}: {scrub(f'{type(exc).__name__}: {exc}', hidden)}")
            log.warning("Alert not delivered by %s: %s", channel, errors[-1])
        else:
            sent.append(channel)
            log.info("Alert sent by %s: %s", channel, alert.subject)
    if not sent:
        raise AlertDeliveryError("no alert channel took the alert: " + "; ".join(errors))
    return sent
