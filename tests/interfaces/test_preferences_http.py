"""The preference API over HTTP, on SQLite and PostgreSQL: categories, a contact's preferences, eligibility,
history and state at an instant; status codes, error bodies and roles."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from tests.interfaces.client import Api, bearer, error_of

CATEGORIES = "/api/v1/preference-categories"


def new_contact(api: Api, email: str | None = None) -> str:
    body = {"email": email or f"{uuid4().hex}@example.com"}
    response = api.client.post("/api/v1/contacts", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def define(api: Api, key: str, **body: Any) -> dict[str, Any]:
    response = api.client.post(CATEGORIES, json={"key": key, "name": key.title(), **body}, headers=api.admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def prefs_url(contact_id: str) -> str:
    return f"/api/v1/contacts/{contact_id}/preferences"


def patch(api: Api, contact_id: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return api.client.patch(prefs_url(contact_id), json=body, headers=headers or api.admin)


# -- categories -------------------------------------------------------------------------------------


def test_categories_are_created_listed_read_and_updated(api: Api) -> None:
    created = define(api, "news", description="Monthly news")
    define(api, "offers", default_subscribed=False)

    listed = api.client.get(CATEGORIES, headers=api.admin).json()
    updated = api.client.patch(f"{CATEGORIES}/offers", json={"name": "Deals", "default_subscribed": True},
                               headers=api.admin).json()  # fmt: skip

    assert {k: created[k] for k in ("key", "name", "description", "default_subscribed", "archived")} == {
        "key": "news", "name": "News", "description": "Monthly news", "default_subscribed": True, "archived": False,
    }  # fmt: skip
    assert [c["key"] for c in listed] == ["news", "offers"]
    assert (updated["name"], updated["default_subscribed"]) == ("Deals", True)
    assert api.client.get(f"{CATEGORIES}/news", headers=api.admin).json() == created


def test_a_duplicate_key_is_409_and_a_bad_key_is_422_naming_the_field(api: Api) -> None:
    define(api, "news")

    error_of(api.client.post(CATEGORIES, json={"key": "news", "name": "Again"}, headers=api.admin), 409, "conflict")
    details = error_of(api.client.post(CATEGORIES, json={"key": "Big News", "name": "x"}, headers=api.admin), 422,
                       "invalid_category_key")  # fmt: skip
    assert details["field"] == "key"


def test_an_unknown_category_is_404(api: Api) -> None:
    error_of(api.client.get(f"{CATEGORIES}/nope", headers=api.admin), 404, "unknown_category")
    error_of(api.client.patch(f"{CATEGORIES}/nope", json={"name": "x"}, headers=api.admin), 404, "unknown_category")


def test_archiving_hides_a_category_and_freezes_it(api: Api) -> None:
    define(api, "old")

    archived = api.client.patch(f"{CATEGORIES}/old", json={"archived": True}, headers=api.admin)

    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert api.client.get(CATEGORIES, headers=api.admin).json() == []
    assert [c["key"] for c in api.client.get(f"{CATEGORIES}?archived=true", headers=api.admin).json()] == ["old"]
    error_of(api.client.patch(f"{CATEGORIES}/old", json={"name": "New"}, headers=api.admin), 409, "category_archived")
    error_of(api.client.patch(f"{CATEGORIES}/old", json={"archived": False}, headers=api.admin), 409,
             "category_archived")  # fmt: skip


def test_only_admins_write_categories_and_any_role_reads(api: Api) -> None:
    define(api, "news")
    _, editor = api.issue("editor")
    _, analyst = api.issue("analyst")

    error_of(api.client.post(CATEGORIES, json={"key": "x", "name": "X"}, headers=bearer(editor)), 403, "forbidden")
    error_of(api.client.patch(f"{CATEGORIES}/news", json={"name": "X"}, headers=bearer(editor)), 403, "forbidden")
    assert api.client.get(CATEGORIES, headers=bearer(analyst)).status_code == 200


# -- a contact's preferences -------------------------------------------------------------------------


def test_a_new_contact_has_the_defaults(api: Api) -> None:
    define(api, "news")
    define(api, "offers", default_subscribed=False)
    cid = new_contact(api)

    body = api.client.get(prefs_url(cid), headers=api.admin).json()

    assert (body["opted_out"], body["frequency"], body["paused_until"], body["updated_at"]) == (
        False, None, None, None)  # fmt: skip
    assert [(c["key"], c["subscribed"], c["explicit"]) for c in body["categories"]] == [
        ("news", True, False), ("offers", False, False)]  # fmt: skip


def test_a_patch_changes_everything_given_at_once(api: Api) -> None:
    define(api, "news")
    cid = new_contact(api)

    response = patch(api, cid, {"opted_out": True, "categories": {"news": False},
                                "frequency": {"max": 3, "per": "week"}, "paused_until": "2099-01-01T00:00:00+01:00",
                                "reason": "asked by phone"})  # fmt: skip

    body = response.json()
    assert response.status_code == 200, response.text
    assert (body["opted_out"], body["frequency"]) == (True, {"max": 3, "per": "week"})
    assert body["paused_until"] == "2098-12-31T23:00:00.000000+00:00"
    assert [(c["key"], c["subscribed"], c["explicit"]) for c in body["categories"]] == [("news", False, True)]
    cleared = patch(api, cid, {"frequency": None, "paused_until": None}).json()
    assert (cleared["frequency"], cleared["paused_until"], cleared["opted_out"]) == (None, None, True)


def test_bad_values_are_422_naming_the_field(api: Api) -> None:
    define(api, "news")
    cid = new_contact(api)

    cases = [({"frequency": {"max": 0, "per": "day"}}, "invalid_frequency", "frequency"),
             ({"paused_until": "2001-01-01T00:00:00Z"}, "invalid_pause", "paused_until"),
             ({"paused_until": "2099-01-01T00:00:00"}, "invalid_instant", "paused_until"),
             ({"categories": {"news": "yes"}}, "invalid", "categories.news"),
             ({"categories": {"Bad Key": True}}, "invalid_category_key", "categories.Bad Key")]  # fmt: skip
    for body, code, field in cases:
        assert error_of(patch(api, cid, body), 422, code)["field"] == field


def test_unknown_contacts_and_categories_are_404_and_an_archived_one_409(api: Api) -> None:
    define(api, "old")
    api.client.patch(f"{CATEGORIES}/old", json={"archived": True}, headers=api.admin)
    cid = new_contact(api)

    error_of(api.client.get(prefs_url(str(uuid4())), headers=api.admin), 404, "not_found")
    error_of(patch(api, str(uuid4()), {"opted_out": True}), 404, "unknown_contact")
    error_of(patch(api, cid, {"categories": {"nope": True}}), 404, "unknown_category")
    error_of(patch(api, cid, {"categories": {"old": True}}), 409, "category_archived")


def test_editors_write_preferences_analysts_only_read(api: Api) -> None:
    cid = new_contact(api)
    _, editor = api.issue("editor")
    _, analyst = api.issue("analyst")

    assert patch(api, cid, {"opted_out": True}, bearer(editor)).status_code == 200
    error_of(patch(api, cid, {"opted_out": False}, bearer(analyst)), 403, "forbidden")
    assert api.client.get(prefs_url(cid), headers=bearer(analyst)).json()["opted_out"] is True


def test_malformed_bodies_are_400(api: Api) -> None:
    cid = new_contact(api)

    error_of(patch(api, cid, {"opted_out": True, "colour": "red"}), 400, "bad_request")
    error_of(patch(api, cid, {"opted_out": "yes"}), 400, "bad_request")


# -- eligibility -------------------------------------------------------------------------------------


def eligibility(api: Api, cid: str, category: str | None = None) -> dict[str, Any]:
    query = f"?category={category}" if category else ""
    response = api.client.get(f"/api/v1/contacts/{cid}/eligibility{query}", headers=api.admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_eligibility_answers_with_the_reason(api: Api) -> None:
    define(api, "news")
    define(api, "offers", default_subscribed=False)
    cid = new_contact(api, "ann@example.com")

    assert eligibility(api, cid, "news")["eligible"] is True
    assert eligibility(api, cid, "offers")["reason"] == "unsubscribed_from_category"
    patch(api, cid, {"paused_until": "2099-01-01T00:00:00Z"})
    assert eligibility(api, cid, "news")["reason"] == "paused"
    patch(api, cid, {"opted_out": True})
    assert eligibility(api, cid)["reason"] == "opted_out"
    api.client.post("/api/v1/suppressions", json={"address": "ann@example.com"}, headers=api.admin)
    assert eligibility(api, cid, "news") | {"checked_at": None} == {
        "contact_id": cid, "category": "news", "eligible": False, "reason": "suppressed",
        "details": {"suppression_reason": "manual"}, "checked_at": None,
    }  # fmt: skip
    assert eligibility(api, str(uuid4()))["reason"] == "no_such_contact"


def test_eligibility_for_an_unknown_or_malformed_category_is_an_error(api: Api) -> None:
    cid = new_contact(api)
    _, analyst = api.issue("analyst")

    url = f"/api/v1/contacts/{cid}/eligibility"
    error_of(api.client.get(f"{url}?category=nope", headers=bearer(analyst)), 404, "unknown_category")
    assert error_of(api.client.get(f"{url}?category=No%20Pe", headers=api.admin), 422,
                    "invalid_category_key")["field"] == "category"  # fmt: skip


# -- audit -------------------------------------------------------------------------------------------


def test_history_shows_who_changed_what_when_why_and_through_which_source(api: Api) -> None:
    define(api, "news")
    cid = new_contact(api, "bob@example.com")
    patch(api, cid, {"categories": {"news": False}, "reason": "asked by phone"})
    api.container.preferences.opt_out(UUID(cid), "esp", cause="evt-1")
    api.client.post("/api/v1/suppressions", json={"address": "bob@example.com", "reason": "complaint",
                                                  "note": "abuse desk"}, headers=api.admin)  # fmt: skip

    body = api.client.get(f"{prefs_url(cid)}/history", headers=api.admin).json()

    rows = [(e["aggregate"], e["type"], e["actor"], e["source"], e["reason"], e["cause"]) for e in body["events"]]
    admin = f"api_key:{api.admin_id}"
    assert rows == [
        ("preferences", "Started", admin, "admin", "asked by phone", None),
        ("preferences", "CategoriesChosen", admin, "admin", "asked by phone", None),
        ("preferences", "OptedOut", "system", "esp", None, "evt-1"),
        ("suppression", "Opened", admin, "admin", "abuse desk", None),
        ("suppression", "Suppressed", admin, "admin", "abuse desk", None),
    ]
    assert body["events"][1]["changes"] == {"choices": {"news": False}}
    assert body["events"][4]["changes"] == {"reason_code": "complaint"}


def test_history_of_an_unknown_contact_is_404(api: Api) -> None:
    error_of(api.client.get(f"{prefs_url(str(uuid4()))}/history", headers=api.admin), 404, "not_found")


def test_preferences_at_an_instant_are_as_they_were_then(api: Api) -> None:
    define(api, "news")
    cid = new_contact(api)
    before = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    patch(api, cid, {"categories": {"news": False}})
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    patch(api, cid, {"opted_out": True, "frequency": {"digest": "weekly"}})
    api.client.patch(f"{CATEGORIES}/news", json={"default_subscribed": False}, headers=api.admin)

    def at(instant: str) -> dict[str, Any]:
        response = api.client.get(prefs_url(cid), params={"at": instant}, headers=api.admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    then, middle, now = at(before), at(between), at(datetime.now(UTC).isoformat())
    assert (then["version"], then["opted_out"], then["categories"][0]["subscribed"]) == (0, False, True)
    assert (middle["version"], middle["opted_out"], middle["categories"][0]["explicit"]) == (2, False, True)
    assert (now["version"], now["opted_out"], now["frequency"]) == (4, True, {"digest": "weekly"})
    assert now["categories"][0]["default_subscribed"] is False
    assert middle["categories"][0]["default_subscribed"] is True


def test_an_instant_without_offset_is_422(api: Api) -> None:
    cid = new_contact(api)

    error_of(api.client.get(prefs_url(cid), params={"at": "2026-01-01T00:00:00"}, headers=api.admin), 422, "invalid")
