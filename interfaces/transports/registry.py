"""Which transport serves which ESP connection provider (and ``smtp`` and ``capture``).

Each transport module exposes ``Settings`` (a msgspec Struct: credentials, base URL, limits) and
``create(settings) -> Transport``. Modules are imported on first use so an installation pays only for
the transports it sends through.
"""

from __future__ import annotations

import importlib
from types import ModuleType

MODULES = {
    "capture": "interfaces.transports.capture",
    "smtp": "interfaces.transports.smtp",
    "sendgrid": "interfaces.transports.sendgrid",
    "mailgun": "interfaces.transports.mailgun",
    "postmark": "interfaces.transports.postmark",
    "amazon_ses": "interfaces.transports.amazon_ses",
}


def module(kind: str) -> ModuleType:
    """The transport module for ``kind``, or ``KeyError`` naming the kinds there are."""
    if kind not in MODULES:
        raise KeyError(f"no transport {kind!r}; there are {sorted(MODULES)}")
    return importlib.import_module(MODULES[kind])
