"""The sandboxed Liquid environments, the ``date`` filter, and parsing/rendering one part with our errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from functools import lru_cache
from io import StringIO
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import babel
import babel.dates
from liquid import BoundTemplate, Environment, FalsyStrictUndefined, RenderContext
from liquid.exceptions import FilterArgumentError, LiquidError, OutputStreamLimitError, UndefinedError
from liquid.filter import with_context

from interfaces.rendering.message import RenderError


class _Missing(FalsyStrictUndefined):
    # Strict when printed, false in a condition, and replaced by the ``default`` filter.
    force_liquid_default = True


OUTPUT_LIMIT = 5_000_000  # characters one buffer may take (a message cut around its layout slot uses one)


class _Bounded(StringIO):
    # python-liquid's limited buffer encodes every write to count bytes and copies it into a StringIO: for a
    # 60 KB newsletter, a third of a render. Characters bound the output just as well, joined once at the end.
    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit

    def write(self, text: str, /) -> int:
        self.size += len(text)
        if self.size > self.limit:
            raise OutputStreamLimitError("output stream limit reached", token=None)
        self.parts.append(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


class _Context(RenderContext):
    # Buffers of their own (``capture``, ``ifchanged``) share what is left of the limit, as python-liquid's do.
    def get_buffer(self, buf: TextIO | None = None) -> StringIO:
        return _Bounded(buf.limit - buf.size) if isinstance(buf, _Bounded) else _Bounded()


class _Template(BoundTemplate):
    context_class = _Context

    def _get_buffer(self) -> StringIO:
        return _Bounded()


class _Sandbox(Environment):
    # Bounds keep a hostile or careless template from exhausting the worker.
    loop_iteration_limit = 10_000
    output_stream_limit = None  # counted by _Bounded instead
    local_namespace_limit = 100_000
    context_depth_limit = 30
    template_class = _Template


def _instant(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, bool):
        raise FilterArgumentError(f"date expects a date, got {value!r}")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise FilterArgumentError(f"date: timestamp {value!r} is out of range") from None
    if isinstance(value, str):
        if value.strip().lower() in ("now", "today"):
            return datetime.now(UTC)
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise FilterArgumentError(f"date expects an ISO 8601 date, got {value[:40]!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise FilterArgumentError(f"date expects a date, got {type(value).__name__}")


@with_context
def _date(value: object, fmt: object = "medium", *, context: Any) -> str:
    """``value`` in the contact's time zone, formatted by strftime (``%``) or by CLDR in the contact's locale."""
    contact = context.globals.get("contact") or {}
    zone, locale = contact.get("timezone") or "UTC", contact.get("locale")
    moving = isinstance(value, str) and value.strip().lower() in ("now", "today")
    if moving or not isinstance(value, str | date | int | float):
        return _formatted(value, str(fmt), zone, locale)
    return _formatted_once(value, str(fmt), zone, locale)


@lru_cache(maxsize=4096, typed=True)  # typed: True and 1 are different values here
def _formatted_once(value: object, pattern: str, zone: str, locale: str | None) -> str:
    # The same date in the same zone, pattern and locale recurs across a campaign's contacts (an event's date,
    # a renewal day); CLDR formatting costs about 100 µs. Errors are not cached: they are raised again.
    return _formatted(value, pattern, zone, locale)


def _formatted(value: object, pattern: str, zone_name: str, locale: str | None) -> str:
    try:
        zone = ZoneInfo(zone_name)
        local = _instant(value).astimezone(zone)
        if "%" in pattern:
            return local.strftime(pattern)
        return babel.dates.format_datetime(local, pattern, tzinfo=zone, locale=_locale(locale))
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise FilterArgumentError(f"date: cannot format with {pattern[:40]!r}: {exc}") from None


@lru_cache(maxsize=256)
def _locale(tag: str | None) -> babel.Locale:
    # BCP 47 tags the contact model accepts may be unknown to CLDR (a private variant): fall back to the language.
    for candidate in (tag, (tag or "").split("-")[0], "en"):
        try:
            return babel.Locale.parse(candidate, sep="-")
        except (ValueError, TypeError, babel.UnknownLocaleError):
            continue
    raise AssertionError("CLDR always knows en")


def _environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(undefined=_Missing, autoescape=autoescape)
    env.add_filter("date", _date)
    return env


_HTML = _environment(autoescape=True)
_PLAIN = _environment(autoescape=False)


@lru_cache(maxsize=512)
def parse(escaped: bool, source: str, part: str) -> BoundTemplate:
    """``source`` parsed for HTML (variables escaped) or plain text, once per process; or ``RenderError``."""
    return parse_once(escaped, source, part)


def parse_once(escaped: bool, source: str, part: str) -> BoundTemplate:
    """``source`` parsed, uncached (compiled content keeps its own templates); or ``RenderError``."""
    try:
        return (_HTML if escaped else _PLAIN).from_string(source)
    except LiquidError as exc:
        raise error(exc, part) from None


def error(exc: LiquidError, part: str) -> RenderError:
    """Our error for a Liquid one, naming the part and, for a missing value, the variable."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    details: dict[str, Any] = {"part": part}
    if isinstance(exc, UndefinedError):
        details["variable"] = message.removesuffix(" is undefined").strip("'")
        message = f"{details['variable']} has no value; give it one or use a default: {{{{ ... | default: '' }}}}"
    return RenderError(f"{part}: {message}", **details)


def render_template(template: BoundTemplate, part: str, variables: Mapping[str, Any]) -> str:
    """One parsed part rendered with ``variables``, or ``RenderError``."""
    try:
        return template.render(**variables)
    except LiquidError as exc:
        raise error(exc, part) from None


def new_buffer() -> StringIO:
    """An output buffer holding the sandbox's output limit, for ``render_into``."""
    return _Bounded()


def new_context(template: BoundTemplate, variables: Mapping[str, Any]) -> RenderContext:
    """A render context (one scope) for ``template`` with ``variables``."""
    return template.context_class(template, globals=template.make_globals(dict(variables)))


def render_into(template: BoundTemplate, part: str, context: RenderContext, buffer: StringIO) -> None:
    """One parsed part rendered in ``context``, appended to ``buffer``; or ``RenderError``."""
    try:
        template.render_with_context(context, buffer)
    except LiquidError as exc:
        raise error(exc, part) from None


def render_part(escaped: bool, source: str, part: str, variables: Mapping[str, Any]) -> str:
    """One part's source rendered with ``variables`` (parsed once per process), or ``RenderError``."""
    return render_template(parse(escaped, source, part), part, variables)
