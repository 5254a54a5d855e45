"""Policies (ADR 0004 §5): what a normalized email event changes in what we may send, and issuing it.

``decide`` is pure: one event (plus the address's soft-bounce count and the known categories, which the
caller reads) gives the commands it calls for. ``EmailPolicies`` applies them to the preference and
suppression records (a batch of events in one transaction, ``PolicyBatch``), attributed to the ESP
connection, each carrying the event's stable id as its ``cause``: aggregates ignore a cause they have
seen, so reacting to an event again changes nothing.

Preference changes need a contact; for an address that is no contact they are skipped (see README,
Policies), while suppressions, which are per address, always apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.policy_batch import PolicyBatch
from application.preferences import Preferences, UnknownContact, retry_on_race
from application.suppressions import Suppressions
from domain.email_address import InvalidEmail, contact_id_for, normalize_email
from domain.email_event import BounceClass, EmailEventType, NormalizedEvent
from domain.events import caused_by, esp_actor
from domain.preference_category import CategoryArchived, UnknownCategory
from domain.preference_sources import Source
from domain.suppression import Reason

T = EmailEventType
# The metadata key delivery stamps on each message with its category's key.
CATEGORY_KEY = "tidings_category"
POLICY_TYPES = frozenset(
    {T.BOUNCED, T.COMPLAINED, T.UNSUBSCRIBED, T.RESUBSCRIBED, T.SUPPRESSION_ADDED, T.SUPPRESSION_REMOVED}
)


@dataclass(frozen=True)
class SoftBounceRule:
    """``limit`` soft bounces of one address within ``window`` (ending at the latest) suppress it."""

    limit: int = 3
    window: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= timedelta(0):
            raise ValueError("the soft-bounce limit and window must be positive")


@dataclass(frozen=True)
class Suppress:
    """Suppress the address for ``reason``."""

    address: str
    reason: Reason
    cause: str
    at: datetime


@dataclass(frozen=True)
class LiftEspSuppression:
    """End the address's suppression, only when it is the ESP's own (reason ``esp``)."""

    address: str
    cause: str
    at: datetime


@dataclass(frozen=True)
class OptOut:
    """Opt the contact out of ``category``, or of all marketing email when None."""

    contact_id: UUID
    category: str | None
    cause: str
    at: datetime


@dataclass(frozen=True)
class Resubscribe:
    """Opt the contact back in (to ``category``, or globally) when this is newer than its last change."""

    contact_id: UUID
    category: str | None
    cause: str
    at: datetime


Command = Suppress | LiftEspSuppression | OptOut | Resubscribe


def is_soft_bounce(event: NormalizedEvent) -> bool:
    """Whether deciding on ``event`` needs the address's soft-bounce count."""
    return event.type is T.BOUNCED and event.bounce_class is BounceClass.SOFT


def busiest_window(times: Sequence[datetime], at: datetime, window: timedelta) -> int:
    """How many of ``times`` the busiest ``window``-long span holding ``at`` contains (``at`` is one of them).

    Not only the span ending at ``at``: bounces reported out of order (a later one recorded first) still
    make a run when the last of them to arrive is decided, so the outcome does not depend on arrival order.
    """
    ends = [at, *(t for t in times if at < t < at + window)]
    return max(sum(1 for t in times if end - window < t <= end) for end in ends)


def decide(
    event: NormalizedEvent,
    cause: str,
    *,
    soft_bounces: int = 0,
    rule: SoftBounceRule = SoftBounceRule(),
    categories: Mapping[str, bool] | None = None,
) -> list[Command]:
    """The commands ``event`` calls for (none for an invalid address or an event no policy follows).

    ``soft_bounces``: the address's soft bounces in the busiest window holding this one (``busiest_window``).
    ``categories``: every known category key → whether it is archived.
    """
    try:
        address = normalize_email(event.recipient)
    except InvalidEmail:
        return []
    at = event.occurred_at
    commands: list[Command] = []
    match event.type:
        case T.BOUNCED if event.bounce_class is BounceClass.HARD:
            commands = [Suppress(address, Reason.HARD_BOUNCE, cause, at)]
        case T.BOUNCED if event.bounce_class is BounceClass.SOFT and soft_bounces >= rule.limit:
            commands = [Suppress(address, Reason.SOFT_BOUNCES, cause, at)]
        case T.COMPLAINED:
            commands = [
                Suppress(address, Reason.COMPLAINT, cause, at),
                OptOut(contact_id_for(address), None, cause, at),
            ]
        case T.UNSUBSCRIBED | T.RESUBSCRIBED:
            commands = _subscription(event, contact_id_for(address), cause, categories or {})
        case T.SUPPRESSION_ADDED:
            commands = [Suppress(address, Reason.ESP, cause, at)]
        case T.SUPPRESSION_REMOVED:
            commands = [LiftEspSuppression(address, cause, at)]
    return commands


