"""Wires the after-award domain into the workflow: site creation on award, the 公示 guards."""

from __future__ import annotations

from demosites.applications import transitions as workflow
from demosites.applications.models import Action
from demosites.sites import notices
from demosites.sites.service import create_site_for


def register() -> None:
    """Idempotent: every hook is registered once, however often this module is imported."""
    if create_site_for not in workflow.AWARD_HOOKS:
        workflow.AWARD_HOOKS.append(create_site_for)
    for action, guard in (
        (Action.award, notices.award_allowed),
        (Action.uphold_objection, notices.objection_upheld),
    ):
        guards = workflow.EXTRA_GUARDS.setdefault(str(action), [])
        if guard not in guards:
            guards.append(guard)


register()
