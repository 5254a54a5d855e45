"""The Amazon SES transport against a local SES v2 endpoint that verifies Signature Version 4 for real."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import msgspec
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from interfaces.transports import registry
from interfaces.transports.amazon_ses import AmazonSesTransport, Settings
from interfaces.transports.base import HEADER, Outcome, OutgoingMessage
from tests.transports.fake_server_thread import Reply
from tests.transports.fake_ses import ACCESS_KEY_ID, REGION, SECRET, FakeSes, error, running

CAMPAIGN = UUID("00000000-0000-4000-8000-0000000000ca")
RUN = UUID("00000000-0000-4000-8000-0000000000a1")


def message(to: str = "ann@example.org", html: str = "<p>Hello <b>there</b></p>") -> OutgoingMessage:
    return OutgoingMessage(
        message_id=uuid4(),
        campaign_id=CAMPAIGN,
        contact_id=uuid4(),
        from_address="News <news@example.com>",
        to=to,
        subject="Autumn news",
        html=html,
        text="Hello there",
        headers={
            "List-Unsubscribe": "<https://tidings.example/u/t0k3n>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        run_id=RUN,
    )


def settings(url: str, **overrides: object) -> Settings:
    values = {"region": REGION, "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET, "base_url": url}
    return msgspec.convert({**values, **overrides}, Settings)


class CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that remembers the most requests it ever had in flight at once."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.in_flight = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSes]:
    with running() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeSes) -> FakeSes:
    server.reset()
    return server


@pytest.fixture
async def transport(fake: FakeSes) -> AsyncIterator[AmazonSesTransport]:
    sender = AmazonSesTransport(settings(fake.url))
    yield sender
    await sender.aclose()


async def test_accepted_messages_are_sent_with_ses_ids_in_order(fake: FakeSes, transport: AmazonSesTransport) -> None:
    batch = [message(f"r{i}@example.org") for i in range(4)]

    results = await transport.send(batch)

    assert [r.message_id for r in results] == [m.message_id for m in batch]
    assert [r.outcome for r in results] == [Outcome.SENT] * 4
    by_recipient = {a["Destination"]["ToAddresses"][0]: a["MessageId"] for a in fake.accepted}
    assert [r.provider_message_id for r in results] == [by_recipient[m.to] for m in batch]


async def test_the_raw_mime_carries_our_headers_and_the_tags_our_metadata(
    fake: FakeSes, transport: AmazonSesTransport
) -> None:
    sent = message()

    await transport.send([sent])

    accepted = fake.accepted[0]
    mime = accepted["mime"]
    assert mime["List-Unsubscribe"] == "<https://tidings.example/u/t0k3n>"
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mime[HEADER] == str(sent.message_id)
    assert mime["Message-ID"] == sent.rfc_message_id
    assert (mime["From"], mime["To"], mime["Subject"]) == ("News <news@example.com>", sent.to, "Autumn news")
    assert mime.get_body(("plain",)).get_content().strip() == "Hello there"
    assert mime.get_body(("html",)).get_content().strip() == sent.html
    assert {t["Name"]: t["Value"] for t in accepted["EmailTags"]} == sent.metadata()
    assert accepted["FromEmailAddress"] == "news@example.com"
    assert "ConfigurationSetName" not in accepted


async def test_a_configuration_set_is_named_when_set(fake: FakeSes) -> None:
    transport = AmazonSesTransport(settings(fake.url, configuration_set="tidings-events"))

    await transport.send([message()])
    await transport.aclose()

    assert fake.accepted[0]["ConfigurationSetName"] == "tidings-events"


async def test_long_html_lines_stay_under_the_smtp_line_limit(fake: FakeSes, transport: AmazonSesTransport) -> None:
    html = "<p>" + "word " * 2000 + "é</p>"
    sent = message(html=html)

    await transport.send([sent])

    raw = base64.b64decode(transport.request_body(sent)["Content"]["Raw"]["Data"])
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert fake.accepted[0]["mime"].get_body(("html",)).get_content().strip() == html


async def test_a_rejected_address_fails_permanently_while_the_rest_go(
    fake: FakeSes, transport: AmazonSesTransport
) -> None:
    fake.rejected.add("unverified@example.org")

    results = await transport.send([message(), message("unverified@example.org"), message("b@example.org")])

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.PERMANENT, Outcome.SENT]
    assert results[1].reason is not None
    assert results[1].reason.startswith("SES MessageRejected (message rejected): Email address is not verified")
    assert len(fake.accepted) == 2


@pytest.mark.parametrize(
    ("state", "code", "words"),
    [("paused", "SendingPausedException", "sending paused"), ("suspended", "AccountSuspendedException", "suspended")],
)
async def test_an_account_that_may_not_send_fails_permanently_and_says_so(
    fake: FakeSes, transport: AmazonSesTransport, state: str, code: str, words: str
) -> None:
    fake.account = state

    results = await transport.send([message(), message()])

    assert [r.outcome for r in results] == [Outcome.PERMANENT] * 2
    assert all(
        r.reason and r.reason.startswith("SES account") and words in r.reason and code in r.reason for r in results
    )


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            error(429, "TooManyRequestsException", "Too Many Requests", {"Retry-After": "2"}),
            "SES TooManyRequestsException",
        ),
        (error(400, "LimitExceededException", "Daily message quota exceeded."), "SES LimitExceededException"),
        (error(500, "InternalFailure", "Internal failure"), "SES InternalFailure"),
        (Reply(503, b"<html>Service Unavailable</html>", {"content-type": "text/html"}), "SES 503"),
    ],
)
async def test_rate_quota_and_server_failures_are_transient(
    fake: FakeSes, transport: AmazonSesTransport, reply: Reply, reason: str
) -> None:
    fake.force(reply)

    first = await transport.send([message()])
    second = await transport.send([message()])

    assert first[0].outcome is Outcome.TRANSIENT
    assert first[0].reason is not None
    assert first[0].reason.startswith(reason)
    assert first[0].retry_after == (2.0 if reply.status == 429 else None)
    assert second[0].outcome is Outcome.SENT


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [
        (ACCESS_KEY_ID, "not-the-secret", "InvalidSignatureException"),
        ("AKIDUNKNOWN", SECRET, "UnrecognizedClientException"),
    ],
)
async def test_refused_credentials_fail_permanently_as_configuration(
    fake: FakeSes, key: str, secret: str, code: str
) -> None:
    transport = AmazonSesTransport(settings(fake.url, access_key_id=key, secret_access_key=secret))

    results = await transport.send([message()])
    await transport.aclose()

    assert results[0].outcome is Outcome.PERMANENT
    assert results[0].reason is not None
    assert results[0].reason.startswith(f"SES configuration: credentials refused ({code})")
    assert fake.accepted == []


async def test_the_fake_checks_the_signature_over_the_body_it_received(fake: FakeSes) -> None:
    signed = b'{"FromEmailAddress":"news@example.com"}'
    url = f"{fake.url}/v2/email/outbound-emails"
    request = AWSRequest(method="POST", url=url, data=signed, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET), "ses", REGION).add_auth(request)
    headers = dict(request.headers.items())

    async with httpx.AsyncClient() as client:
        tampered = await client.post(url, content=signed.replace(b"news", b"spam"), headers=headers)
        genuine = await client.post(url, content=signed, headers=headers)

    assert tampered.status_code == 403
    assert tampered.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert genuine.status_code == 400  # past the signature check, refused for its missing content
    assert genuine.headers["x-amzn-ErrorType"] == "BadRequestException"


async def test_the_fake_refuses_a_signature_dated_too_long_ago(fake: FakeSes) -> None:
    url = f"{fake.url}/v2/email/outbound-emails"
    request = AWSRequest(method="POST", url=url, data=b"{}", headers={"Content-Type": "application/json"})
    signer = SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET), "ses", REGION)
    request.context["timestamp"] = f"{datetime.now(UTC) - timedelta(minutes=6):%Y%m%dT%H%M%SZ}"
    signer._modify_request_before_signing(request)  # sets X-Amz-Date from the context's timestamp
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    signer._inject_signature_to_request(request, signature)

    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=b"{}", headers=dict(request.headers.items()))

    assert response.status_code == 403
    assert response.json()["message"].startswith("Signature expired")


async def test_a_session_token_is_signed_and_sent(fake: FakeSes) -> None:
    transport = AmazonSesTransport(settings(fake.url, session_token="temporary-session"))

    signed = transport._signed_headers(b"{}")
    results = await transport.send([message()])
    await transport.aclose()

    assert signed["X-Amz-Security-Token"] == "temporary-session"
    assert "x-amz-security-token" in signed["Authorization"]
    assert results[0].outcome is Outcome.SENT


async def test_at_most_concurrency_sends_are_in_flight(fake: FakeSes) -> None:
    counting = CountingTransport()
    client = httpx.AsyncClient(transport=counting)
    transport = AmazonSesTransport(settings(fake.url, concurrency=3), client=client)

    results = await transport.send([message(f"r{i}@example.org") for i in range(10)])
    await transport.aclose()

    assert {r.outcome for r in results} == {Outcome.SENT}
    assert counting.most == 3


async def test_an_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    transport = AmazonSesTransport(settings(f"http://127.0.0.1:{port}"))

    results = await transport.send([message()])
    await transport.aclose()

    assert results[0].outcome is Outcome.TRANSIENT
    assert results[0].reason is not None
    assert results[0].reason.startswith("SES unreachable")


async def test_an_endpoint_that_never_answers_times_out_as_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # the kernel completes the handshake; nobody ever reads or answers
        transport = AmazonSesTransport(settings(f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=0.2))

        results = await transport.send([message()])
        await transport.aclose()

    assert results[0].outcome is Outcome.TRANSIENT
    assert results[0].reason == "SES timed out: ReadTimeout"


async def test_settings_are_checked_and_the_registry_finds_the_module() -> None:
    module = registry.module("amazon_ses")
    values = {"region": "us-east-1", "access_key_id": "AKID", "secret_access_key": "s"}
    created = module.create(msgspec.convert(values, module.Settings))

    assert created.max_batch == 50
    assert created._url == "https://email.us-east-1.amazonaws.com/v2/email/outbound-emails"
    await created.aclose()
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({**values, "concurrency": 0}, module.Settings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({**values, "secret": "x"}, module.Settings)
