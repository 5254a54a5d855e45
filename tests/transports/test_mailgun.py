"""The Mailgun transport against a local server that answers as Mailgun's messages API documents."""

from __future__ import annotations

import httpx
import msgspec

from interfaces.transports import mailgun, registry
from interfaces.transports.base import HEADER, METADATA_KEY, Outcome
from tests.transports.fake_mailgun import API_KEY, DOMAIN, FakeMailgun, running
from tests.transports.fake_smtp import free_port
from tests.transports.messages import message


def transport(url: str, **kwargs) -> mailgun.MailgunTransport:
    settings = {"api_key": API_KEY, "domain": DOMAIN, "base_url": url, **kwargs}
    return mailgun.create(msgspec.convert(settings, mailgun.Settings))


async def test_a_message_carries_our_headers_and_variables_and_records_the_bare_id() -> None:
    fake = FakeMailgun()
    m = message()
    with running(fake) as url:
        t = transport(url)
        [result] = await t.send([m])
        await t.aclose()

    [form] = fake.accepted
    fields = dict(form)
    [copy] = fake.delivered
    assert result.outcome is Outcome.SENT
    assert result.provider_message_id == copy.message_id
    assert not result.provider_message_id.startswith("<")
    assert (fields["from"], fields["to"], fields["subject"]) == (m.from_address, m.to, m.subject)
    assert (fields["html"], fields["text"]) == (m.html, m.text)
    assert fields[f"h:{HEADER}"] == str(m.message_id)
    assert fields["h:List-Unsubscribe"] == m.headers["List-Unsubscribe"]
    assert fields["h:List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert fields[f"v:{METADATA_KEY}"] == str(m.message_id)
    assert "recipient-variables" not in fields


async def test_messages_with_the_same_content_go_as_one_batch_with_recipient_variables() -> None:
    fake = FakeMailgun()
    messages = [message(f"r{i}@example.org", html="<p>Same</p>") for i in range(4)]
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()

    assert len(fake.accepted) == 1
    assert {r.provider_message_id for r in results} == {fake.delivered[0].message_id}
    copies = {c.to: c for c in fake.delivered}
    for m in messages:
        copy = copies[m.to]
        assert copy.headers[HEADER] == str(m.message_id)
        assert copy.headers["List-Unsubscribe"] == m.headers["List-Unsubscribe"]
        assert copy.variables[METADATA_KEY] == str(m.message_id)
        assert copy.variables["tidings_run_id"] == str(m.run_id)


async def test_shared_content_that_names_a_recipient_variable_is_sent_as_written() -> None:
    fake = FakeMailgun()
    html = "<p>Write %recipient.first_name% to personalize a Mailgun batch.</p>"
    messages = [message(f"r{i}@example.org", html=html) for i in range(3)]
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert len(fake.accepted) == 3  # one request each: in a batch Mailgun would have blanked the text
    assert {c.html for c in fake.delivered} == {html}


async def test_personalized_messages_go_one_request_each() -> None:
    fake = FakeMailgun()
    messages = [message(f"r{i}@example.org") for i in range(3)]
    with running(fake) as url:
        t = transport(url, concurrency=2)
        results = await t.send(messages)
        await t.aclose()

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert sorted(dict(f)["to"] for f in fake.accepted) == sorted(m.to for m in messages)
    assert len({r.provider_message_id for r in results}) == 3


async def test_over_1000_recipients_are_split_and_the_server_would_refuse_them_whole() -> None:
    fake = FakeMailgun()
    messages = [message(f"r{i}@example.org", html="<p>Same</p>") for i in range(1001)]
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()
        async with httpx.AsyncClient(base_url=url, auth=("api", API_KEY)) as client:
            whole = await client.post(
                f"/v3/{DOMAIN}/messages", data=mailgun._form(mailgun.fields(messages)), files=[("text", (None, b"x"))]
            )

    assert mailgun.MailgunTransport.max_batch == 1000
    assert sorted(sum(1 for n, _ in f if n == "to") for f in fake.accepted) == [1, 1000]
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert whole.status_code == 400
    assert whole.json()["message"] == "Too many recipients; max is 1000"


def test_requests_respect_the_limit_and_each_address_once() -> None:
    messages = [message(f"r{i % 5}@example.org", html=f"<p>{i % 2}</p>") for i in range(30)]

    chunks = mailgun.requests_for(messages, limit=4)

    assert all(len(c) <= 4 for c in chunks)
    assert all(len({m.to for m in c}) == len(c) for c in chunks)
    assert sorted(m.message_id for c in chunks for m in c) == sorted(m.message_id for m in messages)


async def test_a_wrong_api_key_is_permanent_and_says_so() -> None:
    fake = FakeMailgun()
    with running(fake) as url:
        t = transport(url, api_key="key-wrong")
        [result] = await t.send([message()])
        await t.aclose()

    assert result.outcome is Outcome.PERMANENT
    assert result.reason == "Mailgun refused the API key (401): Forbidden"


async def test_an_unknown_domain_is_permanent() -> None:
    fake = FakeMailgun()
    with running(fake) as url:
        t = transport(url, domain="other.example.com")
        [result] = await t.send([message()])
        await t.aclose()

    assert result.outcome is Outcome.PERMANENT
    assert result.reason == "Mailgun 404: Domain not found: other.example.com"


async def test_a_bad_address_in_a_batch_fails_only_that_message() -> None:
    fake = FakeMailgun()
    messages = [message(f"r{i}@example.org", html="<p>Same</p>") for i in range(5)]
    messages[1] = message("nobody", html="<p>Same</p>")
    with running(fake) as url:
        t = transport(url)
        results = await t.send(messages)
        await t.aclose()

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.PERMANENT, Outcome.SENT, Outcome.SENT, Outcome.SENT]
    assert results[1].reason == "Mailgun 400: to parameter is not a valid address. please check documentation"
    assert len(fake.delivered) == 4


