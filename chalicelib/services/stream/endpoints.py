"""Where webhooks may point: public HTTPS endpoints only (SSRF protection).

The host is resolved and every address it resolves to must be public: no private, loopback,
link-local (the cloud metadata service at 169.254.169.254 included), multicast, reserved or
unspecified address. Checked when a webhook is created and again before every delivery (a
name may point elsewhere later), and the delivery connects to the address just checked
(`post`), so a name that changes its answer in between (DNS rebinding) cannot send it inside.
TLS is still verified against the host's name. In the local stack `http://127.0.0.1` (with a
real port, or none) is allowed too, so a receiver on the developer's machine can get deliveries.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.settings import get_settings

MAX_URL = 2048
# The one receiver the local stack allows besides public HTTPS: a program on this machine.
LOCAL_RECEIVER = "127.0.0.1"


class UnsafeEndpoint(ValueError):
    """Why the URL may not receive webhooks (a sentence for people)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`), and what to tell the server."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (a seam the tests replace)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def check(url: str) -> Target:
    """The URL's target if it may receive webhooks now; UnsafeEndpoint otherwise."""
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
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    if port is not None and not 1 <= port <= 65535:
        raise UnsafeEndpoint("Not a valid port.")
    if get_settings().is_local and parts.scheme == "http" and host == LOCAL_RECEIVER:
        return Target(parts.scheme, host, port or default_port, path, LOCAL_RECEIVER)
    if parts.scheme != "https" or not host:
        raise UnsafeEndpoint("Must be an https:// URL.")
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
    ipv4 = [a for a in addresses if ":" not in a]
    return Target(parts.scheme, host, port or default_port, path, (ipv4 or addresses)[0])


def post(target: Target, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST to the checked address itself (never resolving the name again), verifying TLS
    against the host's name, following no redirect. The status, or 0 when no answer came."""
    import certifi
    import urllib3

    address = f"[{target.address}]" if ":" in target.address else target.address
    timeout = urllib3.Timeout(total=timeout_s)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, target.port, timeout=timeout, retries=False, cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(), server_hostname=target.host, assert_hostname=target.host,
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    try:
        with pool:
            answer = pool.urlopen(
                "POST", target.path, body=body, headers={**headers, "Host": host_header},
                redirect=False, retries=False,
            )  # fmt: skip
    except (urllib3.exceptions.HTTPError, OSError):
        return 0
    return answer.status
