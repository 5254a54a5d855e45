from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.email_address import InvalidEmail, contact_id_for, email_domain, normalize_email


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  bob.smith+news@example.org ", "bob.smith+news@example.org"),
        ("x@müller.de", "x@xn--mller-kva.de"),
        ("dot@example.com.", "dot@example.com"),
    ],
)
def test_addresses_normalize_to_one_form(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw", ["", "plain", "a@b", "@example.com", "a@", "a..b@example.com", ".a@example.com", "a@-x.com", "a@x.123",
            "a b@example.com", "a@exa mple.com", "x" * 65 + "@example.com"],
)  # fmt: skip
def test_non_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


@given(st.emails())
def test_normalizing_is_idempotent_and_case_blind(address: str) -> None:
    try:
        once = normalize_email(address)
    except InvalidEmail:
        return
    assert normalize_email(once) == once
    assert normalize_email(address.upper()) == once
    assert contact_id_for(once) == contact_id_for(normalize_email(address.upper()))
    assert email_domain(once) == once.rpartition("@")[2]
