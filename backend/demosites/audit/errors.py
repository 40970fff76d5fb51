"""Errors of the history (stable problem codes of the API contract)."""

from __future__ import annotations

from typing import Any

from demosites.core.errors import RetryLater


class HistoryBusy(RetryLater):
    """One object's history was appended to by other writers again and again while this request
    tried to append: nothing was written; the request may simply be sent again (503
    `retry_later`, like a deadlock: the database is there, the request lost a race)."""

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(
            detail
            or "The history of this object is being written by others; try again shortly / "
            "该对象的履历正被他人写入，请稍后重试",
            retry_after=1,
            **extra,
        )
