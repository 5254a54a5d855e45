"""Hypothesis throws arbitrary bytes and headers at every provider's endpoint: never a 5xx."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interfaces.bootstrap import build
from interfaces.config import Settings
from interfaces.webhooks.registry import all_providers
from tests.interfaces.client import Api, running


def _der(key: Any) -> str:
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(public).decode()


BASIC = {"username": "u", "password": "p"}
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
SAMPLE_SETTINGS: dict[str, dict[str, Any]] = {
    "sendgrid": {"public_key": _der(ec.generate_private_key(ec.SECP256R1()))},
    "mailgun": {"signing_key": "key-123"},
    "postmark": {"basic_auth": BASIC},
    "mandrill": {"webhook_key": "k", "signed_url": "https://tidings.example/webhooks/x"},
    "amazon_ses": {"allowed_topic_arns": ["arn:aws:sns:us-east-1:123456789012:ses"]},
    "postal": {"public_key": _der(rsa.generate_private_key(public_exponent=65537, key_size=2048))},
    "sparkpost": {"bearer_token": "t"},
    "brevo": {"bearer_token": "t"},
    "mailjet": {"basic_auth": BASIC},
    "resend": {"secrets": [SECRET]},
    "standard_webhooks": {"secrets": [SECRET]},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
bodies = st.binary(max_size=600) | json_values.map(lambda v: json.dumps(v).encode())
header_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60)
header_names = st.sampled_from(
    ["authorization", "x-twilio-email-event-webhook-signature", "x-twilio-email-event-webhook-timestamp",
     "x-mandrill-signature", "x-postal-signature", "webhook-id", "webhook-timestamp", "webhook-signature",
     "svix-id", "svix-timestamp", "svix-signature", "x-amz-sns-message-type"]
)  # fmt: skip


def test_no_input_makes_the_endpoint_answer_5xx(tmp_path: Path) -> None:
    container = build(Settings(data_dir=tmp_path, webhook_rate_per_second=100_000))
    try:
        with running(container) as api:
            urls = _connect_all(api)
            _fuzz(api, urls)
    finally:
        container.close()


def _connect_all(api: Api) -> dict[str, tuple[str, tuple[str, ...]]]:
    urls = {}
    for name, provider in sorted(all_providers().items()):
        body = {"name": name, "provider": name, "webhook": SAMPLE_SETTINGS[name]}
        response = api.client.post("/api/v1/esp-connections", json=body, headers=api.admin)
        assert response.status_code == 201, response.text
        urls[name] = (response.json()["webhook_url"], provider.CONTENT_TYPES)
    assert urls, "no provider is registered"
    return urls


def _fuzz(api: Api, urls: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    @settings(max_examples=30 * len(urls), deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        name=st.sampled_from(sorted(urls)),
        body=bodies,
        own_type=st.booleans(),
        headers=st.dictionaries(header_names | header_text.filter(bool), header_text, max_size=4),
    )
    def check(name: str, body: bytes, own_type: bool, headers: dict[str, str]) -> None:
        url, types = urls[name]
        content_type = types[0] if own_type else "application/octet-stream"
        response = api.client.post(url, content=body, headers={**headers, "content-type": content_type})
        assert response.status_code < 500, (name, response.status_code, response.text)
        assert "error" in response.json() or response.json()["status"] in ("accepted", "duplicate", "ignored")

    check()
