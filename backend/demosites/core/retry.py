"""Deadlocks and serialisation failures: the request's whole unit of work runs again.

A request's unit of work is everything between its function-scoped dependencies opening and
closing: the session (`core/db.get_session`) opens, authentication, the idempotency claim and the
handler write through it, and the session's exit commits (or rolls back). PostgreSQL rolls the
loser of a deadlock (40P01) or a serialisation failure (40001) back whole, so nothing of it was
applied and running it again is the remedy the database documents. `RetryRoute` does that:

- Each attempt gets its own exit stack for function-scoped dependencies, so a failed attempt's
  session is rolled back and closed — its locks released — before the next attempt begins; the
  commit is part of the attempt, so a failure at COMMIT is retried too.
- The body is read once and kept by the Request (`body()` and `form()` cache it), so every
  attempt parses the same bytes; uploaded files are rewound before an attempt reads them again.
- At most DATABASE_RETRY_ATTEMPTS attempts, with full-jitter exponential backoff between them;
  then the error goes to the error handlers, which answer 503 `retry_later` with Retry-After
  (core/errors.database_problem). Only deadlocks and serialisation failures are retried: a lock
  or statement timeout already waited its full time.
- Idempotency holds: an Idempotency-Key claim is a row in the same transaction, so a failed
  attempt rolled its claim back with everything else and the next attempt claims it anew.

Work done outside the database by a failed attempt is not undone: an upload written to disk
before its row was committed is left for the orphan sweep (files/service.py), as after a crash.

Subclasses change what one attempt runs by overriding `unit_of_work_handler` (not
`get_route_handler`), so that their own writes are inside the retried unit and commit with it."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from demosites.core.config import get_settings
from demosites.core.dbfailures import is_retryable

log = logging.getLogger("demosites")

# FastAPI keeps the exit stack of function-scoped dependencies here (fastapi/routing.py).
_FUNCTION_STACK = "fastapi_function_astack"
BACKOFF_FIRST = 0.05  # seconds: the first wait is up to this, doubling per attempt
BACKOFF_CAP = 1.0

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): "full jitter", so that two
    requests that deadlocked on each other do not meet again at the same instant."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (attempt - 1)))


async def _rewind_uploads(request: Request) -> None:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return
    form = await request.form()  # parsed by the first attempt: this is the cached form
    for _, value in form.multi_items():
        if isinstance(value, UploadFile):
            await value.seek(0)


def retrying(handler: Handler) -> Handler:
    """`handler` run as one unit of work, again when the database rolled it back as a lost race."""

    async def unit_of_work_with_retries(request: Request) -> Response:
        attempts = max(1, get_settings().database_retry_attempts)
        outer_stack = request.scope.get(_FUNCTION_STACK)
        attempt = 1
        while True:
            try:
                async with AsyncExitStack() as stack:
                    request.scope[_FUNCTION_STACK] = stack
                    response = await handler(request)
                # The stack is closed: the session has committed, the response can go.
                return response
            except Exception as exc:
                if attempt >= attempts or not is_retryable(exc):
                    raise
                log.warning(
                    "%s %s: %s, running the request again (attempt %d of %d)",
                    request.method,
                    request.url.path,
                    getattr(getattr(exc, "orig", None), "sqlstate", exc.__class__.__name__),
                    attempt + 1,
                    attempts,
                )
            finally:
                request.scope[_FUNCTION_STACK] = outer_stack
            await anyio.sleep(backoff(attempt))
            await _rewind_uploads(request)
            attempt += 1

    return unit_of_work_with_retries


class RetryRoute(APIRoute):
    """Route class of every API router: the request's unit of work is retried on deadlock and
    serialisation failure (see the module docstring)."""

    def get_route_handler(self) -> Handler:
        return retrying(self.unit_of_work_handler())

    def unit_of_work_handler(self) -> Handler:
        """What one attempt runs: parse, authenticate, handle. Subclasses wrap this."""
        return super().get_route_handler()
