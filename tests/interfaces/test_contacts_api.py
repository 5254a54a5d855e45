"""/api/v1/contacts: upsert by email, read, patch, list with cursor, roles, 422s naming the field, email events."""

from __future__ import annotations

from typing import Any

import pytest

from domain.email_address import contact_id_for
from tests.interfaces.client import Api, bearer, error_of
from tests.webhooks.test_route import DELIVERY, connect, post

URL = "/api/v1/contacts"


def upsert(api: Api, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return api.client.post(URL, json=body, headers=headers or api.admin)


def history(api: Api, contact_id: str) -> list[dict[str, Any]]:
    response = api.client.get(f"/api/v1/history/{contact_id}", headers=api.admin)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def test_posting_a_new_email_creates_the_contact_and_answers_201(api: Api) -> None:
    response = upsert(api, email=" Ann@Example.COM", attributes={"plan": "pro", "seats": 3}, timezone="europe/paris",
                      locale="fr_ca")  # fmt: skip

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == str(contact_id_for("ann@example.com"))
    assert (body["email"], body["email_domain"]) == ("ann@example.com", "example.com")
    assert (body["timezone"], body["locale"], body["attributes"]) == (
        "Europe/Paris",
        "fr-CA",
        {"plan": "pro", "seats": 3},
    )
    assert api.client.get(f"{URL}/{body['id']}", headers=api.admin).json() == body


def test_posting_the_same_values_again_answers_200_and_records_nothing(api: Api) -> None:
    first = upsert(api, email="ann@example.com", attributes={"plan": "pro"}, timezone="UTC").json()

    again = upsert(api, email="ANN@example.com", attributes={"plan": "pro"})

    assert again.status_code == 200
    assert again.json() == first
    assert len(history(api, first["id"])) == 1


def test_posting_new_values_updates_only_the_given_fields(api: Api) -> None:
    created = upsert(api, email="ann@example.com", attributes={"plan": "pro", "seats": 3}, timezone="UTC").json()

    updated = upsert(api, email="ann@example.com", attributes={"seats": 5, "plan": None}, locale="de")

    assert updated.status_code == 200
    assert updated.json()["attributes"] == {"seats": 5}
    assert (updated.json()["timezone"], updated.json()["locale"]) == ("UTC", "de")
    assert updated.json()["created_at"] == created["created_at"]
    assert [e["type"] for e in history(api, created["id"])] == [
        "Contact.Registered", "Contact.AttributesChanged", "Contact.LocaleChanged"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"email": "not-an-address"}, "invalid_email", "email"),
        ({"email": "ann@example.com", "timezone": "Mars/Olympus"}, "unknown_timezone", "timezone"),
        ({"email": "ann@example.com", "locale": "english"}, "invalid_locale", "locale"),
        (
            {"email": "ann@example.com", "attributes": {"prefs": {"a": 1}}},
            "invalid_attribute_value",
            "attributes.prefs",
        ),
        ({"email": "ann@example.com", "attributes": {"tags": [1]}}, "invalid_attribute_value", "attributes.tags"),
        ({"email": "ann@example.com", "attributes": {"email": "x"}}, "invalid_attribute_name", "attributes.email"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(api: Api, body: dict[str, Any], code: str, field: str) -> None:
    details = error_of(upsert(api, **body), 422, code)

    assert details["field"] == field


def test_a_malformed_body_is_400(api: Api) -> None:
    error_of(upsert(api, email="ann@example.com", colour="red"), 400, "bad_request")
    error_of(api.client.post(URL, json={"email": 3}, headers=api.admin), 400, "bad_request")


def test_patch_changes_an_existing_contact_and_404s_an_unknown_one(api: Api) -> None:
    contact = upsert(api, email="ann@example.com", attributes={"plan": "pro"}).json()

    patched = api.client.patch(f"{URL}/{contact['id']}", json={"attributes": {"vip": True}, "timezone": "Asia/Tokyo"},
                               headers=api.admin)  # fmt: skip

    assert patched.status_code == 200, patched.text
    assert patched.json()["attributes"] == {"plan": "pro", "vip": True}
    assert api.client.get(f"{URL}/{contact['id']}", headers=api.admin).json()["timezone"] == "Asia/Tokyo"
    unknown = contact_id_for("nobody@example.com")
    error_of(api.client.patch(f"{URL}/{unknown}", json={"locale": "en"}, headers=api.admin), 404, "not_found")
    error_of(api.client.get(f"{URL}/{unknown}", headers=api.admin), 404, "not_found")


def test_the_list_pages_through_every_contact_once_and_filters_by_email(api: Api) -> None:
    for i in range(5):
        upsert(api, email=f"user{i}@example.com")

    seen, cursor = [], None
    while True:
        page = api.client.get(URL, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=api.admin)
        assert page.status_code == 200, page.text
        seen += [c["email"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == [f"user{i}@example.com" for i in range(5)]
    found = api.client.get(URL, params={"email": "USER3@example.com"}, headers=api.admin).json()
    assert [c["email"] for c in found["items"]] == ["user3@example.com"]
    assert api.client.get(URL, params={"email": "x@nowhere.example"}, headers=api.admin).json()["items"] == []
    assert error_of(api.client.get(URL, params={"email": "nope"}, headers=api.admin), 422, "invalid_email")["field"]
    details = error_of(api.client.get(URL, params={"cursor": "garbage"}, headers=api.admin), 400, "bad_request")
    assert details["fields"][0]["key"] == "cursor"


def test_analysts_read_but_only_editors_and_admins_write(api: Api) -> None:
    _, analyst = api.issue("analyst")
    _, editor = api.issue("editor")

    error_of(upsert(api, bearer(analyst), email="ann@example.com"), 403, "forbidden")
    created = upsert(api, bearer(editor), email="ann@example.com")

    assert created.status_code == 201
    assert api.client.get(f"{URL}/{created.json()['id']}", headers=bearer(analyst)).status_code == 200
    patched = api.client.patch(f"{URL}/{created.json()['id']}", json={"locale": "en"}, headers=bearer(analyst))
    error_of(patched, 403, "forbidden")


def test_a_contacts_email_events_are_linked_by_recipient_address(api: Api) -> None:
    contact = upsert(api, email="ann@example.com").json()
    conn = connect(api)
    for i, recipient in enumerate(["Ann@Example.com", "bob@example.com", "ann@example.com"]):
        post(api, conn["webhook_url"], {**DELIVERY, "MessageID": f"m-{i}", "Recipient": recipient})
    api.container.settle()

    first = api.client.get(f"{URL}/{contact['id']}/events", params={"limit": 1}, headers=api.admin)
    rest = api.client.get(f"{URL}/{contact['id']}/events", params={"cursor": first.json()["next_cursor"]},
                          headers=api.admin)  # fmt: skip

    assert first.status_code == 200, first.text
    messages = [e["provider_message_id"] for e in first.json()["items"] + rest.json()["items"]]
    assert messages == ["m-0", "m-2"]
    assert rest.json()["next_cursor"] is None
    unknown = contact_id_for("nobody@example.com")
    error_of(api.client.get(f"{URL}/{unknown}/events", headers=api.admin), 404, "not_found")
