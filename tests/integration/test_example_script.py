"""The scripting example in examples/ works against a live server, as a provincial script would."""

from __future__ import annotations

import csv
import importlib.util
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from demosites.applications.models import Application
from demosites.core.actor import SYSTEM
from demosites.core.config import ROOT, get_settings
from demosites.integration import service
from demosites.organizations.service import get_org_by_code
from demosites.rounds.models import Round
from demosites.seed import seed
from tests.faults.live import LiveServer


def _load_example():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("export_recommended", ROOT / "examples" / "export_recommended.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_exports_a_rounds_recommended_applications_to_csv(
    fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "demo_password", "Demo-password-for-tests-1")
    with Session(fresh_engine) as s:
        seed(s, demo=True)
        office = get_org_by_code(s, "office")
        assert office
        account, secret = service.create_service_account(
            s, SYSTEM, "省级数据共享平台", office.id or 0, ["applications:read"], ["office"]
        )
        current = s.exec(select(Round).order_by(col(Round.year).desc())).first()
        assert current
        expected = set(
            s.exec(
                select(Application.name).where(
                    Application.round_id == current.id, Application.status == "recommended"
                )
            )
        )
        s.commit()
        client_id, round_id = account.client_id, current.id
    assert expected, "the demo seed has recommended applications"
    url = fresh_engine.url.render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(url, Path(tmp) / "uploads").start()
        try:
            out = Path(tmp) / "recommended.csv"
            code = _load_example().main(
                ["--base-url", server.base_url, "--client-id", client_id, f"--client-secret={secret}",
                 "--round-id", str(round_id), "--output", str(out)]
            )  # fmt: skip
        finally:
            server.kill()
        assert code == 0
        with out.open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    assert {r["示范点名称"] for r in rows} == expected
    assert all(r["状态"] == "recommended" and r["推荐单位"] for r in rows)
