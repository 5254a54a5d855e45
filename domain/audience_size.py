"""The smallest and largest audience a campaign may be sent to.

A campaign's own ``min_audience``/``max_audience`` win; where it sets none, the installation's global
settings apply (``TIDINGS_MIN_AUDIENCE``, ``TIDINGS_MAX_AUDIENCE``). A minimum guards against a
mistyped segment sending to three people; a maximum against one sending to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.campaign_settings import CampaignSettings
from domain.errors import Invalid


class AudienceTooSmall(Invalid):
    """The audience holds fewer contacts than the campaign's minimum."""

    code = "audience_too_small"


class AudienceTooLarge(Invalid):
    """The audience holds more contacts than the campaign's maximum."""

    code = "audience_too_large"


@dataclass(frozen=True)
class AudienceLimits:
    """The bounds that apply to one campaign (``maximum`` None: no upper bound)."""

    minimum: int
    maximum: int | None

    def allows(self, count: int) -> bool:
        """Whether an audience of ``count`` contacts lies within the bounds."""
        return count >= self.minimum and (self.maximum is None or count <= self.maximum)


def audience_limits(settings: CampaignSettings, global_min: int, global_max: int | None) -> AudienceLimits:
    """The campaign's own bounds where it sets them, else the global ones."""
    minimum = settings.min_audience if settings.min_audience is not None else global_min
    maximum = settings.max_audience if settings.max_audience is not None else global_max
    return AudienceLimits(minimum, maximum)


def check_audience_size(count: int, settings: CampaignSettings, global_min: int, global_max: int | None) -> None:
    """Refuse an audience of ``count`` outside the campaign's bounds (``AudienceTooSmall``/``AudienceTooLarge``)."""
    limits = audience_limits(settings, global_min, global_max)
    if count < limits.minimum:
        raise AudienceTooSmall(
            f"the audience has {count} contacts, fewer than the minimum of {limits.minimum}",
            count=count, min_audience=limits.minimum,
        )  # fmt: skip
    if limits.maximum is not None and count > limits.maximum:
        raise AudienceTooLarge(
            f"the audience has {count} contacts, more than the maximum of {limits.maximum}",
            count=count, max_audience=limits.maximum,
        )  # fmt: skip
