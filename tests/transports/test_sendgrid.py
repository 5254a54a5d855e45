"""The SendGrid transport against a local server that answers as the v3 Mail Send API documents."""

from __future__ import annotations

import httpx
import msgspec

from interfaces.transports import registry, sendgrid
from interfaces.transports.base import HEADER, METADATA_KEY, Outcome
from tests.transports.fake_sendgrid import API_KEY, FakeSendGrid, running
from tests.transports.fake_smtp import free_port
from tests.transports.messages import message


def transport(url: str, **kwargs) -> sendgrid.SendGridTransport:
    return sendgrid.create(sendgrid.Settings(api_key=kwargs.pop("api_key", API_KEY), base_url=url, **kwargs))


async def test_personalized_messages_go_one_request_each_carrying_our_ids_and_headers() -> None:
    fake = FakeSendGrid()
    messages = [message(f"r{i}@example.org") for i in range(3)]  # each HTML names its recipient
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert len(fake.accepted) == 3
    by_recipient = {a.body["personalizations"][0]["to"][0]["email"]: a for a in fake.accepted}
    for m, r in zip(messages, results, strict=True):
        accepted = by_recipient[m.to]
        p = accepted.body["personalizations"][0]
        assert r.provider_message_id == accepted.x_message_id
        assert p["custom_args"][METADATA_KEY] == str(m.message_id)
        assert p["custom_args"]["tidings_run_id"] == str(m.run_id)
        assert p["headers"][HEADER] == str(m.message_id)
        assert p["headers"]["Message-ID"] == m.rfc_message_id
        assert p["headers"]["List-Unsubscribe"] == m.headers["List-Unsubscribe"]
        assert p["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert p["subject"] == m.subject
        assert accepted.body["from"] == {"email": "news@example.com", "name": "News"}
        assert [c["type"] for c in accepted.body["content"]] == ["text/plain", "text/html"]
        assert accepted.body["content"][1]["value"] == m.html


async def test_messages_with_the_same_content_share_a_request() -> None:
    fake = FakeSendGrid()
    messages = [message(f"r{i}@example.org", subject=f"Hi {i}", html="<p>Same</p>") for i in range(5)]
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()

    assert len(fake.accepted) == 1
    assert [p["subject"] for p in fake.personalizations()] == [f"Hi {i}" for i in range(5)]
    assert [p["custom_args"][METADATA_KEY] for p in fake.personalizations()] == [str(m.message_id) for m in messages]
    assert {r.provider_message_id for r in results} == {fake.accepted[0].x_message_id}


async def test_a_batch_over_1000_personalizations_is_split_and_the_server_would_refuse_it_whole() -> None:
    fake = FakeSendGrid()
    messages = [message(f"r{i}@example.org", html="<p>Same</p>") for i in range(1001)]
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
            whole = await client.post("/v3/mail/send", json=sendgrid.payload(messages))

    assert sendgrid.SendGridTransport.max_batch == 1000
    assert sorted(len(a.body["personalizations"]) for a in fake.accepted) == [1, 1000]
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert whole.status_code == 400
    assert "limited to 1000 personalizations" in whole.json()["errors"][0]["message"]


def test_names_lose_the_separators_sendgrid_refuses() -> None:
    m = message('"Lovelace, Ada" <ada@example.org>', from_address='"News; Weekly" <news@example.com>')

    body = sendgrid.payload([m])

    assert body["personalizations"][0]["to"] == [{"email": "ada@example.org", "name": "Lovelace  Ada"}]
    assert body["from"] == {"email": "news@example.com", "name": "News  Weekly"}


def test_reply_to_goes_in_the_request_not_the_personalization_headers() -> None:
    base = message()
    m = type(base)(**{**base.__dict__, "headers": {**base.headers, "Reply-To": "Desk <desk@example.com>"}})
    other = message("b@example.org", html=m.html)

    body = sendgrid.payload([m])

    assert body["reply_to"] == {"email": "desk@example.com", "name": "Desk"}
    assert "Reply-To" not in body["personalizations"][0]["headers"]
    assert len(sendgrid.requests_for([m, other])) == 2  # a different reply-to is a different request


def test_an_address_appears_once_per_request() -> None:
    messages = [message("same@example.org", html="<p>x</p>"), message("SAME@example.org", html="<p>x</p>")]

    chunks = sendgrid.requests_for(messages)

    assert [len(c) for c in chunks] == [1, 1]


def test_requests_respect_the_limit_and_keep_every_message() -> None:
    messages = [message(f"r{i}@example.org", html=f"<p>{i % 3}</p>") for i in range(25)]

    chunks = sendgrid.requests_for(messages, limit=4)

    assert all(len(c) <= 4 for c in chunks)
    assert sorted(m.message_id for c in chunks for m in c) == sorted(m.message_id for m in messages)
    assert all(len({m.html for m in c}) == 1 for c in chunks)


async def test_a_wrong_api_key_is_permanent_and_says_so() -> None:
    fake = FakeSendGrid()
    with running(fake) as url:
        t = transport(url, api_key="SG.wrong")
        results = await t.send([message(), message("b@example.org")])
        await t.aclose()

    assert [r.outcome for r in results] == [Outcome.PERMANENT] * 2
    assert results[0].reason is not None and results[0].reason.startswith("SendGrid refused the API key (401)")
    assert fake.accepted == []


async def test_a_400_for_one_personalization_fails_only_that_message() -> None:
    fake = FakeSendGrid()
    messages = [message(f"r{i}@example.org", html="<p>Same</p>") for i in range(6)]
    messages[4] = message("not-an-address", html="<p>Same</p>")
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()

    assert [r.outcome for r in results] == [Outcome.SENT] * 4 + [Outcome.PERMANENT, Outcome.SENT]
    assert results[4].reason is not None and "Does not contain a valid address" in results[4].reason
    assert len(fake.personalizations()) == 5


async def test_a_too_large_payload_is_permanent() -> None:
    fake = FakeSendGrid(max_bytes=2000)
    with running(fake) as url:
        t = transport(url)
        [result] = await t.send([message(html="<p>" + "x" * 5000 + "</p>")])
        await t.aclose()

    assert result.outcome is Outcome.PERMANENT
    assert result.reason is not None and result.reason.startswith("SendGrid 413")


async def test_a_429_is_transient_and_says_when_to_retry() -> None:
    fake = FakeSendGrid(limit=1, window=30)
    with running(fake) as url:
        t = transport(url)
        [first] = await t.send([message()])
        [second] = await t.send([message("b@example.org")])
        await t.aclose()

    assert first.outcome is Outcome.SENT
    assert second.outcome is Outcome.TRANSIENT
    assert second.retry_after is not None and 0 < second.retry_after <= 32
    assert second.reason == "SendGrid 429: too many requests"


async def test_a_5xx_is_transient_and_the_retry_is_sent() -> None:
    fake = FakeSendGrid(fail_next=[503])
    m = message()
    with running(fake) as url:
        t = transport(url)
        [first] = await t.send([m])
        [second] = await t.send([m])
        await t.aclose()

    assert first.outcome is Outcome.TRANSIENT
    assert first.reason == "SendGrid 503: injected failure"
    assert second.outcome is Outcome.SENT
    assert len(fake.accepted) == 1


async def test_an_unreachable_api_is_transient() -> None:
    t = transport(f"http://127.0.0.1:{free_port()}", timeout=2)
    results = await t.send([message(), message("b@example.org", html="<p>other</p>")])
    await t.aclose()

    assert [r.outcome for r in results] == [Outcome.TRANSIENT] * 2
    assert all((r.reason or "").startswith("SendGrid unreachable") for r in results)


async def test_the_registry_builds_it_from_stored_settings() -> None:
    module = registry.module("sendgrid")
    settings = msgspec.convert({"api_key": API_KEY, "concurrency": 2}, module.Settings)
    t = module.create(settings)

    assert settings.base_url == "https://api.sendgrid.com"
    assert t.max_batch == 1000
    await t.aclose()
