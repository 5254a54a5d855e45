"""Preference endpoints: the categories, a contact's preferences (now or at a past instant), their history,
and whether a message may go to the contact now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from application.history import HistoryEntry
from domain.api_key import Role
from domain.contact_preferences import KEEP, preferences_id
from domain.errors import NotFound
from domain.events import because
from domain.preference_category import CategoryArchived, UnknownCategory, category_id, clean_key
from domain.preference_sources import Source
from domain.suppression import suppression_id
from interfaces.bootstrap import Container
from interfaces.http.auth import ADMIN_ONLY, ANY_ROLE, require
from interfaces.http.errors import documented
from interfaces.http.schemas.preferences import (
    CategoryPreference,
    ContactPreferences,
    ContactPreferencesUpdate,
    Eligibility,
    PreferenceCategory,
    PreferenceCategoryCreate,
    PreferenceCategoryUpdate,
    PreferenceChange,
    PreferencesHistory,
)
from projections.contacts import ContactRow, get_contact
from projections.eligibility import Ineligible, IneligibleReason, eligibility
from projections.email_events import stamp
from projections.preferences import CategoryRow, effective_preferences, get_category, list_categories

EDITORS = require(Role.EDITOR)
_ERRORS = (400, 401, 403, 429)
_WRITE = (*_ERRORS, 415, 422)
# Payload members every preference or suppression event has; the rest is what changed.
_COMMON = frozenset({"contact_id", "address", "source", "effective_at", "cause"})


def _category(row: CategoryRow) -> PreferenceCategory:
    return PreferenceCategory(row.key, row.name, row.description, row.default_subscribed, row.archived, row.created_at)


def _read_category(container: Container, key: str) -> PreferenceCategory:
    row = get_category(container.db, clean_key(key))
    if row is None:
        container.settle()  # a category defined a moment ago may not have reached the read model yet
        row = get_category(container.db, key)
    if row is None:
        raise UnknownCategory(f"no preference category {key!r}", key=key)
    return _category(row)


def _contact(container: Container, contact_id: UUID) -> ContactRow:
    row = get_contact(container.db, contact_id)
    if row is None:
        container.settle()
        row = get_contact(container.db, contact_id)
    if row is None:
        raise NotFound(f"contact {contact_id} not found", contact_id=str(contact_id))
    return row


def _current(container: Container, contact_id: UUID) -> ContactPreferences:
    p = effective_preferences(container.db, contact_id)
    categories = [CategoryPreference(**vars(c)) for c in p.categories]
    return ContactPreferences(p.contact_id, p.opted_out, p.frequency, p.paused_until, categories, p.updated_at,
                              p.last_effective_at)  # fmt: skip


def _state(container: Container, aggregate_id: UUID, at: datetime) -> tuple[dict[str, Any] | None, int]:
    try:
        result = container.history.state_at(aggregate_id, at)
    except NotFound:  # nothing recorded yet at that instant
        return None, 0
    return result.state, result.version


def _as_of(container: Container, contact_id: UUID, at: datetime) -> ContactPreferences:
    """The preferences as they were at ``at``, with the categories (and their defaults) as they were then."""
    state, version = _state(container, preferences_id(contact_id), at)
    state = state or {"opted_out": False, "categories": {}, "frequency": None, "paused_until": None,
                      "last_effective_at": None}  # fmt: skip
    shown = []
    for row in list_categories(container.db, include_archived=True):
        category, _ = _state(container, category_id(row.key), at)
        choice = state["categories"].get(row.key)
        if category is None or (category["archived"] and choice is None):
            continue
        default = category["default_subscribed"]
        shown.append(CategoryPreference(row.key, category["name"], category["description"],
                                        default if choice is None else choice, choice is not None, default,
                                        category["archived"]))  # fmt: skip
    paused, last = state["paused_until"], state["last_effective_at"]
    return ContactPreferences(contact_id, state["opted_out"], state["frequency"], stamp(paused) if paused else None,
                              shown, None, stamp(last) if last else None, at, version)  # fmt: skip


def _change(aggregate: str, e: HistoryEntry) -> PreferenceChange:
    p = e.payload
    return PreferenceChange(aggregate, e.type.rpartition(".")[2], e.version, e.timestamp, e.actor, e.request_id,
                            e.reason, p.get("source"), p.get("effective_at"), p.get("cause"),
                            {k: v for k, v in p.items() if k not in _COMMON})  # fmt: skip


def _history(container: Container, contact_id: UUID) -> PreferencesHistory:
    email = _contact(container, contact_id).email
    changes: list[PreferenceChange] = []
    for aggregate, aggregate_id in (
        ("preferences", preferences_id(contact_id)),
        ("suppression", suppression_id(email)),
    ):
        try:
            changes += [_change(aggregate, e) for e in container.history.entries(aggregate_id)]
        except NotFound:
            continue
    return PreferencesHistory(contact_id, sorted(changes, key=lambda c: c.timestamp))


def _eligibility(container: Container, contact_id: UUID, category: str | None) -> Eligibility:
    key = None if category is None else clean_key(category, field="category")
    now = datetime.now(UTC)
    result = eligibility(container.db, contact_id, key, now)
    if isinstance(result, Ineligible) and result.reason is IneligibleReason.NO_SUCH_CONTACT:
        container.settle()  # a contact created a moment ago may not have reached the read model yet
        result = eligibility(container.db, contact_id, key, now)
    if isinstance(result, Ineligible):
        return Eligibility(contact_id, key, False, result.reason.value, result.details, now)
    return Eligibility(contact_id, key, True, None, {}, now)


def _given(value: Any) -> Any:
    return KEEP if value is msgspec.UNSET else value


class PreferenceCategoriesController(Controller):
    """Topics contacts choose among. Reads: any role; writes: admin."""

    path = "/preference-categories"
    tags = ["preferences"]
    guards = [ANY_ROLE]

    @get("/", operation_id="listPreferenceCategories", sync_to_thread=True, responses=documented(*_ERRORS))
    def list(
        self, container: NamedDependency[Container], archived: FromQuery[bool] = False
    ) -> list[PreferenceCategory]:
        """Every category by key; archived ones too with ``?archived=true``."""
        return [_category(r) for r in list_categories(container.db, include_archived=archived)]

    @post("/", operation_id="createPreferenceCategory", guards=[ADMIN_ONLY], sync_to_thread=True,
          responses=documented(*_WRITE, 409))  # fmt: skip
    def create(self, data: JSONBody[PreferenceCategoryCreate], container: NamedDependency[Container]) -> Response[
        PreferenceCategory
    ]:  # fmt: skip
        """Define a category (409 when the key exists)."""
        with because(data.reason):
            container.preferences.define_category(data.key, data.name, data.description, data.default_subscribed)
        return Response(_read_category(container, data.key), status_code=201)

    @get(
        "/{key:str}",
        operation_id="getPreferenceCategory",
        sync_to_thread=True,
        responses=documented(*_ERRORS, 404, 422),
    )
    def read(self, key: FromPath[str], container: NamedDependency[Container]) -> PreferenceCategory:
        """One category."""
        return _read_category(container, key)

    @patch("/{key:str}", operation_id="updatePreferenceCategory", guards=[ADMIN_ONLY], sync_to_thread=True,
           responses=documented(*_WRITE, 404, 409))  # fmt: skip
    def update(self, key: FromPath[str], data: JSONBody[PreferenceCategoryUpdate],
               container: NamedDependency[Container]) -> PreferenceCategory:  # fmt: skip
        """Change name, description or default; ``archived: true`` retires it (409 on an archived one)."""
        with because(data.reason):
            category = container.preferences.update_category(
                key, name=data.name, description=data.description, default_subscribed=data.default_subscribed
            )
            if data.archived is False and category.archived:
                raise CategoryArchived(f"category {key!r} is archived for good", key=key, field="archived")
            if data.archived:
                container.preferences.archive_category(key)
        container.settle()
        return _read_category(container, key)


class ContactPreferencesController(Controller):
    """One contact's email preferences, their audit trail, and eligibility. Reads: any role; writes: editor."""

    path = "/contacts/{contact_id:uuid}"
    tags = ["preferences"]
    guards = [ANY_ROLE]

    @get("/preferences", operation_id="getContactPreferences", sync_to_thread=True,
         responses=documented(*_ERRORS, 404, 422))  # fmt: skip
    def read(self, contact_id: FromPath[UUID], container: NamedDependency[Container],
             at: FromQuery[datetime | None] = None) -> ContactPreferences:  # fmt: skip
        """The contact's preferences, category defaults applied; ``?at=`` (ISO 8601 with offset): as they were then."""
        _contact(container, contact_id)
        return _current(container, contact_id) if at is None else _as_of(container, contact_id, at)

    @patch("/preferences", operation_id="updateContactPreferences", guards=[EDITORS], sync_to_thread=True,
           responses=documented(*_WRITE, 404, 409))  # fmt: skip
    def update(self, contact_id: FromPath[UUID], data: JSONBody[ContactPreferencesUpdate],
               container: NamedDependency[Container]) -> ContactPreferences:  # fmt: skip
        """Change settings at once (source ``admin``); unchanged values record nothing."""
        changes = {"frequency": _given(data.frequency), "paused_until": _given(data.paused_until)}
        with because(data.reason):
            container.preferences.change(
                contact_id, Source.ADMIN, opted_out=data.opted_out, categories=data.categories, **changes
            )
        container.settle()
        return _current(container, contact_id)

    @get("/preferences/history", operation_id="getContactPreferencesHistory", sync_to_thread=True,
         responses=documented(*_ERRORS, 404))  # fmt: skip
    def history(self, contact_id: FromPath[UUID], container: NamedDependency[Container]) -> PreferencesHistory:
        """Every change to the contact's preferences and to its address's suppression, oldest first."""
        return _history(container, contact_id)

    @get("/eligibility", operation_id="getContactEligibility", sync_to_thread=True,
         responses=documented(*_ERRORS, 404, 422))  # fmt: skip
    def eligibility(self, contact_id: FromPath[UUID], container: NamedDependency[Container],
                    category: FromQuery[str | None] = None) -> Eligibility:  # fmt: skip
        """May a message of ``category`` (none: any marketing email) go to the contact now? The reason when not."""
        return _eligibility(container, contact_id, category)
