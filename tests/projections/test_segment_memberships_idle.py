"""With no active segment, segment memberships read only segment and tag-set events; nothing is lost by it."""

from __future__ import annotations

from application.contacts import ContactInput
from interfaces.bootstrap import Container
from projections.segment_memberships import TABLE, member_count, segments_of

PROS = {"attribute": "plan", "op": "eq", "value": "pro"}


def _catch_up_all_but_memberships(container: Container) -> None:
    for name in container.runner.projections:
        if name != TABLE:
            container.runner.catch_up(name)


def test_contact_events_are_not_read_while_no_segment_is_active_and_a_new_segment_sees_them(
    container: Container,
) -> None:
    ann, _ = container.contacts.upsert(ContactInput("ann@example.com", {"plan": "pro"}))
    container.contacts.upsert(ContactInput("bob@example.com", {"plan": "free"}))
    container.tags.tag(ann.id, add=["vip"], remove=[])
    _catch_up_all_but_memberships(container)

    applied = container.runner.catch_up(TABLE)

    assert applied == 1  # the tag set's creation (its link to the contact); not the contacts' events
    assert container.runner.position(TABLE) == container.store.head()

    pros = container.segments.define("Pros", "", PROS)
    container.runner.catch_up_all()
    assert member_count(container.db, str(pros.id))[0] == 1  # type: ignore[index]
    assert segments_of(container.db, str(ann.id)) == [str(pros.id)]

    # Active now: contact events are read again, and bob's change brings him in.
    cid = container.contacts.upsert(ContactInput("bob@example.com", {"plan": "pro"}))[0].id
    container.runner.catch_up_all()
    assert member_count(container.db, str(pros.id))[0] == 2  # type: ignore[index]
    assert segments_of(container.db, str(cid)) == [str(pros.id)]
