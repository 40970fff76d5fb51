"""Effects across domains, registered explicitly at start-up — by main.create_app(), the CLI and
the worker — never as a side effect of importing a module.

The after-award domain (sites) adds to the applications' table: the 公示 guards on `award` (wait
for the notice and every objection) and on `uphold_objection` (only on an upheld objection), and
the site (示范点) created when an application is awarded.
"""

from __future__ import annotations

from demosites.applications.models import Action
from demosites.applications.transitions import MACHINE as applications
from demosites.sites import notices
from demosites.sites.service import create_site_for


def wire() -> None:
    """Idempotent: calling it again registers nothing twice."""
    applications.add_guard(Action.award, notices.award_allowed)
    applications.add_guard(Action.uphold_objection, notices.objection_upheld)
    applications.add_reaction(Action.award, create_site_for)
