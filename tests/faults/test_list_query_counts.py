"""Every paged list endpoint issues the same number of SQL statements for a page of 5 rows as
for a page of 50 (no N+1: names, allowed actions, opinions and attempts are loaded per page, not
per row). The endpoints are taken from the OpenAPI document, so a new list fails this test until
it is given a builder here (or is covered by its own domain's query-count test)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.applications.models import AssessmentAssignment, Status
from demosites.audit import service as audit
from demosites.auth.models import LoginAttempt
from demosites.core.clock import clock
from demosites.documents.models import DocumentJob, JobStatus
from demosites.events import service as events
from demosites.files.models import StoredFile
from demosites.integration.models import (
    DeliveryAttempt,
    ServiceAccount,
    WebhookDelivery,
    WebhookSubscription,
)
from demosites.main import create_app
from demosites.security.audit import SecurityEvent, log_event
from demosites.security.models import AuditArchive
from demosites.sites.models import Inspection, Site
from tests import factories
from tests.applications import builders as b
from tests.statements import counting, no_rate_limit  # noqa: F401

ROWS = 55
SMALL, LARGE = 5, 50
pytestmark = pytest.mark.usefixtures("no_rate_limit")
_seq = itertools.count(1)

# Lists whose statement counts are proved by their own domain's test as the data grows.
COVERED_ELSEWHERE = {
    "list_ledger_units": "tests/ledger/test_query_counts.py",
    "list_ledger_plans": "tests/ledger/test_query_counts.py",
    "list_ledger_entries": "tests/ledger/test_query_counts.py",
    "ledger_compliance": "tests/ledger/test_query_counts.py",
    "ledger_compliance_due": "tests/ledger/test_query_counts.py",
}


@dataclass
class Case:
    """Where to ask (path, params) and as whom (headers) once the rows exist."""

    path: str
    headers: dict[str, str]
    params: dict[str, Any]


Builder = Callable[[Session], Case]


def _person(s: Session, role: str, org: str = "office") -> dict[str, str]:
    return factories.bearer(s, factories.user(s, [role], org))


def _round(s: Session) -> Any:
    b.set_day(b.BEFORE)
    r = b.make_round(s, year=2100 + next(_seq) % 90)
    b.set_day(b.ASSESSING)
    return r


def applications(s: Session) -> Case:
    """Recommended applications with an assessor each and a recommendation opinion each."""
    r = _round(s)
    hefei = b.org(s, "hefei")
    assessor = factories.user(s, ["assessor"], "cac")
    office = factories.user(s, ["office"], "office")
    actor = b.actor_of(s, office)
    for _ in range(ROWS):
        app = b.application(s, r, b.unit(s, "community", "合肥"), hefei, Status.recommended)
        s.add(
            AssessmentAssignment(
                application_id=app.id or 0, user_id=assessor.id or 0, assigned_at=clock.now()
            )
        )
        audit.record(
            s, actor, "application", app.id or 0, "recommend", opinion="同意推荐", role="office"
        )
    s.flush()
    return Case("/api/v1/applications", factories.bearer(s, office), {"round_id": r.id})


def applicants(s: Session) -> Case:
    city = "黄山"
    for _ in range(ROWS):
        b.unit(s, "village", city)
    return Case("/api/v1/applicants", _person(s, "office"), {"city": city})


def rounds(s: Session) -> Case:
    for _ in range(ROWS):
        _round(s)
    return Case("/api/v1/rounds", _person(s, "office"), {})


def organizations(s: Session) -> Case:
    for _ in range(ROWS):
        factories.org(s)
    return Case("/api/v1/organizations", _person(s, "office"), {})


def _users(s: Session) -> None:
    org = factories.org(s)
    for _ in range(ROWS):
        factories.user(s, ["applicant"], org)


def users(s: Session) -> Case:
    _users(s)
    return Case("/api/v1/users", _person(s, "sysadmin"), {})


def users_security(s: Session) -> Case:
    _users(s)
    return Case("/api/v1/security/users", _person(s, "secadmin"), {})


def login_log(s: Session) -> Case:
    for n in range(ROWS):
        s.add(
            LoginAttempt(
                username=f"someone{n}", client_ip="10.0.0.1", success=n % 2 == 0, reason="ok"
            )
        )
    s.flush()
    return Case("/api/v1/security/login-log", _person(s, "auditor"), {})


def security_audit(s: Session) -> Case:
    office = b.actor_of(s, factories.user(s, ["office"], "office"))
    for n in range(ROWS):
        log_event(s, SecurityEvent.logout, office, object_id=n)
    return Case("/api/v1/security/audit", _person(s, "auditor"), {})


def audit_archives(s: Session) -> Case:
    for n in range(ROWS):
        s.add(AuditArchive(first_history_id=n, last_history_id=n, up_to=clock.now(), entries=1,
                           path=f"/tmp/archive-{n}.csv", sha256="0" * 64))  # fmt: skip
    s.flush()
    return Case("/api/v1/security/audit/archives", _person(s, "auditor"), {})


def webhook_deliveries(s: Session) -> Case:
    account = ServiceAccount(client_id=f"qc-{next(_seq)}", name="对接系统", secret_hash="x",
                             organization_id=b.org(s, "office").id or 0, scopes=[], roles=["office"])  # fmt: skip
    s.add(account)
    s.flush()
    sub = WebhookSubscription(service_account_id=account.id or 0, url="https://example.org/hook",
                              events=["*"], secret="s" * 32)  # fmt: skip
    s.add(sub)
    s.flush()
    for n in range(ROWS):
        e = events.emit(s, "application.submitted", "application", n + 1, {"id": n + 1})
        d = WebhookDelivery(
            subscription_id=sub.id or 0, event_id=e.id or 0, object_key=f"application:{n}"
        )
        s.add(d)
        s.flush()
        s.add(DeliveryAttempt(delivery_id=d.id or 0, at=clock.now(), status_code=503, latency_ms=5))
    s.flush()
    return Case(f"/api/v1/webhooks/{sub.id}/deliveries", _person(s, "sysadmin"), {})


def poll_events(s: Session) -> Case:
    office = b.org(s, "office")
    for n in range(ROWS):
        events.emit(
            s,
            "application.submitted",
            "application",
            n + 1,
            {"id": n + 1},
            organization_ids=[office.id or 0],
        )
    return Case("/api/v1/events", _person(s, "office"), {})


def _sites(s: Session, n: int, status: str = "active") -> list[Site]:
    r = _round(s)
    hefei = b.org(s, "hefei")
    out = []
    for _ in range(n):
        u = b.unit(s, "community", "合肥")
        app = b.application(s, r, u, hefei, Status.awarded)
        site = Site(application_id=app.id or 0, round_id=r.id or 0, applicant_id=u.id or 0,
                    organization_id=u.organization_id, name=app.name, unit_name=u.name, field=app.field,
                    city=app.city, plaque_no=f"皖思政示范〔{r.year}〕{next(_seq):04d}号", awarded_on=date(2022, 11, 25),
                    status=status, created_at=clock.now(), updated_at=clock.now())  # fmt: skip
        s.add(site)
        out.append(site)
    s.flush()
    return out


def sites(s: Session) -> Case:
    r_id = _sites(s, ROWS)[0].round_id
    return Case("/api/v1/sites", _person(s, "office"), {"round_id": r_id})


def public_sites(s: Session) -> Case:
    r_id = _sites(s, ROWS)[0].round_id
    return Case("/api/v1/public/sites", {}, {"round_id": r_id})


def _inspection(site: Site, year: int, inspector: int) -> Inspection:
    return Inspection(site_id=site.id or 0, kind="inspection", year=year, inspector_ids=[inspector],
                      created_at=datetime(2023, 3, 1, tzinfo=UTC))  # fmt: skip


def site_inspections(s: Session) -> Case:
    site = _sites(s, 1)[0]
    inspector = factories.user(s, ["office"], "office")
    for n in range(ROWS):
        s.add(_inspection(site, 2030 + n, inspector.id or 0))
    s.flush()
    return Case(f"/api/v1/sites/{site.id}/inspections", factories.bearer(s, inspector), {})


def inspections(s: Session) -> Case:
    inspector = factories.user(s, ["office"], "office")
    for site in _sites(s, ROWS):
        s.add(_inspection(site, 2023, inspector.id or 0))
    s.flush()
    return Case("/api/v1/inspections", factories.bearer(s, inspector), {"year": 2023})


def assessors(s: Session) -> Case:
    """Assessors of one organisation, asked with an application (each gets its 回避 flag)."""
    cac = b.org(s, "cac")
    for _ in range(ROWS):
        factories.user(s, ["assessor"], cac)
    r = _round(s)
    app = b.application(s, r, b.unit(s, "community", "合肥"), b.org(s, "hefei"), Status.recommended)
    params = {"organization_id": cac.id, "application_id": app.id}
    return Case("/api/v1/assessors", _person(s, "office"), params)


def document_jobs(s: Session) -> Case:
    """The caller's jobs, finished ones with a file each (named in the item)."""
    office = factories.user(s, ["office"], "office")
    for n in range(ROWS):
        file_id = None
        if n % 2 == 0:
            stored = StoredFile(owner_type="document_job", owner_id=n + 1, purpose="forms",
                                filename=f"申报审批表-{n}.zip", content_type="application/zip", size=10,
                                sha256="0" * 64, storage_key=f"documents/qc/{next(_seq)}.zip", uploaded_at=clock.now())  # fmt: skip
            s.add(stored)
            s.flush()
            file_id = stored.id
        s.add(DocumentJob(kind="forms", params={}, actor={}, requested_by_user_id=office.id,
                          status=JobStatus.done if file_id else JobStatus.running, file_id=file_id,
                          created_at=clock.now(), finished_at=clock.now() if file_id else None))  # fmt: skip
    s.flush()
    return Case("/api/v1/document-jobs", factories.bearer(s, office), {})


