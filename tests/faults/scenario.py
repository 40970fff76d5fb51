"""Committed data for fault tests: a 2022 round with applications at a given stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from demosites.applications.models import Application, Status
from demosites.audit.models import HistoryEntry
from demosites.core.clock import clock
from demosites.events.models import OutboxEvent
from demosites.files.models import StoredFile
from tests import factories
from tests.applications import builders as b


@dataclass
class Setup:
    app_ids: list[int]
    headers: dict[str, str]  # of the person who acts on them
    now: str  # the server's clock for the scenario (ISO)


def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def recommended_for_office(engine: Engine, n: int) -> Setup:
    """`n` recommended applications and an office user, on a day of the assessment window."""
    with Session(engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        hefei = b.org(s, "hefei")
        ids = [
            b.application(s, r, b.unit(s, "community", "合肥"), hefei, Status.recommended).id or 0
            for _ in range(n)
        ]
        return _finish(s, ids, factories.user(s, ["office"], "office"), b.ASSESSING)


def drafts_for_applicant(engine: Engine) -> Setup:
    """One draft application and a person of its unit, on a day materials are accepted."""
    with Session(engine) as s:
        b.set_day(b.BEFORE)
        r = b.make_round(s)
        u = b.unit(s, "community", "合肥")
        app = b.application(s, r, u, b.org(s, "hefei"), Status.draft)
        person = factories.user(s, ["applicant"], b.org_of(s, u))
        return _finish(s, [app.id or 0], person, b.APPLYING)


def _finish(s: Session, ids: list[int], person: object, day: date) -> Setup:
    b.set_day(day)
    headers = factories.bearer(s, person)  # type: ignore[arg-type]
    now = clock.now().isoformat()
    s.commit()
    clock.set(None)
    return Setup(ids, headers, now)


def statuses(engine: Engine, ids: list[int]) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(select(Application).where(col(Application.id).in_(ids))).all()
        return [str(a.status) for a in sorted(rows, key=lambda a: a.id or 0)]


def history_count(engine: Engine, action: str) -> int:
    with Session(engine) as s:
        return int(
            s.exec(
                select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action == action)
            ).one()
        )


def event_count(engine: Engine, event_type: str) -> int:
    with Session(engine) as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.event_type == event_type)
            ).one()
        )


def file_rows(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return list(s.exec(select(StoredFile.storage_key)).all())
