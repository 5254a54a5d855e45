"""Personalized renders per second of a realistic ~60 KB newsletter, against plain string substitution.

Run: ``.venv/bin/python -m bench.render [--contacts 300] [--repeats 7] [--reference 50] [--keep] [--profile]``

The newsletter: a layout with a ``<style>`` block (element, class and descendant selectors, an ``@media``
rule), a header, 24 article sections (heading, image with alt text, paragraphs, a tracked "read more" link),
and a footer; personalization: first name with a default in subject, greeting and image alt text, the
city with a default in the preheader, a conditional block by plan (a table row, with a renewal date through
the ``date`` filter in the contact's zone and locale), the email, the year, and the unsubscribe and
preference-center URLs. Contacts vary: some without a first name or city, three plans, four zones, four
locales (one unknown to CLDR).

Timed in one process (one core), rounds interleaved, median reported; each message is dropped once made, as
the sending worker drops it (``--keep`` keeps a round's messages: fresh memory for every one):

- **ours**: ``CompiledContent.render`` per contact: subject, HTML, text part, headers, two signed links
  (the version is compiled once before the clock starts; the compile is timed on its own);
- **baseline**: the same newsletter written for ``string.Template`` (the plan branch as two templates), its
  CSS inlined and its text read once with the same tools, then ``substitute`` of the same values (escaped,
  links and date taken from ours, all prepared before the clock starts) for subject, HTML and text: plain
  string substitution; checked to show a reader the same text as ours;
- **floor**: the same substitution with each template split at its names once, so a render is three joins:
  the least any renderer can do;
- **ours, Liquid in <style>**: a version whose stylesheet depends on the contact (the callout's colour by
  plan), so its CSS is inlined per recipient while its text is still read once; on ``--reference`` contacts;
- **reference**: the per-recipient path every version used before (render every part, inline the whole
  HTML, html2text it), on ``--reference`` contacts.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import pstats
import random
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._common import median, print_machine, print_table, spread, timed
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.link_tokens import LinkKeys
from interfaces.link_keys import Links
from interfaces.rendering import CompiledContent, Layout, Recipient, compile_content
from interfaces.rendering.liquid import _formatted_once
from interfaces.rendering.per_render import INLINER, PREHEADER, converter

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LINKS = Links(LinkKeys("bench-secret", ["k1"]), "https://mail.example.com")
SETTINGS = CampaignSettings(category="news", from_name="Tidings Weekly", from_address="news@example.com")
SECTIONS = 24
WORDS = ["email", "deliverability", "segment", "audience", "campaign", "template", "preference", "newsletter",
         "subscriber", "event", "inbox", "sender", "domain", "bounce", "complaint", "engagement", "analytics",
         "consent", "privacy", "schedule"]  # fmt: skip

CSS = """
body { margin: 0; padding: 0; background: #f4f4f7; font-family: Helvetica, Arial, sans-serif; }
table { border-collapse: collapse; }
.wrapper { width: 100%; background: #f4f4f7; }
.container { width: 600px; margin: 0 auto; background: #ffffff; }
.header td { padding: 24px; background: #1f2d3d; color: #ffffff; }
.header h1 { margin: 0; font-size: 24px; line-height: 30px; }
.greeting { padding: 24px 24px 0; font-size: 16px; color: #333333; }
.callout { padding: 16px 24px; background: #fff8e1; border-left: 4px solid #ffb300; color: #5d4037; }
.section td { padding: 16px 24px; border-bottom: 1px solid #eeeeee; }
.section h2 { margin: 0 0 8px; font-size: 20px; line-height: 26px; color: #1f2d3d; }
.section p { margin: 0 0 12px; font-size: 15px; line-height: 22px; color: #444444; }
.section img { display: block; width: 552px; height: auto; border: 0; }
a { color: #1565c0; text-decoration: underline; }
.more a { font-weight: bold; text-decoration: none; }
.footer td { padding: 24px; font-size: 12px; line-height: 18px; color: #888888; text-align: center; }
.footer a { color: #888888; }
@media only screen and (max-width: 620px) { .container { width: 100% !important; } }
"""


@dataclass(frozen=True)
class Slots:
    """How each personalization is written: Liquid for ours, ``$name`` for the baseline."""

    first_name: str
    subject_name: str
    alt_name: str
    city: str
    plan_block: str
    email: str
    year: str
    unsubscribe_url: str
    preferences_url: str


PLAN_PRO = ('<tr><td class="callout">Thank you for being on Pro. Your plan renews on {renews}; nothing to do, '
            'we will send the receipt to {email}.</td></tr>')  # fmt: skip
PLAN_OTHER = ('<tr><td class="callout">You are on the {plan} plan. Pro adds send-time optimization, unlimited '
              'segments and priority support: <a href="https://example.com/pricing?utm_campaign=nov">see plans</a>.'
              "</td></tr>")  # fmt: skip
LIQUID = Slots(
    first_name="{{ contact.attributes.first_name | default: 'there' }}",
    subject_name="{{ contact.attributes.first_name | default: 'Friend' }}",
    alt_name="{{ contact.attributes.first_name | default: 'you' }}",
    city="{{ contact.attributes.city | default: 'your city' }}",
    plan_block="{% if contact.attributes.plan == 'pro' %}"
    + PLAN_PRO.format(renews="{{ contact.attributes.renews | date: 'long' }}", email="{{ contact.email }}")
    + "{% else %}"
    + PLAN_OTHER.format(plan="{{ contact.attributes.plan | default: 'free' | capitalize }}")
    + "{% endif %}",
    email="{{ contact.email }}",
    year="{{ 'now' | date: '%Y' }}",
    unsubscribe_url="{{ unsubscribe_url }}",
    preferences_url="{{ preferences_url }}",
)
TEMPLATE = Slots(*(f"${{{name}}}" for name in Slots.__dataclass_fields__))


def newsletter(slots: Slots) -> tuple[Content, Layout]:
    """The newsletter written with ``slots``: content (subject, preheader, body) and its layout."""
    rng = random.Random(6)
    sections = []
    for n in range(SECTIONS):
        paragraphs = "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(60)).capitalize()}.</p>" for _ in range(3))
        alt = f"Illustration {n + 1} for {slots.alt_name}" if n % 6 == 0 else f"Illustration {n + 1}"
        sections.append(
            f'<tr class="section"><td><h2>Story {n + 1}: {rng.choice(WORDS).title()} {rng.choice(WORDS)}</h2>'
            f'<img src="https://cdn.example.com/nov/{n}.jpg" alt="{alt}" width="552">{paragraphs}'
            f'<p class="more"><a href="https://example.com/blog/{n}?utm_source=newsletter&amp;utm_campaign=nov'
            f'&amp;utm_content=s{n}">Read more</a></p></td></tr>'
        )
    body = (
        f'<table class="container"><tbody><tr><td class="greeting">Hi {slots.first_name},</td></tr>'
        f"{slots.plan_block}{''.join(sections)}</tbody></table>"
    )
    layout = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Tidings Weekly</title><style>{CSS}</style>"
        "</head><body><table class='wrapper'><tbody><tr><td>"
        "<table class='container header'><tbody><tr><td><h1>Tidings Weekly</h1></td></tr></tbody></table>"
        "{{ content }}"
        "<table class='container footer'><tbody><tr><td>"
        f"You receive this as {slots.email}. <a href='{slots.unsubscribe_url}'>Unsubscribe</a> · "
        f"<a href='{slots.preferences_url}'>Email preferences</a><br>© {slots.year} Tidings, 1 Example Street"
        "</td></tr></tbody></table></td></tr></tbody></table></body></html>"
    )
    content = Content(f"{slots.subject_name}, your November digest", f"This week in {slots.city}", body)
    return content, Layout(layout)


def contacts(count: int) -> list[Recipient]:
    """Contacts with varied attributes, zones and locales."""
    rng = random.Random(7)
    names = ["Ann", "Bob", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "<Hacker & Co>"]
    people = []
    for i in range(count):
        attributes: dict[str, Any] = {"plan": rng.choice(["free", "team", "pro"])}
        if rng.random() < 0.8:
            attributes["first_name"] = rng.choice(names)
        if rng.random() < 0.6:
            attributes["city"] = rng.choice(["Paris", "Lyon", "New York", "Tokyo"])
        attributes["renews"] = (NOW + timedelta(days=rng.randint(1, 365))).date().isoformat()
        people.append(Recipient(uuid.UUID(int=i + 1), f"user{i}@example{i % 7}.com", attributes,
                                rng.choice([None, "Europe/Paris", "America/New_York", "Asia/Tokyo"]),
                                rng.choice([None, "en", "fr-FR", "x-private"])))  # fmt: skip
    return people


Values = tuple[bool, dict[str, str], dict[str, str]]  # pro plan?, values for HTML (escaped), values for text


class Baseline:
    """The ``string.Template`` newsletter: CSS inlined and text read once; values prepared up front.

    The plan block is a branch, which substitution cannot take: the template is made twice (pro, other),
    each inlined, and a render picks one, as a hand-written sender would.
    """

    def __init__(self) -> None:
        self.variants = {pro: self._templates(pro) for pro in (True, False)}

    @staticmethod
    def _templates(pro: bool) -> tuple[string.Template, string.Template, string.Template]:
        block = PLAN_PRO.format(renews="${renews}", email="${email}") if pro else PLAN_OTHER.format(plan="${plan}")
        content, layout = newsletter(replace(TEMPLATE, plan_block=block))
        source = layout.html.replace("{{ content }}", PREHEADER.format(content.preheader) + content.html)
        inlined = INLINER.inline(source)
        return string.Template(content.subject), string.Template(inlined), string.Template(converter().handle(inlined))

    @staticmethod
    def values(compiled: CompiledContent, recipient: Recipient) -> Values:
        """The same values ours prints for ``recipient`` (links and date taken from its own render)."""
        out = compiled.render(recipient, settings=SETTINGS, links=LINKS, now=NOW)
        attrs = recipient.attributes
        unsubscribe = re.search(r'href="(https://mail\.example\.com/u/[^"]+)"', out.html)[1]  # type: ignore[index]
        preferences = re.search(r'href="(https://mail\.example\.com/preferences/[^"]+)"', out.html)[1]  # type: ignore[index]
        renews = re.search(r"renews on ([^;]+);", out.html)
        text = {"first_name": attrs.get("first_name", "there"), "subject_name": attrs.get("first_name", "Friend"),
                "alt_name": attrs.get("first_name", "you"), "city": attrs.get("city", "your city"),
                "email": recipient.email, "year": "2026", "unsubscribe_url": unsubscribe,
                "preferences_url": preferences, "plan": str(attrs["plan"]).capitalize(),
                "renews": html.unescape(renews[1]) if renews else ""}  # fmt: skip
        return attrs["plan"] == "pro", {key: html.escape(value) for key, value in text.items()}, text

    def render(self, value: Values) -> tuple[str, str, str]:
        """Subject, HTML and text by plain substitution."""
        pro, html_values, text_values = value
        subject, body, text = self.variants[pro]
        return subject.substitute(text_values), body.substitute(html_values), text.substitute(text_values)

    def split(self) -> Callable[[Values], tuple[str, str, str]]:
        """The same, with each template split at its names once: a join per part, the floor for any renderer."""
        pieces = {pro: [re.split(r"\$\{(\w+)\}", t.template) for t in ts] for pro, ts in self.variants.items()}

        def join(chunks: list[str], values: dict[str, str]) -> str:
            return "".join(values[c] if i % 2 else c for i, c in enumerate(chunks))

        def render(value: Values) -> tuple[str, str, str]:
            subject, body, text = pieces[value[0]]
            return join(subject, value[2]), join(body, value[1]), join(text, value[2])

        return render


def measure(people: list[Recipient], repeats: int, reference_count: int, each: Callable[..., Any]) -> None:
    content, layout = newsletter(LIQUID)
    compile_seconds = timed(lambda: compile_content.__wrapped__(content, layout))
    compiled = compile_content(content, layout)
    assert compiled.html_fallback is None and compiled.text_fallback is None, compiled
    reference = replace(compiled, html=None, text=None, html_fallback="bench", text_fallback="bench")
    # A version whose stylesheet holds Liquid: its CSS is inlined per recipient, its text still read once.
    by_plan = "solid {% if contact.attributes.plan == 'pro' %}#ffb300{% else %}#90a4ae{% endif %}"
    styled = compile_content(content, Layout(layout.html.replace("solid #ffb300", by_plan)))
    assert styled.html_fallback is not None and styled.text_fallback is None, styled
    baseline = Baseline()
    values = [Baseline.values(compiled, person) for person in people]
    split = baseline.split()
    for person, value in list(zip(people, values, strict=True))[:20]:  # the same message, in what a reader sees
        ours = compiled.render(person, settings=SETTINGS, links=LINKS, now=NOW)
        assert _seen(ours.html) == _seen(baseline.render(value)[1]) and split(value) == baseline.render(value)
    sample = compiled.render(people[0], settings=SETTINGS, links=LINKS, now=NOW)
    print(f"newsletter: {len(sample.html):,} bytes of HTML, {len(sample.text):,} of text; "
          f"compiled once in {compile_seconds * 1000:,.0f} ms; {len(people)} contacts")  # fmt: skip
    jobs: dict[str, tuple[Callable[[], Any], int]] = {
        "ours (CompiledContent.render)": (lambda: each(lambda p: _ours(compiled, p), people), len(people)),
        "baseline (string.Template)": (lambda: each(baseline.render, values), len(people)),
        "floor (pre-split join)": (lambda: each(split, values), len(people)),
        "ours, Liquid in <style> (CSS inlined per recipient)": (
            lambda: each(lambda p: _ours(styled, p), people[:reference_count]), reference_count),
        "reference (everything per recipient)": (
            lambda: each(lambda p: _ours(reference, p), people[:reference_count]), reference_count),
    }  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, (job, count) in jobs.items():
            _formatted_once.cache_clear()  # a campaign renders each contact once: no dates from an earlier round
            rates[name].append(count / timed(job))
    base = median(rates["baseline (string.Template)"])
    print_table(
        f"Renders per second, one core (median of {repeats} rounds)",
        ["renderer", "renders/s", "min-max", "µs per render", "ratio to baseline"],
        [[name, f"{median(r):,.0f}", spread(r), f"{1e6 / median(r):,.0f}", f"{median(r) / base:.3f}"]
         for name, r in rates.items()],
    )  # fmt: skip


def _each(fn: Callable[[Any], Any], items: list[Any]) -> None:
    # Each message is dropped once made, as a sending worker drops it.
    for item in items:
        fn(item)


def _kept(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    # A round keeps its messages (a batch renderer): fresh memory, ≈ 60 MB of page faults, billed to the renderer.
    return [fn(item) for item in items]


def _seen(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", markup)).split())


def _ours(compiled: CompiledContent, person: Recipient) -> Any:
    return compiled.render(person, settings=SETTINGS, links=LINKS, now=NOW)


def profile(people: list[Recipient]) -> None:
    compiled = compile_content(*newsletter(LIQUID))
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [_ours(compiled, p) for p in people])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--reference", type=int, default=50, help="contacts for the per-recipient paths (slow)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions for ours")
    parser.add_argument("--keep", action="store_true", help="keep each round's messages instead of dropping them")
    args = parser.parse_args()
    print_machine()
    people = contacts(args.contacts)
    if args.profile:
        profile(people)
        return
    measure(people, args.repeats, args.reference, _kept if args.keep else _each)


if __name__ == "__main__":
    main()