BUILDERS: dict[str, Builder] = {
    "list_assessors": assessors,
    "list_applications": applications,
    "list_applicants": applicants,
    "list_rounds": rounds,
    "list_organizations": organizations,
    "list_users": users,
    "list_users_security": users_security,
    "search_login_log": login_log,
    "search_security_audit": security_audit,
    "list_audit_archives": audit_archives,
    "list_webhook_deliveries": webhook_deliveries,
    "poll_events": poll_events,
    "list_sites": sites,
    "public_list_sites": public_sites,
    "list_site_inspections": site_inspections,
    "list_inspections": inspections,
    "list_document_jobs": document_jobs,
}


def _paged_lists() -> set[str]:
    out = set()
    for ops in create_app().openapi()["paths"].values():
        op = ops.get("get")
        if op and any(p["name"] == "limit" for p in op.get("parameters", [])):
            out.add(op["operationId"])
    return out


PAGED = _paged_lists()


def test_every_paged_list_endpoint_has_a_query_count_case() -> None:
    missing = PAGED - set(BUILDERS) - set(COVERED_ELSEWHERE)
    assert not missing, f"give these list endpoints a query-count case: {sorted(missing)}"


@pytest.mark.parametrize("operation", sorted(PAGED & set(BUILDERS)))
def test_a_page_of_50_costs_the_same_statements_as_a_page_of_5(
    operation: str, session: Session, client: TestClient
) -> None:
    b.set_day(b.ASSESSING)
    case = BUILDERS[operation](session)
    session.commit()  # keep the rows if a request fails (it rolls back to here only)
    engine = session.get_bind().engine  # type: ignore[union-attr]

    def count(limit: int) -> int:
        with counting(engine) as statements:
            r = client.get(case.path, params={**case.params, "limit": limit}, headers=case.headers)
        assert r.status_code == 200, (operation, r.text)
        assert len(r.json()["items"]) == limit, (operation, len(r.json()["items"]))
        return len(statements)

    count(1)  # warm: first-use caches (settings, scopes) do not count against either page
    small, large, small_again = count(SMALL), count(LARGE), count(SMALL)
    assert small == large == small_again, (operation, small, large)
    assert large <= 20, (operation, large)  # authentication and paging included
