"""POST /api/v1/contacts/imports: streamed CSV/NDJSON uploads become durable background jobs."""

from __future__ import annotations

import json
import time
from typing import Any

from eventsourcing.utils import get_topic

from domain.contact import Contact
from tests.interfaces.client import Api, bearer, error_of

URL = "/api/v1/contacts/imports"
CSV = (
    "Email,Timezone,plan,seats,vip,since,zip\n"
    "ann@example.com,Europe/Paris,pro,3,true,2024-05-01,01234\n"
    "bob@example.com,,free,1.5,false,,\n"
    "not-an-address,,free,,,,\n"
    "cy@example.com,Mars/Olympus,,,,,\n"
    "dee@example.com,UTC,basic\n"
    "ann@example.com,,pro,4,,,\n"
)


def upload(api: Api, body: bytes | str, content_type: str, headers: dict[str, str] | None = None) -> Any:
    data = body.encode() if isinstance(body, str) else body
    return api.client.post(URL, content=data, headers={**(headers or api.admin), "Content-Type": content_type})


def finished(api: Api, job_id: str) -> dict[str, Any]:
    # The job runs in a thread of the app; wait (bounded) for its durable end state.
    for _ in range(400):
        api.container.settle()
        job = api.client.get(f"{URL}/{job_id}", headers=api.admin).json()
        if job["status"] != "running":
            return dict(job)
        time.sleep(0.025)
    raise AssertionError(f"import {job_id} did not finish")


def contact_events(api: Api) -> int:
    topics = [get_topic(c) for c in (Contact.Registered, Contact.AttributesChanged, Contact.TimezoneChanged)]  # type: ignore[attr-defined]
    return len(api.container.store.recorder.select_notifications(start=None, limit=10_000, topics=topics))


def test_a_csv_import_counts_every_row_and_reports_the_bad_ones(api: Api) -> None:
    response = upload(api, CSV, "text/csv; charset=utf-8")

    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"{URL}/{response.json()['id']}"
    job = finished(api, response.json()["id"])
    assert job["status"] == "completed"
    counts = {k: job[k] for k in ("rows_read", "created", "updated", "unchanged", "rejected")}
    assert counts == {"rows_read": 6, "created": 2, "updated": 1, "unchanged": 0, "rejected": 3}
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(4, "email"), (5, "timezone"), (6, None)]
    assert job["errors_truncated"] is False
    ann = api.client.get("/api/v1/contacts", params={"email": "ann@example.com"}, headers=api.admin).json()["items"][0]
    assert ann["attributes"] == {"plan": "pro", "seats": 4, "vip": True, "since": "2024-05-01", "zip": "01234"}
    assert ann["timezone"] == "Europe/Paris"


def test_importing_the_same_file_again_records_no_contact_event(api: Api) -> None:
    finished(api, upload(api, CSV, "text/csv").json()["id"])
    before = contact_events(api)

    again = finished(api, upload(api, CSV, "text/csv").json()["id"])

    assert contact_events(api) == before
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 3, 3)


def test_an_ndjson_import_sets_and_removes_attributes(api: Api) -> None:
    lines = [
        {"email": "ann@example.com", "timezone": "UTC", "locale": "en_gb", "attributes": {"plan": "pro", "n": 2}},
        {"email": "ann@example.com", "attributes": {"plan": None}},
        {"email": "bob@example.com", "attributes": {"nested": {"x": 1}}},
        {"mail": "typo@example.com"},
    ]
    body = "\n".join(json.dumps(line) for line in lines) + "\n{not json\n\n"

    job = finished(api, upload(api, body, "application/x-ndjson").json()["id"])

    assert (job["rows_read"], job["created"], job["updated"], job["rejected"]) == (5, 1, 1, 3)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "attributes.nested"), (4, "mail"), (5, None)]
    ann = api.client.get("/api/v1/contacts", params={"email": "ann@example.com"}, headers=api.admin).json()["items"]
    assert (ann[0]["attributes"], ann[0]["locale"]) == ({"n": 2}, "en-GB")


def test_uploads_of_other_types_are_415_and_a_csv_without_email_column_is_422(api: Api) -> None:
    error_of(upload(api, '{"email": "a@b.co"}', "application/json"), 415, "unsupported_media_type")
    details = error_of(upload(api, "name,plan\nann,pro\n", "text/csv"), 422, "invalid_import_header")
    assert details["field"] == "header"
    assert error_of(upload(api, "email,First Name\n", "text/csv"), 422, "invalid_import_header")["field"] == "header"
    assert api.client.get(URL, headers=api.admin).json() == []


def test_only_editors_and_admins_import_and_any_role_reads_progress(api: Api) -> None:
    _, analyst = api.issue("analyst")
    _, editor = api.issue("editor")

    error_of(upload(api, CSV, "text/csv", bearer(analyst)), 403, "forbidden")
    job_id = upload(api, CSV, "text/csv", bearer(editor)).json()["id"]

    finished(api, job_id)
    job = api.client.get(f"{URL}/{job_id}", headers=bearer(analyst))
    assert job.status_code == 200
    assert job.json()["started_by"].startswith("api_key:")
    assert [j["id"] for j in api.client.get(URL, headers=bearer(analyst)).json()] == [job_id]
    error_of(api.client.get(f"{URL}/00000000-0000-0000-0000-000000000000", headers=api.admin), 404, "not_found")
