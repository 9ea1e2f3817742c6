"""Where webhooks may point: public HTTPS endpoints only (SSRF protection).

The host is resolved and every address it resolves to must be public: no private, loopback,
link-local (the cloud metadata service at 169.254.169.254 included), multicast, reserved or
unspecified address. Checked when a webhook is created and again before every delivery (a
name may point elsewhere later). In the local stack `http://127.0.0.1` and `localhost` are
allowed, so a receiver on the developer's machine can get deliveries.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from chalicelib.settings import get_settings

MAX_URL = 2048


class UnsafeEndpoint(ValueError):
    """Why the URL may not receive webhooks (a sentence for people)."""


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (a seam the tests replace)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def check(url: str) -> None:
    """Raise UnsafeEndpoint unless `url` may receive webhooks now."""
    if len(url) > MAX_URL:
        raise UnsafeEndpoint(f"At most {MAX_URL} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeEndpoint("Not a valid URL.") from None
    host = parts.hostname or ""
    if parts.username or parts.password:
        raise UnsafeEndpoint("Credentials in the URL are not allowed.")
    local = get_settings().is_local
    if local and parts.scheme in ("http", "https") and host in ("127.0.0.1", "localhost", "::1"):
        return
    if parts.scheme != "https" or not host:
        raise UnsafeEndpoint("Must be an https:// URL.")
    if port is not None and not 1 <= port <= 65535:
        raise UnsafeEndpoint("Not a valid port.")
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError):
        raise UnsafeEndpoint("The host does not resolve.") from None
    if not addresses:
        raise UnsafeEndpoint("The host does not resolve.")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast or ip.is_reserved:
            raise UnsafeEndpoint(
                "The host resolves to a private, loopback, link-local or reserved address."
            )
