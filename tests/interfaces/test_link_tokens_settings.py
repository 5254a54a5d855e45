"""Link settings: public URL, key ids for rotation and the unsubscribe mailbox are read and checked at start."""

from __future__ import annotations

import pytest

from interfaces.config import ConfigError, Settings


def test_link_settings_default_to_a_local_url_and_one_key_id() -> None:
    settings = Settings.from_env({})

    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.link_key_ids == ("k1",)
    assert settings.unsubscribe_mailto is None


def test_link_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            "TIDINGS_PUBLIC_URL": "https://mail.example.com/tidings/",
            "TIDINGS_LINK_KEY_IDS": "2026b, 2026a",
            "TIDINGS_UNSUBSCRIBE_MAILTO": "unsubscribe@bounce.example.com",
        }
    )

    assert settings.public_url == "https://mail.example.com/tidings"
    assert settings.link_key_ids == ("2026b", "2026a")
    assert settings.unsubscribe_mailto == "unsubscribe@bounce.example.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIDINGS_PUBLIC_URL", "mail.example.com"),
        ("TIDINGS_PUBLIC_URL", "ftp://mail.example.com"),
        ("TIDINGS_PUBLIC_URL", "https://mail.example.com/?x=1"),
        ("TIDINGS_LINK_KEY_IDS", "k1,k1"),
        ("TIDINGS_LINK_KEY_IDS", "k1,,k2"),
        ("TIDINGS_LINK_KEY_IDS", "a key"),
        ("TIDINGS_LINK_KEY_IDS", "x" * 17),
        ("TIDINGS_UNSUBSCRIBE_MAILTO", "no-at-sign"),
        ("TIDINGS_UNSUBSCRIBE_MAILTO", "a@b>, <https://evil.example"),
        ("TIDINGS_UNSUBSCRIBE_MAILTO", "a@b?subject=x"),
    ],
)
def test_unusable_link_settings_are_refused_at_start(name: str, value: str) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({name: value})
