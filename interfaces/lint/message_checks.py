"""Checks on the message around the bodies: the subject's length, the text part, the from-address's domain."""

from __future__ import annotations

import re
from collections.abc import Sequence

from domain.campaign_content import Content
from domain.campaign_settings import CampaignSettings
from domain.campaign_workflow import Problem
from domain.sending_settings import domain_allowed
from interfaces.lint.parts import ERROR, WARNING, problem

# RFC 5322's recommended line length; inboxes show far less (30-60 characters), so the front matters most.
MAX_SUBJECT = 78
_LIQUID = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def subject_problems(content: Content) -> list[Problem]:
    """A warning when the subject's own text (Liquid markup not counted) is over ``MAX_SUBJECT`` characters.

    An empty subject is the ``required`` problem of ``application.campaigns.required_fields``.
    """
    length = len(_LIQUID.sub("", content.subject))
    if length <= MAX_SUBJECT:
        return []
    message = f"the subject is {length} characters long; inboxes cut it off, keep it to {MAX_SUBJECT} or fewer"
    return [problem("subject_too_long", message, WARNING, "subject")]


def text_problems(content: Content) -> list[Problem]:
    """A warning when there is no text part: it will be generated from the HTML (if there is none, ``required``)."""
    if content.text or not content.html:
        return []
    message = "no text part: one will be generated from the HTML; write one to control what text-only readers see"
    return [problem("missing_text_part", message, WARNING, "text")]


def sender_problems(settings: CampaignSettings, sending_domains: Sequence[str] | None) -> list[Problem]:
    """Whether the from-address may be sent through the ESP connection with ``sending_domains``.

    ``None``: no connection chosen yet (``required`` says so). A connection without sending domains is a
    warning, since nothing can be checked; otherwise the from-address's domain must be one of them or a
    subdomain of one (``domain.sending_settings.domain_allowed``), or the ESP would refuse or mis-sign it.
    """
    address = settings.from_address
    if address is None or sending_domains is None:
        return []
    if not sending_domains:
        message = "the ESP connection has no sending domains configured; the from-address cannot be checked"
        return [problem("no_sending_domains", message, WARNING, "esp_connection_id")]
    if domain_allowed(address, tuple(sending_domains)):
        return []
    domain = address.rpartition("@")[2]
    message = f"{domain} is not a sending domain of the ESP connection (it has: {', '.join(sending_domains)})"
    return [problem("from_domain_not_allowed", message, ERROR, "from_address")]
