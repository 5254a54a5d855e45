"""The delivery worker: starts due campaigns, hands their messages over, records every outcome.

One pass (``tick``):
1. **Start** every scheduled campaign whose time has come: snapshot its audience into the queue (each
   message with its deterministic id and its own due instant), start the run, mark the campaign sending.
   Each step is idempotent, so a crash between them is repaired by the next pass.
2. **Recover** batches whose lease ran out (their worker died): a recorded outcome is applied; an
   unrecorded batch goes back to pending with the same message ids.
3. **Work** each open run: claim due messages, re-check each contact's eligibility (someone who opted out
   after scheduling gets nothing), render, wait for the connection's throttle, hand over, record the
   outcome as a ``DeliveryBatch`` event, apply it to the queue. Transient failures retry with backoff;
   a run failing above the error-rate threshold pauses its campaign. A run with nothing left finishes and
   its campaign is marked sent.

Sending is async (transports are); the bookkeeping around it is plain synchronous database work, which
is short next to a hand-over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

import msgspec

from domain.campaign import Campaign
from domain.campaign_workflow import State
from domain.delivery_policy import ErrorRateWatch, RetryPolicy
from domain.delivery_run import message_id, run_id
from domain.errors import Conflict, RuleViolated
from domain.events import caused_by
from domain.send_schedule import Schedule, due_at
from interfaces.bootstrap import Container
from interfaces.delivery import queue
from interfaces.delivery.hand_over import HandOver
from interfaces.delivery.throttle import TokenBucket
from interfaces.link_keys import links_of
from interfaces.rendering import Layout, Recipient, RenderError, compile_content
from interfaces.transports import capture, registry
from interfaces.transports.base import Outcome, OutgoingMessage, SendResult, Transport
from projections.campaigns import list_campaigns
from projections.contacts import get_contacts
from projections.eligibility import Eligible, eligibility_many
from projections.esp_connections import get_connection
from projections.templates import layout

log = logging.getLogger(__name__)
ACTOR = "system:delivery"
YIELD_EVERY = 8  # messages rendered between yields to the event loop


@dataclass(frozen=True)
class Member:
    """One contact of an audience snapshot: who, where to, and the zone their local-time send uses."""

    contact_id: UUID
    email: str
    timezone: str | None = None


class AudienceSource(Protocol):
    """The campaign's audience at ``now`` and how many each targeting rule removed."""

    def __call__(
        self, container: Container, campaign: Campaign, now: datetime
    ) -> tuple[Iterable[Member], dict[str, int]]:
        """Members in contact-id order, and removals per rule."""
        ...


DueSource = Callable[[Campaign, Member, datetime], datetime]


def due_at_schedule(campaign: Campaign, member: Member, occurrence: datetime) -> datetime:
    """When the member's message of the run at ``occurrence`` is due, by the campaign's plan (their zone,
    quiet hours); without a plan, at the occurrence."""
    if not campaign.plan:
        return occurrence
    return due_at(Schedule.from_dict(campaign.plan), occurrence, member.timezone)


@dataclass
class WorkerSettings:
    """Batching, leases, retries and the auto-pause threshold."""

    batch_size: int = 100
    lease: timedelta = timedelta(minutes=5)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pause_error_rate: float = 0.5
    pause_min_sample: int = 50
    poll_seconds: float = 1.0
    pass_seconds: float = 1.0  # a run's pass keeps handing batches over this long unless the throttle binds


