"""How SendGrid and Mailgun batches become requests, for any mix of messages (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from interfaces.transports import mailgun, sendgrid
from tests.transports.messages import message

mixes = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 2), st.integers(0, 1)),  # address, content, subject
    max_size=40,
)


def build(mix: list[tuple[int, int, int]]) -> list:
    return [message(f"r{a}@example.org", html=f"<p>{c}</p>", subject=f"S{s}") for a, c, s in mix]


@settings(max_examples=60, deadline=None)
@given(mix=mixes, limit=st.integers(1, 5))
def test_sendgrid_requests_keep_every_message_once_within_the_rules(mix: list, limit: int) -> None:
    messages = build(mix)

    chunks = sendgrid.requests_for(messages, limit=limit)

    assert sorted(m.message_id for c in chunks for m in c) == sorted(m.message_id for m in messages)
    for chunk in chunks:
        assert 1 <= len(chunk) <= limit
        assert len({(m.from_address, m.html, m.text) for m in chunk}) == 1
        assert len({m.to.lower() for m in chunk}) == len(chunk)


@settings(max_examples=60, deadline=None)
@given(mix=mixes, limit=st.integers(1, 5))
def test_mailgun_requests_keep_every_message_once_within_the_rules(mix: list, limit: int) -> None:
    messages = build(mix)

    chunks = mailgun.requests_for(messages, limit=limit)

    assert sorted(m.message_id for c in chunks for m in c) == sorted(m.message_id for m in messages)
    for chunk in chunks:
        assert 1 <= len(chunk) <= limit
        assert len({(m.from_address, m.subject, m.html, m.text) for m in chunk}) == 1
        assert len({m.to.lower() for m in chunk}) == len(chunk)
