"""Webhook URL safety (SSRF): only globally routable addresses, unless the security administrator
allowed the host; the worker connects to the very address it checked."""

# Listing private ranges let 100.64.0.0/10 through — with 100.100.100.200, the metadata service of
# many government clouds (政务云). Every address that is not global is refused instead (loopback,
# private, link-local, shared, reserved, documentation, multicast, IPv4-mapped...). And a name
# checked here and resolved again by the HTTP client could answer differently the second time
# (DNS rebinding): `pin` resolves once and the worker connects to that address, sending the
# original name as Host header and as TLS SNI (the certificate is still checked against it).

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
from sqlmodel import Session, select

from demosites.integration.errors import UnsafeWebhookUrl
from demosites.integration.models import AllowedWebhookHost

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str) -> list[Address]:
    """Every address of `host` (tests replace this to play a rebinding DNS server)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _addresses(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = resolve(host)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeWebhookUrl(f"Host {host} does not resolve / 无法解析主机 {host}") from exc
    if not found:
        raise UnsafeWebhookUrl(f"Host {host} does not resolve / 无法解析主机 {host}")
    return found


# IPv6 prefixes that carry an IPv4 address a gateway would reach on our behalf (NAT64).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded(addr: Address) -> list[Address]:
    """IPv4 addresses an IPv6 address stands for (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return []
    out: list[Address] = []
    if addr.ipv4_mapped:
        out.append(addr.ipv4_mapped)
    if addr.sixtofour:
        out.append(addr.sixtofour)
    if addr.teredo:
        out.append(addr.teredo[1])
    if any(addr in net for net in _NAT64):
        out.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return out


def is_public(addr: Address) -> bool:
    """Globally routable, not multicast, and not standing for an address that is not."""
    if not addr.is_global or addr.is_multicast:
        return False
    return all(is_public(inner) for inner in _embedded(addr))


def _host(url: str) -> tuple[str, SplitResult]:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        _ = parts.port  # a port that is not a number is refused here, not by the client
    except ValueError as exc:
        raise UnsafeWebhookUrl("Not a valid URL / 不是有效的地址") from exc
    if parts.scheme not in ("http", "https") or not hostname:
        raise UnsafeWebhookUrl("Only http(s) URLs with a host / 仅支持带主机名的 http(s) 地址")
    return hostname.lower(), parts


def _allowed(session: Session, host: str) -> bool:
    row = session.exec(select(AllowedWebhookHost).where(AllowedWebhookHost.host == host)).first()
    return row is not None


def _checked(session: Session, host: str) -> list[Address]:
    addresses = _addresses(host)
    if _allowed(session, host):
        return addresses  # an intranet receiver the secadmin allowed
    for addr in addresses:
        if not is_public(addr):
            raise UnsafeWebhookUrl(
                f"{host} resolves to {addr}, which is not a public address; the security "
                f"administrator must allow this host / {host} 解析为非公网地址 {addr}，需安全管理员放行"
            )
    return addresses


def check_url(session: Session, url: str) -> str:
    """Returns the host when `url` may receive webhooks; raises UnsafeWebhookUrl otherwise."""
    host, _ = _host(url)
    _checked(session, host)
    return host


@dataclass(frozen=True)
class Pinned:
    """Where the worker sends a delivery: the checked address, the name kept for Host and SNI."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def pin(session: Session, url: str) -> Pinned:
    """Resolves the URL's host once, checks every address, and returns the URL rewritten to the
    first one (an IP-literal URL is used as it is)."""
    host, parts = _host(url)
    addr = _checked(session, host)[0]
    target = httpx.URL(url)
    if target.host == str(addr):
        return Pinned(url=url)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # Host header: the name and port as written
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Pinned(
        url=str(target.copy_with(host=str(addr))),
        headers={"Host": netloc},
        extensions=extensions,
    )