class DeliveryWorker:
    """Hands campaign messages to transports; one per process (several may share a PostgreSQL queue)."""

    def __init__(
        self,
        container: Container,
        audience: AudienceSource,
        *,
        due: DueSource = due_at_schedule,
        settings: WorkerSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        transport_for: Callable[[UUID | None], tuple[Transport, TokenBucket]] | None = None,
    ) -> None:
        self.container = container
        self.db = container.db
        self.settings = settings or WorkerSettings()
        self._audience = audience
        self._due = due
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._transport_for = transport_for or self._connection_transport
        self._transports: dict[UUID | None, tuple[Transport, TokenBucket]] = {}
        self._watches: dict[UUID, ErrorRateWatch] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        queue.create_tables(self.db)
        capture.create_table(self.db)  # the embedded default's outbox, readable before anything is sent

    # -- the loop -------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; a pass that fails is logged and the next one retries."""
        while not stop.is_set():
            try:
                handled = await self.tick()
            except Exception:
                log.exception("delivery pass failed")
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_seconds)

    async def tick(self) -> int:
        """One pass; the number of messages handed over or settled."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Transports hold connections bound to the loop that opened them: a new loop opens its own.
            self._transports.clear()
            self._loop = loop
        now = self._clock()
        with caused_by(ACTOR):
            self.start_due(now)
            self.recover(now)
            handled = 0
            for run in queue.open_runs(self.db):
                handled += await self._work(run, self._clock())
        return handled

    async def drain(self, max_passes: int = 10_000) -> None:
        """Pass until a pass does nothing (tests, the CLI's ``--once``)."""
        for _ in range(max_passes):
            if not await self.tick():
                return

    async def aclose(self) -> None:
        """Close every transport's connections."""
        for transport, _ in self._transports.values():
            await transport.aclose()
        self._transports.clear()

    # -- 1. start ---------------------------------------------------------------------------------------

    def start_due(self, now: datetime) -> None:
        """Snapshot and start every scheduled campaign whose first message is due."""
        self.container.settle()
        for row in list_campaigns(self.db, state=State.SCHEDULED.value):
            if row.scheduled_at is None or datetime.fromisoformat(row.scheduled_at) > now:
                continue
            try:
                self._start(row.id, now)
            except (Conflict, RuleViolated) as exc:
                log.warning("could not start campaign", extra={"campaign_id": str(row.id), "error": str(exc)})

    def _start(self, campaign_id: UUID, now: datetime) -> None:
        campaign = self.container.campaigns.get(campaign_id)
        if campaign.state is not State.SCHEDULED or campaign.scheduled_at is None or campaign.approval is None:
            return
        occurrence = campaign.scheduled_at
        run = run_id(campaign.id, occurrence)
        members, removed = self._audience(self.container, campaign, now)
        rows = ((message_id(run, m.contact_id), m.contact_id, m.email, self._due(campaign, m, occurrence))
                for m in members)  # fmt: skip
        audience = queue.snapshot(self.db, run_id=run, campaign_id=campaign.id, occurrence=occurrence,
                                  recipients=rows, now=now)  # fmt: skip
        self.container.deliveries.start_run(
            campaign_id=campaign.id, occurrence=occurrence, content_version=campaign.approval.version,
            esp_connection_id=campaign.settings.esp_connection_id, audience=audience, removed=removed,
        )  # fmt: skip
        self.container.campaigns.start_sending(campaign.id, f"run {run}: {audience} recipients")
        log.info("campaign run started", extra={"campaign_id": str(campaign.id), "run_id": str(run)})

    # -- 2. recover -------------------------------------------------------------------------------------

    def recover(self, now: datetime) -> None:
        """Settle or release batches whose worker died holding them."""
        for token in queue.expired_claims(self.db, now):
            batch = self.container.deliveries.find_batch(token)
            if batch is None:
                released = queue.release(self.db, token, now)
                log.warning("released an unrecorded batch", extra={"claim": str(token), "messages": released})
                continue
            queue.apply_outcome(
                self.db, token=token, now=now,
                sent=[(UUID(m), p) for m, p in batch.sent],
                retry=[(UUID(m), r, now) for m, r in batch.retry],
                failed=[(UUID(m), r) for m, r in batch.failed],
                skipped=[(UUID(m), r) for m, r in batch.skipped],
            )  # fmt: skip

    # -- 3. work ----------------------------------------------------------------------------------------

    async def _work(self, run: queue.RunRow, now: datetime) -> int:
        campaign = self.container.campaigns.get(run.campaign_id)
        if campaign.state is State.CANCELLED:
            queue.skip_pending(self.db, run.run_id, "campaign cancelled", now)
            if queue.counts(self.db, run_id=run.run_id).in_flight == 0:
                self._finish(run, campaign, now, "cancelled")
            return 0
        if campaign.state is not State.SENDING:
            return 0  # paused (or not started yet): its messages wait
        transport, bucket = self._transport_for(campaign.settings.esp_connection_id)
        limit = max(1, min(self.settings.batch_size, transport.max_batch))
        # A pipeline of two: while one batch is with the transport, the next is claimed and rendered. Only one
        # batch at a time is handed over and not yet recorded, so a crash leaves at most one in doubt (ADR 0005).
        ends = time.monotonic() + self.settings.pass_seconds
        handled = 0
        handing: HandOver | None = None
        try:
            while True:
                token = uuid4()
                claimed = queue.claim(self.db, run.run_id, token, now=now, lease_until=now + self.settings.lease,
                                      limit=limit)  # fmt: skip
                if not claimed:
                    break
                messages, skipped, failed = await self._prepare(campaign, claimed, now)
                if handing is not None:
                    paused = await self._settle(run, campaign, handing)
                    handing = None
                    if paused:
                        queue.release(self.db, token, now)  # rendered, never handed over
                        break
                if messages:
                    await bucket.acquire(len(messages))
                handing = HandOver.start(transport, token, claimed, messages, skipped=skipped, failed=failed)
                handled += len(claimed)
                # The pass ends when the throttle binds or after a while, so stopping, pausing and other runs
                # are looked at between passes.
                if bucket.wait_time(min(limit, bucket.burst)) > 0 or time.monotonic() >= ends:
                    break
                now = self._clock()
        finally:
            if handing is not None:
                await self._settle(run, campaign, handing)
        if not handled and queue.counts(self.db, run_id=run.run_id).remaining == 0:
            self._finish(run, campaign, now, "completed")
        return handled

    async def _settle(self, run: queue.RunRow, campaign: Campaign, handing: HandOver) -> bool:
        """Wait for a hand-over and record it; whether the run's campaign was paused for its error rate."""
        results = await handing.task
        return await self._record(run, campaign, handing.token, handing.claimed, results=results,
                                  skipped=handing.skipped, failed=handing.failed)  # fmt: skip

    async def _prepare(
        self, campaign: Campaign, claimed: list[queue.QueuedMessage], now: datetime
    ) -> tuple[list[OutgoingMessage], list[tuple[UUID, str]], list[tuple[UUID, str]]]:
        settings = campaign.settings
        assert campaign.approval is not None
        content = campaign.content_version(campaign.approval.version).content
        pinned = None
        if content.template_id is not None and content.template_version is not None:
            found = layout(self.db, content.template_id, content.template_version)
            pinned = Layout(found.html, found.text) if found else None
        compiled = compile_content(content, pinned)  # the per-process cache: compiled once per version
        links = links_of(self.container)
        mailto = self.container.settings.unsubscribe_mailto
        messages, skipped, failed = [], [], []
        ids = [q.contact_id for q in claimed]
        verdicts = eligibility_many(self.db, ids, settings.category, now)
        contacts = get_contacts(self.db, ids)
        for n, q in enumerate(claimed, 1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # rendering is CPU work: let the batch in the transport move meanwhile
            verdict = verdicts[q.contact_id]
            if not isinstance(verdict, Eligible):
                skipped.append((q.message_id, f"ineligible: {verdict.reason}"))
                continue
            contact = contacts.get(q.contact_id)
            if contact is None:
                skipped.append((q.message_id, "ineligible: no_such_contact"))
                continue
            recipient = Recipient(contact.id, contact.email, contact.attributes, contact.timezone, contact.locale)
            try:
                out = compiled.render(recipient, settings=settings, links=links, now=now, mailto=mailto)
            except RenderError as exc:
                failed.append((q.message_id, f"render: {exc}"))
                continue
            headers = {k: v for k, v in out.headers.items() if k not in ("To", "From")}
            messages.append(OutgoingMessage(
                message_id=q.message_id, campaign_id=campaign.id, contact_id=q.contact_id, to=contact.email,
                from_address=out.headers.get("From", settings.from_address or ""), subject=out.subject,
                html=out.html, text=out.text, headers=headers, run_id=q.run_id,
            ))  # fmt: skip
        return messages, skipped, failed

    async def _record(
        self, run: queue.RunRow, campaign: Campaign, token: UUID, claimed: list[queue.QueuedMessage], *,
        results: list[SendResult], skipped: list[tuple[UUID, str]], failed: list[tuple[UUID, str]],
    ) -> bool:  # fmt: skip
        """Record the batch's outcome (the event first, then the queue rows); whether its campaign was paused."""
        now = self._clock()
        attempts = {q.message_id: q.attempts + 1 for q in claimed}
        sent: list[tuple[UUID, str | None]] = []
        retry: list[tuple[UUID, str, datetime]] = []
        for r in results:
            reason = r.reason or r.outcome.value
            if r.outcome is Outcome.SENT:
                sent.append((r.message_id, r.provider_message_id))
            elif r.outcome is Outcome.PERMANENT:
                failed.append((r.message_id, reason))
            elif self.settings.retry.gives_up(attempts[r.message_id]):
                failed.append((r.message_id, f"gave up after {attempts[r.message_id]} attempts: {reason}"))
            else:
                delay = self.settings.retry.delay(attempts[r.message_id], r.retry_after, self._rng)
                retry.append((r.message_id, reason, now + timedelta(seconds=delay)))
        self.container.deliveries.record_batch(
            token=token, run=run.run_id, attempt_at=now, sent=sent, retry=[(m, r) for m, r, _ in retry],
            failed=failed, skipped=skipped,
        )  # fmt: skip
        queue.apply_outcome(self.db, token=token, now=now, sent=sent, retry=retry, failed=failed, skipped=skipped)
        watch = self._watches.setdefault(
            run.run_id, ErrorRateWatch(self.settings.pause_error_rate, self.settings.pause_min_sample)
        )
        errors = sum(1 for r in results if r.outcome is not Outcome.SENT)
        watch.observe(errors, len(results) - errors)
        if watch.should_pause():
            message = f"auto-paused: {watch.rate:.0%} of the last hand-overs failed"
            log.warning(message, extra={"campaign_id": str(campaign.id)})
            with contextlib.suppress(Conflict, RuleViolated):
                self.container.campaigns.pause(campaign.id, message)
            watch.reset()
            return True
        return False

    def _finish(self, run: queue.RunRow, campaign: Campaign, now: datetime, outcome: str) -> None:
        c = queue.counts(self.db, run_id=run.run_id)
        totals = {"sent": c.sent, "failed": c.failed, "skipped": c.skipped}
        self.container.deliveries.finish_run(run.run_id, now, outcome, totals)
        if outcome == "completed" and campaign.state is State.SENDING:
            # Sent, or (recurring) scheduled again for the occurrence after this run's.
            occurrence = datetime.fromisoformat(run.occurrence.replace("Z", "+00:00"))
            summary = f"run {run.run_id}: {c.sent} sent, {c.failed} failed"
            self.container.campaigns.next_run(campaign.id, occurrence, summary)
        queue.close_run(self.db, run.run_id)
        self._watches.pop(run.run_id, None)

    # -- transports ---------------------------------------------------------------------------------------

    def _connection_transport(self, connection_id: UUID | None) -> tuple[Transport, TokenBucket]:
        if connection_id in self._transports:
            return self._transports[connection_id]
        row = get_connection(self.db, connection_id) if connection_id else None
        sending: dict[str, Any] = row.sending if row else {}
        kind = sending.get("transport") or self.container.settings.default_transport
        module = registry.module(kind)
        configured = dict(sending.get("transport_settings", {}))
        if "concurrency" in getattr(module.Settings, "__struct_fields__", ()) and "concurrency" in sending:
            # The connection's concurrency is the account's limit; the transport's own default yields to it.
            configured.setdefault("concurrency", sending["concurrency"])
        options = msgspec.convert(configured, module.Settings)
        transport = module.create(options, db=self.db) if kind == "capture" else module.create(options)
        bucket = TokenBucket(float(sending.get("rate_per_second", 10.0)))
        self._transports[connection_id] = (transport, bucket)
        return transport, bucket
