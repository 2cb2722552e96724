"""The HTTP side of webhook deliveries, with the SSRF guard.

A webhook URL is chosen by staff, but it must still never make the server call into its own
network (cloud metadata at 169.254.169.254, Redis on localhost, private services). Unless
insecure destinations are allowed (development and tests only; production refuses it):
- only https URLs are accepted;
- the host name is resolved once, every address it resolves to must be a public one, and the
  connection goes to that checked address (the name is still used for TLS SNI, certificate
  checks and the Host header), so a second DNS answer cannot swap in a private address;
- redirects are never followed: a 3xx is a failed delivery.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

EXCERPT_CHARACTERS = 1000
# At most this much of a response body is read, to keep the excerpt; the rest is dropped.
READ_LIMIT_BYTES = 64 * 1024
BLOCKED_HOST_NAMES = ("localhost",)
BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


class DestinationRefused(Exception):
    """The URL is not allowed (scheme, credentials, a non-public address). Never retried."""


class TransportError(Exception):
    """The request did not complete (DNS, connection, TLS, timeout). Worth retrying."""


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    body_excerpt: str


def url_check(url: str, *, allow_insecure: bool) -> None:
    """Refuse a URL that can never be delivered to safely; names are resolved only when sending.

    Raises DestinationRefused with a message for the person who entered it.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise DestinationRefused("The URL must start with https://.")
    if parts.scheme != "https" and not allow_insecure:
        raise DestinationRefused("Only https:// URLs are allowed.")
    if parts.username or parts.password:
        raise DestinationRefused("The URL must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise DestinationRefused("The URL has no host.")
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError as error:
        raise DestinationRefused("The URL's port is not valid.") from error
    if allow_insecure:
        return
    if host in BLOCKED_HOST_NAMES or host.endswith(BLOCKED_HOST_SUFFIXES):
        raise DestinationRefused("The URL must point at a public host, not a local name.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: checked against what it resolves to when sending
    if not address_is_public(address):
        raise DestinationRefused("The URL must point at a public address.")


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared, reserved, ..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int, *, allow_insecure: bool) -> str:
    """The address to connect to: the first one `host` resolves to, all of them checked."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TransportError(f"Cannot resolve {host}: {error}") from error
    addresses = [str(info[4][0]).split("%", 1)[0] for info in infos]
    if not addresses:
        raise TransportError(f"{host} resolves to no address.")
    if not allow_insecure:
        for address in addresses:
            if not address_is_public(ipaddress.ip_address(address)):
                raise DestinationRefused(f"{host} resolves to a non-public address ({address}).")
    return addresses[0]


def post(
    *, url: str, body: bytes, headers: dict[str, str], timeout: float, allow_insecure: bool
) -> WebhookResponse:
    """POST `body` to `url` once: no redirects, no retries, `timeout` seconds at most per step.

    Raises DestinationRefused (never retry) or TransportError (retry later).
    """
    url_check(url, allow_insecure=allow_insecure)
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    address = _resolve(host, port, allow_insecure=allow_insecure)
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pool_timeout = urllib3.Timeout(connect=timeout, read=timeout, total=timeout)
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=pool_timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=host,
            assert_hostname=host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            address, port, timeout=pool_timeout, retries=False, maxsize=1
        )
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            content = response.read(READ_LIMIT_BYTES)
        finally:
            response.release_conn()
    except (Urllib3Error, OSError) as error:
        raise TransportError(_error_text(error)) from error
    finally:
        pool.close()
    excerpt = content.decode("utf-8", errors="replace")[:EXCERPT_CHARACTERS]
    return WebhookResponse(status_code=response.status, body_excerpt=excerpt)


def _error_text(error: BaseException) -> str:
    name = type(error).__name__
    if isinstance(error, urllib3.exceptions.TimeoutError | socket.timeout | TimeoutError):
        return f"Timed out ({name})."
    return f"{name}: {error}"[:500]
