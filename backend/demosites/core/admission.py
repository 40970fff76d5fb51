"""Admission control: fewer requests at once than the thread pool has threads.

A request takes its database lock or connection in one thread (authentication) and finishes in
another (the endpoint). If waiting requests held every thread, the holder could not get one and
everything stood still until timeouts (on SQLite 30 s, then 503s). Admitting fewer requests than
there are threads keeps a thread free for whoever holds the lock. A request leaves once its
response starts: by then its transaction has committed (downloads stream outside the limit)."""

from __future__ import annotations

import asyncio
import weakref

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SPARE_THREADS = 8  # kept free for lock holders and the framework's own thread use


class AdmissionLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # One semaphore per event loop (each uvicorn worker has one; test clients start several).
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._per_loop.get(loop)
        if sem is None:
            threads = anyio.to_thread.current_default_thread_limiter().total_tokens
            sem = self._per_loop[loop] = asyncio.Semaphore(max(1, int(threads) - SPARE_THREADS))
        return sem

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sem = self._semaphore()
        await sem.acquire()
        held = True

        async def send_then_leave(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                sem.release()
            await send(message)

        try:
            await self.app(scope, receive, send_then_leave)
        finally:
            if held:
                sem.release()
