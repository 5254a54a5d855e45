"""Tag path syntax: valid paths parse to their slugs, every invalid one is refused naming the bad segment."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.tag_paths import MAX_DEPTH, MAX_SLUG, InvalidTagPath, check_slug, join_path, parse_path

slugs = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")
paths = st.lists(slugs, min_size=1, max_size=MAX_DEPTH)
# Any text at all, biased towards the characters paths are made of.
texts = st.text(st.sampled_from("ab0_-/ A.é\x00"), max_size=40) | st.text(max_size=40)


def acceptable(text: str) -> bool:
    """The rule, stated independently of the code under test."""
    parts = text.split("/")
    slug = re.compile(r"[a-z0-9][a-z0-9_-]*")
    return 1 <= len(parts) <= MAX_DEPTH and all(slug.fullmatch(p) and len(p) <= MAX_SLUG for p in parts)


@given(paths)
def test_a_valid_path_parses_to_its_slugs(parts: list[str]) -> None:
    assert parse_path(join_path(parts)) == tuple(parts)


@given(texts)
def test_parsing_accepts_exactly_the_documented_syntax(text: str) -> None:
    if acceptable(text):
        assert join_path(parse_path(text)) == text
    else:
        with pytest.raises(InvalidTagPath):
            parse_path(text)


@given(
    paths, st.integers(min_value=0, max_value=MAX_DEPTH - 1), st.sampled_from(["Upper", "", "-dash", "sp ace", "x/"])
)
def test_an_invalid_segment_is_named_with_its_position(parts: list[str], where: int, bad: str) -> None:
    where = min(where, len(parts) - 1)
    broken = [*parts[:where], bad, *parts[where + 1 :]]
    path = join_path(broken)

    with pytest.raises(InvalidTagPath) as caught:
        parse_path(path)

    details = caught.value.details
    first_bad = next(i for i, p in enumerate(path.split("/")) if not acceptable(p))
    assert details["position"] == first_bad
    assert details["segment"] == path.split("/")[first_bad]
    assert details["reason"]
    assert caught.value.code == "invalid_tag_path"


def test_a_ninth_level_is_refused() -> None:
    with pytest.raises(InvalidTagPath) as caught:
        parse_path("/".join("abcdefghi"))

    assert caught.value.details["depth"] == 9


def test_a_slug_longer_than_64_characters_is_refused() -> None:
    assert parse_path("a" * MAX_SLUG) == ("a" * MAX_SLUG,)
    with pytest.raises(InvalidTagPath, match="longer than 64"):
        parse_path("x/" + "a" * (MAX_SLUG + 1))


@pytest.mark.parametrize("bad", ["", "/", "a/", "/a", "a//b", "A", "a b", "_a", "-a", "a.b", "ä"])
def test_refuses_paths_that_are_not_lower_case_slugs(bad: str) -> None:
    with pytest.raises(InvalidTagPath):
        parse_path(bad)


def test_a_huge_input_is_refused_before_it_is_split() -> None:
    with pytest.raises(InvalidTagPath, match="at most 8 levels"):
        parse_path("a/" * 100_000)


def test_check_slug_refuses_a_slash() -> None:
    assert check_slug("football") == "football"
    with pytest.raises(InvalidTagPath) as caught:
        check_slug("foot/ball")
    assert caught.value.details["segment"] == "foot/ball"
