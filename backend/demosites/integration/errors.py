"""Errors of service accounts, scopes, webhooks and rate limits."""

from demosites.core.errors import DomainError, NotFound, Unauthenticated, ValidationFailed
from demosites.core.scopes import InsufficientScope  # noqa: E402,F401  (re-exported)


class InvalidClient(Unauthenticated):
    code, title = (
        "invalid_client",
        "Unknown or revoked client, or wrong secret / 客户端不存在、已吊销或密钥错误",
    )


class InvalidScope(DomainError):
    """client_credentials asked for a scope the account does not hold (RFC 6749 §5.2)."""

    status, code, title = (
        400,
        "invalid_scope",
        "The requested scope is unknown or not granted to this client / 请求的权限范围未知或未授予该客户端",
    )


class UnsafeWebhookUrl(ValidationFailed):
    code, title = (
        "unsafe_webhook_url",
        "Webhook URLs to loopback, link-local or private addresses are refused / 不允许回环、链路本地或内网地址",
    )


class UnknownScope(ValidationFailed):
    code, title = "unknown_scope", "Unknown scope / 未知的权限范围"


class ServiceAccountNotFound(NotFound):
    title = "Service account not found / 未找到该服务账号"


class SubscriptionNotFound(NotFound):
    title = "Webhook subscription not found / 未找到该订阅"


class AllowedHostNotFound(NotFound):
    title = "Allowed webhook host not found / 未找到该允许的订阅主机"


class DeliveryNotFound(NotFound):
    title = "Delivery not found / 未找到该投递记录"
