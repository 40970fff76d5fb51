"""The webhook SSRF guard (issue 19): every address that is not global is refused (100.64.0.0/10
and the 政务云 metadata service 100.100.100.200 included), at registration and at delivery; the
worker connects to the address it checked, so a rebinding DNS answer never reaches 127.0.0.1; and
an attempt keeps a status line, never the answer's body."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from demosites.core.actor import SYSTEM
from demosites.events.service import emit
from demosites.integration import service, urls, worker
from demosites.integration.errors import UnsafeWebhookUrl
from demosites.integration.models import DeliveryAttempt, WebhookDelivery
from demosites.organizations.service import get_org_by_code
from tests.integration.receiver import Receiver
from tests.integration.test_service_accounts import _account, _token

PUBLIC = "93.184.216.34"
METADATA = "100.100.100.200"


@pytest.mark.parametrize(
    "address",
    [METADATA, "100.64.0.1", "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254",
     "0.0.0.0", "192.0.0.171", "198.18.0.1", "240.0.0.1", "255.255.255.255", "224.0.0.1",
     "::1", "::", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "64:ff9b::a64:64c8", "2002:a00:1::1",
     "2001:db8::1"],
)  # fmt: skip
def test_every_address_that_is_not_global_is_refused(session: Session, address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeWebhookUrl):
        urls.check_url(session, f"http://{host}/hook")


def test_public_addresses_pass(session: Session) -> None:
    assert urls.check_url(session, f"https://{PUBLIC}/hook") == PUBLIC
    assert urls.is_public(ipaddress.ip_address("2606:4700::1111"))


def test_the_metadata_service_is_refused_at_registration_as_problem_json(
    session: Session, client: TestClient
) -> None:
    cid, secret, _ = _account(client, session, ["webhooks:write"])
    r = client.post(
        "/api/v1/webhooks", json={"url": f"http://{METADATA}/latest/meta-data"},
        headers=_token(client, cid, secret),
    )  # fmt: skip
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "unsafe_webhook_url" and " / " in body["title"]


def test_an_allowed_intranet_host_still_receives(session: Session) -> None:
    service.allow_host(session, SYSTEM, "10.0.0.8")
    assert urls.check_url(session, "http://10.0.0.8:9000/hook") == "10.0.0.8"


class Rebinding:
    """A DNS server that answers `first` once, then `then` for ever."""

    def __init__(self, first: str, then: str) -> None:
        self.answers = [first]
        self.then = then
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[urls.Address]:
        self.asked.append(host)
        answer = self.answers.pop(0) if self.answers else self.then
        return [ipaddress.ip_address(answer)]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Rebinding]]:
    holder: dict[str, Rebinding] = {}

    def fake(host: str) -> list[urls.Address]:
        return holder["dns"](host)

    monkeypatch.setattr(urls, "resolve", fake)
    yield holder


def _subscribe(engine: Engine, url: str) -> None:
    with Session(engine) as s:
        office = get_org_by_code(s, "office")
        assert office
        account, _ = service.create_service_account(
            s, SYSTEM, "省级平台", office.id or 0, ["applications:read"], ["office"]
        )
        service.create_subscription(s, SYSTEM, account.id, url, ["*"])
        s.commit()
    with Session(engine) as s:
        emit(s, "application.submitted", "application", 1, {"status": "submitted"})
        s.commit()


def _attempts(engine: Engine) -> list[DeliveryAttempt]:
    with Session(engine) as s:
        return list(s.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


@pytest.mark.parametrize("rebound_to", ["127.0.0.1", METADATA])
def test_a_rebinding_name_never_reaches_the_internal_address(
    fresh_engine: Engine, dns: dict[str, Rebinding], rebound_to: str
) -> None:
    with Receiver() as rx, httpx.Client(timeout=5) as http:
        port = rx.server.server_address[1]
        dns["dns"] = Rebinding(PUBLIC, rebound_to)
        _subscribe(fresh_engine, f"http://hooks.example.test:{port}/hook")  # checked: public
        worker.run_once(http)
    assert rx.calls == 0
    (attempt,) = _attempts(fresh_engine)
    assert attempt.status_code is None and attempt.response_excerpt is None
    assert "not a public address" in (attempt.error or "")


def test_the_worker_connects_to_the_address_it_checked(
    fresh_engine: Engine, dns: dict[str, Rebinding]
) -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    dns["dns"] = Rebinding(PUBLIC, PUBLIC)
    _subscribe(fresh_engine, "https://hooks.example.test:8443/hook?x=1")
    dns["dns"] = Rebinding(PUBLIC, "127.0.0.1")  # a second lookup would answer loopback
    with httpx.Client(transport=httpx.MockTransport(record)) as http:
        worker.run_once(http)
    (request,) = seen
    assert request.url.host == PUBLIC and request.url.port == 8443
    assert request.url.path == "/hook" and request.url.query == b"x=1"
    assert request.headers["host"] == "hooks.example.test:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.test"  # TLS checks the name
    assert dns["dns"].asked == ["hooks.example.test"]  # resolved once for this delivery
    with Session(fresh_engine) as s:
        assert s.exec(select(WebhookDelivery)).one().status == "delivered"


def test_attempts_keep_a_status_line_and_never_the_body(fresh_engine: Engine) -> None:
    with Receiver(fail_first=1) as rx, httpx.Client(timeout=5) as http:
        with Session(fresh_engine) as s:
            service.allow_host(s, SYSTEM, "127.0.0.1")
            s.commit()
        _subscribe(fresh_engine, rx.url)
        worker.run_once(http)
        with Session(fresh_engine) as s:
            delivery = s.exec(select(WebhookDelivery)).one()
            delivery.next_attempt_at = delivery.created_at
            s.add(delivery)
            s.commit()
        worker.run_once(http)
    first, second = _attempts(fresh_engine)
    assert (first.status_code, first.response_excerpt) == (503, "HTTP 503 Service Unavailable")
    assert (second.status_code, second.response_excerpt) == (200, "HTTP 200 OK")
    for attempt in (first, second):
        text = f"{attempt.response_excerpt} {attempt.error}"
        assert "busy" not in text and " ok" not in text.lower().replace("200 ok", "")


def test_a_failed_connection_keeps_only_the_error_class(
    fresh_engine: Engine, dns: dict[str, Rebinding]
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused by 10.9.8.7:6379", request=request)

    dns["dns"] = Rebinding(PUBLIC, PUBLIC)
    _subscribe(fresh_engine, "http://hooks.example.test/hook")
    with httpx.Client(transport=httpx.MockTransport(refuse)) as http:
        worker.run_once(http)
    (attempt,) = _attempts(fresh_engine)
    assert attempt.error == "ConnectError" and attempt.response_excerpt is None


def test_the_migration_turns_stored_excerpts_into_status_lines() -> None:
    from alembic import command
    from sqlalchemy import create_engine, text

    from tests.conftest import alembic_config, new_database_url

    url, drop = new_database_url("sqlite")  # no foreign keys enforced: the attempts stand alone
    try:
        command.upgrade(alembic_config(url), "0400")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO webhook_attempt (delivery_id, at, status_code, latency_ms, "
                    "response_excerpt, error) VALUES (1, '2026-01-01 00:00:00', 500, 3, "
                    "'redis_version:7.2 internal body', NULL), (1, '2026-01-01 00:00:01', NULL, 3, "
                    "'partial', 'ReadTimeout')"
                )
            )
        command.upgrade(alembic_config(url), "heads")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT response_excerpt FROM webhook_attempt ORDER BY id")
            ).all()
        engine.dispose()
        assert [r[0] for r in rows] == ["HTTP 500", None]
    finally:
        drop()
