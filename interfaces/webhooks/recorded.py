"""What of a parsed delivery is recorded: the normalized events (keyed) and the quarantined items.

Shared by the endpoint and ``tidings webhooks renormalize`` so both record the same thing. Text holding
U+0000 is rewritten (U+FFFD): PostgreSQL text cannot hold it, and one such event would stop every read
model that follows deliveries. A NUL can only arrive as a JSON escape, a raw byte (multipart) or a
percent-escape (forms), so bodies with none of the three, nearly all of them, skip the rewrite.
"""

from __future__ import annotations

from typing import Any

from domain.email_event import NormalizedEvent, Quarantined

_NUL_FORMS = (b"\\u0000", b"\x00", b"%00")


def recorded(body: bytes, parsed: list[Any]) -> tuple[list[NormalizedEvent], list[dict[str, Any]]]:
    """The keyed events and the quarantined items (reason and item) of a parsed delivery."""
    events = [p.keyed() for p in parsed if isinstance(p, NormalizedEvent)]
    quarantined = [{"reason": p.reason, "item": p.item} for p in parsed if isinstance(p, Quarantined)]
    if any(form in body for form in _NUL_FORMS):
        events = [e.without_nul() for e in events]
        quarantined = [{"reason": q["reason"].replace("\x00", "\ufffd"), "item": q["item"]} for q in quarantined]
    return events, quarantined
