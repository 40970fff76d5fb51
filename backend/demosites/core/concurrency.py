"""Optimistic concurrency over HTTP: weak ETags from a row's `version`, checked by If-Match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Response

from demosites.core.errors import PreconditionFailed

IF_MATCH_DESCRIPTION = (
    'The ETag of the last read (e.g. W/"3"); a stale one answers 412 precondition_failed. '
    "Optional: without it the change applies to the current version."
)


def etag(version: int) -> str:
    """The ETag of an object at `version` (weak: it names the version, not the bytes)."""
    return f'W/"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


@dataclass(frozen=True)
class IfMatch:
    """The versions an If-Match header accepts; `None` when any version will do."""

    versions: frozenset[int] | None = None

    def check(self, current: int) -> None:
        """Raises 412 when the caller edited an older version than the one stored."""
        if self.versions is not None and current not in self.versions:
            raise PreconditionFailed(
                f"The object is at version {current}; reload it / 数据已更新至第 {current} 版，请刷新后重试",
                current_etag=etag(current),
            )


ANY = IfMatch(None)


def parse_if_match(value: str | None) -> IfMatch:
    """Parses `W/"3"`, `"3"`, a comma list, or `*`. An unparseable tag can never match."""
    if value is None or not value.strip() or value.strip() == "*":
        return ANY
    versions: set[int] = set()
    for part in value.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if len(tag) >= 2 and tag[0] == tag[-1] == '"':
            tag = tag[1:-1]
        if tag.isdigit() and len(tag) < 10:
            versions.add(int(tag))
        else:
            versions.add(-1)  # matches nothing: the precondition fails rather than being ignored
    return IfMatch(frozenset(versions))


def _if_match(
    if_match: Annotated[
        str | None, Header(alias="If-Match", max_length=200, description=IF_MATCH_DESCRIPTION)
    ] = None,
) -> IfMatch:
    return parse_if_match(if_match)


IfMatchDep = Annotated[IfMatch, Depends(_if_match)]
