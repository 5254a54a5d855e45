"""``GET /api/v1/campaigns/{id}/lint``: the problems a submission would find, without submitting.

It runs the same linter the submission does, over the campaign as the store holds it (not the read model,
which may lag an edit just made), for the current content version or the one ``?version=`` names.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from interfaces.bootstrap import Container
from interfaces.http.auth import ANY_ROLE
from interfaces.http.errors import documented
from interfaces.lint.store import CampaignLinter

VersionQuery = Annotated[int | None, Parameter(ge=1)]


class LintProblem(msgspec.Struct):
    """One problem: ``error`` blocks submission, ``warning`` does not; line and column are 1-based."""

    code: str
    message: str
    severity: str
    field: str | None
    line: int | None
    column: int | None


class Lint(msgspec.Struct):
    """Every problem of one content version, and how many of each severity."""

    campaign_id: UUID
    version: int
    problems: list[LintProblem]
    blocking: int
    warnings: int


def lint_campaign(container: Container, campaign_id: UUID, version: int | None) -> Lint:
    """The linter's findings for the campaign's current (or given) content version."""
    campaign = container.campaigns.get(campaign_id)
    chosen = campaign.content_version(version) if version is not None else campaign.current
    linter = CampaignLinter(container.db, container.connections, container.templates)
    problems = [LintProblem(**vars(p)) for p in linter.lint(chosen.content, campaign.settings)]
    blocking = sum(p.severity == "error" for p in problems)
    return Lint(campaign_id, chosen.number, problems, blocking, len(problems) - blocking)


class CampaignLintController(Controller):
    """Validation of campaign content."""

    path = "/campaigns/{campaign_id:uuid}/lint"
    tags = ["campaigns"]

    @get("/", operation_id="lintCampaign", guards=[ANY_ROLE], sync_to_thread=True,
         responses=documented(400, 404, 401, 403, 429))  # fmt: skip
    def lint(
        self, campaign_id: FromPath[UUID], container: NamedDependency[Container], version: VersionQuery = None
    ) -> Lint:
        """Blocking errors and warnings of a content version, as submitting it would find them."""
        return lint_campaign(container, campaign_id, version)
