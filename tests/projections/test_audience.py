"""A campaign's audience: each rule removes the right contacts in its order, the counts add up, exclusion beats
inclusion, recipients page and filter, and the member stream is the audience; over read models written by the
real applications, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from application.contacts import ContactInput
from application.intake import Delivery
from domain.campaign_settings import CampaignSettings
from domain.email_event import EmailEventType, NormalizedEvent
from domain.preference_category import UnknownCategory
from interfaces.bootstrap import Container
from projections.audience import (
    RULES,
    BadCursor,
    audience,
    decode_cursor,
    encode_cursor,
    member_ids,
    recipients,
)
from projections.eligibility import Eligible, eligibility
from projections.segment_memberships import TABLE as MEMBERSHIPS

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONNECTION = UUID("0b6f6a4e-3c39-4b7e-9d7a-8a3c7d1e2f02")


def add(c: Container, email: str, *tags: str, zone: str | None = None, locale: str | None = None) -> UUID:
    contact_id = c.contacts.upsert(ContactInput(email, timezone=zone, locale=locale))[0].id
    if tags:
        c.tags.tag(contact_id, add=list(tags))
    return contact_id


def sent(c: Container, email: str, *messages: tuple[EmailEventType, str | None, datetime]) -> None:
    events = [
        NormalizedEvent(kind, kind.value, email, at, provider_event_id=uuid4().hex,
                        metadata={"tidings_campaign_id": campaign} if campaign else {}).keyed()
        for kind, campaign, at in messages
    ]  # fmt: skip
    c.intake.record([Delivery(uuid4(), CONNECTION, "test", {}, "{}", "test", None, events, [])])


def segment(c: Container, definition: dict[str, object]) -> UUID:
    return c.segments.define(f"s-{uuid4().hex[:8]}", "", definition).id


@pytest.fixture
def world(container: Container) -> dict[str, UUID]:
    """Eight contacts tagged ``a``, each but two removed by one rule; one contact outside; segments a and b."""
    c = container
    c.preferences.define_category("news", "News", default_subscribed=True)
    c.preferences.define_category("offers", "Offers", default_subscribed=False)
    ids = {name: add(c, f"{name}@example.com", "a") for name in
           ("ok1", "ok2", "excluded", "suppressed", "opted", "unsub", "paused", "capped")}  # fmt: skip
    ids["outside"] = add(c, "outside@example.com", "c")
    c.tags.tag(ids["excluded"], add=["b"])
    c.suppressions.suppress("suppressed@example.com", "hard_bounce", "esp", "evt-1")
    c.preferences.opt_out(ids["opted"], "contact")
    c.preferences.choose(ids["unsub"], {"news": False}, "contact")
    c.preferences.pause(ids["paused"], NOW + timedelta(days=1), "contact", NOW - timedelta(days=1))
    c.preferences.set_frequency(ids["capped"], {"max": 1, "per": "week"}, "contact")
    sent(c, "capped@example.com", (EmailEventType.DELIVERED, "c1", NOW - timedelta(days=2)))
    ids["seg_a"], ids["seg_b"] = segment(c, {"tag": "a"}), segment(c, {"tag": "b"})
    c.runner.catch_up_all()
    return ids


def campaign(w: dict[str, UUID], category: str | None = "news", **changes: object) -> CampaignSettings:
    fields: dict[str, object] = {"category": category, "include_segments": (w["seg_a"],),
                                 "exclude_segments": (w["seg_b"],), **changes}  # fmt: skip
    return CampaignSettings(**fields)  # type: ignore[arg-type]


def test_each_rule_removes_its_contact_and_the_counts_add_up(container: Container, world: dict[str, UUID]) -> None:
    counted = audience(container.db, campaign(world), NOW)

    assert counted.included == 8
    assert [(r.rule, r.removed, r.remaining) for r in counted.rules] == [
        ("excluded_segments", 1, 7), ("suppressed", 1, 6), ("opted_out", 1, 5),
        ("unsubscribed_from_category", 1, 4), ("paused", 1, 3), ("frequency_cap", 1, 2),
    ]  # fmt: skip
    assert counted.count == 2 == counted.included - sum(r.removed for r in counted.rules)


def test_the_audience_is_who_eligibility_lets_through(container: Container, world: dict[str, UUID]) -> None:
    expected = sorted(str(world[n]) for n in ("ok1", "ok2"))
    page = recipients(container.db, campaign(world), NOW, limit=500)

    assert [str(r.id) for r in page.items] == expected
    assert page.next_cursor is None
    included = [v for k, v in world.items() if not k.startswith("seg") and k not in ("outside", "excluded")]
    assert sorted(str(i) for i in included if eligibility(container.db, i, "news", NOW) == Eligible()) == expected


def test_an_earlier_rule_takes_the_contact_and_later_rules_do_not_count_it(
    container: Container, world: dict[str, UUID]
) -> None:
    # "excluded" is now also suppressed and opted out; "opted" is also paused: each still counts once.
    container.suppressions.suppress("excluded@example.com", "complaint", "esp", "evt-2")
    container.preferences.opt_out(world["excluded"], "contact")
    container.preferences.pause(world["opted"], NOW + timedelta(days=3), "contact", NOW - timedelta(days=1))
    container.runner.catch_up_all()

    counted = audience(container.db, campaign(world), NOW)

    assert [r.removed for r in counted.rules] == [1, 1, 1, 1, 1, 1]
    assert counted.count == 2


def test_exclusion_beats_inclusion_and_included_segments_are_a_union(
    container: Container, world: dict[str, UUID]
) -> None:
    seg_c = segment(container, {"tag": "c"})
    container.tags.tag(world["outside"], add=["b"])
    both = segment(container, {"or": [{"tag": "a"}, {"tag": "c"}]})
    container.runner.catch_up_all()

    union = audience(container.db, campaign(world, include_segments=(world["seg_a"], seg_c, both)), NOW)

    # "outside" (tag c) is included through two segments and excluded through b: it is counted once, removed.
    assert union.included == 9
    assert union.rules[0].removed == 2
    assert union.count == 2


def test_without_a_category_no_one_is_unsubscribed_from_it(container: Container, world: dict[str, UUID]) -> None:
    counted = audience(container.db, campaign(world, category=None), NOW)

    assert counted.rules[3].rule == "unsubscribed_from_category"
    assert counted.rules[3].removed == 0
    assert counted.count == 3


def test_a_default_off_category_removes_everyone_who_did_not_choose_it(
    container: Container, world: dict[str, UUID]
) -> None:
    container.preferences.choose(world["ok1"], {"offers": True}, "contact")
    container.runner.catch_up_all()

    counted = audience(container.db, campaign(world, category="offers"), NOW)

    assert counted.count == 1
    assert [r.id for r in recipients(container.db, campaign(world, category="offers"), NOW).items] == [world["ok1"]]


def test_an_unknown_category_is_refused(container: Container, world: dict[str, UUID]) -> None:
    with pytest.raises(UnknownCategory):
        audience(container.db, campaign(world, category="nope"), NOW)


def test_a_pause_and_a_frequency_window_end(container: Container, world: dict[str, UUID]) -> None:
    later = NOW + timedelta(days=6)

    counted = audience(container.db, campaign(world), later)

    assert counted.rules[4].removed == 0  # the pause ended
    assert counted.rules[5].removed == 0  # the message sent 8 days before no longer counts in the week
    assert counted.count == 4


def test_no_include_segments_is_nobody(container: Container, world: dict[str, UUID]) -> None:
    counted = audience(container.db, campaign(world, include_segments=()), NOW)

    assert (counted.included, counted.count) == (0, 0)
    assert [r.rule for r in counted.rules] == list(RULES)


def test_maintained_memberships_are_used_when_current_and_agree_with_compiling(
    container: Container, world: dict[str, UUID]
) -> None:
    settings = campaign(world)
    assert audience(container.db, settings, NOW) == audience(container.db, settings, NOW, use_memberships=False)

    # Take ok1 out of the maintained table behind the projection's back: only the maintained path sees it.
    with container.db.transaction() as tx:
        tx.execute(f"DELETE FROM {MEMBERSHIPS} WHERE contact_id = ?", (str(world["ok1"]),))

    assert audience(container.db, settings, NOW).count == 1
    assert audience(container.db, settings, NOW, use_memberships=False).count == 2


def test_time_dependent_segments_are_compiled_at_now(container: Container, world: dict[str, UUID]) -> None:
    sent(container, "ok1@example.com", (EmailEventType.OPENED, "c1", NOW - timedelta(days=5)))
    recent = segment(container, {"event": "opened", "within_days": 7})
    container.runner.catch_up_all()
    settings = CampaignSettings(include_segments=(recent,))

    assert audience(container.db, settings, NOW).count == 1
    assert audience(container.db, settings, NOW + timedelta(days=3)).count == 0


def test_recipients_page_in_id_order_with_opaque_cursors(container: Container, world: dict[str, UUID]) -> None:
    settings = campaign(world, category=None, exclude_segments=())
    seen: list[UUID] = []
    cursor = None
    while True:
        page = recipients(container.db, settings, NOW, cursor=cursor, limit=1)
        seen += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        assert str(seen[-1]) not in page.next_cursor
        cursor = page.next_cursor

    assert seen == sorted(seen, key=str)
    assert len(seen) == len(set(seen)) == audience(container.db, settings, NOW).count == 4


def test_q_filters_by_email_substring_in_any_case_with_wildcards_taken_literally(container: Container) -> None:
    add(container, "a_b@x.io", "q")
    add(container, "axb@x.io", "q", zone="Europe/Berlin", locale="de")
    add(container, "a%b@x.io", "q")
    add(container, "other@y.io", "q")
    settings = CampaignSettings(include_segments=(segment(container, {"tag": "q"}),))
    container.runner.catch_up_all()

    def emails(q: str) -> list[str]:
        return sorted(r.email for r in recipients(container.db, settings, NOW, q=q).items)

    assert emails("A_B") == ["a_b@x.io"]
    assert emails("%") == ["a%b@x.io"]
    assert emails("X.IO") == ["a%b@x.io", "a_b@x.io", "axb@x.io"]
    assert emails("zz") == []
    berlin = recipients(container.db, settings, NOW, q="axb").items[0]
    assert (berlin.timezone, berlin.locale) == ("Europe/Berlin", "de")


@pytest.mark.parametrize("cursor", ["", "nonsense", "!!", encode_cursor(uuid4())[:-2], "cjE6"])
def test_a_cursor_not_handed_out_is_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor)


def test_a_cursor_round_trips() -> None:
    contact_id = uuid4()

    assert decode_cursor(encode_cursor(contact_id)) == str(contact_id)


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_member_ids_stream_the_audience_in_id_order(container: Container, world: dict[str, UUID], chunk: int) -> None:
    settings = campaign(world, category=None, exclude_segments=())

    chunks = list(member_ids(container.db, settings, NOW, chunk=chunk))

    streamed = [i for part in chunks for i in part]
    assert streamed == [r.id for r in recipients(container.db, settings, NOW, limit=500).items]
    assert len(streamed) == 4
    if chunk == 1:
        assert len(chunks) > 1
