"""Webhook URL safety: no loopback, link-local or private targets unless an admin allowed the host."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from sqlmodel import Session, select

from demosites.integration.errors import UnsafeWebhookUrl
from demosites.integration.models import AllowedWebhookHost


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise UnsafeWebhookUrl(f"Host {host} does not resolve / 无法解析主机 {host}") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def check_url(session: Session, url: str) -> str:
    """Returns the host when `url` may receive webhooks; raises UnsafeWebhookUrl otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeWebhookUrl("Only http(s) URLs with a host / 仅支持带主机名的 http(s) 地址")
    host = parts.hostname.lower()
    if session.exec(select(AllowedWebhookHost).where(AllowedWebhookHost.host == host)).first():
        return host
    for addr in _addresses(host):
        if (
            addr.is_loopback
            or addr.is_private
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
            or addr.is_unspecified
        ):
            raise UnsafeWebhookUrl(
                f"{host} resolves to {addr}; an admin must allow this host / {host} 解析为内网地址 {addr}，需管理员放行"
            )
    return host
