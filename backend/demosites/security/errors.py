"""Errors of security administration, each with its problem code."""

from __future__ import annotations

from typing import Any

from demosites.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed

RULE_TEXT = {
    "min_length": "too short / 长度不足",
    "char_classes": "too few character classes (lower, upper, digit, other) / 字符类别不足",
    "contains_username": "contains the username / 包含用户名",
    "reused": "one of the recent passwords / 与近期使用过的口令相同",
}


class WeakPassword(ValidationFailed):
    code, title = "weak_password", "The password does not meet the policy / 口令不符合安全策略"

    def __init__(self, rules: list[str], **extra: Any) -> None:
        detail = "; ".join(RULE_TEXT.get(r, r) for r in rules)
        super().__init__(f"Password refused: {detail} / 口令被拒绝", rules=rules, **extra)


class WrongPassword(DomainError):
    status, code, title = 400, "wrong_password", "The current password is wrong / 当前口令错误"


class InvalidOtp(ValidationFailed):
    code, title = "invalid_otp", "Wrong or expired verification code / 动态验证码错误或已过期"


class TotpNotStarted(Conflict):
    code, title = "totp_not_started", "Start the enrolment first / 请先开始绑定动态口令"


class MfaRequiredByPolicy(Forbidden):
    code, title = (
        "mfa_required_by_policy",
        "Your role requires a second factor; it cannot be turned off / 您的角色要求双因素认证，不能关闭",
    )


class SeparationOfDuties(Forbidden):
    code, title = (
        "separation_of_duties",
        "Refused by the separation of administrator duties / 违反三员分立原则",
    )


class UserNotFound(NotFound):
    title = "User not found / 未找到该用户"


class SessionNotFound(NotFound):
    title = "Session not found / 未找到该会话"


class UnknownPolicyRole(ValidationFailed):
    title = "Unknown role / 未知角色"
