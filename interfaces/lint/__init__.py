"""The campaign linter (issue 6): every problem that would make a send fail, misbehave or look wrong.

``campaign.lint`` is pure: content, settings, the pinned layout, the connection's sending domains and a
question about attribute names in; problems out. ``store.CampaignLinter`` answers those from the store and
read models; the composition root makes it the submission validator and the lint endpoint calls it.
"""
