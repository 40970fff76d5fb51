"""Each field error of a 422 validation_error says in Chinese (`msg_zh`) what pydantic's English
`msg` says, which stays exactly pydantic's text for clients that already parse it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any, Literal

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from demosites.core.errors import install_error_handlers
from demosites.core.field_messages import msg_zh
from demosites.core.inputs import RefuseNul, known_query_only
from tests import factories as f
from tests.conftest import make_client


class Colour(enum.StrEnum):
    red = "red"
    green = "green"


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=5)
    count: int = Field(default=1, gt=0, lt=10)
    score: int = Field(default=1, ge=0, le=100)
    colour: Colour = Colour.red
    kind: Literal["a", "b"] = "a"
    on: date | None = None
    at: datetime | None = None
    tags: Annotated[list[str], Field(min_length=1, max_length=2)] = ["x"]
    flag: bool = False


@pytest.fixture(scope="module")
def sample_client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RefuseNul)

    @app.post("/sample")
    def sample(body: Sample) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return make_client(app)


CASES: list[tuple[dict[str, Any], str, str, str]] = [
    # (body, failing field, pydantic type, expected msg_zh)
    ({}, "name", "missing", "必填字段"),
    ({"name": "a"}, "name", "string_too_short", "长度至少为 2 个字符"),
    ({"name": "abcdefg"}, "name", "string_too_long", "长度不能超过 5 个字符"),
    ({"name": "ab", "count": 0}, "count", "greater_than", "须大于 0"),
    ({"name": "ab", "count": 10}, "count", "less_than", "须小于 10"),
    ({"name": "ab", "score": -1}, "score", "greater_than_equal", "须大于或等于 0"),
    ({"name": "ab", "score": 101}, "score", "less_than_equal", "须小于或等于 100"),
    ({"name": "ab", "count": "many"}, "count", "int_parsing", "须为整数"),
    ({"name": "ab", "colour": "blue"}, "colour", "enum", "须为以下值之一: 'red', 'green'"),
    ({"name": "ab", "kind": "c"}, "kind", "literal_error", "须为以下值之一: 'a', 'b'"),
    ({"name": "ab", "extra": 1}, "extra", "extra_forbidden", "不允许的字段"),
    (
        {"name": "ab", "on": "31/01/2026"},
        "on",
        "date_from_datetime_parsing",
        "须为日期（YYYY-MM-DD）",
    ),
    ({"name": "ab", "at": "yesterday"}, "at", "datetime_from_date_parsing", None),  # type: ignore[list-item]
    ({"name": "ab", "tags": []}, "tags", "too_short", "至少需要 1 项"),
    ({"name": "ab", "tags": ["a", "b", "c"]}, "tags", "too_long", "不能超过 2 项"),
    ({"name": "ab", "flag": "perhaps"}, "flag", "bool_parsing", "须为布尔值（true 或 false）"),
]


@pytest.mark.parametrize(("body", "field", "kind", "zh"), CASES)
def test_each_common_error_has_a_chinese_message_beside_the_english(
    sample_client: TestClient, body: dict[str, Any], field: str, kind: str, zh: str | None
) -> None:
    r = sample_client.post("/sample", json=body)
    assert r.status_code == 422
    errors = {e["loc"][-1]: e for e in r.json()["errors"]}
    err = errors[field]
    assert err["type"] == kind
    if zh is not None:
        assert err["msg_zh"] == zh
    else:
        assert err["msg_zh"].startswith("须为日期时间")
    # `msg` is pydantic's own English, unchanged.
    try:
        Sample.model_validate(body)
    except ValidationError as exc:
        english = {str(e["loc"][-1]): e["msg"] for e in exc.errors()}
    assert err["msg"] == english[field]


def test_malformed_json_and_a_path_int_are_translated(sample_client: TestClient) -> None:
    r = sample_client.post(
        "/sample", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["type"] == "json_invalid" and err["msg_zh"] == "JSON 格式错误"
    r = sample_client.get("/items/abc")
    err = r.json()["errors"][0]
    assert err["loc"] == ["path", "item_id"] and err["msg_zh"] == "须为整数"


@pytest.mark.parametrize(
    ("request_kwargs", "loc"),
    [
        ({"json": {"name": "a\x00b"}}, ["body", "name"]),
        ({"json": {"name": "ab", "tags": ["ok", "b\x00"]}}, ["body", "tags", "1"]),
        ({"data": {"name": "a\x00"}}, ["body", "name"]),
        ({"params": {"q": "x\x00"}}, ["query", "q"]),
    ],
)
def test_the_nul_refusal_names_the_field(
    sample_client: TestClient, request_kwargs: dict[str, Any], loc: list[str]
) -> None:
    r = sample_client.post("/sample", **request_kwargs)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["loc"] == loc and err["type"] == "nul_character"
    assert err["msg_zh"] == "不允许包含 NUL 字符" and err["msg"] == "NUL character"
    assert loc[-1] in r.json()["detail"]


def test_our_validators_bilingual_messages_give_their_chinese_half() -> None:
    error = {
        "type": "value_error",
        "msg": "Value error, only enterprises have an ownership / 仅企业填写所有制",
    }
    assert msg_zh(error) == "仅企业填写所有制"
    assert msg_zh({"type": "something_new", "msg": "Whatever"}) == "输入有误"


def test_every_pydantic_error_of_a_real_endpoint_carries_msg_zh(
    session: Session, client: TestClient
) -> None:
    headers = f.bearer(session, f.user(session, ["office"], "office"))
    r = client.post("/api/v1/rounds", json={"year": "soon", "unknown": 1}, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    for err in r.json()["errors"]:
        assert err["msg"] and err["msg_zh"] and err["msg_zh"] != err["msg"]
    unknown_query = client.get("/api/v1/rounds?stauts=draft", headers=headers).json()["errors"][0]
    assert unknown_query["msg_zh"] == "未知的查询参数"


def test_the_document_declares_msg_zh() -> None:
    from demosites.main import create_app

    field_error = create_app().openapi()["components"]["schemas"]["FieldError"]
    assert "msg_zh" in field_error["required"]


def test_row_errors_of_imports_and_ledger_batches_carry_msg_zh_too() -> None:
    from demosites.documents.errors import cell_error
    from demosites.ledger.errors import row_error

    for e in (
        cell_error(3, "城市", "Unknown city / 未知的城市"),
        row_error(3, "unit_id", "Unit 1 not found / 未找到该单位"),
    ):
        assert e["msg_zh"] in ("未知的城市", "未找到该单位")
        assert e["msg"].startswith(("Unknown city", "Unit 1"))


def test_a_one_value_query_parameter_given_twice_is_refused_not_read_as_the_last(
    client: TestClient,
) -> None:
    # Found by the fuzzer: `?q=a&q=b` answered for `b` alone, as if `a` had not been asked.
    r = client.get("/api/v1/public/sites", params=[("city", "合肥"), ("city", "芜湖")])
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert error["loc"] == ["query", "city"] and error["type"] == "repeated_parameter"
    assert error["msg_zh"] == "该参数只能出现一次"
    assert client.get("/api/v1/public/sites", params=[("city", "合肥")]).status_code == 200


def test_a_list_query_parameter_still_takes_several_values() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/things", dependencies=[Depends(known_query_only)])
    def things(tag: Annotated[list[str] | None, Query()] = None) -> list[str]:
        return tag or []

    r = make_client(app).get("/api/things", params=[("tag", "a"), ("tag", "b")])
    assert r.status_code == 200 and r.json() == ["a", "b"]
