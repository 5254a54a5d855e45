"""System email settings and sending: the confirmation leaves through the system transport, or nothing is recorded."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.contact_preferences import ContactPreferences, NothingToConfirm, ResubscribeTooSoon
from interfaces.bootstrap import build
from interfaces.config import ConfigError, Settings
from interfaces.system_mail import SYSTEM_MAIL
from tests.interfaces.client import Api, error_of, running
from tests.interfaces.test_resubscribe import contact, events, request
from tests.transports.fake_smtp import ScriptedHandler, smtp_server

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_system_mail_defaults_to_the_default_transport_and_the_public_host() -> None:
    settings = Settings.from_env({"TIDINGS_PUBLIC_URL": "https://mail.example.com:8443/base"})

    assert settings.system_from_address == "no-reply@mail.example.com"
    assert (settings.system_transport_kind, settings.system_transport_settings) == ("capture", {})
    assert Settings.from_env({"TIDINGS_DEFAULT_TRANSPORT": "smtp"}).system_transport_kind == "smtp"


def test_system_mail_variables_are_read_and_credentials_stay_out_of_the_repr() -> None:
    settings = Settings.from_env(
        {
            "TIDINGS_SYSTEM_FROM": "hello@news.example.com",
            "TIDINGS_SYSTEM_TRANSPORT": "smtp",
            "TIDINGS_SYSTEM_TRANSPORT_SETTINGS": '{"host": "relay", "password": "s3cret-pass"}',
        }
    )

    assert settings.system_from_address == "hello@news.example.com"
    assert settings.system_transport_kind == "smtp"
    assert settings.system_transport_settings == {"host": "relay", "password": "s3cret-pass"}
    assert "s3cret-pass" not in repr(settings)
    hash(settings)  # still usable as a key, whatever the settings hold


def test_a_default_transport_that_needs_settings_does_not_stop_a_deployment_without_system_variables() -> None:
    assert Settings.from_env({"TIDINGS_DEFAULT_TRANSPORT": "smtp"}).system_transport_settings == {}


@pytest.mark.parametrize(
    "env",
    [
        {"TIDINGS_SYSTEM_TRANSPORT": "pigeon"},
        {"TIDINGS_SYSTEM_TRANSPORT": "smtp"},  # smtp needs a host
        {"TIDINGS_SYSTEM_TRANSPORT": "smtp", "TIDINGS_SYSTEM_TRANSPORT_SETTINGS": '{"host": "relay", "hots": 1}'},
        {"TIDINGS_SYSTEM_TRANSPORT_SETTINGS": "{not json"},
        {"TIDINGS_SYSTEM_TRANSPORT_SETTINGS": '["capture"]'},
        {"TIDINGS_SYSTEM_TRANSPORT_SETTINGS": '{"anything": 1}'},  # capture takes no settings
        {"TIDINGS_SYSTEM_FROM": "Tidings <no-reply@example.com>"},
        {"TIDINGS_SYSTEM_FROM": "no-reply@example.com\r\nBcc: x@example.com"},
    ],
)
def test_unusable_system_mail_settings_fail_at_start_up(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(env)


@contextmanager
def serving(settings: Settings, **changes: object) -> Iterator[Api]:
    container = build(dataclasses.replace(settings, **changes))  # type: ignore[arg-type]
    try:
        with running(container) as api:
            yield api
    finally:
        container.close()


def test_the_confirmation_leaves_through_the_configured_smtp_server(settings: Settings) -> None:
    handler = ScriptedHandler()
    with smtp_server(handler) as server:
        transport = {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5}
        with serving(settings, system_transport="smtp", system_transport_settings=transport,
                     system_from="hello@news.example.com") as api:  # fmt: skip
            contact_id = contact(api)
            address = api.container.contacts.get(UUID(contact_id)).email
            response = request(api, contact_id)

    assert response.status_code == 202, response.text
    [received] = handler.received
    assert received.sender == "hello@news.example.com"
    assert received.recipients == [address]
    assert received.message["Subject"] == "Confirm your subscription"
    assert received.message["X-Tidings-Message-Id"] == response.json()["message_id"]
    [text, html] = received.message.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "http://127.0.0.1:8000/r/" in text.get_payload(decode=True).decode()


def test_a_refused_send_is_503_records_nothing_and_may_be_retried_at_once(settings: Settings) -> None:
    handler = ScriptedHandler()
    with smtp_server(handler) as server:
        transport = {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5}
        with serving(settings, system_transport="smtp", system_transport_settings=transport) as api:
            contact_id = contact(api)
            address = api.container.contacts.get(UUID(contact_id)).email
            handler.script[address] = ["451 4.3.0 Try again later"]

            refused = request(api, contact_id)
            recorded = events(api, contact_id)
            retried = request(api, contact_id)

    error_of(refused, 503, "unavailable")
    assert int(refused.headers["retry-after"]) > 0
    assert not [e for e in recorded if e["type"].endswith("ResubscribeRequested")]
    assert retried.status_code == 202, retried.text
    assert len(handler.received) == 1


def test_an_unconfigured_system_transport_is_503_naming_the_variable(settings: Settings) -> None:
    with serving(settings, default_transport="smtp") as api:
        response = request(api, contact(api))

    assert "TIDINGS_SYSTEM_TRANSPORT_SETTINGS" in response.json()["error"]["message"]
    error_of(response, 503, "unavailable")


def test_the_capture_outbox_keeps_system_mail_apart_from_campaigns(api: Api) -> None:
    contact_id = contact(api)
    message_id = request(api, contact_id).json()["message_id"]

    listed = api.client.get(f"/api/v1/outbox?campaign_id={SYSTEM_MAIL}", headers=api.admin).json()["items"]

    assert [m["message_id"] for m in listed] == [message_id]
    assert str(SYSTEM_MAIL) == "86fa26f1-ff5e-57b7-ae9d-46dd8488bc17"  # the documented id, on every deployment


def opted_out_preferences() -> ContactPreferences:
    prefs = ContactPreferences.start(uuid4(), effective_at=NOW - timedelta(days=1))
    prefs.change(opted_out=True, effective_at=NOW - timedelta(days=1))
    return prefs


def test_one_confirmation_per_ten_minutes_per_contact() -> None:
    prefs = opted_out_preferences()
    prefs.check_resubscribe_request(NOW)
    prefs.request_resubscribe(uuid4(), NOW)

    with pytest.raises(ResubscribeTooSoon) as refused:
        prefs.check_resubscribe_request(NOW + timedelta(minutes=9, seconds=59))
    assert refused.value.details["retry_after"] == 1
    prefs.check_resubscribe_request(NOW + timedelta(minutes=10))


def test_asking_is_not_a_preference_change() -> None:
    prefs = opted_out_preferences()
    before = (prefs.opted_out, prefs.last_effective_at)

    prefs.request_resubscribe(uuid4(), NOW)

    assert (prefs.opted_out, prefs.last_effective_at) == before
    prefs.change(opted_out=False, effective_at=NOW)
    with pytest.raises(NothingToConfirm):
        prefs.check_resubscribe_request(NOW + timedelta(hours=1))
