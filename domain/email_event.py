"""The one schema every ESP's delivery and engagement events are normalized into."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EmailEventType(StrEnum):
    """What happened to a message, whichever ESP reported it."""

    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    REJECTED = "rejected"
    FAILED = "failed"
    OPENED = "opened"
    CLICKED = "clicked"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    RESUBSCRIBED = "resubscribed"
    SUPPRESSION_ADDED = "suppression_added"
    SUPPRESSION_REMOVED = "suppression_removed"
    UNKNOWN = "unknown"


class BounceClass(StrEnum):
    """How final a bounce is."""

    HARD = "hard"
    SOFT = "soft"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class NormalizedEvent:
    """One ESP event in our schema; ``recipient`` is lower-cased, ``occurred_at`` is UTC."""

    type: EmailEventType
    provider_event_type: str
    recipient: str
    occurred_at: datetime
    provider_message_id: str | None = None
    provider_event_id: str | None = None
    bounce_class: BounceClass | None = None
    click_url: str | None = None
    reason: str | None = None
    smtp_code: str | None = None
    machine_open: bool | None = None
    user_agent: str | None = None
    ip: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # The ESP's item as received, used for the canonical hash when it carries no event id; not stored.
    raw: Any = field(default=None, compare=False, repr=False)
    # The dedup key, fixed when the event is recorded (see ``keyed``).
    key: str = ""

    def dedup_key(self) -> str:
        """``event id + recipient`` when the ESP gives an id, else a hash of the item's canonical JSON."""
        if self.key:
            return self.key
        if self.provider_event_id:
            return f"id:{self.provider_event_id}:{self.recipient}"
        canonical = json.dumps(self.raw, sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def without_nul(self) -> NormalizedEvent:
        """This event with every U+0000 in its text (metadata included) replaced by U+FFFD.

        An ESP passes on text it did not write (a remote server's bounce diagnostic, our own custom
        args); PostgreSQL text cannot hold NUL, and one such event would stop the read models for good.
        """
        clone = object.__new__(type(self))
        fields = vars(clone)
        fields.update(
            # ``type(v) is str``: the enums (type, bounce_class) are str too and must stay enums.
            {k: _no_nul(v) if type(v) is str else v for k, v in vars(self).items() if k not in ("metadata", "raw")}
        )
        fields["metadata"] = {_no_nul(k): _no_nul(v) if type(v) is str else v for k, v in self.metadata.items()}
        fields["raw"] = self.raw
        return clone

    def keyed(self) -> NormalizedEvent:
        """This event as it is recorded: dedup key fixed, raw item dropped."""
        # A shallow copy of the fields: ``dataclasses.replace`` re-runs ``__init__`` through keyword
        # arguments, which cost more than parsing the item did (hot path: once per event received).
        clone = object.__new__(type(self))
        fields = vars(clone)
        fields.update(vars(self))
        fields["key"] = self.dedup_key()
        fields["raw"] = None
        return clone


@dataclass(frozen=True)
class Quarantined:
    """An item of a batch that could not be normalized; kept for people to look at, never retried by the ESP."""

    reason: str
    item: Any


def _no_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd")
