"""Rendered pages kept in memory while the data behind them is unchanged.

Correctness rests on a change stamp kept by the database, not on the code remembering to
invalidate: every INSERT, UPDATE, DELETE (and TRUNCATE) on a table a page is made from bumps
the page's stamp in a trigger, in the writer's own transaction (migration 0910). A request
reads the stamp, then the page: a cached page is served only under the stamp it was made at.
A page made in a transaction that may still roll back is never stored (only transactions
that wrote nothing store pages). Each API process keeps its own pages; they agree because
they read the same stamp. With `LIST_CACHE_ENTRIES=0` nothing is kept.

The stamp row is a point of serialisation for writers of those tables (each holds its lock
until commit); application writes are already serialised by the history chain's lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from sqlalchemy import BigInteger, String, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col

from demosites.core.config import get_settings

# What the application list is made from: the applications, their units, recommenders,
# assessment teams (users and their organisations), rounds and phase exceptions.
APPLICATIONS = "applications"
STAMPED_TABLES = {
    APPLICATIONS: (
        "application", "applicant_unit", "organization", "user", "assessment_assignment",
        "round", "phase_exception",
    ),
}  # fmt: skip
MAX_PAGE_BYTES = 1_000_000  # a bigger page is not kept
MAX_TOTAL_BYTES = 32 * 1024 * 1024  # per process, whatever the number of entries


class ChangeStamp(SQLModel, table=True):
    __tablename__ = "change_stamp"

    name: str = Field(primary_key=True, max_length=32, sa_type=String(32))
    n: int = Field(default=0, sa_type=BigInteger)


_READ = sa_select(col(ChangeStamp.n)).where(col(ChangeStamp.name) == bindparam("name"))


def stamp(session: Session, name: str) -> int | None:
    """The stamp of `name` as this transaction sees it (None: no stamp, nothing cached)."""
    return session.execute(_READ, {"name": name}).scalar_one_or_none()


def pending_writes(session: Session) -> bool:
    """Whether this session holds ORM changes not yet flushed or rolled back."""
    return bool(session.new or session.dirty or session.deleted)


class PageCache:
    """A small LRU of rendered pages (bytes), bounded by count and by size, thread-safe."""

    def __init__(self) -> None:
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: bytes) -> None:
        entries = get_settings().list_cache_entries
        if entries <= 0 or len(page) > MAX_PAGE_BYTES:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self._bytes -= len(old) if old is not None else 0
            self._pages[key] = page
            self._bytes += len(page)
            while len(self._pages) > entries or self._bytes > MAX_TOTAL_BYTES:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)


pages = PageCache()
