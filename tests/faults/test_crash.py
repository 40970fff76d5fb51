"""A server killed with kill -9 in the middle of a batch transition or an upload: the batch is
wholly applied or wholly not, no row is half-written, and the bytes of the cut upload are swept
(at the next startup, or by the worker) while committed files stay."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from demosites.core import db as core_db
from demosites.core.clock import clock
from demosites.core.config import ROOT
from demosites.core.db import make_engine
from demosites.files import service as files
from demosites.files.models import StoredFile
from tests.faults import scenario as sc
from tests.faults.live import LiveServer, wait_for

PDF = b"%PDF-1.4\n" + b"x" * 2048
BATCH = "/api/v1/applications/transitions"


def _files_under(root: Path) -> set[str]:
    return (
        {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def _age(root: Path, hours: float) -> None:
    """Makes every file under `root` look `hours` old (the sweep spares young files)."""
    past = time.time() - hours * 3600
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (past, past))


def test_a_batch_killed_midway_changes_nothing_and_runs_whole_afterwards(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    setup = sc.recommended_for_office(fresh_engine, 4)
    marker = tmp_path / "frozen"
    # Freeze at the third application's history row: two are already changed in the transaction.
    server = LiveServer(sc.db_url(fresh_engine), tmp_path / "uploads", FAULT_PAUSE_ON="INSERT INTO history",
                        FAULT_PAUSE_NTH="3", FAULT_MARKER=str(marker)).start()  # fmt: skip
    body = {"application_ids": setup.app_ids, "action": "pass_preliminary", "opinion": "初审通过"}
    try:
        server.set_clock(setup.now)
        with server.client(timeout=60) as c:
            answer: dict[str, object] = {}

            def send() -> None:
                try:
                    answer["response"] = c.post(BATCH, json=body, headers=setup.headers)
                except Exception as exc:  # noqa: BLE001  (the server dies under the request)
                    answer["error"] = exc

            t = threading.Thread(target=send)
            t.start()
            wait_for(marker)
            server.kill()
            t.join(30)
        assert "error" in answer, answer  # the caller saw no answer: it will retry
    finally:
        server.kill()
    assert sc.statuses(fresh_engine, setup.app_ids) == ["recommended"] * 4
    assert sc.history_count(fresh_engine, "pass_preliminary") == 0
    assert sc.event_count(fresh_engine, "application.preliminary_passed") == 0

    again = LiveServer(sc.db_url(fresh_engine), tmp_path / "uploads").start()
    try:
        again.set_clock(setup.now)
        with again.client() as c:
            r = c.post(BATCH, json=body, headers=setup.headers)
        assert r.status_code == 200, r.text
    finally:
        again.stop()
    assert sc.statuses(fresh_engine, setup.app_ids) == ["preliminary_passed"] * 4
    assert sc.history_count(fresh_engine, "pass_preliminary") == 4
    assert sc.event_count(fresh_engine, "application.preliminary_passed") == 4


def test_an_upload_killed_before_commit_leaves_no_row_and_its_bytes_are_swept_at_startup(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    setup = sc.drafts_for_applicant(fresh_engine)
    app_id = setup.app_ids[0]
    uploads = tmp_path / "uploads"
    path = f"/api/v1/applications/{app_id}/materials"
    marker = tmp_path / "frozen"
    # The first upload commits; the second freezes when its row is inserted (bytes already stored).
    server = LiveServer(sc.db_url(fresh_engine), uploads, FAULT_PAUSE_ON="INSERT INTO stored_file",
                        FAULT_PAUSE_NTH="2", FAULT_MARKER=str(marker)).start()  # fmt: skip
    try:
        server.set_clock(setup.now)
        with server.client(timeout=60) as c:
            ok = c.post(
                path, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=setup.headers
            )
            assert ok.status_code == 201, ok.text
            t = threading.Thread(
                target=lambda: _swallow(
                    lambda: c.post(
                        path,
                        files={"file": ("b.pdf", PDF, "application/pdf")},
                        headers=setup.headers,
                    )
                )
            )
            t.start()
            wait_for(marker)
            server.kill()
            t.join(30)
    finally:
        server.kill()
    kept = sc.file_rows(fresh_engine)
    assert len(kept) == 1, kept  # only the committed upload has a row
    assert sc.history_count(fresh_engine, "upload_material") == 1
    on_disk = _files_under(uploads)
    assert set(kept) < on_disk and len(on_disk - set(kept)) == 1  # the cut upload's orphan bytes

    # A crash leaves a partial `.incoming-` part too when it strikes while the bytes stream in.
    (uploads / ".incoming-cut").write_bytes(b"%PDF-partial")
    _age(uploads, 2)
    restarted = LiveServer(sc.db_url(fresh_engine), uploads).start()
    try:
        assert _files_under(uploads) == set(kept)
        with restarted.client() as c:
            restarted.set_clock(setup.now)
            listed = c.get(path, headers=setup.headers).json()
            got = c.get(listed["items"][0]["download_url"], headers=setup.headers)
        assert listed["total"] == 1 and got.content == PDF
    finally:
        restarted.stop()


def test_the_worker_sweeps_old_orphans_and_spares_young_ones_and_committed_files(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    (uploads / "2022/07").mkdir(parents=True)
    old_orphan, young_orphan = uploads / "2022/07/old.pdf", uploads / "2022/07/young.pdf"
    committed = uploads / "2022/07/kept.pdf"
    for p in (old_orphan, committed):
        p.write_bytes(PDF)
    _age(uploads, 2)
    young_orphan.write_bytes(PDF)  # may belong to an upload another process is committing
    setup = sc.drafts_for_applicant(fresh_engine)
    with Session(fresh_engine) as s:
        s.add(StoredFile(owner_type="application", owner_id=setup.app_ids[0], purpose="deeds",
                         filename="kept.pdf", content_type="application/pdf", size=len(PDF), sha256="0" * 64,
                         storage_key="2022/07/kept.pdf", uploaded_by=None, uploaded_at=clock.now()))  # fmt: skip
        s.commit()
    env = {**os.environ, "DATABASE_URL": sc.db_url(fresh_engine), "UPLOAD_DIR": str(uploads)}
    done = subprocess.run([sys.executable, "-m", "demosites.integration.worker", "--once"], cwd=ROOT, env=env,
                          capture_output=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert _files_under(uploads) == {"2022/07/kept.pdf", "2022/07/young.pdf"}


def test_the_sweep_does_not_stop_startup_when_the_database_is_unreachable(tmp_path: Path) -> None:
    previous = core_db._engine
    core_db.set_engine(make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    try:
        assert files.sweep_orphans_now() is None
    finally:
        core_db.set_engine(previous)


def _swallow(call: object) -> None:
    with contextlib.suppress(Exception):  # the server dies under the request
        call()  # type: ignore[operator]
