"""Webhooks through the transactional outbox: signed, ordered per object, retried, exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from demosites.core.actor import SYSTEM
from demosites.core.clock import clock
from demosites.events.service import emit
from demosites.integration import service, worker
from demosites.integration.errors import UnsafeWebhookUrl
from demosites.integration.models import DeliveryAttempt, WebhookDelivery
from demosites.integration.signing import SIGNATURE_HEADER, header_value, verify
from demosites.organizations.service import get_org_by_code
from tests.integration.receiver import Receiver


def _subscribe(engine: Engine, url: str, events: list[str] | None = None) -> str:
    with Session(engine) as s:
        office = get_org_by_code(s, "office")
        assert office
        account, _ = service.create_service_account(
            s, SYSTEM, "省级平台", office.id or 0, ["applications:read"], ["office"]
        )
        service.allow_host(s, SYSTEM, "127.0.0.1")
        sub = service.create_subscription(s, SYSTEM, account.id, url, events or ["*"])
        s.commit()
        return sub.secret


def _emit(engine: Engine, events: list[tuple[str, int]]) -> list[int]:
    ids = []
    with Session(engine) as s:
        for event_type, object_id in events:
            ids.append(emit(s, event_type, "application", object_id, {"status": event_type}).id or 0)
        s.commit()
    return ids


def _drain(http: httpx.Client, passes: int = 20) -> None:
    for _ in range(passes):
        if worker.run_once(http) == 0 and worker.pending_count() == 0:
            return


def test_every_event_arrives_once_in_order_per_object_with_valid_signatures(fresh_engine: Engine) -> None:
    with Receiver() as rx, httpx.Client(timeout=5) as http:
        secret = _subscribe(fresh_engine, rx.url)
        sent = _emit(
            fresh_engine,
            [("application.submitted", 1), ("application.submitted", 2), ("application.recommended", 1),
             ("application.recommended", 2), ("application.preliminary_passed", 1)],
        )  # fmt: skip
        _drain(http)
    ids = [r["json"]["id"] for r in rx.received]
    assert sorted(ids) == sorted(sent) and len(ids) == len(set(ids))
    per_object: dict[int, list[int]] = {}
    for r in rx.received:
        per_object.setdefault(r["json"]["object_id"], []).append(r["json"]["id"])
    assert all(seq == sorted(seq) for seq in per_object.values())
    for r in rx.received:
        assert verify(secret, r["headers"][SIGNATURE_HEADER], r["body"])


def test_a_receiver_that_fails_three_times_gets_the_event_after_retries(fresh_engine: Engine) -> None:
    with Receiver(fail_first=3) as rx, httpx.Client(timeout=5) as http:
        _subscribe(fresh_engine, rx.url)
        (event_id,) = _emit(fresh_engine, [("application.awarded", 7)])
        for _ in range(4):
            worker.run_once(http)
            clock.set(clock.now() + timedelta(hours=1))
    assert [r["json"]["id"] for r in rx.received] == [event_id]
    with Session(fresh_engine) as s:
        delivery = s.exec(select(WebhookDelivery)).one()
        assert delivery.status == "delivered" and delivery.attempts == 4
        codes = [a.status_code for a in s.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id))]
        assert codes == [503, 503, 503, 200]


def test_backoff_keeps_retrying_for_more_than_a_day() -> None:
    total = sum((worker.backoff(n) for n in range(1, 12)), timedelta())
    assert total < timedelta(hours=24) < worker.GIVE_UP_AFTER


def test_a_worker_killed_mid_delivery_loses_nothing(fresh_engine: Engine) -> None:
    with Receiver() as rx, httpx.Client(timeout=5) as http:
        _subscribe(fresh_engine, rx.url)
        (event_id,) = _emit(fresh_engine, [("application.approved", 3)])
        # The first worker fans out and leases the delivery, then dies before sending it.
        with Session(fresh_engine) as s:
            worker.fan_out(s)
            s.commit()
        with Session(fresh_engine) as s:
            assert worker.claim(s) != []
            s.commit()
        assert worker.run_once(http) == 0  # still leased: nobody else sends it meanwhile
        clock.set(clock.now() + worker.LEASE + timedelta(seconds=1))
        _drain(http)
    assert [r["json"]["id"] for r in rx.received] == [event_id]


def test_two_workers_deliver_each_event_once(fresh_engine: Engine) -> None:
    with Receiver() as rx:
        _subscribe(fresh_engine, rx.url)
        sent = _emit(fresh_engine, [("application.submitted", i) for i in range(1, 31)])

        errors: list[BaseException] = []

        def work() -> None:
            try:
                with httpx.Client(timeout=5) as http:
                    for _ in range(40):
                        worker.run_once(http, batch=3)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    ids = [r["json"]["id"] for r in rx.received]
    assert sorted(ids) == sorted(sent)
    assert len(ids) == len(set(ids)), "an event was delivered twice"


ANSWER_TAKES = timedelta(seconds=4)  # of the workers' clock, per answer of the slow receiver


def _slow_receiver() -> Receiver:
    def before_answer() -> None:
        clock.advance(ANSWER_TAKES)
        time.sleep(0.01)  # a little real time too, so that the other worker runs meanwhile

    return Receiver(before_answer=before_answer)


def test_a_slow_receiver_gets_each_event_once_from_two_workers_with_full_batches(
    fresh_engine: Engine,
) -> None:
    # The reported case: 4 s per answer, batches of 20, a 10 s client timeout. A batch lasts
    # 80 s, longer than the 60 s lease it used to get; the other worker then took the rest over.
    clock.set(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    with _slow_receiver() as rx:
        _subscribe(fresh_engine, rx.url)
        sent = _emit(fresh_engine, [("application.submitted", i) for i in range(1, 31)])
        errors: list[BaseException] = []

        def work() -> None:
            try:
                with httpx.Client(timeout=10) as http:
                    deadline = time.monotonic() + 60  # a bound on the test, not a measurement
                    while time.monotonic() < deadline:
                        if worker.run_once(http, batch=20) == 0:
                            if worker.pending_count() == 0:
                                return
                            time.sleep(0.01)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    counts = Counter(r["json"]["id"] for r in rx.received)
    assert sorted(counts) == sorted(sent), "every event arrives"
    assert {i: n for i, n in counts.items() if n > 1} == {}, "events delivered more than once"


def test_a_worker_whose_lease_ran_out_and_was_taken_over_does_not_send(
    fresh_engine: Engine,
) -> None:
    with Receiver() as rx, httpx.Client(timeout=5) as http:
        _subscribe(fresh_engine, rx.url)
        (event_id,) = _emit(fresh_engine, [("application.approved", 9)])
        with Session(fresh_engine) as s:
            worker.fan_out(s)
            s.commit()
        with Session(fresh_engine) as s:
            (first,) = worker.claim(s, timeout=http.timeout)
            s.commit()
        # The first worker stalls past its lease; a second one takes the delivery over.
        clock.set(clock.now() + worker.lease_for(1, http.timeout) + timedelta(seconds=1))
        with Session(fresh_engine) as s:
            (second,) = worker.claim(s, timeout=http.timeout)
            s.commit()
        assert second.delivery_id == first.delivery_id and second.until != first.until
        worker.deliver_one(first, http)  # the first worker wakes up: no longer its delivery
        assert rx.received == []
        worker.deliver_one(second, http)
    assert [r["json"]["id"] for r in rx.received] == [event_id]
    with Session(fresh_engine) as s:
        delivery = s.exec(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts, delivery.locked_until) == ("delivered", 1, None)


def test_the_lease_outlasts_the_worst_case_of_the_batch() -> None:
    timeout = httpx.Timeout(10.0)
    every_phase_times_out = timedelta(seconds=10 * 4)  # connect, write, read, pool
    assert worker.lease_for(20, timeout) > 20 * every_phase_times_out
    assert worker.lease_for(20, timeout) == worker.LEASE
    with pytest.raises(ValueError, match="every timeout"):
        worker.lease_for(20, httpx.Timeout(10.0, read=None))


def test_forged_and_stale_signatures_are_detected() -> None:
    body = b'{"id":1}'
    header = header_value("whsec_right", 1_800_000_000, body)
    assert verify("whsec_right", header, body, now=1_800_000_010)
    assert not verify("whsec_wrong", header, body, now=1_800_000_010)
    assert not verify("whsec_right", header, b'{"id":2}', now=1_800_000_010)
    assert not verify("whsec_right", header, body, now=1_800_000_000 + 301)  # replayed later
    assert not verify("whsec_right", "t=abc,v1=00", body)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x", "http://localhost/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
            "http://[::1]/x", "ftp://example.org/x", "http://192.168.1.1/x"],
)  # fmt: skip
def test_webhook_urls_to_private_ranges_are_refused(session: Session, url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        from demosites.integration.urls import check_url

        check_url(session, url)


def test_an_allowed_host_may_receive_webhooks(session: Session) -> None:
    from demosites.integration.urls import check_url

    service.allow_host(session, SYSTEM, "127.0.0.1")
    assert check_url(session, "http://127.0.0.1:9000/hook") == "127.0.0.1"
