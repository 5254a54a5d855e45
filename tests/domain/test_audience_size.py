"""Audience size bounds: the campaign's own win over the global ones, and the errors say the numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.audience_size import AudienceTooLarge, AudienceTooSmall, audience_limits, check_audience_size
from domain.campaign_settings import CampaignSettings, InvalidSettings, clean_settings
from domain.errors import Invalid


def test_a_campaign_without_bounds_takes_the_global_ones() -> None:
    limits = audience_limits(CampaignSettings(), 1, None)

    assert (limits.minimum, limits.maximum) == (1, None)
    check_audience_size(1, CampaignSettings(), 1, None)


def test_an_audience_below_the_minimum_is_refused_with_the_numbers() -> None:
    with pytest.raises(AudienceTooSmall) as caught:
        check_audience_size(3, CampaignSettings(min_audience=10), 1, None)

    assert caught.value.code == "audience_too_small"
    assert caught.value.details == {"count": 3, "min_audience": 10}
    assert "3" in caught.value.message and "10" in caught.value.message
    assert isinstance(caught.value, Invalid)


def test_an_audience_above_the_maximum_is_refused_with_the_numbers() -> None:
    with pytest.raises(AudienceTooLarge) as caught:
        check_audience_size(5001, CampaignSettings(), 1, 5000)

    assert caught.value.code == "audience_too_large"
    assert caught.value.details == {"count": 5001, "max_audience": 5000}


def test_the_campaign_bound_overrides_the_global_one_both_ways() -> None:
    check_audience_size(0, CampaignSettings(min_audience=0), 1, None)
    check_audience_size(9000, CampaignSettings(max_audience=10_000), 1, 5000)
    with pytest.raises(AudienceTooLarge):
        check_audience_size(101, CampaignSettings(max_audience=100), 1, 5000)


def test_an_empty_audience_is_too_small_by_default() -> None:
    with pytest.raises(AudienceTooSmall):
        check_audience_size(0, CampaignSettings(), 1, None)


@given(count=st.integers(0, 200), own_min=st.none() | st.integers(0, 100), own_max=st.none() | st.integers(0, 200),
       global_min=st.integers(1, 100), global_max=st.none() | st.integers(1, 200))  # fmt: skip
def test_check_refuses_exactly_what_the_limits_do_not_allow(
    count: int, own_min: int | None, own_max: int | None, global_min: int, global_max: int | None
) -> None:
    settings = CampaignSettings(min_audience=own_min, max_audience=own_max)
    minimum = global_min if own_min is None else own_min
    maximum = global_max if own_max is None else own_max
    allowed = count >= minimum and (maximum is None or count <= maximum)

    assert audience_limits(settings, global_min, global_max).allows(count) == allowed
    try:
        check_audience_size(count, settings, global_min, global_max)
    except (AudienceTooSmall, AudienceTooLarge):
        assert not allowed
    else:
        assert allowed


def test_settings_keep_valid_bounds() -> None:
    cleaned = clean_settings(CampaignSettings(min_audience=10, max_audience=10))

    assert (cleaned.min_audience, cleaned.max_audience) == (10, 10)


@pytest.mark.parametrize(
    ("minimum", "maximum", "field"),
    [(-1, None, "min_audience"), (None, -5, "max_audience"), (True, None, "min_audience"),
     (10, 9, "max_audience"), (None, 10**10, "max_audience")],
)  # fmt: skip
def test_settings_refuse_unusable_bounds(minimum: object, maximum: object, field: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        clean_settings(CampaignSettings(min_audience=minimum, max_audience=maximum))  # type: ignore[arg-type]

    assert caught.value.details["field"] == field
