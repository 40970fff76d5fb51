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


class InvalidRequest(DomainError):
    """A token request missing a parameter, with a malformed one, or using two client
    authentication methods at once (RFC 6749 §5.2 invalid_request)."""

    status, code, title = 400, "invalid_request", "Invalid token request / 令牌请求有误"


class UnauthorizedClient(DomainError):
    """A service account may use only the client_credentials grant."""

    status, code, title = (
        400,
        "unauthorized_client",
        "This client may not use this grant_type / 该客户端不能使用此授权类型",
    )


class AccountLocked(Unauthenticated):
    code, title = (
        "account_locked",
        "The account is locked; ask the security administrator / 账号已锁定，请联系安全管理员",
    )
    keep_changes = True  # the refused login is logged


class MfaRequired(Unauthenticated):
    """The password was right; send `mfa_token` and `otp` to finish (second step)."""

    code, title = (
        "mfa_required",
        "Enter the code of your authenticator app / 请输入动态验证码",
    )


class MfaTokenInvalid(Unauthenticated):
    code, title = (
        "mfa_token_invalid",
        "The login step expired; log in again / 登录步骤已过期，请重新登录",
    )


class OtpRejected(Unauthenticated):
    code, title = "invalid_otp", "Wrong verification code / 动态验证码错误"
    keep_changes = True  # counts toward the lock like a wrong password


class PasswordChangeRequired(Forbidden):
    code, title = (
        "password_change_required",
        "Change your password before continuing / 请先修改口令",
    )


class MfaEnrolmentRequired(Forbidden):
    code, title = (
        "mfa_enrolment_required",
        "Enrol a second factor before continuing / 请先绑定双因素认证",
    )