async def test_a_429_is_transient_and_says_when_to_retry() -> None:
    fake = FakeMailgun(limit=1, window=20)
    with running(fake) as url:
        t = transport(url)
        [first] = await t.send([message()])
        [second] = await t.send([message("b@example.org")])
        await t.aclose()

    assert first.outcome is Outcome.SENT
    assert second.outcome is Outcome.TRANSIENT
    assert second.retry_after is not None and 1 <= second.retry_after <= 21
    assert second.reason == "Mailgun 429: Too many requests"


async def test_a_5xx_is_transient_and_the_retry_is_sent() -> None:
    fake = FakeMailgun(fail_next=[500])
    m = message()
    with running(fake) as url:
        t = transport(url)
        [first] = await t.send([m])
        [second] = await t.send([m])
        await t.aclose()

    assert (first.outcome, first.reason) == (Outcome.TRANSIENT, "Mailgun 500: injected failure")
    assert second.outcome is Outcome.SENT
    assert len(fake.delivered) == 1


async def test_a_timeout_is_transient() -> None:
    fake = FakeMailgun(delay=0.5)
    with running(fake) as url:
        t = transport(url, timeout=0.1)
        [result] = await t.send([message()])
        await t.aclose()

    assert result.outcome is Outcome.TRANSIENT
    assert result.reason == "Mailgun timed out: ReadTimeout"


async def test_an_unreachable_api_is_transient() -> None:
    t = transport(f"http://127.0.0.1:{free_port()}", timeout=2)
    [result] = await t.send([message()])
    await t.aclose()

    assert result.outcome is Outcome.TRANSIENT
    assert (result.reason or "").startswith("Mailgun unreachable")


async def test_the_registry_builds_it_for_the_eu_region() -> None:
    module = registry.module("mailgun")
    settings = msgspec.convert(
        {"api_key": API_KEY, "domain": DOMAIN, "base_url": "https://api.eu.mailgun.net"}, module.Settings
    )
    t = module.create(settings)

    assert t.max_batch == 1000
    assert module.Settings(api_key="k", domain=DOMAIN).base_url == "https://api.mailgun.net"
    await t.aclose()
