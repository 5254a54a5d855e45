"""List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post (RFC 8058) headers for one outgoing message.

Delivery calls :func:`message_unsubscribe_headers` for every message and adds the result to it. The HTTPS link is
the one-click target: mailbox providers POST ``List-Unsubscribe=One-Click`` to it (``POST /u/{token}``).
Both headers must be covered by the message's DKIM signature for providers to honour them (RFC 8058 §4).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from uuid import UUID

from interfaces.bootstrap import Container
from interfaces.link_keys import Links, links_of

ONE_CLICK = "List-Unsubscribe=One-Click"


def unsubscribe_headers(
    links: Links,
    contact_id: UUID,
    category: str | None,
    now: datetime,
    mailto: str | None = None,
    *,
    token: str | None = None,
) -> dict[str, str]:
    """The headers for a message to ``contact_id`` in ``category`` (None: unsubscribing means from everything).

    The mailto carries the token in its subject rather than in the address: a token is longer than the
    64 octets a local part may have (RFC 5321 §4.5.3.1.1) and some servers fold the local part's case,
    which a base64url token does not survive. ``token``, when given, is the one ``links.unsubscribe_token``
    signs for these arguments (a renderer that signed it for the body passes it instead of signing twice).
    """
    token = token or links.unsubscribe_token(contact_id, now, category)
    targets = [f"<{links.unsubscribe_url_of(token)}>"]
    if mailto:
        targets.append(f"<mailto:{mailto}?subject={quote('unsubscribe ' + token)}>")
    headers = {"List-Unsubscribe": ", ".join(targets)}
    # RFC 8058 §3.1: one-click needs an HTTPS URI; announcing it for plain HTTP would be a false promise.
    if links.public_url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    return headers


def message_unsubscribe_headers(
    container: Container, contact_id: UUID, category: str | None, now: datetime
) -> dict[str, str]:
    """The headers with this deployment's keys, TIDINGS_PUBLIC_URL and TIDINGS_UNSUBSCRIBE_MAILTO."""
    return unsubscribe_headers(links_of(container), contact_id, category, now, container.settings.unsubscribe_mailto)
