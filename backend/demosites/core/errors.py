"""One error type for the whole API, rendered as RFC 9457 problem+json with a stable `code`."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from demosites.core.dbfailures import RETRY_LATER, DbFailure, classify
from demosites.core.field_messages import msg_zh

log = logging.getLogger("demosites")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://demosites.ah.gov.cn/problems/"


class DomainError(Exception):
    """Raised by services; each subclass fixes its status and code. `detail` is bilingual."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request / 请求有误"
    # True when what the request wrote before failing must still be committed.
    keep_changes: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra
        self.headers: dict[str, str] = {}


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found / 未找到"


class MethodNotAllowed(DomainError):
    status, code, title = 405, "method_not_allowed", "Method not allowed / 不支持该请求方法"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden / 无权进行此操作"


class Unauthenticated(DomainError):
    status, code, title = (
        401,
        "unauthenticated",
        "Not logged in or session expired / 未登录或登录已失效",
    )

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = "Bearer"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict / 数据冲突"


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_error", "Invalid input / 输入有误"


class PreconditionFailed(DomainError):
    status, code, title = (
        412,
        "precondition_failed",
        "The object was changed by someone else; reload and try again / 数据已被他人修改，请刷新后重试",
    )


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Payload too large / 内容超过大小限制"


class TooManyRequests(DomainError):
    status, code, title = 429, "too_many_requests", "Too many requests / 请求过于频繁"

    def __init__(self, detail: str | None = None, retry_after: int = 60, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))


class ServiceUnavailable(DomainError):
    status, code, title = (
        503,
        "service_unavailable",
        "Service temporarily unavailable / 服务暂不可用",
    )


class RetryLater(DomainError):
    """The database is reachable but this request lost a race (deadlock, serialisation failure,
    lock or statement timeout) and nothing of it was applied: send it again after Retry-After."""

    status, code, title = (
        503,
        "retry_later",
        "Busy for a moment; try again shortly / 系统繁忙，请稍后重试",
    )

    def __init__(self, detail: str | None = None, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))


# Why a request was refused with retry_later, and after how many seconds to send it again.
_RETRY_LATER: dict[DbFailure, tuple[str, int]] = {
    DbFailure.deadlock: (
        "Other changes to the same records were saved at the same moment; nothing of this "
        "request was applied. Send it again / 同一数据正被其他操作同时修改，本次请求未生效，请重试",
        1,
    ),
    DbFailure.serialization: (
        "Other changes to the same records were saved at the same moment; nothing of this "
        "request was applied. Send it again / 同一数据正被其他操作同时修改，本次请求未生效，请重试",
        1,
    ),
    DbFailure.lock_timeout: (
        "The records this request needs stayed locked by another change; nothing was applied. "
        "Try again shortly / 所需数据被其他操作长时间锁定，本次请求未生效，请稍后重试",
        2,
    ),
    DbFailure.statement_timeout: (
        "The database took too long over this request and stopped it; nothing was applied. "
        "Try again later / 数据库处理超时，本次请求未生效，请稍后重试",
        5,
    ),
    DbFailure.transaction_timeout: (
        "The request's transaction stayed open too long and was ended; nothing was applied. "
        "Try again later / 请求事务持续过久已被终止，本次请求未生效，请稍后重试",
        5,
    ),
}


def database_problem(exc: BaseException) -> JSONResponse:
    """The answer to a database error: 503 retry_later when the database is there but the
    request lost a race or ran out of time, 503 service_unavailable when it does not answer,
    422 for data it refused (NUL bytes, out-of-range integers)."""
    kind = classify(exc)
    if kind in RETRY_LATER:
        detail, retry_after = _RETRY_LATER[kind]
        log.warning("database refused the request for now: %s", kind)
        err = RetryLater(detail, retry_after=retry_after)
        return problem(err.status, err.code, err.title, err.detail, headers=err.headers)
    if kind is DbFailure.connection_lost:
        log.error("database unreachable: %s", exc.__class__.__name__)
        return problem(
            503,
            "service_unavailable",
            ServiceUnavailable.title,
            "The database is unreachable; try again shortly / 数据库暂不可用，请稍后重试",
            headers={"Retry-After": "5"},
        )
    if kind is DbFailure.unavailable:
        log.error("database cannot serve: %s", getattr(getattr(exc, "orig", None), "sqlstate", ""))
        return problem(
            503,
            "service_unavailable",
            ServiceUnavailable.title,
            "The database cannot take this request now; try again shortly / "
            "数据库暂时无法处理请求，请稍后重试",
            headers={"Retry-After": "5"},
        )
    log.warning("database refused input: %s", exc.__class__.__name__)
    return problem(
        422,
        "validation_error",
        "Invalid input / 输入有误",
        "The database refused a value (out of range or invalid characters) / 数据超出范围或含非法字符",
    )


