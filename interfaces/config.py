"""Settings, read once from ``TIDINGS_*`` environment variables (the README documents each one)."""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import Invalid
from domain.link_tokens import KEY_ID

_N = TypeVar("_N", int, float)


class ConfigError(Invalid):
    """A TIDINGS_* variable has a value we cannot use."""

    code = "config_error"


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know about its environment."""

    data_dir: Path = Path("var")
    """TIDINGS_DATA_DIR: where the SQLite database and the generated secret key live."""
    database_url: str = ""
    """TIDINGS_DATABASE_URL: sqlite:///path.db (default var/tidings.db) or postgresql://user@host:port/db?schema=s."""
    redis_url: str | None = None
    """TIDINGS_REDIS_URL: redis://host:port/db; unset means in-process rate limits and caches."""
    redis_prefix: str = "tidings:"
    """TIDINGS_REDIS_PREFIX: prefix of every Redis key this instance writes."""
    secret_key: str | None = field(default=None, repr=False)
    """TIDINGS_SECRET_KEY: signs links and tokens; generated into data_dir/secret_key when unset."""
    host: str = "127.0.0.1"
    """TIDINGS_HOST: address `tidings serve` listens on."""
    port: int = 8000
    """TIDINGS_PORT: port `tidings serve` listens on."""
    projections: str = "inline"
    """TIDINGS_PROJECTIONS: inline (serve runs them) or off (run `tidings worker` instead)."""
    log_level: str = "INFO"
    """TIDINGS_LOG_LEVEL: DEBUG, INFO, WARNING or ERROR."""
    api_rate_per_second: float = 50.0
    """TIDINGS_API_RATE_PER_SECOND: sustained requests per second allowed per API key."""
    api_rate_burst: int = 100
    """TIDINGS_API_RATE_BURST: requests an API key may make in a burst."""
    max_body_bytes: int = 1_048_576
    """TIDINGS_MAX_BODY_BYTES: largest API request body accepted (413 beyond)."""
    webhook_rate_per_second: float = 200.0
    """TIDINGS_WEBHOOK_RATE_PER_SECOND: webhook requests per second per ESP connection, unless it sets its own."""
    webhook_max_body_bytes: int = 5_242_880
    """TIDINGS_WEBHOOK_MAX_BODY_BYTES: largest webhook body, unless the connection sets its own (413 beyond)."""
    import_max_bytes: int = 2_147_483_648
    """TIDINGS_IMPORT_MAX_BYTES: largest contact import file uploaded to the API (413 beyond)."""
    public_url: str = "http://127.0.0.1:8000"
    """TIDINGS_PUBLIC_URL: the origin contacts reach this service at; links in email are built from it."""
    link_key_ids: tuple[str, ...] = ("k1",)
    """TIDINGS_LINK_KEY_IDS: comma-separated; the first signs new links, every one verifies (rotation)."""
    unsubscribe_mailto: str | None = None
    """TIDINGS_UNSUBSCRIBE_MAILTO: address for List-Unsubscribe's mailto; unset omits the mailto."""
    delivery: str = "inline"
    """TIDINGS_DELIVERY: inline (serve runs the delivery worker) or off (run `tidings deliver` instead)."""
    default_transport: str = "capture"
    """TIDINGS_DEFAULT_TRANSPORT: transport where a campaign's ESP connection sets none (capture: built-in outbox)."""
    system_from: str | None = None
    """TIDINGS_SYSTEM_FROM: From of system email (re-subscribe confirmations); unset: no-reply@ + the public host."""
    system_transport: str | None = None
    """TIDINGS_SYSTEM_TRANSPORT: transport system email goes out through; unset: TIDINGS_DEFAULT_TRANSPORT."""
    system_transport_settings: dict[str, Any] = field(default_factory=dict, repr=False, hash=False)
    """TIDINGS_SYSTEM_TRANSPORT_SETTINGS: JSON object of that transport's settings (credentials: kept out of repr)."""
    soft_bounce_limit: int = 3
    """TIDINGS_SOFT_BOUNCE_LIMIT: this many soft bounces of an address within the window suppress it."""
    soft_bounce_window_days: int = 7
    """TIDINGS_SOFT_BOUNCE_WINDOW_DAYS: the days, ending at the latest soft bounce, that the limit counts over."""
    min_audience: int = 1
    """TIDINGS_MIN_AUDIENCE: smallest audience a campaign may be scheduled for, unless it sets its own."""
    max_audience: int | None = None
    """TIDINGS_MAX_AUDIENCE: largest audience a campaign may be scheduled for, unless it sets its own; unset: none."""
    estimate_history_days: int = 90
    """TIDINGS_ESTIMATE_HISTORY_DAYS: the days of an audience's own email history its estimates are drawn from."""
    estimate_min_messages: int = 100
    """TIDINGS_ESTIMATE_MIN_MESSAGES: fewer past messages than this and estimates use the default rates."""
    estimate_delivered_rate: float = 0.97
    """TIDINGS_ESTIMATE_DELIVERED_RATE: default share of messages delivered (0 to 1)."""
    estimate_open_rate: float = 0.2
    """TIDINGS_ESTIMATE_OPEN_RATE: default share of messages opened at least once (0 to 1)."""
    estimate_click_rate: float = 0.025
    """TIDINGS_ESTIMATE_CLICK_RATE: default share of messages clicked at least once (0 to 1)."""

    @property
    def database(self) -> str:
        """The effective database URL."""
        return self.database_url or f"sqlite:///{self.data_dir / 'tidings.db'}"

    @property
    def system_from_address(self) -> str:
        """The From of system email: TIDINGS_SYSTEM_FROM, else no-reply@ the public URL's host."""
        return self.system_from or f"no-reply@{urlsplit(self.public_url).hostname}"

    @property
    def system_transport_kind(self) -> str:
        """The transport system email goes out through."""
        return self.system_transport or self.default_transport

    @property
    def is_postgres(self) -> bool:
        """Whether the event store and read models live in PostgreSQL."""
        return self.database.startswith(("postgresql://", "postgres://"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment (``os.environ`` when not given)."""
        env = os.environ if environ is None else environ
        get = env.get
        projections = get("TIDINGS_PROJECTIONS", "inline")
        if projections not in ("inline", "off"):
            raise ConfigError("TIDINGS_PROJECTIONS must be 'inline' or 'off'", value=projections)
        return cls(
            data_dir=Path(get("TIDINGS_DATA_DIR", "var")),
            database_url=get("TIDINGS_DATABASE_URL", ""),
            redis_url=get("TIDINGS_REDIS_URL") or None,
            redis_prefix=get("TIDINGS_REDIS_PREFIX", "tidings:"),
            secret_key=get("TIDINGS_SECRET_KEY") or None,
            host=get("TIDINGS_HOST", "127.0.0.1"),
            port=_number(env, "TIDINGS_PORT", 8000, int),
            projections=projections,
            log_level=get("TIDINGS_LOG_LEVEL", "INFO").upper(),
            api_rate_per_second=_number(env, "TIDINGS_API_RATE_PER_SECOND", 50.0, float),
            api_rate_burst=_number(env, "TIDINGS_API_RATE_BURST", 100, int),
            max_body_bytes=_number(env, "TIDINGS_MAX_BODY_BYTES", 1_048_576, int),
            webhook_rate_per_second=_number(env, "TIDINGS_WEBHOOK_RATE_PER_SECOND", 200.0, float),
            webhook_max_body_bytes=_number(env, "TIDINGS_WEBHOOK_MAX_BODY_BYTES", 5_242_880, int),
            import_max_bytes=_number(env, "TIDINGS_IMPORT_MAX_BYTES", 2_147_483_648, int),
            public_url=_public_url(get("TIDINGS_PUBLIC_URL") or "http://127.0.0.1:8000"),
            link_key_ids=_key_ids(get("TIDINGS_LINK_KEY_IDS") or "k1"),
            unsubscribe_mailto=_mailbox(get("TIDINGS_UNSUBSCRIBE_MAILTO") or None),
            delivery=_choice(env, "TIDINGS_DELIVERY", ("inline", "off")),
            default_transport=get("TIDINGS_DEFAULT_TRANSPORT") or "capture",
            system_from=_mailbox(get("TIDINGS_SYSTEM_FROM") or None, "TIDINGS_SYSTEM_FROM"),
            system_transport=get("TIDINGS_SYSTEM_TRANSPORT") or None,
            system_transport_settings=_transport_settings(env),
            soft_bounce_limit=_number(env, "TIDINGS_SOFT_BOUNCE_LIMIT", 3, int),
            soft_bounce_window_days=_number(env, "TIDINGS_SOFT_BOUNCE_WINDOW_DAYS", 7, int),
            min_audience=_number(env, "TIDINGS_MIN_AUDIENCE", 1, int),
            max_audience=_number(env, "TIDINGS_MAX_AUDIENCE", 0, int) or None,
            estimate_history_days=_number(env, "TIDINGS_ESTIMATE_HISTORY_DAYS", 90, int),
            estimate_min_messages=_number(env, "TIDINGS_ESTIMATE_MIN_MESSAGES", 100, int),
            estimate_delivered_rate=_rate(env, "TIDINGS_ESTIMATE_DELIVERED_RATE", 0.97),
            estimate_open_rate=_rate(env, "TIDINGS_ESTIMATE_OPEN_RATE", 0.2),
            estimate_click_rate=_rate(env, "TIDINGS_ESTIMATE_CLICK_RATE", 0.025),
        )

    def persistence_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for this database."""
        return postgres_env(self.database) if self.is_postgres else sqlite_env(self.database)


def allocator_overrides(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Which of glibc's malloc variables the operator set (``interfaces.process_memory`` leaves those alone)."""
    env = os.environ if environ is None else environ
    return frozenset(name for name in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_") if name in env)


def _number(env: Mapping[str, str], name: str, default: _N, kind: type[_N]) -> _N:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {kind.__name__}", value=raw) from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive", value=raw)
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or allowed[0]
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}", value=value)
    return value


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default, float)
    if value > 1:
        raise ConfigError(f"{name} must be a share between 0 and 1", value=env.get(name))
    return value


def _public_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError("TIDINGS_PUBLIC_URL must be an http(s) URL such as https://mail.example.com", value=raw)
    return raw.rstrip("/")


def _key_ids(raw: str) -> tuple[str, ...]:
    ids = tuple(k.strip() for k in raw.split(","))
    if len(set(ids)) != len(ids) or not all(KEY_ID.fullmatch(k) for k in ids):
        raise ConfigError(
            "TIDINGS_LINK_KEY_IDS must be distinct ids of 1-16 of A-Z a-z 0-9 _ -, comma-separated", value=raw
        )
    return ids


def _mailbox(raw: str | None, name: str = "TIDINGS_UNSUBSCRIBE_MAILTO") -> str | None:
    # It goes inside <mailto:...> in a mail header: nothing that could end the URI or add header parameters.
    if raw is not None and not re.fullmatch(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+", raw):
        raise ConfigError(f"{name} must be a plain address such as unsubscribe@example.com", value=raw)
    return raw


def _transport_settings(env: Mapping[str, str]) -> dict[str, Any]:
    # Checked at start-up against the transport's own Settings, so a typo fails now, not at the first send.
    # Left unchecked when neither system variable is set: a default transport that needs settings (smtp)
    # must not stop a deployment that sends no system email; that send is refused with the reason instead.
    kind = env.get("TIDINGS_SYSTEM_TRANSPORT") or env.get("TIDINGS_DEFAULT_TRANSPORT") or "capture"
    raw = env.get("TIDINGS_SYSTEM_TRANSPORT_SETTINGS") or ""
    if not raw and not env.get("TIDINGS_SYSTEM_TRANSPORT"):
        return {}
    raw = raw or "{}"
    import msgspec  # noqa: PLC0415 (the transports are imported only when a process reads its settings)

    from interfaces.transports import registry  # noqa: PLC0415

    try:
        module = registry.module(kind)
    except KeyError:
        raise ConfigError(f"no transport {kind!r}", value=kind, transports=sorted(registry.MODULES)) from None
    try:
        settings = json.loads(raw)
        msgspec.convert(settings, module.Settings)
    except (ValueError, msgspec.ValidationError) as exc:
        raise ConfigError(
            f"TIDINGS_SYSTEM_TRANSPORT_SETTINGS must be a JSON object of {kind}'s settings: {exc}"
        ) from None
    if not isinstance(settings, dict):
        raise ConfigError("TIDINGS_SYSTEM_TRANSPORT_SETTINGS must be a JSON object")
    return settings


_COMMON = {
    "MAPPER_TOPIC": "application.mapper:MsgspecMapper",
    "COMPRESSOR_TOPIC": "application.compression:FastZlibCompressor",
}


def sqlite_env(url: str) -> dict[str, str]:
    """Library settings for ``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``sqlite:///:memory:``."""
    if not url.startswith("sqlite:///"):
        raise ConfigError(
            "TIDINGS_DATABASE_URL must start with sqlite:/// or postgresql://", value=_without_password(url)
        )
    path = unquote(url.removeprefix("sqlite:///"))
    if not path:
        raise ConfigError("the SQLite URL names no file", value=url)
    if path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {**_COMMON, "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "10"}


def postgres_env(url: str) -> dict[str, str]:
    """Library settings for ``postgresql://user:password@host:port/dbname?schema=name``."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        port = parts.port or 5432
    except ValueError:
        raise ConfigError("the PostgreSQL URL has an invalid port", value=_without_password(url)) from None
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ConfigError("the PostgreSQL URL names no database", value=_without_password(url))
    return {
        **_COMMON,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or getpass.getuser()),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": query.get("schema", "public"),
        "POSTGRES_POOL_SIZE": query.get("pool_size", "5"),
        "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", "10"),
        "POSTGRES_CONNECT_TIMEOUT": query.get("connect_timeout", "10"),
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
        "POSTGRES_PRE_PING": "y",
    }


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
