#!/usr/bin/env python3
"""Export a round's recommended applications to CSV, as a provincial script would.

It logs in as a service account (client_credentials), then calls the API by the operationIds of
openapi/openapi.json (read from the server), so it keeps working when paths move.

    python examples/export_recommended.py --base-url http://127.0.0.1:8000 \
        --client-id sa_… --client-secret … --round-id 2 --output recommended.csv

Needs only httpx (pip install httpx)."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

import httpx

COLUMNS = [
    ("id", "编号"),
    ("name", "示范点名称"),
    ("applicant.name", "申报主体"),
    ("recommender.name", "推荐单位"),
    ("field", "领域"),
    ("city", "城市"),
    ("status", "状态"),
    ("priority", "优先"),
]


class Api:
    """A tiny client that finds each operation's method and path by its operationId."""

    def __init__(self, base_url: str, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=30)
        spec = self.http.get("/api/v1/openapi.json").raise_for_status().json()
        self.ops: dict[str, tuple[str, str]] = {
            op["operationId"]: (method.upper(), path)
            for path, ops in spec["paths"].items()
            for method, op in ops.items()
        }

    def call(self, operation_id: str, path_params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        method, path = self.ops[operation_id]
        response = self.http.request(method, path.format(**(path_params or {})), **kwargs)
        if response.status_code >= 400:
            problem = response.json()
            raise SystemExit(f"{operation_id}: {problem.get('code')} — {problem.get('detail')}")
        return response.json()

    def login(self, client_id: str, client_secret: str) -> None:
        token = self.call(
            "auth_token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
        )
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"


def recommended(api: Api, round_id: int, page_size: int = 200) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = api.call(
            "list_applications",
            params={"round_id": round_id, "status": "recommended", "limit": page_size, "offset": offset},
        )
        rows.extend(page["items"])
        offset += page_size
        if offset >= page["total"]:
            return rows


def write_csv(rows: list[dict[str, Any]], out: Any) -> None:
    writer = csv.writer(out)
    writer.writerow([title for _, title in COLUMNS])
    for row in rows:
        writer.writerow([_get(row, key) for key, _ in COLUMNS])


def _get(row: dict[str, Any], dotted: str) -> Any:
    value: Any = row
    for part in dotted.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", default="http://127.0.0.1:8000")
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--round-id", type=int, required=True)
    p.add_argument("--output", default="-", help="CSV file (default: standard output)")
    args = p.parse_args(argv)
    api = Api(args.base_url)
    api.login(args.client_id, args.client_secret)
    rows = recommended(api, args.round_id)
    if args.output == "-":
        write_csv(rows, sys.stdout)
    else:
        with open(args.output, "w", newline="", encoding="utf-8-sig") as fh:  # Excel opens UTF-8 with BOM
            write_csv(rows, fh)
    print(f"{len(rows)} recommended applications exported", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
