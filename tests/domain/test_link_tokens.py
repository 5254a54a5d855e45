"""Signed link tokens: genuine ones round-trip; any change to one (a character, its length, its parts) is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.link_tokens import (
    LIFETIME,
    BadLinkToken,
    ExpiredLinkToken,
    InvalidLinkKeys,
    LinkKeys,
    Purpose,
    hkdf_sha256,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEYS = LinkKeys("a deployment secret", ["k1"])
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="

contacts = st.uuids()
purposes = st.sampled_from(Purpose)
categories = st.none() | st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")


@st.composite
def tokens(draw: st.DrawFn) -> tuple[str, Purpose]:
    purpose = draw(purposes)
    return KEYS.sign(draw(contacts), purpose, NOW, draw(categories)), purpose


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _payload(token: str) -> list[object]:
    encoded = token.split(".", maxsplit=1)[0]
    return list(json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))))


def test_hkdf_matches_rfc_5869_test_case_1() -> None:
    okm = hkdf_sha256(b"\x0b" * 22, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)

    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


@given(contacts, purposes, categories, st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_a_signed_token_verifies_to_its_claims(
    contact: UUID, purpose: Purpose, category: str | None, seconds: int
) -> None:
    token = KEYS.sign(contact, purpose, NOW, category, timedelta(seconds=seconds))

    claims = KEYS.verify(token, purpose, NOW + timedelta(seconds=seconds - 1))

    assert (claims.contact_id, claims.purpose, claims.category, claims.key_id) == (contact, purpose, category, "k1")
    assert claims.expires_at == NOW + timedelta(seconds=seconds)


def test_each_purpose_has_its_documented_default_lifetime() -> None:
    contact = UUID(int=7)
    for purpose, days in ((Purpose.PREFERENCES, 90), (Purpose.UNSUBSCRIBE, 365)):
        claims = KEYS.verify(KEYS.sign(contact, purpose, NOW), purpose, NOW)
        assert claims.expires_at - NOW == timedelta(days=days) == LIFETIME[purpose]


@given(tokens(), st.data())
def test_changing_any_character_is_refused(signed: tuple[str, Purpose], data: st.DataObject) -> None:
    token, purpose = signed
    at = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[at]))

    with pytest.raises(BadLinkToken):
        KEYS.verify(token[:at] + replacement + token[at + 1 :], purpose, NOW)


@given(tokens(), st.data())
def test_flipping_any_bit_of_the_decoded_parts_is_refused(signed: tuple[str, Purpose], data: st.DataObject) -> None:
    token, purpose = signed
    parts = [bytearray(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in token.split(".")]
    which = data.draw(st.integers(0, 1))
    at = data.draw(st.integers(0, len(parts[which]) - 1))
    parts[which][at] ^= 1 << data.draw(st.integers(0, 7))

    with pytest.raises(BadLinkToken):
        KEYS.verify(".".join(_b64(bytes(p)) for p in parts), purpose, NOW)


@given(tokens(), st.data())
def test_truncating_is_refused(signed: tuple[str, Purpose], data: st.DataObject) -> None:
    token, purpose = signed

    with pytest.raises(BadLinkToken):
        KEYS.verify(token[: data.draw(st.integers(0, len(token) - 1))], purpose, NOW)


@given(tokens(), st.text(min_size=1, max_size=20) | st.text(ALPHABET, min_size=1, max_size=4), st.booleans())
def test_extending_is_refused(signed: tuple[str, Purpose], extra: str, in_front: bool) -> None:
    token, purpose = signed

    with pytest.raises(BadLinkToken):
        KEYS.verify(extra + token if in_front else token + extra, purpose, NOW)


@given(tokens(), tokens())
def test_a_payload_with_another_tokens_signature_is_refused(a: tuple[str, Purpose], b: tuple[str, Purpose]) -> None:
    if a[0].split(".")[0] == b[0].split(".")[0]:
        return  # the same claims signed twice: one token
    swapped = a[0].split(".")[0] + "." + b[0].split(".")[1]

    with pytest.raises(BadLinkToken):
        KEYS.verify(swapped, a[1], NOW)


@given(contacts, categories)
def test_a_token_is_only_good_for_its_own_purpose(contact: UUID, category: str | None) -> None:
    token = KEYS.sign(contact, Purpose.PREFERENCES, NOW, category)
    claims = _payload(token)
    claims[3] = Purpose.UNSUBSCRIBE.value
    relabelled = _b64(json.dumps(claims, separators=(",", ":")).encode()) + "." + token.split(".")[1]

    with pytest.raises(BadLinkToken):
        KEYS.verify(token, Purpose.UNSUBSCRIBE, NOW)
    with pytest.raises(BadLinkToken):
        KEYS.verify(relabelled, Purpose.UNSUBSCRIBE, NOW)


@given(contacts, purposes)
def test_a_token_expires_at_its_expiry_and_not_before(contact: UUID, purpose: Purpose) -> None:
    token = KEYS.sign(contact, purpose, NOW, lifetime=timedelta(hours=1))

    assert KEYS.verify(token, purpose, NOW + timedelta(minutes=59, seconds=59)).contact_id == contact
    with pytest.raises(ExpiredLinkToken):
        KEYS.verify(token, purpose, NOW + timedelta(hours=1))


def test_a_tampered_expired_token_is_bad_rather_than_expired() -> None:
    token = KEYS.sign(UUID(int=1), Purpose.UNSUBSCRIBE, NOW, lifetime=timedelta(seconds=1))
    claims = _payload(token)
    claims[5] = int(claims[5]) + 10**6  # type: ignore[call-overload]
    extended = _b64(json.dumps(claims, separators=(",", ":")).encode()) + "." + token.split(".")[1]

    with pytest.raises(ExpiredLinkToken):
        KEYS.verify(token, Purpose.UNSUBSCRIBE, NOW + timedelta(days=1))
    with pytest.raises(BadLinkToken):
        KEYS.verify(extended, Purpose.UNSUBSCRIBE, NOW + timedelta(days=1))


def test_rotation_signs_with_the_first_key_id_and_verifies_with_all() -> None:
    old = LinkKeys("a deployment secret", ["k1"])
    rotated = LinkKeys("a deployment secret", ["k2", "k1"])
    retired = LinkKeys("a deployment secret", ["k2"])
    old_token = old.sign(UUID(int=3), Purpose.PREFERENCES, NOW)
    new_token = rotated.sign(UUID(int=3), Purpose.PREFERENCES, NOW)

    assert _payload(new_token)[1] == "k2"
    assert rotated.verify(old_token, Purpose.PREFERENCES, NOW).key_id == "k1"
    assert retired.verify(new_token, Purpose.PREFERENCES, NOW).key_id == "k2"
    with pytest.raises(BadLinkToken):
        retired.verify(old_token, Purpose.PREFERENCES, NOW)
    with pytest.raises(BadLinkToken):
        old.verify(new_token, Purpose.PREFERENCES, NOW)


def test_another_secret_with_the_same_key_id_does_not_verify() -> None:
    token = KEYS.sign(UUID(int=5), Purpose.UNSUBSCRIBE, NOW)

    with pytest.raises(BadLinkToken):
        LinkKeys("another secret", ["k1"]).verify(token, Purpose.UNSUBSCRIBE, NOW)


def test_the_payload_names_the_contact_and_never_an_address() -> None:
    token = KEYS.sign(UUID(int=9), Purpose.UNSUBSCRIBE, NOW, "news")

    assert _payload(token) == [
        1,
        "k1",
        str(UUID(int=9)),
        "unsubscribe",
        "news",
        int((NOW + LIFETIME[Purpose.UNSUBSCRIBE]).timestamp()),
    ]
    assert "@" not in base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()


@pytest.mark.parametrize("text", ["", ".", "a.b", "..", "x" * 600, "eyJ9.AAAA", "é.é", "[1].", " " + "a" * 40])
def test_garbage_is_bad_not_an_exception_of_another_kind(text: str) -> None:
    with pytest.raises(BadLinkToken):
        KEYS.verify(text, Purpose.PREFERENCES, NOW)


@pytest.mark.parametrize("key_ids", [[], ["k1", "k1"], ["has space"], ["x" * 17], ["ok", ""]])
def test_key_ids_must_be_distinct_short_names(key_ids: list[str]) -> None:
    with pytest.raises(InvalidLinkKeys):
        LinkKeys("secret", key_ids)


def test_a_category_must_be_a_category_key() -> None:
    with pytest.raises(InvalidLinkKeys):
        KEYS.sign(UUID(int=1), Purpose.UNSUBSCRIBE, NOW, "Not A Key")
