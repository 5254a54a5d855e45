"""Property: however a batch is cut into requests, every message goes once, in order, within both limits."""

from __future__ import annotations

import json
from uuid import uuid4

import httpx
from hypothesis import given
from hypothesis import strategies as st

from interfaces.transports.base import OutgoingMessage
from interfaces.transports.postmark import PostmarkTransport, Settings
from tests.transports.test_postmark import CAMPAIGN

# Never used for a request: _payloads only encodes, so one client serves every example.
CLIENT = httpx.AsyncClient()


def sized(length: int) -> OutgoingMessage:
    return OutgoingMessage(uuid4(), CAMPAIGN, uuid4(), "n@example.com", "r@example.org", "s", "h" * length, "t")


@given(
    lengths=st.lists(st.integers(min_value=0, max_value=3000), max_size=40),
    batch_size=st.integers(min_value=1, max_value=10),
    max_payload=st.integers(min_value=200, max_value=8000),
)
def test_requests_keep_every_message_once_in_order_within_the_limits(
    lengths: list[int], batch_size: int, max_payload: int
) -> None:
    transport = PostmarkTransport(
        Settings(server_token="t", batch_size=batch_size), client=CLIENT, max_payload=max_payload
    )
    messages = [sized(n) for n in lengths]

    requests = list(transport._payloads(messages))

    assert [m for part, _ in requests for m in part] == messages
    for part, body in requests:
        decoded = json.loads(body)
        assert [d["Metadata"]["tidings_message_id"] for d in decoded] == [str(m.message_id) for m in part]
        assert 1 <= len(part) <= batch_size
        assert len(body) <= max_payload or len(part) == 1  # one message over the limit goes alone (Postmark: 413)
