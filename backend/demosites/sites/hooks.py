"""Wires the after-award domain into the workflow: site creation on award, the 公示 guards."""

from __future__ import annotations

from demosites.applications.models import Action
from demosites.applications.transitions import MACHINE as workflow
from demosites.sites import notices
from demosites.sites.service import create_site_for


def register() -> None:
    """Idempotent: every hook is registered once, however often this module is imported."""
    workflow.add_reaction(Action.award, create_site_for)
    workflow.add_guard(Action.award, notices.award_allowed)
    workflow.add_guard(Action.uphold_objection, notices.objection_upheld)


register()
