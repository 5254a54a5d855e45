"""What every paged list endpoint answers to a cursor it did not hand out."""

from __future__ import annotations

from litestar.exceptions import ValidationException

CURSOR_MESSAGE = "cursor must be a value returned as next_cursor"


def bad_cursor(message: str = CURSOR_MESSAGE) -> ValidationException:
    """400 ``bad_request`` naming the ``cursor`` query parameter, as a malformed ``limit`` is answered.

    One answer for every list: a cursor is a malformed query parameter like any other, not a rule of the
    domain (which is what 422 ``invalid`` means elsewhere in the API).
    """
    return ValidationException(message, extra=[{"key": "cursor", "source": "query", "message": message}])
