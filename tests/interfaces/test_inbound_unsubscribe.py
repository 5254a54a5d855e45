"""Unsubscribe by email: the List-Unsubscribe mailto's message, sent over real SMTP to ``tidings inbound-smtp``'s
receiver, unsubscribes exactly as the one-click link does; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit
from uuid import UUID

import aiosmtplib
import pytest
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import strategies as st

from application.contacts import ContactInput
from interfaces.bootstrap import Container
from interfaces.cli.main import cli
from interfaces.inbound_mail.smtp_receiver import receiver
from interfaces.inbound_mail.unsubscribe_mail import Verdict, apply, token_of
from interfaces.link_keys import links_of
from interfaces.unsubscribe_headers import unsubscribe_headers
from tests.transports.fake_smtp import free_port

MAILBOX = "unsubscribe@bounces.example.com"
TOKEN = "eyJ2IjoxfQ.c2lnbmF0dXJlX2J5dGVz"


def _subject(container: Container, contact_id: UUID, category: str | None, now: datetime) -> str:
    """The subject a mail client writes from our List-Unsubscribe mailto."""
    header = unsubscribe_headers(links_of(container), contact_id, category, now, MAILBOX)["List-Unsubscribe"]
    mailto = next(t.strip("<>") for t in header.split(", ") if t.startswith("<mailto:"))
    parts = urlsplit(mailto)
    assert parts.path == MAILBOX
    return unquote(parts.query.removeprefix("subject="))


def _mail(subject: str, to: str = MAILBOX) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ann <ann@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Please take me off the list.")
    return message


@pytest.fixture
def mailbox(container: Container) -> Iterator[int]:
    server = receiver(container, MAILBOX, "127.0.0.1", free_port())
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


def _send(port: int, message: EmailMessage) -> None:
    asyncio.run(aiosmtplib.send(message, hostname="127.0.0.1", port=port))


def _contact(container: Container) -> UUID:
    contact, _ = container.contacts.upsert(ContactInput(email="ann@example.com"))
    return contact.id


def test_the_mailto_message_unsubscribes_from_everything_once(container: Container, mailbox: int) -> None:
    contact_id = _contact(container)
    subject = _subject(container, contact_id, None, datetime.now(UTC))

    _send(mailbox, _mail(subject))
    after_first = container.preferences.get(contact_id)
    assert after_first.opted_out

    _send(mailbox, _mail("Re: " + subject))  # a replay, as a client's reply would be: nothing more is recorded
    assert container.preferences.get(contact_id).version == after_first.version


def test_a_category_token_unsubscribes_from_that_category_only(live: Container, mailbox: int) -> None:
    container = live
    container.preferences.define_category("news", "News")
    container.preferences.define_category("offers", "Offers")
    contact_id = _contact(container)
    container.settle()  # the category's scope is read from its read model, as the one-click page reads it

    _send(mailbox, _mail(_subject(container, contact_id, "news", datetime.now(UTC))))

    prefs = container.preferences.get(contact_id)
    assert not prefs.opted_out
    assert prefs.categories.get("news") is False and "offers" not in prefs.categories


def test_a_tampered_or_missing_token_changes_nothing_and_is_not_bounced(container: Container, mailbox: int) -> None:
    contact_id = _contact(container)
    subject = _subject(container, contact_id, None, datetime.now(UTC))
    word, token = subject.split(" ")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    for wrong in (f"{word} {tampered}", "unsubscribe", "hello", ""):
        _send(mailbox, _mail(wrong))  # 250 each time: aiosmtplib raises on anything else

    assert not container.preferences.get(contact_id).opted_out


def test_mail_for_any_other_address_is_refused(container: Container, mailbox: int) -> None:
    contact_id = _contact(container)
    subject = _subject(container, contact_id, None, datetime.now(UTC))

    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        _send(mailbox, _mail(subject, to="someone@bounces.example.com"))

    assert refused.value.recipients[0].code == 550
    assert not container.preferences.get(contact_id).opted_out


def test_verdicts_name_what_happened(container: Container) -> None:
    now = datetime.now(UTC)
    contact_id = _contact(container)
    subject = _subject(container, contact_id, None, now)

    def verdict(subject: str, at: datetime = now) -> Verdict:
        return apply(container, bytes(_mail(subject)), at).verdict

    assert verdict("no token here") is Verdict.NO_TOKEN
    assert verdict(subject, now + timedelta(days=400)) is Verdict.EXPIRED_TOKEN
    assert verdict(subject[:-3] + "xyz") is Verdict.BAD_TOKEN
    assert verdict(_subject(container, UUID(int=7), None, now)) is Verdict.UNKNOWN_CONTACT
    assert verdict(subject) is Verdict.UNSUBSCRIBED
    assert verdict(subject) is Verdict.UNCHANGED


@pytest.mark.parametrize(
    "subject",
    [
        f"unsubscribe {TOKEN}",
        f"Re: unsubscribe {TOKEN}",
        f"AW: Fwd:  UNSUBSCRIBE\t{TOKEN}  ",
        Header(f"Ré: unsubscribe {TOKEN}", "utf-8").encode(),  # RFC 2047, as some clients send any subject
    ],
)
def test_the_token_is_found_however_the_client_wrote_the_subject(subject: str) -> None:
    assert token_of(f"To: {MAILBOX}\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()) == TOKEN


def test_a_folded_subject_still_gives_the_token() -> None:
    raw = f"Subject: Re: unsubscribe\r\n {TOKEN}\r\n\r\n".encode()
    assert token_of(raw) == TOKEN


@given(st.binary(max_size=2000))
def test_any_bytes_give_a_token_or_none_and_never_raise(raw: bytes) -> None:
    found = token_of(raw)
    assert found is None or (found.count(".") == 1 and len(found) <= 512)


@given(st.text(max_size=200), st.text(max_size=200))
def test_any_subject_around_the_token_still_gives_it(before: str, after: str) -> None:
    subject = f"{before} unsubscribe {TOKEN} {after}"
    message = EmailMessage()
    try:
        message["Subject"] = subject
    except ValueError:  # the email package refuses some control characters in a header: nothing to test
        return
    assume("unsubscribe" not in before.lower())  # else an earlier "unsubscribe x.y" in it could come first
    assert token_of(bytes(message)) == TOKEN


def test_the_command_needs_the_mailto_address(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("TIDINGS_UNSUBSCRIBE_MAILTO", raising=False)
    monkeypatch.setenv("TIDINGS_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["inbound-smtp", "--port", str(free_port())])
    assert result.exit_code != 0 and "TIDINGS_UNSUBSCRIBE_MAILTO" in result.output
