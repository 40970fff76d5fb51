"""One way for a test to wait for something that happens in another thread or process: poll
until it holds, within a generous bound. The bound keeps a broken run from hanging; it is not
a measure of speed (timing belongs in benchmarks/), so it is far above what a loaded machine
needs, and running out says what did not happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

GENEROUS = 60.0  # seconds


def eventually(
    check: Callable[[], T | None], what: str, *, seconds: float = GENEROUS, every: float = 0.05
) -> T:
    """Calls `check` until it returns something truthy, and returns that; raises AssertionError
    naming `what` did not happen when `seconds` pass first."""
    give_up = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= give_up:
            raise AssertionError(f"{what} did not happen within {seconds:.0f} s")
        time.sleep(every)
