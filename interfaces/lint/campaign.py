"""Lint one campaign content version: the required fields, then every check in reading order.

Blocking problems (severity ``error``) refuse submission; warnings are recorded with it. The checks:

- ``required`` (error): subject, HTML, category, ESP connection, from-address, included segments;
- ``liquid_syntax`` (error), ``unsupported_tag`` (error), ``unknown_filter`` (error), ``unknown_variable`` and
  ``unknown_attribute`` (error, or warning where a missing value is allowed): ``liquid_checks``;
- ``malformed_link`` (error), ``insecure_link`` (warning), ``image_without_alt`` (warning),
  ``missing_unsubscribe_link`` (error), ``html_too_large`` (warning): ``html_checks``;
- ``subject_too_long``, ``missing_text_part`` (warnings), ``from_domain_not_allowed`` (error),
  ``no_sending_domains`` (warning): ``message_checks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import NamedTuple, cast

from application.campaigns import required_fields
from domain.campaign import Campaign
from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.campaign_workflow import Problem
from interfaces.lint.html_checks import html_problems, size_problems, unsubscribe_problems
from interfaces.lint.liquid_checks import AttributeExists, liquid_problems
from interfaces.lint.message_checks import sender_problems, subject_problems, text_problems
from interfaces.lint.parts import Layout, parts_of


class _Fields(NamedTuple):
    # What required_fields reads of a campaign, for a version that need not be the current one.
    settings: CampaignSettings
    content: Content


def lint(
    content: Content,
    settings: CampaignSettings,
    *,
    layout: Layout | None,
    sending_domains: Sequence[str] | None,
    attribute_exists: AttributeExists,
) -> list[Problem]:
    """Every problem of ``content`` sent with ``settings``; ``sending_domains`` None: no ESP connection chosen."""
    exists = cache(attribute_exists)
    problems = required_fields(cast(Campaign, _Fields(settings, content)))
    for part in parts_of(content, layout):
        problems += liquid_problems(part, exists)
        if part.html:
            problems += html_problems(part)
    if content.html:
        problems += unsubscribe_problems(content.html, layout)
        problems += size_problems(content.html, content.preheader, layout)
    problems += subject_problems(content)
    problems += text_problems(content)
    problems += sender_problems(settings, sending_domains)
    return problems
