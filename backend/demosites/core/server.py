"""uvicorn's own refusals as problem+json, like every other answer of the API: a request the
HTTP parser rejects (a Content-Length shorter than the body leaves bytes that read as a broken
next request) and a body cut short by the client's end of stream (a Content-Length longer than
what was sent). Serve with `uvicorn --http demosites.core.server:HttpToolsProtocol` (scripts/
serve.sh does; `H11Protocol` for the pure-Python parser)."""

from __future__ import annotations

import json

from uvicorn.protocols.http.h11_impl import H11Protocol as _H11
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpTools

from demosites.core.errors import PROBLEM_JSON, TYPE_BASE


def problem_bytes(status: int, reason: str, code: str, title: str, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json response that closes the connection."""
    body = json.dumps(
        {
            "type": TYPE_BASE + code,
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        },
        ensure_ascii=False,
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {PROBLEM_JSON}\r\n"
        f"content-length: {len(body)}\r\nx-content-type-options: nosniff\r\n"
        "connection: close\r\n\r\n"
    ).encode("ascii")
    return head + body


MALFORMED = problem_bytes(
    400, "Bad Request", "malformed_request", "Malformed HTTP request / HTTP 请求格式错误",
    "The request could not be parsed as HTTP (is its Content-Length right?) / "
    "无法解析该 HTTP 请求（Content-Length 是否正确？）",
)  # fmt: skip
INCOMPLETE = problem_bytes(
    400, "Bad Request", "incomplete_body", "The request body is incomplete / 请求体不完整",
    "The connection ended before the body reached its Content-Length / "
    "请求体未达到 Content-Length 声明的长度连接即已结束",
)  # fmt: skip


class HttpToolsProtocol(_HttpTools):
    def send_400_response(self, msg: str) -> None:
        self.logger.warning("%s (answered 400 malformed_request)", msg)
        self.transport.write(MALFORMED)
        self.transport.close()

    def eof_received(self) -> None:
        # The client closed its side in the middle of a body: say so before closing ours.
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_started:
            self.transport.write(INCOMPLETE)
            cycle.disconnected = True  # what the app still sends is dropped, not an error
            self.transport.close()


class H11Protocol(_H11):
    def send_400_response(self, msg: str) -> None:
        self.logger.warning("%s (answered 400 malformed_request)", msg)
        self.transport.write(MALFORMED)
        self.transport.close()
