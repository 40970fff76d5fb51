"""Background document jobs on a live database with real commits and a real thread: progress is
reported, other requests are answered meanwhile, the file downloads, a failure says why."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from docx import Document
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.documents import forms
from demosites.organizations.service import seed_fixed_organizations
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.documents.helpers import ok, submitted_application, walk
from tests.waiting import eventually


@pytest.fixture
def live(fresh_engine: Engine, live_client: TestClient) -> Iterator[tuple[Api, Session]]:
    with Session(fresh_engine, expire_on_commit=False) as s:
        seed_fixed_organizations(s)
        s.commit()
        yield Api(live_client, s), s
    clock.set(None)


def wait_for(
    api: Api, user: Any, job_id: int, seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        job = ok(api.get(user, f"/api/v1/document-jobs/{job_id}"))
        if seen is not None:
            seen.append(job)
        return job if job["status"] in ("done", "failed") else None

    return eventually(finished, "the job finishing", seconds=120, every=0.1)


def held_after_first(fn: Callable[..., bytes], release: threading.Event) -> Callable[..., bytes]:
    """`fn` that renders the first item at once and waits for `release` before the others: the
    job is then certainly mid-way while the test looks at it (no timing involved)."""
    calls = 0

    def held(*args: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls > 1:
            assert release.wait(120), "the test never released the job"
        return fn(*args)

    return held


def wait_until(api: Api, user: Any, job_id: int, done_items: int) -> dict[str, Any]:
    def reported() -> dict[str, Any] | None:
        job = ok(api.get(user, f"/api/v1/document-jobs/{job_id}"))
        return job if job["done_items"] >= done_items else None

    return eventually(reported, f"the job reporting {done_items} item(s) done", seconds=120)


def test_a_forms_batch_runs_in_the_background_reports_progress_and_downloads(
    live: tuple[Api, Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, s = live
    b.set_day(b.APPLYING)
    r = b.make_round(s)
    apps = [submitted_application(s, r, city=c) for c in ("合肥", "芜湖", "安庆")]
    s.commit()
    cast = walk(api, s, apps[0], r, upto="pass_preliminary")
    office = cast.office
    release = threading.Event()
    held = held_after_first(forms.docx_bytes, release)
    monkeypatch.setitem(forms.RENDERERS, "docx", (held, *forms.RENDERERS["docx"][1:]))

    job = ok(api.post(office, "/api/v1/applications/forms.zip", json={"round_id": r.id}), 202)
    assert job["total_items"] == 3
    try:
        midway = wait_until(api, office, job["id"], done_items=1)
        assert midway["status"] == "running" and 0 < midway["progress"] < 1, midway  # progress
        # Other requests are answered while the job is held mid-way (they do not wait for it).
        ok(api.get(office, f"/api/v1/rounds/{r.id}/quotas"))
        ok(api.get(office, "/api/v1/applications", params={"round_id": r.id}))
        still = ok(api.get(office, f"/api/v1/document-jobs/{job['id']}"))
        assert still["status"] == "running" and still["done_items"] == 1, still
    finally:
        release.set()
    done = wait_for(api, office, job["id"])
    assert done["status"] == "done", done
    assert (
        done["progress"] == 1.0
        and done["download_url"] == f"/api/v1/document-jobs/{job['id']}/file"
    )

    resp = api.get(office, done["download_url"])
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(resp.content))
    names = sorted(z.namelist())
    assert len(names) == 6 and {n.rsplit(".", 1)[1] for n in names} == {"docx", "pdf"}
    first = next(
        n for n in names if n.startswith(f"申报审批表-{apps[0].id}-") and n.endswith(".docx")
    )
    doc = Document(io.BytesIO(z.read(first)))
    opinion_cell = doc.tables[0].rows[4].cells[1].text
    assert "材料齐全" in opinion_cell and "2022年8月20日" in opinion_cell
    pdf = next(n for n in names if n.startswith(f"申报审批表-{apps[1].id}-") and n.endswith(".pdf"))
    assert "申报审批表" in PdfReader(io.BytesIO(z.read(pdf))).pages[0].extract_text()

    stranger = b.person(s, ["office"], "office")
    s.commit()
    assert api.get(stranger, done["download_url"]).status_code == 404


def test_a_failed_job_says_why(live: tuple[Api, Session], monkeypatch: pytest.MonkeyPatch) -> None:
    api, s = live
    b.set_day(b.APPLYING)
    r = b.make_round(s)
    submitted_application(s, r)
    office = b.person(s, ["office"], "office")
    s.commit()

    def broken(_content: Any) -> bytes:
        raise RuntimeError("disk full")

    monkeypatch.setitem(forms.RENDERERS, "pdf", (broken, *forms.RENDERERS["pdf"][1:]))
    job = ok(
        api.post(
            office, "/api/v1/applications/forms.zip", json={"round_id": r.id, "formats": ["pdf"]}
        ),
        202,
    )
    failed = wait_for(api, office, job["id"])
    assert (
        failed["status"] == "failed"
        and "RuntimeError" in failed["error"]
        and "生成" in failed["error"]
    )
    resp = api.get(office, f"/api/v1/document-jobs/{job['id']}/file")
    assert resp.status_code == 409 and "RuntimeError" in resp.json()["detail"]
