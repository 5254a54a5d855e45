"""DATA as the SMTP transport writes it (dot-stuffed by us, not by aiosmtplib) arrives intact at a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import Message

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interfaces.transports import smtp
from interfaces.transports.base import Outcome
from tests.transports.fake_smtp import ScriptedHandler, smtp_server
from tests.transports.messages import message

# Lines that SMTP's end-of-data marker or dot-stuffing could touch, mixed with ordinary ones.
tricky_line = st.sampled_from([".", "..", ". leading dot", ".\t", "...", "", "plain", "a.b", "ende.", " ."])
line = st.one_of(tricky_line, st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=80))
body = st.lists(line, max_size=40).map("\n".join)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, ScriptedHandler]]:
    handler = ScriptedHandler()
    with smtp_server(handler) as controller:
        yield controller.port, handler


def _part(received: Message, subtype: str) -> str:
    found = received.get_body(preferencelist=(subtype,))
    assert found is not None
    return found.get_content().replace("\r\n", "\n")  # the parser keeps an 8bit body's CRLFs as they came


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=body, html=body)
def test_any_lines_arrive_as_written(server: tuple[int, ScriptedHandler], text: str, html: str) -> None:
    port, handler = server
    sent = replace(message("dots@example.org"), text=text, html=html)

    async def send() -> list:
        transport = smtp.create(smtp.Settings(host="127.0.0.1", port=port, security="none", timeout=5))
        try:
            return await transport.send([sent])
        finally:
            await transport.aclose()

    before = len(handler.received)
    [result] = asyncio.run(send())

    assert result.outcome is Outcome.SENT
    [received] = handler.received[before:]
    # What the server took parses to what the wire bytes say, part for part: nothing added or lost on the way.
    written = message_from_bytes(sent.wire(cte_type="8bit"), policy=policy.default)
    arrived = message_from_bytes(received.message.as_bytes(), policy=policy.default)
    assert _part(arrived, "plain") == _part(written, "plain")
    assert _part(arrived, "html") == _part(written, "html")
    assert _part(arrived, "plain").rstrip("\n") == text.rstrip("\n")


def test_the_bytes_written_are_dot_stuffed_once(server: tuple[int, ScriptedHandler]) -> None:
    port, handler = server
    sent = replace(message("stuffed@example.org"), text=".\n..\n.x", html="<p>.</p>")

    async def send() -> list:
        transport = smtp.create(smtp.Settings(host="127.0.0.1", port=port, security="none", timeout=5))
        try:
            return await transport.send([sent, sent])  # one session used twice: the reply pairing holds
        finally:
            await transport.aclose()

    results = asyncio.run(send())

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    arrived = message_from_bytes(handler.received[-1].message.as_bytes(), policy=policy.default)
    assert _part(arrived, "plain").rstrip("\n") == ".\n..\n.x"
