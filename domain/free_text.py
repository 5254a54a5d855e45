"""Free text (descriptions, notes, subjects, bodies, layouts) may hold any character but NUL.

PostgreSQL's text type cannot store U+0000: an event carrying one would stop, for good, every read model
that copies the text (the projection retries the same batch forever). So it is refused here, naming the
field, before it can become an event.
"""

from __future__ import annotations

from collections.abc import Callable

NUL = "\x00"


def refuse_nul(value: str | None, field: str, error: Callable[..., Exception]) -> None:
    """Raise ``error`` naming ``field`` when ``value`` holds a NUL character."""
    if value is not None and NUL in value:
        raise error(f"{field} must not contain the NUL character (U+0000)", field=field)
