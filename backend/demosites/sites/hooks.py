"""Wires the after-award domain into the workflow: site creation on award, the 公示 guards."""

from __future__ import annotations

from sqlmodel import Session

from demosites.applications import transitions as workflow
from demosites.applications.models import Action, Application
from demosites.core.actor import Actor
from demosites.sites import notices
from demosites.sites.service import create_site_for


def create_site(session: Session, actor: Actor, app: Application) -> None:
    """The award hook: the awarded application becomes a site (示范点)."""
    create_site_for(session, actor, app)


def register() -> None:
    """Idempotent: every hook is registered once, however often this module is imported."""
    if create_site not in workflow.AWARD_HOOKS:
        workflow.AWARD_HOOKS.append(create_site)
    for action, guard in (
        (Action.award, notices.award_allowed),
        (Action.uphold_objection, notices.objection_upheld),
    ):
        guards = workflow.EXTRA_GUARDS.setdefault(str(action), [])
        if guard not in guards:
            guards.append(guard)


register()
