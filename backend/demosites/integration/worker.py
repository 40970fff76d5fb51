"""The webhook worker: turns outbox events into deliveries and delivers them, signed, in order per
object, with exponential backoff for more than 24 hours. Several workers may run at once: a
delivery is claimed with FOR UPDATE SKIP LOCKED (PostgreSQL) and a lease, so no event is sent by two
workers at the same time, and a killed worker's lease simply expires.

The lease is sized to the claimed batch's worst case: every delivery of it taking the HTTP
client's full connect, write, read and pool timeouts, plus a margin for the database (a batch of
20 with 10 s timeouts: 15 minutes). A lease that outlives the batch is the whole guarantee while
workers behave; when one does not (a receiver trickling its answer past the timeouts, clocks
apart), the lease is also a fencing token: before each send the worker renews it on the condition
that it still holds the value it set, and skips a delivery another worker has taken over since.
Delivery stays at least once (README): an answer lost after the receiver acted is sent again.

Run: `python -m demosites.integration.worker` (or `make worker`)."""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus

import httpx
from sqlalchemy import and_, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from demosites.core.clock import clock
from demosites.core.config import get_settings
from demosites.core.db import get_engine
from demosites.documents.jobs import sweep_expired_now
from demosites.events.models import OutboxEvent
from demosites.files.service import sweep_orphans_now
from demosites.integration.models import (
    DeliveryAttempt,
    FanoutCursor,
    ServiceAccount,
    WebhookDelivery,
    WebhookSubscription,
)
from demosites.integration.signing import SIGNATURE_HEADER, header_value
from demosites.integration.urls import Pinned, pin
from demosites.organizations.models import Organization, OrgKind
from demosites.wiring import wire

log = logging.getLogger("demosites.worker")

DB_MARGIN = timedelta(seconds=5)  # per delivery: renewing the lease, recording the attempt
GIVE_UP_AFTER = timedelta(hours=25)  # retries continue for at least 24 hours
BACKOFF = [10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 21600]  # seconds, last one repeats


@dataclass(frozen=True)
class Lease:
    """A claimed delivery and the `locked_until` this worker set: its fencing token."""

    delivery_id: int
    until: datetime


def delivery_budget(timeout: httpx.Timeout) -> timedelta:
    """The longest one delivery may take with these client timeouts (each bounds one phase)."""
    phases = (timeout.connect, timeout.write, timeout.read, timeout.pool)
    if any(t is None for t in phases):
        raise ValueError("webhook deliveries need an HTTP client with every timeout set")
    return timedelta(seconds=sum(t for t in phases if t is not None)) + DB_MARGIN


def lease_for(deliveries: int, timeout: httpx.Timeout) -> timedelta:
    """A lease longer than the worst case of a batch of `deliveries` sent one after another."""
    return delivery_budget(timeout) * max(1, deliveries) + DB_MARGIN


# The lease of a full default batch: the longest a killed worker's deliveries wait for another.
LEASE = lease_for(20, httpx.Timeout(10.0))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1] if attempts else 0)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def fan_out(session: Session, batch: int = 500) -> int:
    """Creates deliveries for outbox events not yet fanned out; returns how many events it read."""
    stmt = select(FanoutCursor).where(FanoutCursor.id == 1)
    if _is_postgres(session):
        stmt = stmt.with_for_update()
    cursor = session.exec(stmt).one()  # the row is created by the migration
    events = list(
        session.exec(
            select(OutboxEvent)
            .where(col(OutboxEvent.id) > cursor.last_event_id)
            .order_by(col(OutboxEvent.id))
            .limit(batch)
        )
    )
    if not events:
        return 0
    subs = list(
        session.exec(
            select(WebhookSubscription, ServiceAccount, Organization)
            .join(ServiceAccount, col(ServiceAccount.id) == WebhookSubscription.service_account_id)
            .join(Organization, col(Organization.id) == ServiceAccount.organization_id)
            .where(WebhookSubscription.active == True, col(ServiceAccount.revoked_at).is_(None))  # noqa: E712
        )
    )
    for event in events:
        for sub, account, org in subs:
            everything = org.kind == OrgKind.office or "office" in account.roles
            if not everything and f",{account.organization_id}," not in event.audience:
                continue
            if not any(fnmatch.fnmatchcase(event.event_type, p) for p in sub.events):
                continue
            session.add(
                WebhookDelivery(
                    subscription_id=sub.id or 0,
                    event_id=event.id or 0,
                    object_key=f"{event.object_type}:{event.object_id}",
                    next_attempt_at=event.created_at,
                )
            )
    cursor.last_event_id = events[-1].id or 0
    session.add(cursor)
    session.flush()
    return len(events)


def claim(
    session: Session, limit: int = 20, timeout: httpx.Timeout = httpx.Timeout(10.0)
) -> list[Lease]:
    """Leases due deliveries whose earlier deliveries for the same object are all done, for
    longer than delivering all of them with `timeout` can take."""
    now = clock.now()
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        and_(
            col(earlier.subscription_id) == col(WebhookDelivery.subscription_id),
            col(earlier.object_key) == col(WebhookDelivery.object_key),
            col(earlier.event_id) < col(WebhookDelivery.event_id),
            col(earlier.status) != "delivered",
        )
    )
    stmt = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            (col(WebhookDelivery.locked_until).is_(None))
            | (col(WebhookDelivery.locked_until) < now),
            ~blocked,
        )
        .order_by(col(WebhookDelivery.event_id))
        .limit(limit)
    )
    if _is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)  # type: ignore[arg-type]
    rows = list(session.exec(stmt))
    until = now + lease_for(len(rows), timeout)
    for row in rows:
        row.locked_until = until
        session.add(row)
    session.flush()
    return [Lease(r.id or 0, until) for r in rows]


