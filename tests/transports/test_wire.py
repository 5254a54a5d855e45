"""The bytes every raw-message transport sends: long header values stay bare, never RFC 2047 encoded."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy
from email.utils import formataddr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interfaces.transports.wire import HeaderInjection
from tests.transports.messages import message

tokens = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=700)


@given(tokens, st.booleans())
def test_a_list_unsubscribe_uri_of_any_length_is_sent_bare(token: str, eight_bit: bool) -> None:
    uri = f"<https://t.example.com/u/{token}>"
    sent = replace(message("ada@example.org"), headers={"List-Unsubscribe": uri})
    raw = sent.wire(cte_type="8bit" if eight_bit else "7bit")
    assert b"=?utf-8?" not in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert message_from_bytes(raw, policy=policy.SMTP)["List-Unsubscribe"] == uri


header_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=120)
body_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=3000)


@given(header_text, body_text, body_text, st.sampled_from(["Ada", "Zoë Ünal", "李雷", ""]), st.booleans())
def test_the_bytes_parse_to_the_message_the_email_package_builds(
    subject: str, text: str, html: str, name: str, eight_bit: bool
) -> None:
    sent = replace(message("ada@example.org"), subject=subject, text=text, html=html,
                   from_address=formataddr((name, "news@example.com")))  # fmt: skip
    cte = "8bit" if eight_bit else "7bit"
    wire = sent.wire(cte_type=cte)
    ours = message_from_bytes(wire, policy=policy.default)
    reference = sent.mime()

    for name_ in ("From", "To", "Subject", "Message-ID", "X-Tidings-Message-Id", "List-Unsubscribe"):
        assert str(ours[name_] or "") == str(reference[name_] or ""), name_
    assert ours.get_content_type() == "multipart/alternative"
    for subtype in ("plain", "html"):
        got = ours.get_body((subtype,)).get_content()  # type: ignore[union-attr]
        want = reference.get_body((subtype,)).get_content()  # type: ignore[union-attr]
        # CRLF is the wire's line end; a reader sees lines either way.
        assert got.replace("\r\n", "\n").rstrip("\n") == want.replace("\r\n", "\n").rstrip("\n"), subtype
    assert all(len(line) <= 998 for line in wire.split(b"\r\n"))
    assert wire.isascii() or eight_bit


def test_a_line_break_in_a_header_is_refused() -> None:
    with pytest.raises(HeaderInjection):
        replace(message("ada@example.org"), subject="Hi\r\nBcc: eve@example.org").wire()


def test_a_line_longer_than_998_bytes_goes_quoted_printable_even_to_an_8bit_server() -> None:
    long_line = "x" * 2000
    wire = replace(message("ada@example.org"), html=long_line).wire(cte_type="8bit")
    assert b"Content-Transfer-Encoding: quoted-printable" in wire
    assert all(len(line) <= 998 for line in wire.split(b"\r\n"))
