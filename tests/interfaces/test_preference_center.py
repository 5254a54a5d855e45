"""The preference center: shows a contact's choices, saves a submitted form as the contact's own change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from tests.interfaces.client import Api
from tests.interfaces.test_unsubscribe_pages import assert_page, events, prefs, reader

FORM = {"content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin"}


def _form(**fields: object) -> str:
    pairs = [("shown", "news"), ("shown", "offers"), ("frequency", "none"), ("paused_until", "")]
    given = [(k, v) for k, v in fields.items() if not isinstance(v, list)]
    given += [(k, x) for k, v in fields.items() if isinstance(v, list) for x in v]
    return urlencode([p for p in pairs if p[0] not in fields] + given)


def test_the_page_shows_each_category_with_its_description_and_default(api: Api) -> None:
    r = reader(api)

    text = assert_page(api.client.get(r.path(r.links["preferences_url"])), 200)

    assert '<html lang="en">' in text and '<main id="main">' in text
    assert 'name="category" value="news" checked' in text and "About Weekly news" in text
    assert '<label for="category-offers">Offers</label>' in text
    assert 'value="none" checked' in text and 'id="opted_out" name="opted_out" value="yes" aria' in text


def test_saving_records_only_what_changed_as_the_contact_through_the_link(api: Api) -> None:
    r = reader(api)
    url = r.path(r.links["preferences_url"])

    saved = api.client.post(url, content=_form(category=["offers"], frequency="max:1:week"), headers=FORM)

    text = assert_page(saved, 200)
    assert "You will no longer receive Weekly news." in text and "How often we write: at most one a week." in text
    assert "Offers" not in text  # unchanged: still subscribed by default, no explicit choice recorded
    assert prefs(api, r.id) == (False, {"news": False})
    recorded = events(api, r.id)
    assert {e["actor"] for e in recorded} == {f"contact:{r.id}"}
    assert {e["payload"]["source"] for e in recorded} == {"contact"}
    assert [e["type"].rsplit(".", 1)[-1] for e in recorded] == ["Started", "CategoriesChosen", "FrequencySet"]

    again = api.client.post(url, content=_form(category=["offers"], frequency="max:1:week"), headers=FORM)
    assert "Nothing changed" in assert_page(again, 200)
    assert events(api, r.id) == recorded


def test_a_pause_ends_at_midnight_where_the_contact_lives(api: Api) -> None:
    r = reader(api)
    api.client.patch(f"/api/v1/contacts/{r.id}", json={"timezone": "Pacific/Auckland"}, headers=api.admin)
    day = datetime.now(ZoneInfo("Pacific/Auckland")).date() + timedelta(days=10)

    saved = api.client.post(r.path(r.links["preferences_url"]), content=_form(category=["news", "offers"],
                            paused_until=day.isoformat()), headers=FORM)  # fmt: skip

    assert f"paused until {day.day} {day.strftime('%B %Y')}" in assert_page(saved, 200)
    until = api.container.preferences.get(UUID(r.id)).paused_until
    assert until == datetime.combine(day, datetime.min.time(), ZoneInfo("Pacific/Auckland")).astimezone(UTC)
    assert f'value="{day.isoformat()}"' in api.client.get(r.path(r.links["preferences_url"])).text


def test_unsubscribing_from_everything_and_back(api: Api) -> None:
    r = reader(api)
    url = r.path(r.links["preferences_url"])

    out = api.client.post(url, content=_form(category=["news", "offers"], opted_out="yes"), headers=FORM)
    assert "unsubscribed from all marketing email" in assert_page(out, 200)
    assert prefs(api, r.id) == (True, {})

    back = api.client.post(url, content=_form(category=["news", "offers"]), headers=FORM)
    assert "subscribed to marketing email again" in assert_page(back, 200)
    assert prefs(api, r.id) == (False, {})


def test_an_unusable_form_is_shown_again_with_the_problem_and_nothing_is_saved(api: Api) -> None:
    r = reader(api)
    url = r.path(r.links["preferences_url"])
    yesterday = (date.today() - timedelta(days=1)).isoformat()

    for form, problem in (
        (_form(category=["offers"], paused_until=yesterday), "after today"),
        (_form(category=["offers"], paused_until="31/01/2027"), "year-month-day"),
        (_form(category=["offers"], frequency="max:9999:week"), "from the list"),
    ):
        text = assert_page(api.client.post(url, content=form, headers=FORM), 422)
        assert problem in text and 'role="alert"' in text
        assert 'name="category" value="news" aria' in text  # the submitted choices are kept (news unchecked)

    assert events(api, r.id) == []


def test_a_cross_site_submission_is_refused_and_changes_nothing(api: Api) -> None:
    r = reader(api)
    url = r.path(r.links["preferences_url"])
    form = _form(opted_out="yes")

    for headers in (
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
    ):
        assert "another website" in assert_page(api.client.post(url, content=form, headers=headers), 403)

    assert events(api, r.id) == []
    assert_page(api.client.post(url, content=form, headers={"origin": "null"}), 200)  # our no-referrer pages
    assert prefs(api, r.id)[0] is True


def test_bad_preference_links_get_friendly_pages(api: Api) -> None:
    r = reader(api)
    token = r.path(r.links["preferences_url"]).rsplit("/", 1)[1]
    unsubscribe_token = r.path(r.links["unsubscribe_url"]).rsplit("/", 1)[1]

    for path, status in ((f"/preferences/{token}x", 400), (f"/preferences/{unsubscribe_token}", 400)):
        assert 'role="alert"' in assert_page(api.client.get(path), status)
        assert_page(api.client.post(path, content=_form(opted_out="yes"), headers=FORM), status)

    assert events(api, r.id) == []
