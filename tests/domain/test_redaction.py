"""The audit log shows that a secret changed, never its value, at any depth."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.redaction import REDACTED, is_secret, redact

SECRET_WORDS = ("secret", "password", "passwd", "token", "api_key", "private_key", "signing_key", "hash")

# ASCII names, so "contains a secret word, ignoring case" is exactly str.lower() plus `in`.
plain_names = st.text(string.ascii_letters + string.digits + "_-", max_size=12)


@st.composite
def secret_names(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(SECRET_WORDS))
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in word)
    return draw(plain_names) + cased + draw(plain_names)


names = st.one_of(plain_names, secret_names())
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
documents = st.recursive(
    st.dictionaries(names, leaves, max_size=4),
    lambda children: st.dictionaries(names, st.one_of(leaves, children), max_size=4),
    max_leaves=25,
)


def looks_secret(name: str, declared: frozenset[str]) -> bool:
    return name in declared or any(word in name.lower() for word in SECRET_WORDS)


def assert_redacted(original: Mapping[str, Any], shown: Mapping[str, Any], declared: frozenset[str]) -> None:
    assert shown.keys() == original.keys()
    for name, value in original.items():
        if looks_secret(name, declared):
            assert shown[name] == REDACTED, f"{name!r} leaked"
        elif isinstance(value, Mapping):
            assert_redacted(value, shown[name], declared)
        else:
            assert shown[name] == value


@given(document=documents, declared=st.frozensets(plain_names, max_size=3))
def test_redact_hides_every_secret_at_any_depth_and_keeps_everything_else(
    document: dict[str, Any], declared: frozenset[str]
) -> None:
    shown = redact(document, declared)

    assert_redacted(document, shown, declared)


@given(document=documents)
def test_redact_leaves_its_input_untouched(document: dict[str, Any]) -> None:
    before = repr(document)

    redact(document, frozenset({"name"}))

    assert repr(document) == before


@pytest.mark.parametrize("name", ["token_hash", "Secret", "SMTP_PASSWORD", "x_api_key", "dkim_signing_key"])
def test_secret_looking_names_are_secret(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize("name", ["name", "role", "prefix", "reason", "actor", "subject"])
def test_ordinary_names_are_not_secret(name: str) -> None:
    assert not is_secret(name)


def test_a_declared_name_is_secret_even_when_it_looks_ordinary() -> None:
    shown = redact({"prefix": "tdg_AbCdEf", "nested": {"prefix": "tdg_x"}}, frozenset({"prefix"}))

    assert shown == {"prefix": REDACTED, "nested": {"prefix": REDACTED}}


def test_redact_hides_secrets_inside_lists() -> None:
    shown = redact({"connections": [{"name": "ses", "api_key": "AKIA-live"}]})

    assert shown == {"connections": [{"name": "ses", "api_key": REDACTED}]}
