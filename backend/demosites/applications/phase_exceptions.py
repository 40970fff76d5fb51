"""The office's phase exceptions: one action of the stage machine allowed outside its round's
window on one date, for one application or all of the round, with a reason (in the round's
history); and the rounds with one day's exceptions, as the `in_phase` check reads them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_
from sqlmodel import Session, col, select

from demosites.applications.errors import ApplicationNotFound
from demosites.applications.models import Application, PhaseException
from demosites.applications.schemas import PhaseExceptionCreate
from demosites.audit import service as audit
from demosites.core.actor import Actor
from demosites.core.clock import clock
from demosites.rounds import service as rounds
from demosites.rounds.models import Round


def record_exception(
    session: Session, actor: Actor, round_id: int, data: PhaseExceptionCreate
) -> PhaseException:
    rounds.get_round(session, round_id)
    if data.application_id is not None:
        app = session.get(Application, data.application_id)
        if app is None or app.round_id != round_id:
            raise ApplicationNotFound()
    row = PhaseException(
        round_id=round_id, action=data.action, application_id=data.application_id,
        on_date=data.on_date, reason=data.reason, created_by=actor.user_id, created_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "round", round_id, "phase_exception", role=actor.role_for("office"),
        opinion=data.reason,
        data={"exception_id": row.id, "action": str(data.action), "application_id": data.application_id,
              "on_date": str(data.on_date)},
    )  # fmt: skip
    return row


def list_exceptions(session: Session, round_id: int) -> list[PhaseException]:
    rounds.get_round(session, round_id)
    return list(
        session.exec(
            select(PhaseException)
            .where(PhaseException.round_id == round_id)
            .order_by(col(PhaseException.id))
        )
    )


def rounds_and_exceptions_on(
    session: Session, round_ids: list[int], on: date
) -> tuple[dict[int, Round], list[PhaseException]]:
    """The rounds and their phase exceptions of one day, in one statement."""
    if not round_ids:
        return {}, []
    rows = session.exec(
        select(Round, PhaseException)
        .outerjoin(
            PhaseException,
            and_(col(PhaseException.round_id) == Round.id, col(PhaseException.on_date) == on),
        )
        .where(col(Round.id).in_(round_ids))
    ).all()
    return {r.id or 0: r for r, _ in rows}, [e for _, e in rows if e is not None]
