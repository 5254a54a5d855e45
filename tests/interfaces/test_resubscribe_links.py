"""A re-subscribe link that is not exactly the one we signed, not ours to this page, or expired, does nothing.

Every such link gets the same friendly HTML page as /u/ and /preferences/ (400, 410 or 404), never JSON or a trace.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.link_tokens import Purpose
from interfaces.link_keys import links_of
from tests.interfaces.client import Api
from tests.interfaces.test_resubscribe import contact, events, opted_out
from tests.interfaces.test_unsubscribe_pages import assert_page

# Characters that stay one path segment: the token's own alphabet and its separator, plus padding and "~".
SEGMENT = string.ascii_letters + string.digits + "-_.=~"


def signed(api: Api, contact_id: str, now: datetime, purpose: Purpose = Purpose.RESUBSCRIBE) -> str:
    return links_of(api.container).keys.sign(UUID(contact_id), purpose, now)


def assert_refused(api: Api, token: str, status: int) -> None:
    for method in ("GET", "POST"):
        text = assert_page(api.client.request(method, f"/r/{token}"), status)
        assert 'role="alert"' in text


@pytest.mark.parametrize("age", [timedelta(days=7), timedelta(days=8), timedelta(days=400)])
def test_an_expired_link_gets_the_410_page_and_changes_nothing(api: Api, age: timedelta) -> None:
    contact_id = contact(api)
    recorded = events(api, contact_id)

    assert_refused(api, signed(api, contact_id, datetime.now(UTC) - age), 410)

    assert opted_out(api, contact_id) and events(api, contact_id) == recorded


def test_a_link_for_another_page_or_contact_is_refused(api: Api) -> None:
    contact_id = contact(api)
    now = datetime.now(UTC)

    for purpose in (Purpose.UNSUBSCRIBE, Purpose.PREFERENCES):
        assert_refused(api, signed(api, contact_id, now, purpose), 400)
    assert_refused(api, signed(api, str(uuid4()), now), 404)
    assert_refused(api, "not-a-token", 400)

    assert opted_out(api, contact_id)
    # The other way round: a re-subscribe token opens neither the unsubscribe page nor the preference center.
    token = signed(api, contact_id, now)
    for page in ("u", "preferences"):
        assert 'role="alert"' in assert_page(api.client.get(f"/{page}/{token}"), 400)


def test_a_link_still_works_just_before_it_expires(api: Api) -> None:
    contact_id = contact(api)
    token = signed(api, contact_id, datetime.now(UTC) - timedelta(days=7) + timedelta(minutes=5))

    assert_page(api.client.post(f"/r/{token}"), 200)

    assert not opted_out(api, contact_id)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_character_change_is_refused(api: Api, data: st.DataObject) -> None:
    contact_id = contact(api)
    token = signed(api, contact_id, datetime.now(UTC))
    at = data.draw(st.integers(0, len(token) - 1), label="position")
    edit = data.draw(st.sampled_from(["replace", "delete", "insert"]), label="edit")
    char = data.draw(st.sampled_from(SEGMENT).filter(lambda c: edit != "replace" or c != token[at]), label="char")
    mutated = {
        "replace": token[:at] + char + token[at + 1 :],
        "delete": token[:at] + token[at + 1 :],
        "insert": token[:at] + char + token[at:],
    }[edit]

    assert_refused(api, mutated, 400)

    assert opted_out(api, contact_id)
