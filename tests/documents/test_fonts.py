"""PDFs print Chinese or refuse: the machine's CJK font and HarfBuzz subsetter are checked before
rendering, and a server without them answers 503 `pdf_fonts_missing` naming the packages —
never a PDF of empty boxes or of text nobody can copy."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from demosites.documents import fonts
from tests.applications import builders as b
from tests.applications.builders import Api
from tests.documents.helpers import submitted_application, walk

REAL_PROBE = fonts.probe


def test_the_machine_running_the_tests_can_print_chinese_pdfs() -> None:
    # `make test` installs these (scripts/ensure-system.sh test) before the backend tests run.
    readiness = fonts.probe()
    assert readiness.ready, (
        f"missing Debian packages {readiness.missing_packages}: run `scripts/ensure-system.sh test` "
        "as root (make test does) — without them every PDF test fails on empty glyphs"
    )
    assert any("CJK" in family for family in readiness.cjk_fonts), readiness.cjk_fonts


@pytest.fixture
def machine_without(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Pretend the server lacks the font and/or the subsetter (as a fresh machine does)."""

    def lacking(*, font: bool = False, subset: bool = False) -> None:
        fake = fonts.PdfReadiness(() if font else ("Noto Serif CJK SC",), not subset)
        monkeypatch.setattr(fonts, "probe", lambda: fake)
        monkeypatch.setattr(fonts, "_ready", False)

    return lacking


@pytest.mark.parametrize(
    ("font", "subset", "packages"),
    [
        (True, False, ["fonts-noto-cjk"]),
        (False, True, ["libharfbuzz-subset0"]),
        (True, True, ["fonts-noto-cjk", "libharfbuzz-subset0"]),
    ],
)
def test_without_the_font_or_the_subsetter_a_pdf_is_refused_naming_what_to_install(
    api: Api,
    session: Session,
    launched: list[int],
    machine_without,
    font: bool,
    subset: bool,
    packages: list[str],
) -> None:  # type: ignore[no-untyped-def]
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    app = submitted_application(session, r)
    cast = walk(api, session, app, r, upto="recommend")
    machine_without(font=font, subset=subset)

    resp = api.get(cast.office, f"/api/v1/applications/{app.id}/form.pdf")
    assert resp.status_code == 503, resp.text[:200]
    body = resp.json()
    assert body["code"] == "pdf_fonts_missing" and body["missing_packages"] == packages
    assert "apt-get install -y " + " ".join(packages) in body["detail"]
    assert "服务器" in body["title"] and "server" in body["title"]
    assert resp.headers["Retry-After"]

    # The Word form needs no server font and is still served.
    assert api.get(cast.office, f"/api/v1/applications/{app.id}/form.docx").status_code == 200
    # A batch with PDFs is refused at once rather than failing later as a job …
    start = api.post(
        cast.office, "/api/v1/applications/forms.zip", json={"application_ids": [app.id]}
    )
    assert start.status_code == 503 and start.json()["code"] == "pdf_fonts_missing"
    # … and one of Word files only still starts.
    docx_only = {"application_ids": [app.id], "formats": ["docx"]}
    assert (
        api.post(cast.office, "/api/v1/applications/forms.zip", json=docx_only).status_code == 202
    )


def test_once_the_packages_are_there_the_same_server_prints_without_a_restart(
    api: Api, session: Session, machine_without, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    b.set_day(b.APPLYING)
    r = b.make_round(session)
    app = submitted_application(session, r)
    cast = walk(api, session, app, r, upto="recommend")
    machine_without(font=True)
    assert api.get(cast.office, f"/api/v1/applications/{app.id}/form.pdf").status_code == 503
    monkeypatch.setattr(fonts, "probe", REAL_PROBE)  # the packages arrived
    resp = api.get(cast.office, f"/api/v1/applications/{app.id}/form.pdf")
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
