"""Tag path syntax: lower-case slugs joined by ``/`` (``interests/sports/football``), at most 8 levels.

Paths are checked strictly rather than tidied (no lower-casing, no trimming of slashes): a path is an
identifier that segment definitions and imports repeat verbatim, so two spellings of one tag must not
both be accepted. Display text belongs in the tag's description.
"""

from __future__ import annotations

import re

from domain.errors import Invalid

SEPARATOR = "/"
MAX_DEPTH = 8
MAX_SLUG = 64
SLUG_PATTERN = r"[a-z0-9][a-z0-9_-]*"
_SLUG = re.compile(SLUG_PATTERN)


class InvalidTagPath(Invalid):
    """A tag path is 1 to 8 lower-case slugs (``[a-z0-9][a-z0-9_-]*``, ≤ 64 characters) joined by ``/``."""

    code = "invalid_tag_path"


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` is not a valid slug, or None when it is."""
    if not slug:
        return "empty segment (leading, trailing or doubled '/')"
    if len(slug) > MAX_SLUG:
        return f"longer than {MAX_SLUG} characters"
    if not _SLUG.fullmatch(slug):
        return "a segment is lower-case letters, digits, '_' and '-', starting with a letter or digit"
    return None


def check_slug(slug: str) -> str:
    """``slug`` when valid, else ``InvalidTagPath`` naming it."""
    problem = slug_problem(slug)
    if problem is not None:
        raise InvalidTagPath(f"invalid tag slug {slug[:80]!r}: {problem}", segment=slug[:80], reason=problem)
    return slug


def parse_path(path: str) -> tuple[str, ...]:
    """The slugs of ``path``, root first; ``InvalidTagPath`` names the first bad segment and its position."""
    if not isinstance(path, str):
        raise InvalidTagPath("a tag path must be a string", path=str(path)[:200])
    # Bound the work before splitting: a valid path is never longer than this.
    if len(path) > MAX_DEPTH * (MAX_SLUG + 1):
        raise InvalidTagPath(f"a tag path has at most {MAX_DEPTH} levels of at most {MAX_SLUG} characters",
                             path=path[:200])  # fmt: skip
    slugs = tuple(path.split(SEPARATOR))
    for position, slug in enumerate(slugs):
        problem = slug_problem(slug)
        if problem is not None:
            raise InvalidTagPath(
                f"invalid tag path {path[:200]!r}: segment {position + 1} {slug[:80]!r}: {problem}",
                path=path[:200],
                segment=slug[:80],
                position=position,
                reason=problem,
            )
    if len(slugs) > MAX_DEPTH:
        raise InvalidTagPath(f"a tag path has at most {MAX_DEPTH} levels", path=path[:200], depth=len(slugs))
    return slugs


def join_path(slugs: tuple[str, ...] | list[str]) -> str:
    """The path text of these slugs."""
    return SEPARATOR.join(slugs)
