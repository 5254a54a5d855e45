"""The composition root: builds the store, applications, read models and runner from Settings."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from application.campaigns import Campaigns
from application.contact_imports import ContactImports
from application.contacts import Contacts
from application.deliveries import Deliveries
from application.email_policies import EmailPolicies, SoftBounceRule
from application.esp_connections import EspConnections
from application.history import AuditHistory
from application.intake import Intake
from application.keys import ApiKeys
from application.preferences import Preferences
from application.segments import Resolve, Segments
from application.store import EventStoreResources
from application.suppressions import Suppressions
from application.tags import Tags
from application.templates import Templates
from domain.audience_size import check_audience_size
from domain.campaign import Campaign
from interfaces.config import Settings
from interfaces.lint.store import CampaignLinter
from interfaces.webhooks.connections import ConnectionCache
from projections.api_keys import ApiKeysProjection
from projections.audience import audience
from projections.campaigns import CampaignsProjection
from projections.contact_activity import ContactActivityProjection
from projections.contact_event_summary import ContactEventSummaryProjection
from projections.contact_imports import ContactImportsProjection
from projections.contacts import ContactsProjection
from projections.db import Database, dialect_of
from projections.email_events import EmailEventsProjection
from projections.email_policies import EmailPoliciesReactor
from projections.esp_connections import EspConnectionsProjection
from projections.preferences import PreferencesProjection
from projections.projection import Projection
from projections.runner import ProjectionRunner
from projections.segment_engine import preview as preview_definition
from projections.segment_engine import validate as validate_definition
from projections.segment_memberships import SegmentMembershipsProjection
from projections.segments import SegmentsProjection, get_segment
from projections.sent_messages import SentMessagesProjection
from projections.suppressions import SuppressionsProjection
from projections.tags import TagsProjection, count_tagged
from projections.templates import TemplatesProjection

log = logging.getLogger("tidings")


@dataclass
class Container:
    """Everything one process uses, built once and closed once."""

    settings: Settings
    store: EventStoreResources
    db: Database
    keys: ApiKeys
    history: AuditHistory
    connections: EspConnections
    intake: Intake
    contacts: Contacts
    contact_imports: ContactImports
    tags: Tags
    segments: Segments
    preferences: Preferences
    suppressions: Suppressions
    templates: Templates
    campaigns: Campaigns
    deliveries: Deliveries
    runner: ProjectionRunner
    secret_key: str
    connection_cache: ConnectionCache

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until the read models include everything committed so far (read-your-writes)."""
        ok = self.runner.wait_for(self.store.head(), timeout)
        if not ok:
            log.warning("read models lag behind the event store; is a projection runner running?")
        return ok

    def preview_segment(self, definition: Any, now: datetime, sample: int) -> tuple[int, list[Any]]:
        """Count an unsaved definition over the read models and take the first ``sample`` members."""
        resolver = lambda sid: _saved_definition(self.db, sid)  # noqa: E731
        result = preview_definition(self.db, definition, now, sample, resolver=resolver)
        return result.count, result.sample

    def close(self) -> None:
        """Stop background work and close the connection pool."""
        self.runner.stop()
        self.store.close()


def default_projections() -> list[Projection]:
    """Every read model the service maintains (``build`` adds the reactors, which need the applications)."""
    return [
        ApiKeysProjection(),
        EspConnectionsProjection(),
        EmailEventsProjection(),
        ContactsProjection(),
        ContactImportsProjection(),
        ContactActivityProjection(),
        ContactEventSummaryProjection(),
        TagsProjection(),
        SegmentsProjection(),
        PreferencesProjection(),
        SuppressionsProjection(),
        SegmentMembershipsProjection(),
        TemplatesProjection(),
        CampaignsProjection(),
        SentMessagesProjection(),
    ]


def build(settings: Settings, projections: list[Projection] | None = None) -> Container:
    """Assemble a container; creates tables, connects lazily, starts nothing."""
    env = settings.persistence_env()
    if settings.is_postgres:
        _ensure_schema(env)
    schema = env.get("POSTGRES_SCHEMA")
    store = EventStoreResources(env, configure=(lambda ds: _pin_search_path(ds, schema)) if schema else None)
    db = Database(store.datastore, dialect_of(store.datastore))
    keys = ApiKeys(store)
    contacts = Contacts(store)
    preferences, suppressions = Preferences(store), Suppressions(store)
    connections, templates = EspConnections(store), Templates(store)
    runner = ProjectionRunner(
        store,
        keys.mapper,
        db,
        projections or [*default_projections(), *_reactors(settings, db, preferences, suppressions)],
    )
    runner.setup()
    return Container(
        settings=settings,
        store=store,
        db=db,
        keys=keys,
        history=AuditHistory(store),
        connections=connections,
        intake=Intake(store),
        contacts=contacts,
        contact_imports=ContactImports(store, contacts),
        tags=Tags(store, lambda tag_ids: count_tagged(db, tag_ids)),
        segments=Segments(store, _validate_definition),
        preferences=preferences,
        suppressions=suppressions,
        templates=templates,
        campaigns=Campaigns(
            store, validate=CampaignLinter(db, connections, templates), check_audience=_audience_check(settings, db)
        ),
        deliveries=Deliveries(store),
        runner=runner,
        secret_key=resolve_secret_key(settings),
        connection_cache=ConnectionCache(db),
    )


def _audience_check(settings: Settings, db: Database) -> Callable[[Campaign], None]:
    """Scheduling refuses an audience outside the campaign's (or the deployment's) size limits."""

    def check(campaign: Campaign) -> None:
        count = audience(db, campaign.settings, datetime.now(UTC)).count
        check_audience_size(count, campaign.settings, settings.min_audience, settings.max_audience)

    return check


def _reactors(
    settings: Settings, db: Database, preferences: Preferences, suppressions: Suppressions
) -> list[Projection]:
    """The log followers that issue commands: the email policies (ADR 0004 §5)."""
    rule = SoftBounceRule(settings.soft_bounce_limit, timedelta(days=settings.soft_bounce_window_days))
    return [EmailPoliciesReactor(EmailPolicies(preferences, suppressions, rule), db)]


def _validate_definition(definition: Any, segment_id: UUID, resolve: Resolve) -> dict[str, Any]:
    # The application resolves references through the store (UUIDs); the language speaks strings.
    def by_text(text: str) -> Any:
        try:
            return resolve(UUID(text))
        except ValueError:
            return None

    validated: dict[str, Any] = validate_definition(definition, by_text, str(segment_id))
    return validated


def _saved_definition(db: Database, text: str) -> Any:
    try:
        row = get_segment(db, UUID(text))
    except ValueError:
        return None
    # Archived segments keep their meaning for the segments that refer to them.
    return None if row is None else row.definition


def resolve_secret_key(settings: Settings) -> str:
    """TIDINGS_SECRET_KEY, else the key stored under the data dir, else a new one stored there."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, the second reads the first's key instead of overwriting it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _ensure_schema(env: dict[str, str]) -> None:
    schema = env["POSTGRES_SCHEMA"]
    if schema == "public":
        return
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=True,
    ) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def _pin_search_path(datastore: Any, schema: str) -> None:
    # Read-model SQL names tables without a schema; pin it on every pooled connection.
    datastore.pool.kwargs["options"] = f"-c search_path={schema}"
