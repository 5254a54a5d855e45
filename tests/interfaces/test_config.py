"""Settings from TIDINGS_* variables, their translation into the library's environment, and the secret key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from interfaces.bootstrap import resolve_secret_key
from interfaces.config import ConfigError, Settings

PASSWORD = "hunter2-s3cret"


def test_defaults_use_sqlite_under_the_data_dir() -> None:
    settings = Settings.from_env({})

    assert settings.data_dir == Path("var")
    assert settings.database == "sqlite:///var/tidings.db"
    assert not settings.is_postgres
    assert settings.redis_url is None
    assert settings.projections == "inline"
    assert (settings.port, settings.api_rate_burst, settings.max_body_bytes) == (8000, 100, 1_048_576)


def test_sqlite_settings_become_the_library_environment(tmp_path: Path) -> None:
    env = Settings.from_env({"TIDINGS_DATA_DIR": str(tmp_path)}).persistence_env()

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == str(tmp_path / "tidings.db")


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "TIDINGS_REDIS_URL": "redis://cache:6379/2",
            "TIDINGS_REDIS_PREFIX": "mail:",
            "TIDINGS_SECRET_KEY": "k" * 40,
            "TIDINGS_HOST": "0.0.0.0",
            "TIDINGS_PORT": "9000",
            "TIDINGS_PROJECTIONS": "off",
            "TIDINGS_LOG_LEVEL": "debug",
            "TIDINGS_API_RATE_PER_SECOND": "2.5",
            "TIDINGS_API_RATE_BURST": "7",
            "TIDINGS_MAX_BODY_BYTES": "2048",
        }
    )

    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.redis_prefix == "mail:"
    assert settings.secret_key == "k" * 40
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.projections == "off"
    assert settings.log_level == "DEBUG"
    assert (settings.api_rate_per_second, settings.api_rate_burst, settings.max_body_bytes) == (2.5, 7, 2048)


def test_the_secret_key_is_not_in_the_settings_repr() -> None:
    assert "k" * 40 not in repr(Settings.from_env({"TIDINGS_SECRET_KEY": "k" * 40}))


def test_a_postgres_url_becomes_the_library_environment() -> None:
    url = f"postgresql://alice:{PASSWORD}@db.internal:6543/tidings?schema=mail&pool_size=3"

    env = Settings.from_env({"TIDINGS_DATABASE_URL": url}).persistence_env()

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_DBNAME"] == "tidings"
    assert env["POSTGRES_HOST"] == "db.internal"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_USER"] == "alice"
    assert env["POSTGRES_PASSWORD"] == PASSWORD
    assert env["POSTGRES_SCHEMA"] == "mail"
    assert env["POSTGRES_POOL_SIZE"] == "3"


def test_a_postgres_url_without_extras_uses_the_public_schema_and_default_port() -> None:
    env = Settings(database_url="postgres://bob@localhost/tidings").persistence_env()

    assert env["POSTGRES_SCHEMA"] == "public"
    assert env["POSTGRES_PORT"] == "5432"
    assert env["POSTGRES_USER"] == "bob"
    assert env["POSTGRES_PASSWORD"] == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIDINGS_PORT", "http"),
        ("TIDINGS_PORT", "0"),
        ("TIDINGS_API_RATE_PER_SECOND", "fast"),
        ("TIDINGS_API_RATE_PER_SECOND", "-1"),
        ("TIDINGS_API_RATE_BURST", "2.5"),
        ("TIDINGS_MAX_BODY_BYTES", "1MB"),
        ("TIDINGS_PROJECTIONS", "sometimes"),
    ],
)
def test_unusable_values_are_config_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({name: value})

    assert raised.value.details["value"] == value


@pytest.mark.parametrize(
    "url",
    [
        "mysql://tidings@db/tidings",
        "sqlite://relative.db",
        "sqlite:///",
        "postgresql://alice@db:5432/",
        "postgresql://alice@db:port/tidings",
    ],
)
def test_unusable_database_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        Settings(database_url=url).persistence_env()


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://alice:{PASSWORD}@db:5432/",
        f"mysql://alice:{PASSWORD}@db/tidings",
    ],
    ids=["postgres-without-database", "unknown-scheme"],
)
def test_config_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(database_url=url).persistence_env()

    assert PASSWORD not in str(raised.value)
    assert PASSWORD not in repr(raised.value.details)


def test_a_secret_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    first = resolve_secret_key(settings)
    second = resolve_secret_key(settings)

    path = tmp_path / "data" / "secret_key"
    assert len(first) >= 32
    assert second == first
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_configured_secret_key_wins(tmp_path: Path) -> None:
    generated = resolve_secret_key(Settings(data_dir=tmp_path))

    configured = Settings.from_env({"TIDINGS_DATA_DIR": str(tmp_path), "TIDINGS_SECRET_KEY": "from-the-environment"})

    assert resolve_secret_key(configured) == "from-the-environment"
    assert (tmp_path / "secret_key").read_text().strip() == generated


def test_a_configured_secret_key_writes_no_file(tmp_path: Path) -> None:
    resolve_secret_key(Settings(data_dir=tmp_path, secret_key="from-the-environment"))

    assert not (tmp_path / "secret_key").exists()
