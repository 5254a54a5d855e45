"""Amazon SES through SNS, end to end: subscription handshake (confirmed or left pending) and notifications."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from interfaces.bootstrap import Container
from interfaces.http.app import create_app
from tests.interfaces.client import sign_in
from tests.webhooks.test_amazon_ses import CERT_URL, PEM, TOPIC, fixture, iso, notification, sign

WEBHOOK = {"allowed_topic_arns": [TOPIC], "pinned_certificates": {CERT_URL: PEM}}


class Confirmations:
    """Stands in for the HTTPS call to SNS's SubscribeURL (the component the app lets tests replace)."""

    def __init__(self, fail: bool = False) -> None:
        self.urls: list[str] = []
        self.fail = fail

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        if self.fail:
            raise ConnectionError("SNS unreachable")


@pytest.fixture
def confirmations() -> Confirmations:
    return Confirmations()


@pytest.fixture
def client(container: Container, confirmations: Confirmations) -> Iterator[tuple[TestClient[Any], dict[str, str], str]]:
    _, admin = sign_in(container)
    app = create_app(container, run_projections=True, confirm_subscription=confirmations)
    with TestClient(app) as client:
        body = {"name": "SES", "provider": "amazon_ses", "webhook": WEBHOOK}
        created = client.post("/api/v1/esp-connections", json=body, headers=admin)
        assert created.status_code == 201, created.text
        yield client, admin, created.json()["webhook_url"]


def post(client: TestClient[Any], url: str, envelope: dict[str, Any]) -> Any:
    headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": envelope["Type"]}
    return client.post(url, content=json.dumps(envelope).encode(), headers=headers)


def confirmation(**fields: Any) -> dict[str, Any]:
    now = iso(datetime.now(UTC))
    return sign({**fixture("sns_subscription_confirmation.json"), "TopicArn": TOPIC, "Timestamp": now, **fields})


def test_a_valid_subscription_confirmation_is_confirmed(client: Any, confirmations: Confirmations) -> None:
    http, admin, url = client
    envelope = confirmation()
    response = post(http, url, envelope)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "subscription_confirmed"
    assert confirmations.urls == [envelope["SubscribeURL"]]
    http.app.state.container.settle()
    conn = http.get(f"/api/v1/esp-connections/{url.rsplit('/', 1)[1]}", headers=admin).json()
    assert conn["pending_subscription"] is None
    history = http.get(f"/api/v1/history/{conn['id']}", headers=admin).json()["events"]
    assert history[-1]["type"] == "EspConnection.SubscriptionRequested"
    assert history[-1]["payload"]["confirmed"] is True


def test_a_confirmation_that_cannot_be_completed_is_left_pending_and_visible(client: Any) -> None:
    http, admin, url = client
    http.app.state.confirm_subscription = Confirmations(fail=True)
    envelope = confirmation()
    assert post(http, url, envelope).json()["status"] == "subscription_pending"
    http.app.state.container.settle()
    conn = http.get(f"/api/v1/esp-connections/{url.rsplit('/', 1)[1]}", headers=admin).json()
    assert conn["pending_subscription"] == {"topic_arn": TOPIC, "subscribe_url": envelope["SubscribeURL"]}


def test_a_confirmation_for_a_topic_not_allowed_is_refused(client: Any, confirmations: Confirmations) -> None:
    http, _, url = client
    response = post(http, url, confirmation(TopicArn="arn:aws:sns:us-west-2:123456789012:Other"))
    assert response.status_code == 401
    assert confirmations.urls == []


def test_a_notification_is_stored_once_per_recipient_even_when_sns_retries(client: Any) -> None:
    http, admin, url = client
    envelope = sign(notification(fixture("bounce.json"), when=datetime.now(UTC)))
    first = post(http, url, envelope)
    assert first.status_code == 200, first.text
    assert post(http, url, envelope).status_code == 200
    http.app.state.container.settle()
    items = http.get("/api/v1/email-events", params={"type": "bounced"}, headers=admin).json()["items"]
    assert len(items) == first.json()["events"] >= 1
    assert len({i["recipient"] for i in items}) == len(items)
