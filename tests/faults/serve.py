"""Runs the app under uvicorn for fault tests, optionally freezing at one SQL statement.

FAULT_PAUSE_ON=<text> FAULT_PAUSE_NTH=<n> FAULT_MARKER=<path>: the n-th statement containing
<text> writes <path> and sleeps, so the test can kill -9 the process at exactly that point.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import event
from sqlalchemy.engine import Engine

PATTERN = os.environ.get("FAULT_PAUSE_ON")
NTH = int(os.environ.get("FAULT_PAUSE_NTH", "1"))
_seen = 0

if PATTERN:

    @event.listens_for(Engine, "before_cursor_execute")
    def _freeze(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
        global _seen
        if PATTERN in statement:
            _seen += 1
            if _seen == NTH:
                Path(os.environ["FAULT_MARKER"]).write_text(str(os.getpid()))
                time.sleep(3600)


if __name__ == "__main__":
    uvicorn.run(
        "demosites.main:app",
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        log_level="warning",
        workers=int(os.environ.get("WORKERS", "1")),
        http="demosites.core.server:HttpToolsProtocol",  # as scripts/serve.sh
    )
