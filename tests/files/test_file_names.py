"""File names kept as given (issue 19): bidi overrides, control characters and folders of either
separator are removed from an upload's name before it is stored and listed; a name left empty is
refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from demosites.core.clock import clock
from demosites.files.service import clean_filename
from tests.applications.builders import Api
from tests.applications.test_http_contract import _draft

PDF = b"%PDF-1.4 x"


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[Api]:
    yield Api(client, session)
    clock.set(None)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("申报材料\u202efdp.exe", "申报材料fdp.exe"),
        ("..\\..\\x.pdf", "x.pdf"),
        ("../../etc/x.pdf", "x.pdf"),
        ("C:\\Users\\王\\事迹.pdf", "事迹.pdf"),
        ("\u2066报告\u2069\u200e\u200f\u061c.pdf", "报告.pdf"),
        ("a\x00b\x1f\x7fc\u202a\u202b\u202c\u202d.pdf", "abc.pdf"),
        ("  先进事迹.pdf ", "先进事迹.pdf"),
    ],
)
def test_a_file_name_keeps_its_last_component_without_controls(given: str, kept: str) -> None:
    assert clean_filename(given, "file.pdf") == kept


@pytest.mark.parametrize(
    ("given", "listed"),
    [("申报材料\u202efdp.exe", "申报材料fdp.exe"), ("..\\..\\x.pdf", "x.pdf")],
)
def test_an_upload_is_stored_and_listed_under_the_cleaned_name(
    api: Api, session: Session, given: str, listed: str
) -> None:
    app, applicant = _draft(api, session)
    path = f"/api/v1/applications/{app['id']}/materials"
    up = api.post(applicant, path, files={"file": (given, PDF, "application/pdf")}, data={"purpose": "deeds"})  # fmt: skip
    assert up.status_code == 201, up.text
    assert up.json()["filename"] == listed
    names = [f["filename"] for f in api.get(applicant, path).json()["items"]]
    assert names == [listed]
    download = api.get(applicant, up.json()["download_url"])
    assert "\u202e" not in download.headers.get("content-disposition", "")


@pytest.mark.parametrize("given", ["\u202e", "..\\..\\", "dir/", "..", "\u200e\u200f/."])
def test_a_name_that_ends_up_empty_is_refused(api: Api, session: Session, given: str) -> None:
    app, applicant = _draft(api, session)
    path = f"/api/v1/applications/{app['id']}/materials"
    resp = api.post(applicant, path, files={"file": (given, PDF, "application/pdf")}, data={"purpose": "deeds"})  # fmt: skip
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "invalid_file_name" and " / " in body["title"]
    assert api.get(applicant, path).json()["total"] == 0
