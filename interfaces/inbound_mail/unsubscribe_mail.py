"""An unsubscribe request that arrived by email, read and applied.

Our ``List-Unsubscribe`` mailto is ``<mailto:ADDRESS?subject=unsubscribe%20TOKEN>`` (RFC 2369, RFC 6068):
the mail client writes that subject into a new message to ADDRESS. The token is the same signed one the
HTTPS link carries, so it is verified the same way (purpose, expiry, key id) and unsubscribes the same
way: from its category, or from all marketing email, idempotently. Clients may prefix the subject
(``Re:``, ``AW:``), fold it or RFC 2047-encode it, so the token is looked for after the word
``unsubscribe`` anywhere in the decoded subject. The sender's address is not trusted for anything: a
forwarded or spoofed message can only carry a token someone was sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.errors import MessageError
from enum import StrEnum

from domain.errors import NotFound
from domain.events import caused_by, contact_actor
from domain.link_tokens import MAX_TOKEN_LENGTH, BadLinkToken, ExpiredLinkToken, Purpose
from interfaces.bootstrap import Container
from interfaces.http.pages.preference_state import Scope, unsubscribe
from interfaces.link_keys import links_of

_TOKEN = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", re.IGNORECASE)


class Verdict(StrEnum):
    """What became of one message (logged by code only: never the token or the address)."""

    UNSUBSCRIBED = "unsubscribed"
    UNCHANGED = "unchanged"  # a valid request that found nothing to change (already unsubscribed)
    NO_TOKEN = "no_token"  # noqa: S105 (a verdict, not a secret)
    BAD_TOKEN = "bad_token"  # noqa: S105
    EXPIRED_TOKEN = "expired_token"  # noqa: S105
    UNKNOWN_CONTACT = "unknown_contact"


@dataclass(frozen=True)
class Outcome:
    """The verdict, and the scope it applied to (None: everything) when a request was valid."""

    verdict: Verdict
    category: str | None = None


def token_of(raw: bytes) -> str | None:
    """The unsubscribe token in a message's subject, if there is one; never raises on any input."""
    try:
        subject = message_from_bytes(raw, policy=policy.default).get("subject")
        text = " ".join(str(subject or "").split())
    except (MessageError, ValueError, TypeError, LookupError, AttributeError, IndexError):
        return None  # the email package's header parsing can fail in many ways on hostile input
    found = _TOKEN.search(text)
    if found is None or len(found[1]) > MAX_TOKEN_LENGTH:
        return None
    return found[1]


def apply(container: Container, raw: bytes, now: datetime) -> Outcome:
    """Verify the token a message carries and unsubscribe its contact; errors of storage propagate."""
    token = token_of(raw)
    if token is None:
        return Outcome(Verdict.NO_TOKEN)
    try:
        claims = links_of(container).keys.verify(token, Purpose.UNSUBSCRIBE, now)
    except ExpiredLinkToken:
        return Outcome(Verdict.EXPIRED_TOKEN)
    except BadLinkToken:
        return Outcome(Verdict.BAD_TOKEN)
    try:
        container.contacts.get(claims.contact_id)
    except NotFound:
        return Outcome(Verdict.UNKNOWN_CONTACT)
    scope = Scope.of(container, claims.category)
    with caused_by(contact_actor(claims.contact_id), None, "unsubscribe by email"):
        changed = unsubscribe(container, claims.contact_id, scope)
    return Outcome(Verdict.UNSUBSCRIBED if changed else Verdict.UNCHANGED, scope.category)
