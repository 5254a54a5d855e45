"""Every provider module in ``interfaces.webhooks.providers``, by name: adding an ESP is adding a file."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from interfaces.webhooks import providers
from interfaces.webhooks.provider import Provider


@cache
def all_providers() -> dict[str, Provider]:
    """Provider name -> adapter."""
    found: dict[str, Provider] = {}
    for info in pkgutil.iter_modules(providers.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{providers.__name__}.{info.name}")
        provider: Provider = module.PROVIDER
        if provider.NAME in found:
            raise RuntimeError(f"two providers are named {provider.NAME!r}")
        found[provider.NAME] = provider
    return found


def get_provider(name: str) -> Provider | None:
    """The adapter for ``name``, or None."""
    return all_providers().get(name)
