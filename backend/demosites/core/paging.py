"""Paging parameters shared by every list endpoint: `limit` (max 200) and `offset`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import BaseModel


class PageParams(BaseModel):
    limit: int
    offset: int


def _page(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (max 200)")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(_page)]

# Path ids are bounded so that an out-of-range integer is a 422, not a database error.
ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Object id")]
