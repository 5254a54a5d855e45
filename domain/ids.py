"""Namespaces for deterministic (uuid5) ids: natural keys become aggregate ids."""

from uuid import UUID, uuid5

TIDINGS = UUID("6f1d0b0e-55c4-4c1a-9f5e-6b0c2d7a1e01")
API_KEYS = uuid5(TIDINGS, "api-keys")


def bootstrap_admin_key_id() -> UUID:
    """The first admin key has a fixed id so that two racing first starts create only one."""
    return uuid5(API_KEYS, "bootstrap-admin")


CONTACTS = uuid5(TIDINGS, "contacts")
TAG_SETS = uuid5(TIDINGS, "tag-sets")
TAG_CATALOGUE = uuid5(TIDINGS, "tag-catalogue")
SEGMENTS = uuid5(TIDINGS, "segments")
PREFERENCE_CATEGORIES = uuid5(TIDINGS, "preference-categories")
PREFERENCES = uuid5(TIDINGS, "preferences")
SUPPRESSIONS = uuid5(TIDINGS, "suppressions")
DELIVERY_RUNS = uuid5(TIDINGS, "delivery-runs")
