"""The preferences read model: rows written by the real commands, effective preferences with defaults, and
rebuild == incremental, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from application.contacts import ContactInput
from interfaces.bootstrap import Container
from projections.preferences import (
    PreferencesProjection,
    effective_preferences,
    get_category,
    list_categories,
    snapshot,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def contact(c: Container, email: str = "ann@example.com") -> UUID:
    return c.contacts.upsert(ContactInput(email))[0].id


def categories(c: Container) -> None:
    c.preferences.define_category("news", "News", "Monthly news", default_subscribed=True)
    c.preferences.define_category("offers", "Offers", default_subscribed=False)


def test_a_contact_without_changes_gets_every_category_default(container: Container) -> None:
    categories(container)
    cid = contact(container)
    container.runner.catch_up_all()

    prefs = effective_preferences(container.db, cid)

    assert (prefs.opted_out, prefs.frequency, prefs.paused_until, prefs.updated_at) == (False, None, None, None)
    assert [(c.key, c.subscribed, c.explicit) for c in prefs.categories] == [("news", True, False),
                                                                             ("offers", False, False)]  # fmt: skip


def test_changes_land_in_the_tables_as_the_adr_defines_them(container: Container) -> None:
    categories(container)
    cid = contact(container)
    until = T0 + timedelta(days=10)
    container.preferences.change(cid, "admin", opted_out=True, categories={"news": False, "offers": True},
                                 frequency={"max": 2, "per": "week"}, paused_until=until, effective_at=T0)  # fmt: skip
    container.runner.catch_up_all()

    [row] = container.db.query("SELECT * FROM preferences")
    assert row["contact_id"] == str(cid)
    assert (row["opted_out"], row["frequency"], row["paused_until"]) == (
        1, '{"max":2,"per":"week"}', "2026-03-11T09:00:00.000000+00:00",
    )  # fmt: skip
    assert row["last_effective_at"] == "2026-03-01T09:00:00.000000+00:00"
    prefs = effective_preferences(container.db, cid)
    assert [(c.key, c.subscribed, c.explicit) for c in prefs.categories] == [("news", False, True),
                                                                             ("offers", True, True)]  # fmt: skip
    assert prefs.frequency == {"max": 2, "per": "week"}


def test_last_effective_at_only_moves_forward(container: Container) -> None:
    cid = contact(container)
    container.preferences.opt_out(cid, "contact", T0)
    container.preferences.set_frequency(cid, {"digest": "weekly"}, "esp", T0 - timedelta(days=1))
    container.preferences.pause(cid, T0 + timedelta(days=30), "admin", T0 + timedelta(hours=1))
    container.preferences.pause(cid, None, "admin", T0 + timedelta(hours=2))
    container.runner.catch_up_all()

    prefs = effective_preferences(container.db, cid)

    assert prefs.last_effective_at == "2026-03-01T11:00:00.000000+00:00"
    assert prefs.paused_until is None
    assert prefs.frequency == {"digest": "weekly"}


def test_category_edits_and_archiving_show_in_the_listing(container: Container) -> None:
    categories(container)
    cid = contact(container)
    container.preferences.choose(cid, {"offers": False}, "contact")
    container.preferences.update_category("news", name="Newsletter", default_subscribed=False)
    container.preferences.archive_category("offers")
    container.runner.catch_up_all()

    assert [c.key for c in list_categories(container.db)] == ["news"]
    assert [c.key for c in list_categories(container.db, include_archived=True)] == ["news", "offers"]
    news = get_category(container.db, "news")
    assert news is not None and (news.name, news.default_subscribed) == ("Newsletter", False)
    shown = effective_preferences(container.db, cid).categories
    assert [(c.key, c.subscribed, c.archived) for c in shown] == [("news", False, False), ("offers", False, True)]


def test_a_rebuilt_read_model_equals_the_incremental_one(container: Container) -> None:
    categories(container)
    ann, bob = contact(container), contact(container, "bob@example.com")
    container.preferences.choose(ann, {"news": False}, "contact", T0)
    container.preferences.opt_out(bob, "esp", T0, cause="evt-1")
    container.preferences.set_frequency(ann, {"max": 1, "per": "day"}, "admin", T0 + timedelta(minutes=1))
    container.preferences.opt_in(bob, "admin", T0 + timedelta(minutes=2))
    container.preferences.update_category("offers", default_subscribed=True)
    container.runner.catch_up_all()
    live = snapshot(container.db)

    container.runner.rebuild(PreferencesProjection.name)

    assert snapshot(container.db) == live
    assert len(live["preferences"]) == 2
