"""Render one campaign content version for one contact: subject, HTML with CSS inlined, text part, headers.

Templates are Liquid (python-liquid), which is sandboxed by design: templates reach only the data passed
in (no attributes or methods of Python objects), and loops, output size and nesting are bounded here.
Variables: ``contact`` (``email``, ``attributes``, ``timezone``, ``locale``), ``preferences_url`` and
``unsubscribe_url``. A missing variable renders through the ``default`` filter and is false in a condition;
printed without a default it is a ``RenderError`` naming it, so a send never goes out with a blank where a
name should be. The ``date`` filter shows instants in the contact's time zone (UTC when unset): a format
with ``%`` is strftime, anything else a CLDR pattern or ``short``/``medium``/``long``/``full`` in the
contact's locale (Babel).

HTML output escapes variables (contact data cannot inject markup); subject and text do not. The content is
wrapped in the template's layout through its ``{{ content }}`` slot, then css-inline moves ``<style>`` rules
into ``style`` attributes (no remote stylesheets are fetched; ``@media`` rules are dropped with the
``<style>`` element). The text part is the content's own text when it has one, else html2text's reading of
the final HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.utils import formataddr
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import babel
import babel.dates
import css_inline
import html2text
from liquid import BoundTemplate, Environment, FalsyStrictUndefined, Markup
from liquid.exceptions import FilterArgumentError, LiquidError, UndefinedError
from liquid.filter import with_context

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.errors import Invalid
from interfaces.link_keys import Links
from interfaces.unsubscribe_headers import unsubscribe_headers

_PREHEADER = '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">{}</div>'


class RenderError(Invalid):
    """The content cannot be rendered for this contact: a Liquid error or a variable without a value."""

    code = "render_error"


@dataclass(frozen=True)
class Recipient:
    """The contact fields templates can read (``id`` signs the contact's links; it is not a variable)."""

    id: UUID
    email: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Layout:
    """The pinned layout version of a campaign's template."""

    html: str
    text: str | None = None


@dataclass(frozen=True)
class Rendered:
    """One message's parts, ready to become MIME."""

    subject: str
    html: str
    text: str
    headers: dict[str, str]


class _Missing(FalsyStrictUndefined):
    # Strict when printed, false in a condition, and replaced by the ``default`` filter.
    force_liquid_default = True


class _Sandbox(Environment):
    # Bounds keep a hostile or careless template from exhausting the worker.
    loop_iteration_limit = 10_000
    output_stream_limit = 5_000_000
    local_namespace_limit = 100_000
    context_depth_limit = 30


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
    pattern = str(fmt)
    try:
        zone = ZoneInfo(contact.get("timezone") or "UTC")
        local = _instant(value).astimezone(zone)
        if "%" in pattern:
            return local.strftime(pattern)
        return babel.dates.format_datetime(local, pattern, tzinfo=zone, locale=_locale(contact.get("locale")))
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
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_link_tags=False)


@lru_cache(maxsize=512)
def _parse(escaped: bool, source: str, part: str) -> BoundTemplate:
    # A campaign renders the same few sources for every recipient: parse each once.
    try:
        return (_HTML if escaped else _PLAIN).from_string(source)
    except LiquidError as exc:
        raise _error(exc, part) from None


def _error(exc: LiquidError, part: str) -> RenderError:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    details: dict[str, Any] = {"part": part}
    if isinstance(exc, UndefinedError):
        details["variable"] = message.removesuffix(" is undefined").strip("'")
        message = f"{details['variable']} has no value; give it one or use a default: {{{{ ... | default: '' }}}}"
    return RenderError(f"{part}: {message}", **details)


def _render(escaped: bool, source: str, part: str, variables: Mapping[str, Any]) -> str:
    template = _parse(escaped, source, part)
    try:
        return template.render(**variables)
    except LiquidError as exc:
        raise _error(exc, part) from None


def _text_of(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 78
    converter.wrap_links = False  # a broken URL is a dead link
    converter.ignore_images = True
    return converter.handle(html).strip() + "\n"


def render(
    content: Content,
    layout: Layout | None,
    recipient: Recipient,
    *,
    settings: CampaignSettings,
    links: Links,
    now: datetime,
    mailto: str | None = None,
) -> Rendered:
    """The message ``content`` (wrapped in ``layout``) makes for ``recipient``, or ``RenderError``."""
    variables: dict[str, Any] = {
        "contact": {
            "email": recipient.email,
            "attributes": dict(recipient.attributes),
            "timezone": recipient.timezone,
            "locale": recipient.locale,
        },
        "preferences_url": links.preferences_url(recipient.id, now),
        "unsubscribe_url": links.unsubscribe_url(recipient.id, now, settings.category),
    }
    subject = " ".join(_render(False, content.subject, "subject", variables).split())
    body = _render(True, content.html, "html", variables)
    if content.preheader:
        preheader = _render(True, content.preheader, "preheader", variables)
        body = _PREHEADER.format(preheader) + body
    html = _render(True, layout.html, "layout", {**variables, "content": Markup(body)}) if layout else body
    try:
        html = _INLINER.inline(html)
    except css_inline.InlineError as exc:
        raise RenderError(f"html: cannot inline its CSS: {exc}", part="html") from None
    if content.text is not None:
        text = _render(False, content.text, "text", variables)
        if layout and layout.text:
            text = _render(False, layout.text, "text layout", {**variables, "content": text})
    else:
        text = _text_of(html)
    headers = {"To": recipient.email}
    if settings.from_address:
        headers["From"] = formataddr((settings.from_name, settings.from_address))
    if settings.reply_to:
        headers["Reply-To"] = settings.reply_to
    headers.update(unsubscribe_headers(links, recipient.id, settings.category, now, mailto))
    return Rendered(subject, html, text, headers)