def _renew(lease: Lease, budget: timedelta) -> Lease | None:
    """The lease again for at least one delivery's worst case, if this worker still holds it
    (nobody took it over after it ran out, nobody replayed or finished the delivery)."""
    until = max(lease.until, clock.now() + budget)
    with Session(get_engine()) as session:
        renewed = session.connection().execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == lease.delivery_id,
                col(WebhookDelivery.status) == "pending",
                col(WebhookDelivery.locked_until) == lease.until,
            )
            .values(locked_until=until)
        )
        session.commit()
    return Lease(lease.delivery_id, until) if renewed.rowcount else None


def body_of(event: OutboxEvent) -> bytes:
    return json.dumps(
        {
            "id": event.id,
            "type": event.event_type,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def status_line(code: int) -> str:
    """What is kept of an answer: its status and the standard reason, never its body."""
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def deliver_one(lease: Lease, http: httpx.Client) -> None:
    """Sends one leased delivery and records the attempt (outside any open transaction)."""
    renewed = _renew(lease, delivery_budget(http.timeout))
    if renewed is None:
        return  # another worker holds it now, or it was finished or replayed meanwhile
    delivery_id = lease.delivery_id
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        sub = session.get(WebhookSubscription, delivery.subscription_id)
        event = session.get(OutboxEvent, delivery.event_id)
        assert sub is not None and event is not None
        url, secret = sub.url, sub.secret
        body, event_type, event_id = body_of(event), event.event_type, event.id
        target: Pinned | None = None
        try:
            # Again at send time, resolved once: the request goes to the address checked here,
            # not to whatever the name answers next (DNS rebinding).
            target = pin(session, url)
            safe_error = None
        except Exception as exc:  # noqa: BLE001
            safe_error = str(getattr(exc, "detail", exc))[:300]
    ts = int(time.time())
    started = time.monotonic()
    status_code: int | None = None
    excerpt: str | None = None
    error = safe_error
    if error is None and target is not None:
        try:
            # Streamed and never read: the answer's body is neither kept nor loaded.
            with http.stream(
                "POST",
                target.url,
                content=body,
                headers={
                    **target.headers,
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: header_value(secret, ts, body),
                    "X-Demosites-Event": event_type,
                    "X-Demosites-Event-Id": str(event_id),
                    "X-Demosites-Delivery": str(delivery_id),
                },
                extensions=target.extensions,
            ) as resp:
                status_code = resp.status_code
            excerpt = status_line(status_code)
        except httpx.HTTPError as exc:
            # The class only: an error text (or a body) of whatever answered would turn the
            # attempt log into a window on the receiver's network.
            error = exc.__class__.__name__
    latency = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    with Session(engine, expire_on_commit=False) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        now = clock.now()
        still_ours = delivery.locked_until == renewed.until
        if ok:
            delivery.status = "delivered"
            delivery.delivered_at = now
        if still_ours:
            delivery.attempts += 1
            delivery.locked_until = None
            if not ok and now - delivery.created_at > GIVE_UP_AFTER:
                delivery.status = "failed"
            elif not ok:
                delivery.next_attempt_at = now + backoff(delivery.attempts)
        session.add(delivery)
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                at=now,
                status_code=status_code,
                latency_ms=latency,
                response_excerpt=excerpt,
                error=error,
            )
        )
        session.commit()


def run_once(http: httpx.Client, batch: int = 20) -> int:
    """One pass: fan out, claim, deliver. Returns how many deliveries were attempted."""
    engine = get_engine()
    with Session(engine) as session:
        fan_out(session)
        session.commit()
    with Session(engine) as session:
        leases = claim(session, batch, http.timeout)
        session.commit()
    for lease in leases:
        deliver_one(lease, http)
    return len(leases)


def pending_count() -> int:
    with Session(get_engine()) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "pending")
            ).one()
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demosites-worker")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between idle polls")
    parser.add_argument("--once", action="store_true")
    parser.add_argument(
        "--sweep-every",
        type=float,
        default=600.0,
        help="seconds between orphan-file and expired-document sweeps",
    )
    args = parser.parse_args(argv)
    wire()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    next_sweep = 0.0
    settings = get_settings()
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    with httpx.Client(timeout=timeout, follow_redirects=False) as http:
        while not stop:
            if time.monotonic() >= next_sweep:
                # Uploads cut short by a crash leave bytes no row names; the worker clears them,
                # and the files of document jobs past their retention.
                sweep_orphans_now()
                sweep_expired_now()
                next_sweep = time.monotonic() + args.sweep_every
            try:
                n = run_once(http, settings.webhook_batch_size)
            except Exception:  # noqa: BLE001  (the database may be down: try again later)
                log.exception("worker pass failed")
                n = 0
            if args.once:
                break
            if n == 0:
                time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
