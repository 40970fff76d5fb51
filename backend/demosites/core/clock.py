"""The one injectable clock: every service asks it for "now" so tests can move time."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def today(self) -> date:
        # Officials think in Beijing time (UTC+8): a deadline "8月10日" ends at local midnight.
        return (self.now() + timedelta(hours=8)).date()

    def set(self, moment: datetime | None) -> None:
        """Freeze at `moment` (timezone-aware) or return to real time with None."""
        with self._lock:
            if moment is not None and moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            self._frozen = moment
            self._offset = timedelta(0)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta


clock = Clock()


def utcnow() -> datetime:
    return clock.now()
