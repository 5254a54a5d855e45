"""The SMTP transport against a real aiosmtpd server: outcomes, pooling, AUTH and TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from interfaces.transports import smtp
from interfaces.transports.base import HEADER, Outcome
from tests.transports.fake_smtp import (
    PASSWORD,
    USER,
    ScriptedHandler,
    authenticator,
    free_port,
    self_signed,
    server_tls,
    smtp_server,
)
from tests.transports.messages import message


def plain(port: int, **kwargs) -> smtp.SmtpTransport:
    return smtp.create(smtp.Settings(host="127.0.0.1", port=port, security="none", timeout=5, **kwargs))


async def test_sends_each_message_with_its_envelope_headers_and_queue_id() -> None:
    handler = ScriptedHandler()
    messages = [message(f"r{i}@example.org") for i in range(3)]
    with smtp_server(handler) as server:
        transport = plain(server.port)
        results = await transport.send(messages)
        await transport.aclose()

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert [r.message_id for r in results] == [m.message_id for m in messages]
    assert sorted(r.provider_message_id or "" for r in results) == ["QUEUE1", "QUEUE2", "QUEUE3"]
    got = {r.recipients[0]: r for r in handler.received}
    for m in messages:
        received = got[m.to]
        assert received.sender == "news@example.com"
        assert received.message[HEADER] == str(m.message_id)
        assert received.message["Message-ID"] == m.rfc_message_id
        assert received.message["List-Unsubscribe"] == m.headers["List-Unsubscribe"]
        assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_without_a_queue_id_the_provider_id_is_our_message_id() -> None:
    handler = ScriptedHandler(data_reply="250 Message accepted for delivery")
    m = message()
    with smtp_server(handler) as server:
        transport = plain(server.port)
        [result] = await transport.send([m])
        await transport.aclose()

    assert result.outcome is Outcome.SENT
    assert result.provider_message_id == m.rfc_message_id


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("250 2.0.0 Ok: queued as 4F3A21C0B2", "4F3A21C0B2"),
        (
            "250 Ok 0100018c1f2e3d4c-5b6a7980-0000-000000000000-000000",
            "0100018c1f2e3d4c-5b6a7980-0000-000000000000-000000",
        ),
        ("250 Ok: queued as <abc@relay>", "abc@relay"),
        ("250 OK", None),
        ("250 Message accepted for delivery", None),
    ],
)
def test_reads_the_queue_id_from_the_reply(reply: str, expected: str | None) -> None:
    assert smtp.queue_id(reply.removeprefix("250 ")) == expected


async def test_451_is_transient_and_the_retry_is_sent() -> None:
    handler = ScriptedHandler(script={"flaky@example.org": ["451 4.3.0 Try again later"]})
    m = message("flaky@example.org")
    with smtp_server(handler) as server:
        transport = plain(server.port)
        [first] = await transport.send([m])
        [second] = await transport.send([m])
        await transport.aclose()

    assert (first.outcome, first.reason) == (Outcome.TRANSIENT, "451 4.3.0 Try again later")
    assert second.outcome is Outcome.SENT
    assert handler.resets >= 1
    assert [r.recipients for r in handler.received] == [["flaky@example.org"]]


async def test_550_is_permanent_and_the_session_goes_on_after_rset() -> None:
    handler = ScriptedHandler(script={"gone@example.org": ["550 5.1.1 No such user"]})
    messages = [message("gone@example.org"), message("ok1@example.org"), message("ok2@example.org")]
    with smtp_server(handler) as server:
        transport = plain(server.port, concurrency=1)
        results = await transport.send(messages)
        await transport.aclose()

    assert [r.outcome for r in results] == [Outcome.PERMANENT, Outcome.SENT, Outcome.SENT]
    assert results[0].reason == "550 5.1.1 No such user"
    assert handler.resets == 1
    assert len(handler.sessions) == 1


async def test_a_timeout_is_transient_and_the_session_is_not_reused() -> None:
    handler = ScriptedHandler(data_delay=0.6)
    with smtp_server(handler) as server:
        transport = smtp.create(smtp.Settings(host="127.0.0.1", port=server.port, security="none", timeout=0.2))
        [result] = await transport.send([message()])
        handler.data_delay = 0.0
        [after] = await transport.send([message("b@example.org")])
        await transport.aclose()

    assert result.outcome is Outcome.TRANSIENT
    assert result.reason is not None and "Timeout" in result.reason
    assert after.outcome is Outcome.SENT
    assert transport.connections_opened == 2


async def test_pooled_connections_are_reused_across_batches() -> None:
    handler = ScriptedHandler()
    with smtp_server(handler) as server:
        transport = plain(server.port, concurrency=3)
        first = await transport.send([message(f"a{i}@example.org") for i in range(12)])
        second = await transport.send([message(f"b{i}@example.org") for i in range(12)])
        await transport.aclose()

    assert {r.outcome for r in first + second} == {Outcome.SENT}
    assert len(handler.received) == 24
    assert transport.connections_opened == 3
    assert len(handler.sessions) == 3


async def test_a_connection_the_server_dropped_is_replaced() -> None:
    handler = ScriptedHandler()
    port = free_port()
    transport = plain(port, concurrency=1)
    with smtp_server(handler, port=port):
        [before] = await transport.send([message("before@example.org")])
    with smtp_server(handler, port=port):  # a restart: the pooled session is gone
        [after] = await transport.send([message("after@example.org")])
        await transport.aclose()

    assert (before.outcome, after.outcome) == (Outcome.SENT, Outcome.SENT)
    assert transport.connections_opened == 2
    assert [r.recipients for r in handler.received] == [["before@example.org"], ["after@example.org"]]


async def test_an_unreachable_server_fails_the_batch_as_transient() -> None:
    transport = plain(free_port(), concurrency=2)
    results = await transport.send([message(f"r{i}@example.org") for i in range(5)])
    await transport.aclose()

    assert [r.outcome for r in results] == [Outcome.TRANSIENT] * 5
    assert all("cannot open a session with 127.0.0.1" in (r.reason or "") for r in results)
    assert transport.connections_opened <= 2


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_authenticates_when_the_server_requires_it() -> None:
    handler = ScriptedHandler()
    auth = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    with smtp_server(handler, **auth) as server:
        good = plain(server.port, username=USER, password=PASSWORD)
        bad = plain(server.port, username=USER, password="wrong")
        anonymous = plain(server.port)
        [accepted] = await good.send([message()])
        [refused] = await bad.send([message()])
        [unauthenticated] = await anonymous.send([message()])
        for t in (good, bad, anonymous):
            await t.aclose()

    assert accepted.outcome is Outcome.SENT
    assert refused.outcome is Outcome.PERMANENT
    assert refused.reason is not None and "535" in refused.reason
    assert unauthenticated.outcome is Outcome.PERMANENT
    assert unauthenticated.reason is not None and unauthenticated.reason.startswith("530")
    assert len(handler.received) == 1


async def test_starttls_with_a_trusted_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    handler = ScriptedHandler()
    with smtp_server(handler, tls_context=server_tls(cert, key), require_starttls=True) as server:
        secure = smtp.create(
            smtp.Settings(host="127.0.0.1", port=server.port, security="starttls", ca_file=str(cert), timeout=5)
        )
        cleartext = plain(server.port)
        [sent] = await secure.send([message()])
        [refused] = await cleartext.send([message()])
        await secure.aclose()
        await cleartext.aclose()

    assert sent.outcome is Outcome.SENT
    assert refused.outcome is Outcome.PERMANENT
    assert refused.reason is not None and refused.reason.startswith("530")
    assert len(handler.received) == 1


async def test_implicit_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    handler = ScriptedHandler()
    with smtp_server(handler, ssl_context=server_tls(cert, key)) as server:
        transport = smtp.create(
            smtp.Settings(host="127.0.0.1", port=server.port, security="tls", ca_file=str(cert), timeout=5)
        )
        [sent] = await transport.send([message()])
        await transport.aclose()

    assert sent.outcome is Outcome.SENT
    assert len(handler.received) == 1


async def test_an_untrusted_certificate_sends_nothing(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    handler = ScriptedHandler()
    with smtp_server(handler, tls_context=server_tls(cert, key), require_starttls=True) as server:
        transport = smtp.create(smtp.Settings(host="127.0.0.1", port=server.port, security="starttls", timeout=5))
        [result] = await transport.send([message()])
        await transport.aclose()

    assert result.outcome is Outcome.TRANSIENT
    assert result.reason is not None and "CERTIFICATE_VERIFY_FAILED" in result.reason
    assert handler.received == []
