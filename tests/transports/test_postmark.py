"""The Postmark transport against a local server that answers as Postmark's batch API documents."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from uuid import UUID, uuid4

import httpx
import msgspec
import pytest

from interfaces.transports import registry
from interfaces.transports.base import HEADER, Outcome, OutgoingMessage
from interfaces.transports.postmark import PostmarkTransport, Settings, classify
from tests.transports.fake_postmark import TOKEN, FakePostmark, running

CAMPAIGN = UUID("00000000-0000-4000-8000-0000000000ca")
RUN = UUID("00000000-0000-4000-8000-0000000000a1")


def message(to: str = "ann@example.org", **headers: str) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=uuid4(),
        campaign_id=CAMPAIGN,
        contact_id=uuid4(),
        from_address="News <news@example.com>",
        to=to,
        subject="Autumn news",
        html="<p>Hello <b>there</b></p>",
        text="Hello there",
        headers={
            "List-Unsubscribe": "<https://tidings.example/u/t0k3n>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            **headers,
        },
        run_id=RUN,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[FakePostmark]:
    with running() as fake:
        yield fake


@pytest.fixture
def fake(server: FakePostmark) -> FakePostmark:
    server.reset()
    return server


@pytest.fixture
async def transport(fake: FakePostmark) -> AsyncIterator[PostmarkTransport]:
    sender = PostmarkTransport(Settings(server_token=TOKEN, base_url=fake.url))
    yield sender
    await sender.aclose()


async def test_accepted_messages_are_sent_with_postmarks_ids_in_order(
    fake: FakePostmark, transport: PostmarkTransport
) -> None:
    batch = [message(f"r{i}@example.org") for i in range(3)]

    results = await transport.send(batch)

    assert [r.message_id for r in results] == [m.message_id for m in batch]
    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert [r.provider_message_id for r in results] == [a["MessageID"] for a in fake.accepted]
    assert [a["To"] for a in fake.accepted] == ["r0@example.org", "r1@example.org", "r2@example.org"]


async def test_headers_metadata_and_stream_arrive_as_postmark_expects(
    fake: FakePostmark, transport: PostmarkTransport
) -> None:
    sent = message(**{"Reply-To": "desk@example.com"})

    await transport.send([sent])

    accepted = fake.accepted[0]
    headers = {h["Name"]: h["Value"] for h in accepted["Headers"]}
    assert headers == {
        "Message-ID": sent.rfc_message_id,
        HEADER: str(sent.message_id),
        "List-Unsubscribe": "<https://tidings.example/u/t0k3n>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert accepted["ReplyTo"] == "desk@example.com"
    assert accepted["Metadata"] == sent.metadata()
    assert accepted["Metadata"]["tidings_message_id"] == str(sent.message_id)
    assert accepted["MessageStream"] == "broadcast"
    assert (accepted["From"], accepted["Subject"]) == ("News <news@example.com>", "Autumn news")
    assert (accepted["HtmlBody"], accepted["TextBody"]) == (sent.html, sent.text)
    assert "TrackOpens" not in accepted and "TrackLinks" not in accepted


async def test_tracking_and_stream_follow_the_settings(fake: FakePostmark) -> None:
    settings = Settings(
        server_token=TOKEN, base_url=fake.url, message_stream="newsletters", track_opens=True, track_links="HtmlOnly"
    )
    transport = PostmarkTransport(settings)

    await transport.send([message()])
    await transport.aclose()

    accepted = fake.accepted[0]
    assert (accepted["MessageStream"], accepted["TrackOpens"], accepted["TrackLinks"]) == (
        "newsletters",
        True,
        "HtmlOnly",
    )


async def test_an_inactive_recipient_fails_alone_in_its_batch(fake: FakePostmark, transport: PostmarkTransport) -> None:
    fake.inactive.add("gone@example.org")
    batch = [message("a@example.org"), message("gone@example.org"), message("b@example.org")]

    results = await transport.send(batch)

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.PERMANENT, Outcome.SENT]
    assert results[1].provider_message_id is None
    assert results[1].reason is not None
    assert results[1].reason.startswith("Postmark 406:")
    assert "inactive" in results[1].reason
    assert [a["To"] for a in fake.accepted] == ["a@example.org", "b@example.org"]


async def test_an_invalid_address_is_a_permanent_failure(fake: FakePostmark, transport: PostmarkTransport) -> None:
    results = await transport.send([message("not-an-address"), message()])

    assert [r.outcome for r in results] == [Outcome.PERMANENT, Outcome.SENT]
    assert results[0].reason is not None
    assert results[0].reason.startswith("Postmark 300:")


async def test_a_wrong_token_fails_the_batch_permanently_as_configuration(fake: FakePostmark) -> None:
    transport = PostmarkTransport(Settings(server_token="wrong", base_url=fake.url))

    results = await transport.send([message(), message()])
    await transport.aclose()

    assert [r.outcome for r in results] == [Outcome.PERMANENT] * 2
    assert all(r.reason and "configuration" in r.reason and "401" in r.reason for r in results)
    assert fake.accepted == []


async def test_the_rate_limit_is_transient_and_keeps_retry_after(
    fake: FakePostmark, transport: PostmarkTransport
) -> None:
    fake.force(429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}, {"Retry-After": "3"})

    results = await transport.send([message(), message()])

    assert [(r.outcome, r.retry_after) for r in results] == [(Outcome.TRANSIENT, 3.0)] * 2
    assert results[0].reason == "Postmark HTTP 429: Rate limit exceeded"


@pytest.mark.parametrize("status", [500, 503])
async def test_postmark_failures_and_maintenance_are_transient(
    fake: FakePostmark, transport: PostmarkTransport, status: int
) -> None:
    fake.force(status)

    first = await transport.send([message()])
    second = await transport.send([message()])

    assert first[0].outcome is Outcome.TRANSIENT
    assert first[0].reason == f"Postmark HTTP {status}: forced {status}"
    assert second[0].outcome is Outcome.SENT


@pytest.mark.parametrize(
    ("code", "outcome", "words"),
    [
        (410, Outcome.PERMANENT, "Postmark 410:"),
        (405, Outcome.PERMANENT, "Postmark account: account not allowed to send"),
        (413, Outcome.PERMANENT, "Postmark account: account may not send"),
        (100, Outcome.TRANSIENT, "Postmark 100 (Postmark is in maintenance)"),
    ],
)
async def test_a_422_answer_is_judged_by_its_error_code(
    fake: FakePostmark, transport: PostmarkTransport, code: int, outcome: Outcome, words: str
) -> None:
    fake.force(422, {"ErrorCode": code, "Message": "refused"})

    results = await transport.send([message(), message()])

    assert [r.outcome for r in results] == [outcome] * 2
    assert all(r.reason and r.reason.startswith(words) for r in results)


async def test_the_fake_refuses_more_than_500_messages_as_postmark_documents(fake: FakePostmark) -> None:
    body = json.dumps([{"From": "a@example.com", "To": "b@example.org", "TextBody": "x"}] * 501)

    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{fake.url}/email/batch", content=body, headers={"X-Postmark-Server-Token": TOKEN}
        )

    assert response.status_code == 422
    assert response.json()["ErrorCode"] == 410
    outcome, reason = classify(response.json()["ErrorCode"], response.json()["Message"])
    assert outcome is Outcome.PERMANENT
    assert reason.startswith("Postmark 410: Too many batch messages")


async def test_more_messages_than_a_batch_holds_go_as_several_requests(
    fake: FakePostmark, transport: PostmarkTransport
) -> None:
    batch = [message(f"r{i}@example.org") for i in range(501)]

    results = await transport.send(batch)

    assert fake.batch_sizes == [500, 1]
    assert [r.message_id for r in results] == [m.message_id for m in batch]
    assert {r.outcome for r in results} == {Outcome.SENT}


async def test_a_batch_over_the_payload_limit_is_split_under_it(fake: FakePostmark) -> None:
    one = len(msgspec.json.encode([PostmarkTransport(Settings(server_token=TOKEN))._message(message())]))
    fake.max_payload = one * 2 + 200  # two messages fit in a request, three do not
    transport = PostmarkTransport(Settings(server_token=TOKEN, base_url=fake.url), max_payload=fake.max_payload)

    results = await transport.send([message() for _ in range(5)])
    await transport.aclose()

    assert fake.batch_sizes == [2, 2, 1]
    assert {r.outcome for r in results} == {Outcome.SENT}


async def test_a_payload_the_server_finds_too_large_is_permanent(fake: FakePostmark) -> None:
    fake.max_payload = 100
    transport = PostmarkTransport(Settings(server_token=TOKEN, base_url=fake.url))

    results = await transport.send([message()])
    await transport.aclose()

    assert results[0].outcome is Outcome.PERMANENT
    assert results[0].reason == "Postmark HTTP 413: Payload Too Large"


async def test_an_unreachable_server_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    transport = PostmarkTransport(Settings(server_token=TOKEN, base_url=f"http://127.0.0.1:{port}"))

    results = await transport.send([message()])
    await transport.aclose()

    assert results[0].outcome is Outcome.TRANSIENT
    assert results[0].reason is not None
    assert results[0].reason.startswith("Postmark unreachable")


async def test_a_server_that_never_answers_times_out_as_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # the kernel completes the handshake; nobody ever reads or answers
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        transport = PostmarkTransport(Settings(server_token=TOKEN, base_url=url, timeout=0.2))

        results = await transport.send([message()])
        await transport.aclose()

    assert results[0].outcome is Outcome.TRANSIENT
    assert results[0].reason == "Postmark timed out: ReadTimeout"


def test_settings_are_checked_and_the_registry_finds_the_module() -> None:
    module = registry.module("postmark")
    settings = msgspec.convert({"server_token": "t"}, module.Settings)

    assert module.create(settings).max_batch == 500
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"server_token": "t", "batch_size": 501}, module.Settings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"server_token": "t", "track_links": "Always"}, module.Settings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"server_token": "t", "api_key": "x"}, module.Settings)
