"""A webhook receiver for the deadline-day benchmark, in a process of its own so that it takes no
time from the load generator: answers 204 to every POST and counts them; `GET /count` says how many.

    python benchmarks/deadline/receiver.py PORT
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_lock = threading.Lock()
_count = 0


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        global _count
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with _lock:
            _count += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        body = str(_count).encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Hook)
    server.daemon_threads = True
    server.serve_forever()
