"""The suppression API over HTTP, on SQLite and PostgreSQL: add, read, list with cursor and reason filter,
lift; status codes, error bodies and roles."""

from __future__ import annotations

from typing import Any

from domain.email_address import contact_id_for
from tests.interfaces.client import Api, bearer, error_of

URL = "/api/v1/suppressions"


def suppress(api: Api, address: str, **body: Any) -> Any:
    return api.client.post(URL, json={"address": address, **body}, headers=api.admin)


def test_suppressing_answers_201_then_200_with_the_entry(api: Api) -> None:
    first = suppress(api, " Ann@Example.COM", reason="complaint", note="abuse desk")
    again = suppress(api, "ann@example.com", reason="complaint")

    assert first.status_code == 201, first.text
    assert again.status_code == 200
    body = first.json()
    assert {k: body[k] for k in ("address", "contact_id", "reason", "source", "cause")} == {
        "address": "ann@example.com", "contact_id": str(contact_id_for("ann@example.com")), "reason": "complaint",
        "source": "admin", "cause": None,
    }  # fmt: skip
    assert api.client.get(f"{URL}/ANN@example.com", headers=api.admin).json() == body


def test_listing_filters_by_reason_and_pages_with_the_cursor(api: Api) -> None:
    for i, reason in enumerate(["manual", "hard_bounce", "manual", "manual"]):
        assert suppress(api, f"user{i}@example.com", reason=reason).status_code == 201

    first = api.client.get(URL, params={"reason": "manual", "limit": 2}, headers=api.admin).json()
    rest = api.client.get(URL, params={"reason": "manual", "cursor": first["next_cursor"]}, headers=api.admin).json()

    assert [s["address"] for s in first["items"]] == ["user0@example.com", "user2@example.com"]
    assert [s["address"] for s in rest["items"]] == ["user3@example.com"]
    assert rest["next_cursor"] is None
    assert len(api.client.get(URL, headers=api.admin).json()["items"]) == 4


def test_lifting_answers_204_then_404(api: Api) -> None:
    suppress(api, "ann@example.com")

    lifted = api.client.delete(f"{URL}/ann@example.com", params={"reason": "fixed mailbox"}, headers=api.admin)

    assert lifted.status_code == 204
    error_of(api.client.get(f"{URL}/ann@example.com", headers=api.admin), 404, "not_suppressed")
    error_of(api.client.delete(f"{URL}/ann@example.com", headers=api.admin), 404, "not_suppressed")


def test_bad_input_is_422_naming_the_field(api: Api) -> None:
    assert error_of(suppress(api, "nobody"), 422, "invalid_email")
    assert error_of(suppress(api, "ann@example.com", reason="bored"), 422, "unknown_suppression_reason")["field"] == (
        "reason"
    )
    details = error_of(api.client.get(URL, params={"reason": "bored"}, headers=api.admin), 422,
                       "unknown_suppression_reason")  # fmt: skip
    assert details["field"] == "reason"
    error_of(api.client.get(f"{URL}/not-an-address", headers=api.admin), 422, "invalid_email")
    error_of(api.client.post(URL, json={"address": "a@example.com", "colour": 1}, headers=api.admin), 400,
             "bad_request")  # fmt: skip


def test_editors_write_and_analysts_only_read(api: Api) -> None:
    _, editor = api.issue("editor")
    _, analyst = api.issue("analyst")

    assert api.client.post(URL, json={"address": "a@example.com"}, headers=bearer(editor)).status_code == 201
    error_of(api.client.post(URL, json={"address": "b@example.com"}, headers=bearer(analyst)), 403, "forbidden")
    error_of(api.client.delete(f"{URL}/a@example.com", headers=bearer(analyst)), 403, "forbidden")
    assert api.client.get(URL, headers=bearer(analyst)).status_code == 200
