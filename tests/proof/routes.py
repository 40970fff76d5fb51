"""Every API route with who may call it, where its path ids come from and a valid request.

The authorisation tests walk this table; a route of the app that is missing here fails them, so
a new route is covered the day it is added (add it to ROUTES, and its parameters to PARAMS)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from demosites.core.clock import clock
from demosites.core.scopes import api_routes
from tests.factories import PASSWORD
from tests.proof.world import PDF, ROLES, World

ALL = frozenset(ROLES)
PUBLIC = frozenset({"anonymous"}) | ALL
# Who reaches the work ledger at all: the office, city departments (here the recommender, who
# sits in 合肥市委宣传部) and the units keeping one (role unit); everyone else is refused (403).
LEDGER = frozenset({"office", "recommender", "unit"})
PLANNERS = frozenset({"office", "unit"})  # plans are written by the office and the unit itself
KEEPERS = frozenset({"unit"})  # entries are recorded by the unit's own keepers only
ADMINS = frozenset({"sysadmin", "secadmin"})
OFFICE = frozenset({"office"})

Body = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    roles: frozenset[str]
    body: Body | None = None  # keyword arguments of the request: json=, data=, files=
    note: str = ""
    # The route admits every listed role, and a table decides per action (the transition
    # tables, tested on their own): an allowed role may still be refused for this action.
    per_action: bool = False
    # The route checks a credential sent in the body (an invalid one answers 401 to anyone).
    checks_credential: bool = False


def _json(make: Callable[[World], Any]) -> Body:
    return lambda w: {"json": make(w)}


def _pdf(**data: str) -> Body:
    return lambda w: {"files": {"file": ("proof.pdf", PDF, "application/pdf")}, "data": data}


def _today() -> str:
    return clock.today().isoformat()


ROUTES: dict[str, Route] = {
    # auth: anyone may try to log in; the others act on the caller's own session
    "POST /api/v1/auth/token": Route(
        PUBLIC, lambda w: {"data": {"username": "w_applicant", "password": PASSWORD}}
    ),
    "POST /api/v1/auth/login": Route(
        PUBLIC, _json(lambda w: {"username": "w_applicant", "password": PASSWORD})
    ),
    "POST /api/v1/auth/login/mfa": Route(
        PUBLIC, _json(lambda w: {"mfa_token": "x", "otp": "123456"}), checks_credential=True
    ),
    "POST /api/v1/auth/logout": Route(ALL),
    "GET /api/v1/me": Route(ALL),
    "GET /api/v1/me/security": Route(ALL),
    "POST /api/v1/me/password": Route(
        ALL,
        _json(
            lambda w: {"current_password": "wrong-password-1", "new_password": "Anhui-Sites-2026!x"}
        ),
    ),
    "POST /api/v1/me/totp/setup": Route(ALL),
    "POST /api/v1/me/totp/confirm": Route(ALL, _json(lambda w: {"code": "123456"})),
    "POST /api/v1/me/totp/disable": Route(ALL, _json(lambda w: {"password": "wrong-password-1"})),
    "POST /api/v1/me/recovery-codes": Route(ALL, _json(lambda w: {"password": "wrong-password-1"})),
    "GET /api/v1/me/sessions": Route(ALL),
    "POST /api/v1/me/sessions/{session_id}/end": Route(
        ALL, note="one's own sessions only: another's is not found"
    ),
    # organisations and users (三员分立: the system administrator keeps them)
    "GET /api/v1/organizations": Route(
        frozenset({"sysadmin", "secadmin", "office", "recommender"})
    ),
    "POST /api/v1/organizations": Route(
        frozenset({"sysadmin"}),
        _json(lambda w: {"code": "w_new_org", "name": "新组织", "kind": "other"}),
    ),
    "GET /api/v1/users": Route(ADMINS),
    "POST /api/v1/users": Route(
        frozenset({"sysadmin"}),
        _json(
            lambda w: {
                "username": "w_new_user",
                "display_name": "新用户",
                "password": "Anhui-Sites-2026!x",
                "organization_id": 1,
                "roles": ["recommender"],
            }
        ),
    ),
    "GET /api/v1/users/{user_id}/contact": Route(frozenset({"sysadmin", "office"})),
    # security administration
    "GET /api/v1/security/policy": Route(ADMINS | {"auditor"}),
    "PATCH /api/v1/security/policy": Route(
        frozenset({"secadmin"}), _json(lambda w: {"session_idle_minutes": 30})
    ),
    "GET /api/v1/security/users": Route(ADMINS),
    "GET /api/v1/security/users/{user_id}": Route(ADMINS),
    "POST /api/v1/security/users/{user_id}/lock": Route(
        frozenset({"secadmin"}), _json(lambda w: {"reason": "离职"})
    ),
    "POST /api/v1/security/users/{user_id}/unlock": Route(frozenset({"secadmin"})),
    "POST /api/v1/security/users/{user_id}/force-password-change": Route(frozenset({"secadmin"})),
    "POST /api/v1/security/users/{user_id}/reset-password": Route(frozenset({"secadmin"})),
    "POST /api/v1/security/users/{user_id}/mfa/reset": Route(frozenset({"secadmin"})),
    "PUT /api/v1/security/users/{user_id}/roles": Route(
        frozenset({"secadmin"}), _json(lambda w: {"roles": ["applicant"]})
    ),
    "GET /api/v1/security/users/{user_id}/sessions": Route(frozenset({"secadmin"})),
    "POST /api/v1/security/sessions/{session_id}/end": Route(frozenset({"secadmin"})),
    "GET /api/v1/security/login-log": Route(frozenset({"auditor"})),
    "GET /api/v1/security/login-log/export": Route(frozenset({"auditor"})),
    "GET /api/v1/security/audit": Route(frozenset({"auditor"})),
    "GET /api/v1/security/audit/export": Route(frozenset({"auditor"})),
    "GET /api/v1/security/audit/verify": Route(frozenset({"auditor"})),
    "GET /api/v1/security/audit/archives": Route(frozenset({"auditor"})),
    # integration: service accounts and webhooks are the administrators' (and the account's own)
    "POST /api/v1/service-accounts": Route(
        frozenset({"sysadmin"}),
        _json(lambda w: {"name": "新平台", "organization_id": 1, "scopes": ["applications:read"]}),
    ),
    "GET /api/v1/service-accounts": Route(ADMINS),
    "GET /api/v1/service-accounts/scopes": Route(ADMINS),
    "GET /api/v1/webhooks/allowed-hosts": Route(frozenset({"secadmin"})),
    "DELETE /api/v1/webhooks/allowed-hosts/{host_id}": Route(frozenset({"secadmin"})),
    "PUT /api/v1/service-accounts/{account_id}/scopes": Route(
        frozenset({"secadmin"}), _json(lambda w: {"scopes": ["applications:read"]})
    ),
    "POST /api/v1/service-accounts/{account_id}/revoke": Route(ADMINS),
    "POST /api/v1/webhooks/allowed-hosts": Route(
        frozenset({"secadmin"}), _json(lambda w: {"host": "10.1.2.3"})
    ),
    "POST /api/v1/webhooks": Route(
        ADMINS,
        _json(lambda w: {"url": "https://192.0.2.10/hook", "service_account_id": w.ids["account"]}),
    ),
    "GET /api/v1/webhooks": Route(ADMINS),
    "DELETE /api/v1/webhooks/{webhook_id}": Route(ADMINS),
    "GET /api/v1/webhooks/{webhook_id}/deliveries": Route(ADMINS),
    "POST /api/v1/webhooks/deliveries/{delivery_id}/replay": Route(ADMINS),
    "GET /api/v1/events": Route(ALL, note="each caller reads the events of its own audience"),
    # the work ledger (台账)
    "GET /api/v1/ledger/units": Route(LEDGER),
    "POST /api/v1/ledger/units": Route(
        LEDGER,
        _json(
            lambda w: {"parent_id": w.ids["ledger_unit"], "name": "新小区", "level": "community"}
        ),
    ),
    "GET /api/v1/ledger/units/{unit_id}": Route(LEDGER),
    "PATCH /api/v1/ledger/units/{unit_id}": Route(LEDGER, _json(lambda w: {"name": "改名社区"})),
    "GET /api/v1/ledger/templates": Route(LEDGER),
    "GET /api/v1/ledger/templates/{code}": Route(LEDGER),
    "GET /api/v1/ledger/plans": Route(LEDGER),
    "POST /api/v1/ledger/plans": Route(
        PLANNERS,
        _json(lambda w: {"unit_id": w.ids["ledger_unit"], "year": 2031, "title": "新计划"}),
    ),
    "GET /api/v1/ledger/plans/{plan_id}": Route(LEDGER),
    "PATCH /api/v1/ledger/plans/{plan_id}": Route(PLANNERS, _json(lambda w: {"title": "改名计划"})),
    "POST /api/v1/ledger/plans/{plan_id}/sections": Route(
        PLANNERS, _json(lambda w: {"title": "新部分"})
    ),
    "PATCH /api/v1/ledger/sections/{section_id}": Route(
        PLANNERS, _json(lambda w: {"title": "改名部分"})
    ),
    "DELETE /api/v1/ledger/sections/{section_id}": Route(PLANNERS),
    "POST /api/v1/ledger/plans/{plan_id}/items": Route(
        PLANNERS, _json(lambda w: {"title": "新事项"})
    ),
    "PATCH /api/v1/ledger/items/{item_id}": Route(PLANNERS, _json(lambda w: {"title": "改名事项"})),
    "DELETE /api/v1/ledger/items/{item_id}": Route(PLANNERS),
    "GET /api/v1/ledger/plans/{plan_id}/import-template": Route(LEDGER),
    "POST /api/v1/ledger/plans/{plan_id}/import": Route(KEEPERS, _pdf()),
    "GET /api/v1/ledger/entries": Route(LEDGER),
    "POST /api/v1/ledger/entries": Route(
        KEEPERS,
        _json(
            lambda w: {
                "unit_id": w.ids["ledger_unit"],
                "item_id": w.ids["item"],
                "entry_date": _today(),
                "title": "新记录",
            }
        ),
    ),
    "POST /api/v1/ledger/entries/bulk": Route(
        KEEPERS,
        _json(
            lambda w: {
                "items": [
                    {
                        "unit_id": w.ids["ledger_unit"],
                        "item_id": w.ids["item"],
                        "entry_date": _today(),
                        "title": "新记录",
                    }
                ]
            }
        ),
    ),
    "GET /api/v1/ledger/entries/{entry_id}": Route(LEDGER),
    "PATCH /api/v1/ledger/entries/{entry_id}": Route(
        KEEPERS, _json(lambda w: {"title": "改名记录"})
    ),
    "DELETE /api/v1/ledger/entries/{entry_id}": Route(KEEPERS),
    "POST /api/v1/ledger/entries/{entry_id}/attachments": Route(KEEPERS, _pdf()),
    "GET /api/v1/ledger/entries/{entry_id}/attachments": Route(LEDGER),
    "GET /api/v1/ledger/entries/{entry_id}/attachments/{file_id}": Route(LEDGER),
    "GET /api/v1/ledger/compliance": Route(LEDGER),
    "GET /api/v1/ledger/compliance/rollup": Route(LEDGER),
    "GET /api/v1/ledger/compliance/due": Route(LEDGER),
    "GET /api/v1/ledger/compliance/grid": Route(LEDGER),
    "GET /api/v1/ledger/compliance/trend": Route(LEDGER),
    # documents: lists and forms follow the data scope of what they export
    "GET /api/v1/applications/{application_id}/form.docx": Route(ALL),
    "GET /api/v1/applications/{application_id}/form.pdf": Route(ALL),
    "POST /api/v1/applications/forms.zip": Route(
        ALL, _json(lambda w: {"application_ids": [w.ids["application"]]})
    ),
    "GET /api/v1/applications/export.xlsx": Route(ALL),
    "GET /api/v1/rounds/{round_id}/quotas/export.xlsx": Route(ALL),
    "GET /api/v1/rounds/{round_id}/candidates/export.xlsx": Route(ALL),
    "GET /api/v1/applicants/import-template.xlsx": Route(frozenset({"office", "recommender"})),
    "POST /api/v1/applicants/import": Route(frozenset({"office", "recommender"}), _pdf()),
    "GET /api/v1/sites/{site_id}/certificate.pdf": Route(ALL),
    "POST /api/v1/sites/certificates.pdf": Route(
        ALL, _json(lambda w: {"site_ids": [w.ids["site"]]})
    ),
    "GET /api/v1/sites/export.xlsx": Route(ALL),
    "GET /api/v1/inspections/export.xlsx": Route(ALL),
    "GET /api/v1/rectifications/export.xlsx": Route(ALL),
    "POST /api/v1/rounds/{round_id}/compilation.docx": Route(OFFICE),
    "GET /api/v1/document-jobs": Route(ALL, note="one's own jobs only"),
    "GET /api/v1/document-jobs/{job_id}": Route(ALL, note="one's own jobs only"),
    "GET /api/v1/document-jobs/{job_id}/file": Route(ALL, note="one's own jobs only"),
    # rounds, quotas and meetings
    "GET /api/v1/rounds": Route(ALL),
    "POST /api/v1/rounds": Route(
        OFFICE,
        _json(
            lambda w: {
                "year": 2031,
                "name": "2031年度示范点创建",
                "application_start": "2031-06-01",
                "application_end": "2031-08-05",
                "materials_deadline": "2031-08-10",
                "assessment_start": "2031-08-15",
                "assessment_end": "2031-11-10",
                "awarding_start": "2031-11-21",
                "awarding_end": "2031-11-30",
                "publicity_start": "2031-12-01",
                "publicity_end": "2032-06-30",
            }
        ),
    ),
    "GET /api/v1/rounds/{round_id}": Route(ALL),
    "PATCH /api/v1/rounds/{round_id}": Route(OFFICE, _json(lambda w: {"name": "改名轮次"})),
    "GET /api/v1/rounds/{round_id}/quotas": Route(ALL),
    "POST /api/v1/rounds/{round_id}/quotas": Route(
        OFFICE,
        _json(lambda w: {"recommender_id": 1, "field": "school", "limit": 1, "eligibility": {}}),
    ),
    "PATCH /api/v1/rounds/{round_id}/quotas/{quota_id}": Route(
        OFFICE, _json(lambda w: {"limit": 2})
    ),
    "GET /api/v1/rounds/{round_id}/history": Route(OFFICE),
    "POST /api/v1/rounds/{round_id}/exceptions": Route(
        OFFICE, _json(lambda w: {"action": "recommend", "on_date": _today(), "reason": "系统故障"})
    ),
    "GET /api/v1/rounds/{round_id}/exceptions": Route(OFFICE),
    "POST /api/v1/rounds/{round_id}/meetings": Route(
        OFFICE, _json(lambda w: {"kind": "review", "held_on": _today(), "reference": "第1次评审会"})
    ),
    "GET /api/v1/rounds/{round_id}/meetings": Route(frozenset({"office", "committee", "approver"})),
    "GET /api/v1/rounds/{round_id}/stats": Route(OFFICE),
    # applicant units and applications
    "GET /api/v1/applicants": Route(ALL),
    "POST /api/v1/applicants": Route(
        frozenset({"office", "recommender"}),
        _json(lambda w: {"name": "新申报主体", "kind": "primary_school", "city": "合肥"}),
    ),
    "GET /api/v1/applicants/{applicant_id}": Route(ALL),
    "GET /api/v1/applicants/{applicant_id}/recommenders": Route(
        ALL, lambda w: {"params": {"round_id": w.ids["round"]}}
    ),
    "GET /api/v1/assessors": Route(OFFICE),
    "GET /api/v1/applications": Route(ALL),
    "POST /api/v1/applications": Route(
        frozenset({"applicant", "recommender", "office"}),
        _json(
            lambda w: {
                "round_id": w.ids["round"],
                "name": "新申报",
                "applicant_id": w.ids["applicant"],
                "recommender_id": w.ids["hefei"],
            }
        ),
    ),
    "POST /api/v1/applications/transitions": Route(
        ALL,
        _json(lambda w: {"action": "recommend", "application_ids": [w.ids["application"]]}),
        per_action=True,
    ),
    "GET /api/v1/applications/{application_id}": Route(ALL),
    "PATCH /api/v1/applications/{application_id}": Route(
        frozenset({"applicant", "recommender"}), _json(lambda w: {"name": "改名申报"})
    ),
    "POST /api/v1/applications/{application_id}/transitions": Route(
        ALL, _json(lambda w: {"action": "recommend"}), per_action=True
    ),
    "GET /api/v1/applications/{application_id}/history": Route(ALL),
    "PUT /api/v1/applications/{application_id}/assessors": Route(
        OFFICE, _json(lambda w: {"user_ids": [w.users["assessor"]]})
    ),
    "GET /api/v1/applications/{application_id}/materials": Route(ALL),
    "POST /api/v1/applications/{application_id}/materials": Route(
        frozenset({"applicant", "recommender"}), _pdf(purpose="deeds")
    ),
    "GET /api/v1/applications/{application_id}/materials/{file_id}": Route(ALL),
    # demonstration sites after the award
    "GET /api/v1/sites": Route(ALL),
    "GET /api/v1/sites/reminders": Route(OFFICE),
    "GET /api/v1/sites/{site_id}": Route(ALL),
    "POST /api/v1/sites/{site_id}/transitions": Route(
        ALL, _json(lambda w: {"action": "submit_report", "report": "整改报告"}), per_action=True
    ),
    "GET /api/v1/sites/{site_id}/history": Route(ALL),
    "GET /api/v1/sites/{site_id}/inspections": Route(ALL),
    "POST /api/v1/sites/{site_id}/inspections": Route(
        OFFICE, _json(lambda w: {"kind": "review", "year": clock.today().year})
    ),
    "GET /api/v1/sites/{site_id}/rectifications": Route(ALL),
    "GET /api/v1/sites/{site_id}/rectifications/{rectification_id}/evidence": Route(ALL),
    "POST /api/v1/sites/{site_id}/rectifications/{rectification_id}/evidence": Route(
        frozenset({"applicant"}), _pdf(), note="the site's own people"
    ),
    "GET /api/v1/sites/{site_id}/rectifications/{rectification_id}/evidence/{file_id}": Route(ALL),
    "GET /api/v1/sites/{site_id}/publicity": Route(ALL),
    "POST /api/v1/sites/{site_id}/publicity": Route(
        frozenset({"office", "applicant"}),
        _json(lambda w: {"kind": "forum", "title": "论坛发言", "happened_on": _today()}),
    ),
    "GET /api/v1/inspections": Route(ALL),
    "POST /api/v1/inspections/campaigns": Route(
        OFFICE, _json(lambda w: {"kind": "review", "year": clock.today().year})
    ),
    "PUT /api/v1/inspections/{inspection_id}/inspectors": Route(
        OFFICE, _json(lambda w: {"user_ids": [w.users["assessor"]]})
    ),
    "GET /api/v1/rounds/{round_id}/public-notice": Route(OFFICE),
    "POST /api/v1/rounds/{round_id}/public-notice": Route(
        OFFICE, _json(lambda w: {"working_days": 5})
    ),
    "PATCH /api/v1/rounds/{round_id}/public-notice": Route(
        OFFICE, _json(lambda w: {"enabled": False, "reason": "不再公示"})
    ),
    "GET /api/v1/rounds/{round_id}/public-notice/objections": Route(OFFICE),
    "POST /api/v1/objections/{objection_id}/result": Route(
        OFFICE, _json(lambda w: {"result": "dismissed", "investigation": "经核实不属实"})
    ),
    # public pages (no login)
    "GET /api/v1/public/sites": Route(PUBLIC),
    "GET /api/v1/public/rounds": Route(PUBLIC),
    "GET /api/v1/public/plaques/{plaque_no}": Route(PUBLIC),
    "GET /api/v1/public/notices": Route(PUBLIC),
    "POST /api/v1/public/notices/{notice_id}/objections": Route(
        PUBLIC,
        _json(
            lambda w: {
                "application_id": w.ids["application"],
                "name": "张三",
                "contact": "13800000000",
                "content": "反映的问题属实吗",
            }
        ),
    ),
}

# Where each path parameter's real id comes from: a key of World.ids (for `file_id`, per the
# collection it sits in). A parameter missing here fails the tests: map it when adding a route.
PARAMS: dict[str, str | dict[str, str]] = {
    "application_id": "application",
    "applicant_id": "applicant",
    "file_id": {
        "materials": "application_file",
        "attachments": "entry_file",
        "evidence": "site_file",
    },
    "site_id": "site",
    "rectification_id": "rectification",
    "inspection_id": "inspection",
    "plaque_no": "plaque_no",
    "unit_id": "ledger_unit",
    "plan_id": "plan",
    "section_id": "section",
    "item_id": "item",
    "entry_id": "entry",
    "code": "template",
    "account_id": "account",
    "webhook_id": "webhook",
    "host_id": "allowed_host",
    "delivery_id": "delivery",
    "job_id": "job",
    "user_id": "user",
    "session_id": "session",
    "quota_id": "quota",
    "round_id": "round",
    "notice_id": "notice",
    "objection_id": "objection",
}

# Which object a parameter names, for object-level authorisation. Parameters naming what every
# caller may read (the round calendar, ledger templates, public notices and plaques) are shared.
DOMAIN = {
    "application_id": "application", "applicant_id": "applicant",
    "site_id": "site", "rectification_id": "site", "inspection_id": "site",
    "unit_id": "ledger", "plan_id": "ledger", "section_id": "ledger", "item_id": "ledger",
    "entry_id": "ledger",
    "user_id": "admin", "session_id": "admin", "account_id": "admin", "webhook_id": "admin",
    "delivery_id": "admin", "host_id": "admin", "job_id": "admin", "objection_id": "admin", "quota_id": "admin",
}  # fmt: skip
SHARED = {"round_id", "code", "notice_id", "plaque_no", "file_id"}

# People who must not reach each kind of object (World personas). The application is 合肥's,
# the site is another city's (its recommender is `rec_site_city`), the ledger is 电厂社区's.
OUTSIDERS = {
    "application": ["rec_site_city", "rec_other_city", "rec_member", "assessor", "applicant_other",
                    "unit_sibling", "site_people"],
    # The register of applicant units is read by every provincial role (domain rule); a city
    # sees its own city's units, an applicant its own.
    "applicant": ["rec_site_city", "rec_other_city", "applicant_other", "unit_sibling",
                  "site_people"],
    "site": ["recommender", "rec_other_city", "rec_member", "assessor", "applicant",
             "applicant_other", "unit_sibling", "site_other"],
    "ledger": ["rec_site_city", "rec_other_city", "rec_member", "assessor", "applicant_other",
               "unit_sibling", "site_people"],
    "admin": ["recommender", "rec_member", "assessor", "committee", "approver", "auditor",
              "applicant_other", "unit_sibling", "site_other"],
}  # fmt: skip


def app_routes(app: Any) -> dict[str, Any]:
    """ "METHOD path" → APIRoute for every API route of the app (the catch-all 404 excluded)."""
    out = {}
    for route in api_routes(app):
        if route.path == "/api/{rest:path}" or "test" in route.tags:
            continue  # the catch-all 404, and the clock of browser tests (ENVIRONMENT=test only)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            out[f"{method} {route.path_format}"] = route
    return out


def path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)(?::\w+)?\}", path)


def url_for(path: str, w: World, overrides: dict[str, Any] | None = None) -> str:
    """The path with every parameter replaced by its real id in the world."""
    segments = path.split("/")
    for i, seg in enumerate(segments):
        m = re.fullmatch(r"\{(\w+)\}", seg)
        if not m:
            continue
        name = m.group(1)
        if overrides and name in overrides:
            segments[i] = str(overrides[name])
            continue
        source = PARAMS[name]
        key = source if isinstance(source, str) else source[segments[i - 1]]
        segments[i] = str(w.ids[key])
    return "/".join(segments)


def domain_of(path: str) -> str | None:
    """The kind of object a route acts on: its last parameter that is not shared."""
    owned = [p for p in path_params(path) if p not in SHARED]
    return DOMAIN[owned[-1]] if owned else None


def request_kwargs(key: str, w: World) -> dict[str, Any]:
    route = ROUTES[key]
    return route.body(w) if route.body else {}