class FieldError(BaseModel):
    loc: list[str] = Field(examples=[["body", "name"]])
    msg: str = Field(
        examples=["Field required"], description="English (pydantic's message, unchanged)"
    )
    msg_zh: str = Field(examples=["必填字段"], description="The same in Chinese / 中文说明")
    type: str = Field(examples=["missing"])


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str = Field(examples=[TYPE_BASE + "not_found"])
    title: str = Field(examples=["Not found / 未找到"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["Application 12 not found / 未找到该申报"])
    code: str = Field(examples=["not_found"])
    errors: list[FieldError] | None = Field(
        default=None, description="Per-field errors for validation_error"
    )


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: documents each error it may answer, grouped by status."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(err.status, {"model": Problem, "description": ""})
        codes = entry.setdefault("_codes", [])
        codes.append(err.code)
    for entry in out.values():
        entry["description"] = "problem+json; code: " + ", ".join(entry.pop("_codes"))
    return out


# Bilingual titles for the framework's own refusals (a POST to an SPA page, a PUT to /healthz).
_TITLES = {404: NotFound.title, 405: MethodNotAllowed.title}


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        out.append(
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "msg_zh": msg_zh(e),
                "type": str(e.get("type", "")),
            }
        )
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status, exc.code, exc.title, exc.detail, headers=exc.headers or None, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errs = _jsonable_errors(exc.errors())
        fields = ", ".join(".".join(e["loc"][1:] or e["loc"]) for e in errs[:5])
        return problem(
            422,
            "validation_error",
            "Invalid input / 输入有误",
            f"Check these fields / 请检查以下字段: {fields}",
            errors=errs,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, DomainError):
            # One of ours raised while the framework read the body (the body limit): answer it.
            cause = exc.__cause__
            return problem(
                cause.status, cause.code, cause.title, cause.detail, headers=cause.headers or None
            )
        if exc.status_code == 400:
            # The framework's only 400: a body it could not parse (malformed JSON, bytes that are
            # not UTF-8, broken multipart). That is invalid input like any other: 422, documented.
            return problem(
                422,
                "validation_error",
                "Invalid input / 输入有误",
                "The request body could not be parsed / 请求体格式错误，无法解析",
                errors=_jsonable_errors(
                    [{"loc": ["body"], "msg": str(exc.detail), "type": "body_parse_error"}]
                ),
            )
        codes = {
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            429: "too_many_requests",
        }
        code = codes.get(
            exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        )
        title = _TITLES.get(exc.status_code, HTTPStatus(exc.status_code).phrase)
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405 and "Allow" in headers:
            # Starlette lists the methods of the first route whose path matched; outside /api
            # (core.fallback answers there) every GET route of this app also answers HEAD
            # (/healthz through a separate HEAD route, the SPA and /docs by their own).
            allow = {m.strip() for m in headers["Allow"].split(",") if m.strip()}
            if "GET" in allow:
                allow.add("HEAD")
            headers["Allow"] = ", ".join(sorted(allow))
        return problem(exc.status_code, code, title, detail, headers=headers or None)

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy for the pool timeout: overloaded, not broken.
        log.error("database connection pool exhausted")
        return problem(
            503,
            "service_unavailable",
            ServiceUnavailable.title,
            "The server is busy; try again shortly / 服务器繁忙，请稍后重试",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _db_error(_: Request, exc: DBAPIError) -> JSONResponse:
        # Retried already where that helps (core/retry.py); what is left is answered here.
        return database_problem(exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(500, "internal_error", "Internal error / 服务器内部错误")


_SERVICE_UNAVAILABLE: dict[str, Any] = {
    "description": (
        "problem+json; code: retry_later (the request lost a race in the database or ran out of "
        "time there; nothing was applied: send it again after Retry-After), service_unavailable "
        "(the database does not answer)"
    ),
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before sending the request again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Errors are served as application/problem+json: say so in the document, for every 4xx/5xx
    (FastAPI files `responses=` models and its own 422 under application/json)."""
    ref = {"$ref": "#/components/schemas/Problem"}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses_ = op.setdefault("responses", {})
            if "401" in responses_ and "429" not in responses_:
                # Every authenticated call is rate limited per user / service account.
                responses_["429"] = {"description": "problem+json; code: rate_limited"}
            if "requestBody" in op and "413" not in responses_:
                # Any body over the limit is refused before the route runs (main.BodyLimit).
                responses_["413"] = {"description": "problem+json; code: payload_too_large"}
            if "503" not in responses_:
                # Any request may lose a race in the database or find it gone (database_problem).
                responses_["503"] = dict(_SERVICE_UNAVAILABLE)
            for status, resp in op.get("responses", {}).items():
                if str(status)[0] not in "45":
                    continue
                # A route may document a richer problem (the token endpoint's OAuthProblem);
                # FastAPI's own validation model is replaced by ours.
                declared = resp.get("content", {}).get("application/json", {}).get("schema", {})
                own = str(declared.get("$ref", "")).startswith("#/components/schemas/") and (
                    "HTTPValidationError" not in declared["$ref"]
                )
                resp["content"] = {PROBLEM_JSON: {"schema": declared if own else ref}}
                if status == "422" and resp.get("description") == "Validation Error":
                    resp["description"] = "problem+json; code: validation_error"
    comps = schema.get("components", {}).get("schemas", {})
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    return schema
