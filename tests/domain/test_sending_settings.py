"""Sending settings: domains normalized, throttle bounded, from-address domains matched with subdomains."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import Invalid
from domain.sending_settings import InvalidSendingSettings, SendingSettings, clean_domain, clean_sending, domain_allowed

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domains = st.lists(labels, min_size=2, max_size=4).map(".".join)


def test_domains_are_lower_cased_idna_and_deduplicated() -> None:
    cleaned = clean_sending(SendingSettings(domains=("News.Example.COM.", "news.example.com", "bücher.de")))
    assert cleaned.domains == ("news.example.com", "xn--bcher-kva.de")


@pytest.mark.parametrize("bad", ["", "localhost", "-a.example.com", "a..example.com", "ex ample.com", "a@b.com"])
def test_non_domains_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidSendingSettings) as error:
        clean_domain(bad)
    assert error.value.details["field"] == "domains"


THROTTLES = [
    (0, 4, "rate_per_second"),
    (10, 0, "concurrency"),
    (float("nan"), 4, "rate_per_second"),
    (1, 65, "concurrency"),
]


@pytest.mark.parametrize(("rate", "concurrency", "field"), THROTTLES)
def test_throttle_must_be_positive_and_bounded(rate: float, concurrency: int, field: str) -> None:
    with pytest.raises(InvalidSendingSettings) as error:
        clean_sending(SendingSettings(rate_per_second=rate, concurrency=concurrency))
    assert error.value.details["field"] == field


def test_a_from_address_matches_its_domain_and_subdomains_only() -> None:
    allowed = ("example.com",)
    assert domain_allowed("news@example.com", allowed)
    assert domain_allowed("news@Mail.Example.com", allowed)
    assert not domain_allowed("news@badexample.com", allowed)
    assert not domain_allowed("news@example.com.evil.net", allowed)
    assert not domain_allowed("news@example.com", ())


@given(domains, labels, st.text(min_size=1, max_size=10).filter(lambda s: "@" not in s))
def test_subdomains_of_a_sending_domain_are_allowed_and_lookalikes_are_not(domain: str, sub: str, local: str) -> None:
    cleaned = clean_domain(domain)
    assert domain_allowed(f"{local}@{sub}.{domain}", (cleaned,))
    assert not domain_allowed(f"{local}@{sub}{domain}", (cleaned,)) or f"{sub}{domain}" == domain


@given(st.text(max_size=300))
def test_cleaning_any_text_gives_a_domain_or_a_clear_error(text: str) -> None:
    try:
        cleaned = clean_domain(text)
    except Invalid as exc:
        assert exc.details["field"] == "domains"
    else:
        assert cleaned == clean_domain(cleaned)
