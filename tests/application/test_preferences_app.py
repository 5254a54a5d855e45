"""Preference use cases over the real store (SQLite and PostgreSQL): categories, changes from any source,
idempotence, the ESP resubscribe rule, and refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from application.contacts import ContactInput
from application.preferences import UnknownContact
from domain.contact_preferences import ContactPreferences, preferences_id
from domain.errors import Conflict
from domain.events import caused_by
from domain.preference_category import CategoryArchived, UnknownCategory
from interfaces.bootstrap import Container

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def contact(container: Container, email: str = "ann@example.com") -> UUID:
    created, _ = container.contacts.upsert(ContactInput(email))
    return created.id


def test_defining_a_category_twice_conflicts(container: Container) -> None:
    container.preferences.define_category("news", "News", "Monthly news", default_subscribed=True)

    with pytest.raises(Conflict):
        container.preferences.define_category("news", "Other news")
    assert container.preferences.category("news").name == "News"


def test_unknown_categories_are_not_found(container: Container) -> None:
    with pytest.raises(UnknownCategory):
        container.preferences.category("nope")
    with pytest.raises(UnknownCategory):
        container.preferences.choose(contact(container), {"nope": True}, "admin")


def test_first_change_saves_the_start_and_the_change_together(container: Container) -> None:
    cid = contact(container)
    container.preferences.define_category("news", "News")

    with caused_by("api_key:k1", "req-1", "asked by phone"):
        _, changed = container.preferences.change(
            cid, "admin", opted_out=True, categories={"news": False}, effective_at=T0
        )

    assert changed is True
    events = list(container.preferences.events.get(preferences_id(cid)))
    assert [type(e).__name__ for e in events] == ["Started", "OptedOut", "CategoriesChosen"]
    assert {(e.actor, e.request_id, e.reason) for e in events} == {("api_key:k1", "req-1", "asked by phone")}
    assert events[1].source == "admin"
    assert events[1].effective_at == T0
    stored = container.preferences.get(cid)
    assert (stored.opted_out, stored.categories, stored.version) == (True, {"news": False}, 3)


def test_a_change_that_changes_nothing_saves_nothing(container: Container) -> None:
    cid = contact(container)
    head = container.store.head()

    assert container.preferences.opt_in(cid, "admin") is False
    assert container.preferences.set_frequency(cid, None, "contact") is False

    assert container.store.head() == head
    assert container.preferences.get(cid).version == 1  # the unsaved fresh start


def test_the_same_webhook_cause_applies_once(container: Container) -> None:
    cid = contact(container)

    assert container.preferences.opt_out(cid, "esp", T0, cause="evt-1") is True
    assert container.preferences.opt_in(cid, "admin", T0 + timedelta(hours=1)) is True
    assert container.preferences.opt_out(cid, "esp", T0, cause="evt-1") is False

    assert container.preferences.get(cid).opted_out is False


def test_a_cause_that_found_nothing_to_change_is_not_decided_again_after_a_later_change(
    container: Container,
) -> None:
    # The ESP reports an unsubscribe while the contact is already opted out; an admin then resubscribes
    # them; the same webhook event replayed (a reactor's retry, a renormalize) must not opt them out again.
    cid = contact(container)
    container.preferences.opt_out(cid, "contact", T0)

    assert container.preferences.opt_out(cid, "esp", T0 + timedelta(minutes=1), cause="evt-1") is False
    assert container.preferences.opt_in(cid, "admin", T0 + timedelta(hours=1)) is True
    assert container.preferences.opt_out(cid, "esp", T0 + timedelta(minutes=1), cause="evt-1") is False

    prefs = container.preferences.get(cid)
    assert prefs.opted_out is False
    names = [type(e).__name__ for e in container.preferences.events.get(preferences_id(cid))]
    assert names == ["Started", "OptedOut", "CauseNoted", "OptedIn"]


def test_a_noted_cause_leaves_the_time_of_our_last_change_alone(container: Container) -> None:
    cid = contact(container)
    container.preferences.opt_out(cid, "contact", T0)
    container.preferences.opt_out(cid, "esp", T0 + timedelta(hours=2), cause="evt-1")

    # An ESP resubscribe between our change and the noted cause is still newer than our last change.
    assert container.preferences.resubscribe_if_newer(cid, T0 + timedelta(hours=1), "evt-2") is True


def test_an_esp_resubscribe_applies_only_when_newer_than_our_last_change(container: Container) -> None:
    cid = contact(container)
    container.preferences.opt_out(cid, "contact", T0)

    assert container.preferences.resubscribe_if_newer(cid, T0 - timedelta(minutes=5), "evt-old") is False
    assert container.preferences.get(cid).opted_out is True
    assert container.preferences.resubscribe_if_newer(cid, T0 + timedelta(minutes=5), "evt-new") is True
    assert container.preferences.get(cid).opted_out is False


def test_opting_in_to_an_archived_category_is_refused_but_leaving_it_is_not(container: Container) -> None:
    cid = contact(container)
    container.preferences.define_category("old", "Old")
    container.preferences.archive_category("old")

    with pytest.raises(CategoryArchived):
        container.preferences.choose(cid, {"old": True}, "contact")
    assert container.preferences.choose(cid, {"old": False}, "contact") is True


def test_preferences_belong_to_an_existing_contact(container: Container) -> None:
    with pytest.raises(UnknownContact):
        container.preferences.opt_out(uuid4(), "admin")
    with pytest.raises(UnknownContact):
        container.preferences.get(uuid4())


def test_a_fresh_contact_has_default_preferences(container: Container) -> None:
    prefs = container.preferences.get(contact(container))

    assert isinstance(prefs, ContactPreferences)
    assert (prefs.opted_out, prefs.categories, prefs.frequency, prefs.paused_until) == (False, {}, None, None)


def test_category_updates_and_archiving_are_recorded(container: Container) -> None:
    container.preferences.define_category("news", "News")

    updated = container.preferences.update_category("news", name="Newsletter", default_subscribed=False)
    archived = container.preferences.archive_category("news")

    assert (updated.name, updated.default_subscribed) == ("Newsletter", False)
    assert archived.archived is True
    with pytest.raises(CategoryArchived):
        container.preferences.update_category("news", description="gone")
