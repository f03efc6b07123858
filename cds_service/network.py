"""Outbound HTTP that cannot be turned against the network: address checks at connect time, FHIR server allowlists."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Cloud metadata services answer on these; they hand out credentials to whoever asks.
# Cloud metadata and platform endpoints: AWS/GCP/Azure IMDS, AWS IPv6, Alibaba, Azure's wire server, Oracle.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16", "192.0.0.192")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


class BlockedAddress(NewConnectionError):
    """A host resolved to an address the service never contacts (link-local, metadata, unspecified, multicast)."""

    def __init__(self, conn: HTTPConnection) -> None:
        super().__init__(conn, "address not allowed")


def is_blocked(address: str) -> bool:
    """Tell whether an IP address is one the service must never contact."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _METADATA:
            return True
        # An IPv4 address wrapped in IPv6 reaches the same host as the IPv4 address itself.
        embedded = (
            ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        )
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return False  # local FHIR servers and tests
    if ip in _METADATA or ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return True
    return isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK


def resolve(host: str, port: int) -> list[str]:
    """Return the IP addresses a host name resolves to (the one DNS answer both checked and connected to)."""
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def vetted_addresses(host: str, port: int) -> list[str]:
    """Resolve a host once and return its addresses; raise ValueError if any of them is blocked."""
    addresses = resolve(host, port)
    if not addresses or any(is_blocked(a) for a in addresses):
        raise ValueError("address not allowed")
    return addresses


class _GuardedConnectionMixin:
    """Connect only to vetted addresses, to exactly the ones vetted, so DNS rebinding cannot slip in between."""

    def _new_conn(self) -> socket.socket:
        """Resolve, vet every address, then connect to the vetted addresses in turn."""
        conn: Any = self
        try:
            addresses = vetted_addresses(conn._dns_host, conn.port)
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        except ValueError:
            raise BlockedAddress(conn) from None
        error: Exception = NewConnectionError(conn, "Failed to establish a new connection")
        for address in addresses:
            try:
                return connection.create_connection(
                    (address, conn.port),
                    conn.timeout,
                    source_address=conn.source_address,
                    socket_options=conn.socket_options,
                )
            except TimeoutError as exc:
                error = ConnectTimeoutError(conn, f"Connection to {conn.host} timed out")
                error.__cause__ = exc
            except OSError as exc:
                error = NewConnectionError(conn, f"Failed to establish a new connection: {exc}")
                error.__cause__ = exc
        raise error


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    """An HTTP connection that refuses blocked addresses."""


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    """An HTTPS connection that refuses blocked addresses (TLS still verifies the host name)."""


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    """A pool of guarded HTTP connections."""

    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    """A pool of guarded HTTPS connections."""

    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse blocked addresses and never go through a proxy."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Create the pool manager with guarded connection pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }

    def send(
        self,
        request: Any,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Any:
        """Send without a proxy: a proxy would resolve the host itself, out of reach of the address check."""
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)


def was_blocked(exc: BaseException) -> bool:
    """Tell whether a requests error was caused by a blocked address."""
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, BlockedAddress) or isinstance(getattr(cause, "reason", None), BlockedAddress)


def normalize_base_url(url: str) -> str:
    """Return a base URL as allowlists compare it: lower-case scheme and host, explicit port, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    port = parts.port  # raises ValueError on a bad port
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        raise ValueError("not an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError("a base URL has no query or fragment")
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}{parts.path.rstrip('/')}"


def is_loopback_url(url: str) -> bool:
    """Tell whether a URL names a loopback host (localhost or a loopback IP literal)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_listed(url: str, allowed: Iterable[str]) -> bool:
    """Tell whether a FHIR server base URL is one of the allowed base URLs."""
    try:
        wanted = normalize_base_url(url)
    except ValueError:
        return False
    return any(wanted == normalize_base_url(a) for a in allowed)
