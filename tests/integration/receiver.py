"""A webhook receiver on 127.0.0.1 for tests: records what arrives, can fail on purpose."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """`before_answer` runs on every request before it is answered (a slow receiver)."""

    def __init__(
        self, fail_first: int = 0, before_answer: Callable[[], None] | None = None
    ) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.calls = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if before_answer is not None:
                    before_answer()
                with receiver.lock:
                    receiver.calls += 1
                    failing = receiver.calls <= receiver.fail_first
                    if not failing:
                        receiver.received.append(
                            {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
                        )
                self.send_response(503 if failing else 200)
                self.end_headers()
                self.wfile.write(b"busy" if failing else b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
