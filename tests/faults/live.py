"""A real server in a subprocess (so it can be killed) and a TCP proxy in front of PostgreSQL
(so the database can "stop" without stopping the shared server)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from demosites.core.config import ROOT
from tests.waiting import eventually

SERVE = Path(__file__).with_name("serve.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn on `database_url` in its own process; `kill()` is kill -9."""

    def __init__(self, database_url: str, upload_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(upload_dir),
            "PORT": str(self.port),
            "RATE_LIMIT_USER_PER_MINUTE": "0",
            "RATE_LIMIT_SERVICE_PER_MINUTE": "0",
            "PYTHONPATH": str(ROOT / "backend") + os.pathsep + str(ROOT),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_healthy: bool = True) -> LiveServer:
        self.proc = subprocess.Popen([sys.executable, str(SERVE)], cwd=ROOT, env=self.env)
        proc = self.proc

        def answering() -> bool:
            assert proc.poll() is None, "the server exited at startup"
            try:
                r = httpx.get(self.base_url + "/healthz", timeout=2)
            except httpx.HTTPError:
                return False
            return r.status_code == 200 or not wait_healthy

        eventually(answering, "the server starting", every=0.2)
        return self

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=kw.pop("timeout", 30), **kw)

    def set_clock(self, iso: str | None) -> None:
        r = httpx.put(self.base_url + "/api/v1/test/clock", json={"now": iso}, timeout=10)
        assert r.status_code == 200, r.text

    def kill(self) -> None:
        """kill -9: no cleanup, no rollback handler, no lifespan shutdown."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(path: Path) -> None:
    eventually(path.exists, f"{path.name} appearing")


class PgProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL. `cut()` closes every connection and refuses new
    ones (as a stopped server does); `restore()` listens again on the same port. `cut_at_commit()`
    cuts everything the moment a connection that wrote history sends its COMMIT, before the
    database receives it. `blackhole()` goes silent: connections stay open and new ones are
    accepted, but nothing is forwarded either way (a hung pooler or server; TCP still looks
    alive, so keepalives do not notice); `heal()` forwards again on new connections."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._armed = False
        self._silent = threading.Event()
        self.cuts_at_commit = 0
        self.restore()

    # -- control --------------------------------------------------------------------------------

    def restore(self) -> None:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def cut_at_commit(self) -> None:
        self._armed = True

    def blackhole(self) -> None:
        self._silent.set()

    def heal(self) -> None:
        self._silent.clear()

    def close(self) -> None:
        self._stop.set()
        self.cut()

    # -- forwarding -----------------------------------------------------------------------------

    def _accept(self, ls: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        wrote_history = False
        silenced = False
        try:
            while True:
                ready, _, _ = select.select([client, upstream], [], [], 1.0)
                if self._stop.is_set():
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    # A connection that went silent stays so: its bytes in flight are lost.
                    silenced = silenced or self._silent.is_set()
                    if silenced:
                        continue
                    if s is client:
                        if self._armed and b"INSERT INTO history" in data:
                            wrote_history = True
                        if self._armed and wrote_history and b"COMMIT" in data:
                            self._armed = False
                            self.cuts_at_commit += 1
                            threading.Thread(target=self.cut, daemon=True).start()
                            return
                        upstream.sendall(data)
                    else:
                        client.sendall(data)
        except OSError:
            return
        finally:
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.close()
