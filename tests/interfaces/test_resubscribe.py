"""Re-subscribe confirmation (double opt-in): staff ask, the contact's signed link decides.

The email goes out through the system transport (the capture outbox here) and its link is the only way back in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.contact_preferences import preferences_id
from domain.link_tokens import Purpose
from domain.preference_sources import Source
from interfaces.link_keys import links_of
from interfaces.system_mail import SYSTEM_MAIL
from tests.interfaces.client import Api, error_of
from tests.interfaces.test_unsubscribe_pages import assert_page

PUBLIC = "http://127.0.0.1:8000"


def contact(api: Api, opted_out: bool = True) -> str:
    created = api.client.post("/api/v1/contacts", json={"email": f"{uuid4().hex[:8]}@example.com"}, headers=api.admin)
    assert created.status_code == 201, created.text
    contact_id = str(created.json()["id"])
    if opted_out:
        assert api.container.preferences.opt_out(UUID(contact_id), Source.CONTACT)
    return contact_id


def request(api: Api, contact_id: str, headers: dict[str, str] | None = None) -> Any:
    return api.client.post(f"/api/v1/contacts/{contact_id}/resubscribe-requests", headers=headers or api.admin)


def events(api: Api, contact_id: str) -> list[dict[str, Any]]:
    response = api.client.get(f"/api/v1/history/{preferences_id(UUID(contact_id))}", headers=api.admin)
    assert response.status_code in (200, 404), response.text  # 404: no preference was ever recorded
    return list(response.json()["events"]) if response.status_code == 200 else []


def opted_out(api: Api, contact_id: str) -> bool:
    return bool(api.container.preferences.get(UUID(contact_id)).opted_out)


def mailed_link(api: Api, message_id: str) -> str:
    mail = api.client.get(f"/api/v1/outbox/{message_id}", headers=api.admin)
    assert mail.status_code == 200, mail.text
    urls = set(re.findall(rf"{PUBLIC}/r/[A-Za-z0-9_.-]+", mail.json()["text"]))
    assert len(urls) == 1
    url = urls.pop()
    assert f'href="{url}"' in mail.json()["html"]
    return url.removeprefix(PUBLIC)


def test_a_request_mails_the_contact_a_signed_link_through_the_outbox(api: Api) -> None:
    contact_id = contact(api)
    address = api.container.contacts.get(UUID(contact_id)).email
    before = datetime.now(UTC)

    response = request(api, contact_id)

    assert response.status_code == 202, response.text
    body = response.json()
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(days=7) - timedelta(seconds=1) <= expires_at <= datetime.now(UTC) + timedelta(days=7)
    mail = api.client.get(f"/api/v1/outbox/{body['message_id']}", headers=api.admin).json()
    assert (mail["to"], mail["from"], mail["subject"]) == (address, "no-reply@127.0.0.1", "Confirm your subscription")
    assert (mail["campaign_id"], mail["contact_id"]) == (str(SYSTEM_MAIL), contact_id)
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
    token = mailed_link(api, body["message_id"]).removeprefix("/r/")
    claims = links_of(api.container).keys.verify(token, Purpose.RESUBSCRIBE, datetime.now(UTC))
    assert (str(claims.contact_id), claims.expires_at) == (contact_id, expires_at)
    assert opted_out(api, contact_id)  # asking changes nothing: only the contact's click does


def test_get_shows_the_button_and_changes_nothing(api: Api) -> None:
    contact_id = contact(api)
    url = mailed_link(api, request(api, contact_id).json()["message_id"])
    recorded = events(api, contact_id)

    for _ in range(3):  # a link scanner may fetch it more than once
        text = assert_page(api.client.get(url), 200)

    assert '<form method="post">' in text and "Confirm my subscription</button>" in text
    assert events(api, contact_id) == recorded
    assert opted_out(api, contact_id)


def test_post_opts_the_contact_back_in_and_a_second_post_shows_the_same_page(api: Api) -> None:
    contact_id = contact(api)
    url = mailed_link(api, request(api, contact_id).json()["message_id"])

    first = assert_page(api.client.post(url, follow_redirects=False), 200)
    assert not opted_out(api, contact_id)
    recorded = events(api, contact_id)
    second = assert_page(api.client.post(url, follow_redirects=False), 200)

    assert "You will receive our marketing email again." in first
    assert second == first
    assert events(api, contact_id) == recorded
    preferences = api.client.get(f"/api/v1/contacts/{contact_id}/preferences", headers=api.admin).json()
    assert preferences["opted_out"] is False  # the read model has it too (read-your-writes)


def test_the_audit_history_shows_who_asked_and_that_the_contact_confirmed(api: Api) -> None:
    contact_id = contact(api)
    message_id = request(api, contact_id).json()["message_id"]
    api.client.post(mailed_link(api, message_id))

    *_, asked, confirmed = events(api, contact_id)

    assert asked["type"].endswith("ResubscribeRequested")
    assert asked["payload"]["message_id"] == message_id
    assert asked["actor"] == f"api_key:{api.admin_id}"
    assert confirmed["type"].endswith("OptedIn")
    assert confirmed["actor"] == f"contact:{contact_id}"
    assert confirmed["payload"]["source"] == "contact"
    assert confirmed["reason"] == "re-subscribe confirmation"
    assert confirmed["request_id"]
    history = api.client.get(f"/api/v1/contacts/{contact_id}/preferences/history", headers=api.admin).json()
    *_, shown_asked, shown_confirmed = history["events"]
    assert (shown_asked["type"], shown_asked["actor"]) == ("ResubscribeRequested", f"api_key:{api.admin_id}")
    assert shown_asked["changes"]["message_id"] == message_id
    assert (shown_confirmed["type"], shown_confirmed["source"]) == ("OptedIn", "contact")


def test_nothing_to_confirm_unless_opted_out_globally(api: Api) -> None:
    never = contact(api, opted_out=False)
    error_of(request(api, never), 409, "not_opted_out")

    back = contact(api)
    api.container.preferences.opt_in(UUID(back), Source.ADMIN)
    error_of(request(api, back), 409, "not_opted_out")

    assert events(api, never) == [] and not [e for e in events(api, back) if "Resubscribe" in e["type"]]


def test_an_unknown_contact_is_404(api: Api) -> None:
    error_of(request(api, str(uuid4())), 404, "not_found")


def test_a_second_request_within_ten_minutes_is_refused_and_sends_nothing(api: Api) -> None:
    contact_id = contact(api)
    assert request(api, contact_id).status_code == 202

    again = request(api, contact_id)

    details = error_of(again, 429, "rate_limited")
    assert 0 < int(again.headers["retry-after"]) <= 600 and details["retry_after"] == int(again.headers["retry-after"])
    sent = api.client.get(f"/api/v1/outbox?campaign_id={SYSTEM_MAIL}", headers=api.admin).json()["items"]
    assert [m["contact_id"] for m in sent].count(contact_id) == 1
    assert [e["type"].rsplit(".", 1)[-1] for e in events(api, contact_id)].count("ResubscribeRequested") == 1


def test_only_editors_and_admins_may_ask(api: Api) -> None:
    contact_id = contact(api)
    _, analyst = api.issue("analyst")

    error_of(request(api, contact_id, {"Authorization": f"Bearer {analyst}"}), 403, "forbidden")
    _, editor = api.issue("editor")
    assert request(api, contact_id, {"Authorization": f"Bearer {editor}"}).status_code == 202


def test_a_cross_site_post_is_refused_and_changes_nothing(api: Api) -> None:
    contact_id = contact(api)
    url = mailed_link(api, request(api, contact_id).json()["message_id"])

    refused = api.client.post(url, headers={"sec-fetch-site": "cross-site"})

    assert 'role="alert"' in assert_page(refused, 403)
    assert opted_out(api, contact_id)
    assert_page(api.client.post(url, headers={"sec-fetch-site": "same-origin"}), 200)
    assert not opted_out(api, contact_id)
