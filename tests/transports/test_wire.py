"""The bytes every raw-message transport sends: long header values stay bare, never RFC 2047 encoded."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy

from hypothesis import given
from hypothesis import strategies as st

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
