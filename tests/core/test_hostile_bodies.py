"""Hostile request bodies (issue 19): JSON nested 10,000 deep (with a NUL) and a Content-Length
that lies, longer or shorter than the body, are refused as problem+json — by the app through the
TestClient, and by a live uvicorn (its own HTTP parser included) over a raw socket."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from demosites.core.inputs import MAX_JSON_DEPTH
from tests.faults import scenario as sc
from tests.faults.live import LiveServer

DEEP = b"[" * 10_000 + b'"\\u0000"' + b"]" * 10_000
LOGIN = "/api/v1/auth/login"


def _problem(status: int, body: bytes, code: str) -> None:
    data = json.loads(body)
    assert data["status"] == status and data["code"] == code
    assert " / " in data["title"] and " / " in data["detail"]  # English / 中文


@pytest.mark.parametrize("ctype", ["application/json", None, "application/merge-patch+json"])
def test_json_nested_ten_thousand_deep_is_refused_without_a_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture, ctype: str | None
) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    with caplog.at_level(logging.WARNING):
        r = client.post(LOGIN, content=DEEP, headers=headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    _problem(422, r.content, "json_too_deep")
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_json_at_the_depth_limit_reaches_the_route(client: TestClient) -> None:
    nested = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    r = client.post(LOGIN, content=nested, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    brackets_in_strings = json.dumps({"username": "[" * 5000, "password": "{" * 5000}).encode()
    r = client.post(
        LOGIN, content=brackets_in_strings, headers={"Content-Type": "application/json"}
    )
    assert r.json()["code"] != "json_too_deep"


@pytest.mark.parametrize("declared", [5, len(b'{"username": "a", "password": "b"}') + 100])
def test_a_lying_content_length_is_refused_by_the_app(client: TestClient, declared: int) -> None:
    body = b'{"username": "a", "password": "b"}'
    headers = {"Content-Type": "application/json", "Content-Length": str(declared)}
    r = client.post(LOGIN, content=body, headers=headers)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    _problem(400, r.content, "content_length_mismatch")


@pytest.fixture
def live(fresh_engine: Engine, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(sc.db_url(fresh_engine), tmp_path / "uploads", BODY_TIMEOUT_SECONDS="1")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _raw(server: LiveServer, request: bytes, half_close: bool) -> tuple[int, dict[str, str], bytes]:
    """Sends `request` as it is and reads the first answer: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
        s.sendall(request)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 1 << 30


def _post(length: int, body: bytes, ctype: bytes = b"application/json") -> bytes:
    return (
        b"POST " + LOGIN.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + ctype
        + b"\r\nContent-Length: " + str(length).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


BODY = b'{"username": "office", "password": "not-the-password"}'


@pytest.mark.parametrize(
    ("name", "request_bytes", "half_close", "status", "code"),
    [
        # Shorter: the rest of the body reads as a broken next request (uvicorn's parser).
        ("shorter", _post(5, BODY), True, 400, "malformed_request"),
        # Longer, then the client closes its side: the body can never complete.
        ("longer, closed", _post(len(BODY) + 100, BODY), True, 400, "incomplete_body"),
        # Longer, and the client waits: answered once no byte came for BODY_TIMEOUT_SECONDS.
        ("longer, waiting", _post(len(BODY) + 100, BODY), False, 408, "body_timeout"),
        ("deep JSON", _post(len(DEEP), DEEP), False, 422, "json_too_deep"),
    ],
)
def test_a_live_server_answers_hostile_bodies_with_problem_json(
    live: LiveServer, name: str, request_bytes: bytes, half_close: bool, status: int, code: str
) -> None:
    got, headers, body = _raw(live, request_bytes, half_close)
    assert got == status, (name, body[:300])
    assert headers["content-type"] == "application/problem+json", name
    _problem(status, body, code)
