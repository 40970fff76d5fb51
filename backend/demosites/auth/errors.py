"""Errors of login and sessions."""

from demosites.core.errors import DomainError, Forbidden, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code, title = "invalid_credentials", "Wrong username or password / 用户名或密码错误"
    keep_changes = True  # the failure is logged and counts toward the lock


class TooManyAttempts(TooManyRequests):
    code, title = (
        "too_many_attempts",
        "Too many failed logins; try again later / 登录失败次数过多，请稍后再试",
    )
    keep_changes = True


class CsrfFailed(Forbidden):
    code, title = "csrf_failed", "Missing or wrong CSRF header / 缺少或错误的 CSRF 校验头"


class UnsupportedGrant(DomainError):
    status, code, title = 400, "unsupported_grant_type", "Unsupported grant_type / 不支持的授权类型"
