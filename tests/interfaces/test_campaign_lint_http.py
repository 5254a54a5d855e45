"""GET /api/v1/campaigns/{id}/lint on both backends, and the linter as the submission validator."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.campaign_content import Content
from domain.sending_settings import SendingSettings
from interfaces.bootstrap import Container
from interfaces.lint.parts import Layout
from interfaces.lint.store import CampaignLinter
from tests.interfaces.client import Api, bearer, error_of

CAMPAIGNS = "/api/v1/campaigns"
UNSUBSCRIBE = "<a href='{{ unsubscribe_url }}'>Unsubscribe</a>"


@pytest.fixture
def refs(api: Api) -> dict[str, Any]:
    """A category, a segment, and an ESP connection that sends for example.com."""
    c = api.container
    c.preferences.define_category("news", "News")
    connection = c.connections.connect("Postmark", "postmark", {"basic_auth": {"username": "u", "password": "p" * 12}})
    c.connections.configure_sending(connection.id, SendingSettings(domains=("example.com",)))
    segment = c.segments.define("Everyone", "", {"attribute": "plan", "op": "exists"})
    return {"category": "news", "esp_connection_id": str(connection.id), "include_segments": [str(segment.id)],
            "from_name": "Shop", "from_address": "news@mail.example.com"}  # fmt: skip


def create(api: Api, refs: dict[str, Any], **fields: Any) -> str:
    body = {"name": "Spring", **refs, "subject": "Spring is here", "text": "Hello", "html": f"<p>Hi</p>{UNSUBSCRIBE}",
            **fields}  # fmt: skip
    response = api.client.post(CAMPAIGNS, json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def lint(api: Api, campaign_id: str, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    response = api.client.get(f"{CAMPAIGNS}/{campaign_id}/lint", params=params, headers=headers or api.admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_clean_campaign_lints_clean(api: Api, refs: dict[str, Any]) -> None:
    out = lint(api, create(api, refs))
    assert (out["problems"], out["blocking"], out["warnings"], out["version"]) == ([], 0, 0, 1)


def test_lint_lists_errors_and_warnings_with_positions_to_any_role(api: Api, refs: dict[str, Any]) -> None:
    html = f"<p>Hi {{{{ contact.attributes.nickname }}}}</p>\n<a href='http://example.com'>site</a>{UNSUBSCRIBE}"
    campaign_id = create(api, refs, html=html, text=None)
    _, token = api.issue("analyst")

    out = lint(api, campaign_id, bearer(token))

    assert (out["blocking"], out["warnings"]) == (1, 2)
    assert [(p["code"], p["severity"], p["field"], p["line"], p["column"]) for p in out["problems"]] == [
        ("unknown_attribute", "error", "html", 1, 10),
        ("insecure_link", "warning", "html", 2, 1),
        ("missing_text_part", "warning", "text", None, None),
    ]


def test_attributes_some_contact_has_are_known(api: Api, refs: dict[str, Any]) -> None:
    campaign_id = create(api, refs, subject="Hi {{ contact.attributes.first_name }}")
    assert [p["code"] for p in lint(api, campaign_id)["problems"]] == ["unknown_attribute"]
    ann = {"email": "ann@example.com", "attributes": {"first_name": "Ann"}}
    contact = api.client.post("/api/v1/contacts", json=ann, headers=api.admin)
    assert contact.status_code == 201, contact.text
    api.container.settle()
    assert lint(api, campaign_id)["problems"] == []


def test_the_pinned_layout_is_linted_and_older_versions_can_be(api: Api, refs: dict[str, Any]) -> None:
    layout = "<html><body>{{ content }}<p>{{ unknown_thing }}</p>" + UNSUBSCRIBE + "</body></html>"
    template = api.client.post("/api/v1/templates", json={"name": "Plain", "html": layout}, headers=api.admin)
    assert template.status_code == 201, template.text
    campaign_id = create(api, refs, html="<p>No link of its own</p>", template_id=template.json()["id"])
    patched = api.client.patch(f"{CAMPAIGNS}/{campaign_id}", json={"template_id": None}, headers=api.admin)
    assert patched.status_code == 200, patched.text

    current, first = lint(api, campaign_id), lint(api, campaign_id, version=1)

    assert [p["code"] for p in current["problems"]] == ["missing_unsubscribe_link"]
    assert first["version"] == 1
    assert [(p["code"], p["field"]) for p in first["problems"]] == [("unknown_variable", "template.html")]


def test_unknown_campaigns_and_versions_answer_404(api: Api, refs: dict[str, Any]) -> None:
    error_of(api.client.get(f"{CAMPAIGNS}/{uuid4()}/lint", headers=api.admin), 404, "not_found")
    campaign_id = create(api, refs)
    error_of(api.client.get(f"{CAMPAIGNS}/{campaign_id}/lint?version=9", headers=api.admin), 404, "unknown_version")
    assert api.client.get(f"{CAMPAIGNS}/{campaign_id}/lint?version=0", headers=api.admin).status_code == 400


def test_submission_is_refused_on_a_lint_error(api: Api, refs: dict[str, Any]) -> None:
    campaign_id = create(api, refs, from_address="news@example.org", html="<p>{{ contact.email | }}</p>")

    response = api.client.post(f"{CAMPAIGNS}/{campaign_id}/submit", headers=api.admin)

    details = error_of(response, 422, "submission_blocked")
    found = {(p["code"], p["field"], p["line"]) for p in details["problems"]}
    assert found == {("liquid_syntax", "html", 1), ("missing_unsubscribe_link", "html", None),
                     ("from_domain_not_allowed", "from_address", None)}  # fmt: skip
    assert api.client.get(f"{CAMPAIGNS}/{campaign_id}", headers=api.admin).json()["state"] == "draft"


def test_submission_records_the_warnings(api: Api, refs: dict[str, Any]) -> None:
    connection = api.container.connections.connect(
        "SES", "ses", {"basic_auth": {"username": "u", "password": "p" * 12}}
    )
    campaign_id = create(api, {**refs, "esp_connection_id": str(connection.id)}, text=None)

    response = api.client.post(f"{CAMPAIGNS}/{campaign_id}/submit", headers=api.admin)

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "in_review"
    submitted = [e for e in api.container.history.entries(UUID(campaign_id)) if e.type.endswith("Submitted")]
    assert [_code(w) for w in submitted[0].payload["warnings"]] == ["missing_text_part", "no_sending_domains"]


def _code(warning: Any) -> str:
    return str(warning["code"] if isinstance(warning, dict) else warning.code)


def test_the_pinned_layout_is_found_in_the_store_while_the_read_model_lags(container: Container) -> None:
    template = container.templates.create("Plain", "<body>{{ content }} v1</body>")
    container.templates.update(template.id, {"name": "Renamed"})
    container.templates.update(template.id, {"html": "<body>{{ content }} v2</body>"})
    linter = CampaignLinter(container.db, container.connections, container.templates)  # nothing projected yet

    def pinned(version: int) -> Layout | None:
        return linter.layout(Content(html="x", template_id=template.id, template_version=version))

    assert pinned(1) == Layout("<body>{{ content }} v1</body>")
    assert pinned(2) == Layout("<body>{{ content }} v2</body>")
    assert pinned(3) is None
    container.runner.catch_up_all()
    assert pinned(1) == Layout("<body>{{ content }} v1</body>")
