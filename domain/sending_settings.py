"""How an ESP connection sends: its sending domains, its throttle, and which transport carries the mail.

Sending domains are the domains a campaign's from-address may use through this connection (the ESP has
verified them: SPF/DKIM are set up there, not here); a from-address on a subdomain of a sending domain
counts, as ESPs sign for subdomains of an authenticated domain. The throttle is the connection's own
(the ESP account's limits are per account, so every campaign through it shares them). The transport
settings hold credentials: the aggregate declares them redacted, so the audit log shows that they
changed and never their values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from domain.errors import Invalid

MAX_DOMAINS = 50
MAX_RATE = 10_000.0
MAX_CONCURRENCY = 64
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidSendingSettings(Invalid):
    """Sending domains must be host names; the throttle must be positive and bounded."""

    code = "invalid_sending_settings"


@dataclass(frozen=True)
class SendingSettings:
    """Domains, throttle and transport of one ESP connection."""

    domains: tuple[str, ...] = ()
    rate_per_second: float = 10.0
    concurrency: int = 4
    transport: str | None = None  # "smtp", "capture", or the provider's API; None: not set up for sending
    transport_settings: dict[str, Any] = field(default_factory=dict)


def clean_domain(value: str) -> str:
    """``value`` as a lower-case IDNA host name, or ``InvalidSendingSettings``."""
    text = value.strip().rstrip(".").lower()
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidSendingSettings(f"{value[:80]!r} is not a domain name", field="domains") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidSendingSettings(f"{value[:80]!r} is not a domain name", field="domains")
    return ascii_name


def clean_sending(settings: SendingSettings) -> SendingSettings:
    """``settings`` with domains normalized and de-duplicated, or ``InvalidSendingSettings`` naming the field."""
    domains = tuple(dict.fromkeys(clean_domain(d) for d in settings.domains))
    if len(domains) > MAX_DOMAINS:
        raise InvalidSendingSettings(f"at most {MAX_DOMAINS} sending domains", field="domains")
    if not 0 < settings.rate_per_second <= MAX_RATE:
        raise InvalidSendingSettings(
            f"rate_per_second must be above 0 and at most {MAX_RATE:g}", field="rate_per_second"
        )
    if not 1 <= settings.concurrency <= MAX_CONCURRENCY:
        raise InvalidSendingSettings(f"concurrency must be 1 to {MAX_CONCURRENCY}", field="concurrency")
    return SendingSettings(
        domains, float(settings.rate_per_second), settings.concurrency, settings.transport,
        dict(settings.transport_settings),
    )  # fmt: skip


def domain_allowed(address: str, domains: tuple[str, ...] | list[str]) -> bool:
    """True when ``address``'s domain is one of ``domains`` or a subdomain of one."""
    host = address.rpartition("@")[2].strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)
