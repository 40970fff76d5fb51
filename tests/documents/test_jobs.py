"""Background document jobs on a live database with real commits and a real thread: progress is
reported, other requests are answered meanwhile, the file downloads, a failure says why."""

from __future__ import annotations

import io
import time
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
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = ok(api.get(user, f"/api/v1/document-jobs/{job_id}"))
        if seen is not None:
            seen.append(job)
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def slowly(fn: Callable[..., bytes], seconds: float) -> Callable[..., bytes]:
    def slow(*args: Any) -> bytes:
        time.sleep(seconds)
        return fn(*args)

    return slow


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
    monkeypatch.setitem(
        forms.RENDERERS, "docx", (slowly(forms.docx_bytes, 0.7), *forms.RENDERERS["docx"][1:])
    )

    job = ok(api.post(office, "/api/v1/applications/forms.zip", json={"round_id": r.id}), 202)
    assert job["total_items"] == 3
    # Other requests are answered while the job runs.
    started = time.monotonic()
    ok(api.get(office, f"/api/v1/rounds/{r.id}/quotas"))
    ok(api.get(office, "/api/v1/applications", params={"round_id": r.id}))
    assert time.monotonic() - started < 1.5
    seen: list[dict[str, Any]] = []
    done = wait_for(api, office, job["id"], seen)
    assert done["status"] == "done", done
    assert any(
        0 < j["done_items"] < 3 and j["status"] == "running" for j in seen
    )  # progress as it went
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
