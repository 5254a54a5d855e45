"""Email addresses as Tidings keys them: one normalized form, and the contact id derived from it.

Everything that meets an address (contacts, imports, webhook events, suppressions) normalizes it here,
so an event for ``Ann@Example.COM`` links to the contact created as ``ann@example.com``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from uuid import UUID, uuid5

from domain.errors import Invalid
from domain.ids import CONTACTS

MAX_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL = 64
# Pragmatic syntax: what mailbox providers accept in practice, not the full RFC 5322 grammar (quoted
# local parts and IP literals are refused: no ESP delivers marketing mail to them).
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidEmail(Invalid):
    """The text is not an address we can send to."""

    code = "invalid_email"


def normalize_email(value: str) -> str:
    """The address trimmed and lower-cased, domain in IDNA (punycode) form; ``InvalidEmail`` otherwise.

    The local part is lower-cased too: RFC 5321 lets it be case-sensitive, but no mailbox provider
    treats it so, and two contacts differing only in case would be mailed twice.
    """
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("an email address needs a local part, an @ and a domain", value=text[:MAX_LENGTH])
    dots_misplaced = local.startswith(".") or local.endswith(".") or ".." in local
    if len(local) > MAX_LOCAL or not _LOCAL.match(local) or dots_misplaced:
        raise InvalidEmail("the part before @ is not a valid mailbox name", value=text[:MAX_LENGTH])
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidEmail("the domain is not a valid host name", value=text[:MAX_LENGTH]) from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidEmail("the domain is not a valid host name", value=text[:MAX_LENGTH])
    address = f"{local.lower()}@{ascii_domain}"
    if len(address) > MAX_LENGTH:
        raise InvalidEmail(f"an email address is at most {MAX_LENGTH} characters", value=text[:MAX_LENGTH])
    return address


def email_domain(address: str) -> str:
    """The domain of a normalized address."""
    return address.rpartition("@")[2]


# An import derives each row's id to group the batch, then registers the contact with it: remember the recent ones.
@lru_cache(maxsize=8192)
def contact_id_for(address: str) -> UUID:
    """The contact id of a normalized address: deterministic, so an upsert needs no lookup."""
    return uuid5(CONTACTS, address)
