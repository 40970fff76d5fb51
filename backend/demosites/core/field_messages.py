"""Chinese messages (`msg_zh`) for field validation errors, beside pydantic's English `msg`."""

# `msg` stays pydantic's English text, byte for byte, for clients that already parse it; `msg_zh`
# says the same in Chinese, from the error's `type` and `ctx` (the limits pydantic reports).

from __future__ import annotations

import re
from typing import Any

_CJK = re.compile(r"[\u3400-\u9fff]")

# type → template; {name} is filled from the error's ctx.
_ZH: dict[str, str] = {
    "missing": "必填字段",
    "missing_argument": "必填字段",
    "extra_forbidden": "不允许的字段",
    "unexpected_keyword_argument": "不允许的字段",
    "string_too_short": "长度至少为 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "不能超过 {max_length} 项",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须大于或等于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须小于或等于 {le}",
    "multiple_of": "须为 {multiple_of} 的倍数",
    "finite_number": "须为有限的数",
    "int_parsing": "须为整数",
    "int_parsing_size": "整数超出范围",
    "int_type": "须为整数",
    "int_from_float": "须为整数，不能带小数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "decimal_parsing": "须为数字",
    "decimal_type": "须为数字",
    "decimal_max_digits": "数字位数不能超过 {max_digits} 位",
    "decimal_max_places": "小数位数不能超过 {decimal_places} 位",
    "decimal_whole_digits": "整数部分位数过多",
    "bool_parsing": "须为布尔值（true 或 false）",
    "bool_type": "须为布尔值（true 或 false）",
    "string_type": "须为字符串",
    "string_unicode": "须为有效的 Unicode 字符串",
    "string_pattern_mismatch": "格式不符合要求",
    "bytes_type": "须为字节串",
    "enum": "须为以下值之一: {expected}",
    "literal_error": "须为以下值之一: {expected}",
    "json_invalid": "JSON 格式错误",
    "json_type": "须为 JSON 字符串",
    "date_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "须为日期，不能带时间",
    "date_type": "须为日期（YYYY-MM-DD）",
    "date_past": "须为过去的日期",
    "date_future": "须为将来的日期",
    "datetime_parsing": "须为日期时间（ISO 8601，如 2026-01-31T09:00:00+08:00）",
    "datetime_from_date_parsing": "须为日期时间（ISO 8601，如 2026-01-31T09:00:00+08:00）",
    "datetime_type": "须为日期时间（ISO 8601）",
    "datetime_past": "须为过去的时间",
    "datetime_future": "须为将来的时间",
    "timezone_naive": "不能带时区",
    "timezone_aware": "须带时区",
    "time_parsing": "须为时间（HH:MM[:SS]）",
    "time_type": "须为时间（HH:MM[:SS]）",
    "time_delta_parsing": "须为时长",
    "list_type": "须为列表",
    "tuple_type": "须为列表",
    "set_type": "须为列表",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "dataclass_type": "须为对象",
    "is_instance_of": "类型不正确",
    "uuid_parsing": "须为 UUID",
    "uuid_type": "须为 UUID",
    "url_parsing": "须为有效的网址",
    "url_type": "须为有效的网址",
    "url_scheme": "网址协议须为: {expected_schemes}",
    "url_too_long": "网址不能超过 {max_length} 个字符",
    "ip_v4_address": "须为有效的 IPv4 地址",
    "ip_any_address": "须为有效的 IP 地址",
    "union_tag_invalid": "类型标识无效",
    "union_tag_not_found": "缺少类型标识",
    "no_such_attribute": "不允许的字段",
    "frozen_field": "该字段不可修改",
    "frozen_instance": "不可修改",
    "value_error": "取值无效",
    "assertion_error": "取值无效",
    # Ours.
    "nul_character": "不允许包含 NUL 字符",
    "body_parse_error": "请求体格式错误，无法解析",
}
_GENERIC = "输入有误"


def _ctx_text(value: Any) -> str:
    text = str(value)
    # pydantic lists choices as "'a', 'b' or 'c'".
    return text.replace(" or ", ", ")


def _chinese_half(msg: str) -> str | None:
    """Our own validators raise "English / 中文": their Chinese half says it best."""
    if " / " in msg:
        tail = msg.rsplit(" / ", 1)[1].strip()
        if _CJK.search(tail):
            return tail
    return None


def msg_zh(error: dict[str, Any]) -> str:
    """The Chinese message of one pydantic (or our) error dict; never empty."""
    given = error.get("msg_zh")
    if isinstance(given, str) and given:
        return given
    kind = str(error.get("type", ""))
    msg = str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error") or kind not in _ZH:
        own = _chinese_half(msg)
        if own:
            return own
    template = _ZH.get(kind)
    if template is None:
        return _GENERIC
    ctx = {k: _ctx_text(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return _GENERIC  # a limit pydantic did not report