def _subscription(event: NormalizedEvent, contact: UUID, cause: str, known: Mapping[str, bool]) -> list[Command]:
    given = event.metadata.get(CATEGORY_KEY)
    # An unknown or absent category: leaving everything is the safe reading of "unsubscribe", and a
    # resubscribe mirrors it (the matching unsubscribe was a global opt-out).
    category = given if given in known else None
    if event.type is T.UNSUBSCRIBED:
        return [OptOut(contact, category, cause, event.occurred_at)]
    if category is not None and known[category]:
        return []  # nobody opts in to an archived category
    return [Resubscribe(contact, category, cause, event.occurred_at)]


def reason_for(event: NormalizedEvent, cause: str) -> str:
    """The free-text why recorded on every change a policy makes: the ESP's event type and the event's id."""
    kind = event.type.value if event.bounce_class is None else f"{event.type.value} ({event.bounce_class.value})"
    return f"ESP-reported {kind}: {event.provider_event_type} event {cause}"


@dataclass(frozen=True)
class Followed:
    """One normalized event to follow, with what deciding on it needs (see ``decide``)."""

    connection_id: UUID
    event: NormalizedEvent
    cause: str
    soft_bounces: int = 0
    request_id: str | None = None


class EmailPolicies:
    """Issues the commands normalized email events call for, through the preference and suppression use cases."""

    def __init__(self, preferences: Preferences, suppressions: Suppressions, rule: SoftBounceRule) -> None:
        self.preferences = preferences
        self.suppressions = suppressions
        self.rule = rule

    def follow(
        self,
        connection_id: UUID,
        event: NormalizedEvent,
        cause: str,
        *,
        soft_bounces: int = 0,
        categories: Mapping[str, bool] | None = None,
        request_id: str | None = None,
    ) -> int:
        """Decide and issue the event's commands as the ESP connection; returns how many changed something."""
        return self.follow_all([Followed(connection_id, event, cause, soft_bounces, request_id)], categories)

    def follow_all(self, items: Sequence[Followed], categories: Mapping[str, bool] | None = None) -> int:
        """Follow ``items`` in order, saving every change in one transaction; how many commands changed something.

        A version clash (someone changed one of these records meanwhile) saves nothing, and the batch is
        decided again on fresh state, as a single command would be.
        """
        rule = self.rule
        decided = [
            (item, commands)
            for item in items
            if (
                commands := decide(
                    item.event, item.cause, soft_bounces=item.soft_bounces, rule=rule, categories=categories
                )
            )
        ]
        if not decided:
            return 0

        every = [c for _, commands in decided for c in commands]
        addresses = {c.address for c in every if isinstance(c, Suppress | LiftEspSuppression)}
        contacts = {c.contact_id for c in every if isinstance(c, OptOut | Resubscribe)}

        def attempt() -> int:
            batch = PolicyBatch(self.preferences, self.suppressions)
            if len(decided) > 1:
                batch.prefetch(addresses, contacts)
            changed = 0
            for item, commands in decided:
                with caused_by(esp_actor(item.connection_id), item.request_id, reason_for(item.event, item.cause)):
                    changed += sum(self._issue(batch, command) for command in commands)
            batch.commit()
            return changed

        return retry_on_race(attempt)

    def _issue(self, batch: PolicyBatch, command: Command) -> bool:
        """Apply one command to the batch's records; False when it changed nothing (or needs a missing contact)."""
        try:
            return self._apply(batch, command)
        except (UnknownContact, UnknownCategory, CategoryArchived):
            # No contact: preferences need one (README, Policies). A category archived or dropped since
            # the caller read the list: an answer, not a failure to retry forever.
            return False

    def _apply(self, batch: PolicyBatch, command: Command) -> bool:
        esp = Source.ESP
        match command:
            case Suppress():
                return self._suppress(batch, command)
            case LiftEspSuppression():
                return self._lift(batch, command)
            case OptOut(contact_id, None, cause, at):
                return batch.preferences(contact_id).change(opted_out=True, source=esp, effective_at=at, cause=cause)
            case OptOut(contact_id, category, cause, at) if category is not None:
                choices = {category: False}
                prefs = batch.preferences(contact_id, choices)
                return prefs.change(categories=choices, source=esp, effective_at=at, cause=cause)
            case Resubscribe(contact_id, category, cause, at):
                prefs = batch.preferences(contact_id, {category: True} if category else None)
                return prefs.opt_in_if_newer(at, cause, category, esp)
        raise TypeError(f"not a policy command: {command!r}")

    def _suppress(self, batch: PolicyBatch, command: Suppress) -> bool:
        if command.reason is Reason.ESP:
            current = batch.suppression(command.address)
            if current is not None and current.active and current.reason != Reason.ESP:
                return False  # the ESP's list must not replace a reason of our own, which only we lift
        record = batch.suppression_to_change(command.address, command.at)
        return record.suppress(command.reason, Source.ESP, command.cause, command.at)

    def _lift(self, batch: PolicyBatch, command: LiftEspSuppression) -> bool:
        current = batch.suppression(command.address)
        if current is None or (current.suppressed_at is not None and command.at < current.suppressed_at):
            return False  # a removal older than the suppression in force predates it
        return current.lift(Source.ESP, command.cause, command.at, only_reason=Reason.ESP)
