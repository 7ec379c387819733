"""E-mail addresses and webhook URLs the service will send to: plain ones, and for
webhooks only public addresses (or networks the operator allowed).

Checked when an admin or operator adds a channel, so a bad address is refused there,
with what to do, instead of failing every delivery later; and checked again by the
channels themselves at delivery (the worker's webhook channel resolves the host once,
checks every address and connects to a checked one, so a second DNS answer cannot
swap in a private address). A webhook URL is chosen by an organisation's admin, so it
is untrusted input to a server next to the database: without these checks it could
make the worker reach inside our network (SSRF).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from reporting.infra.config import WEBHOOK_ALLOWED_NETWORKS_VAR
from reporting.infra.exceptions import Refused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORBIDDEN = set(' <>()[]\\,;:"')
# Not covered by the `ipaddress` flags, or worth naming.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_BLOCKED = (ipaddress.ip_network("0.0.0.0/8"), ipaddress.ip_network("100.64.0.0/10"), *_NAT64)
# Cloud metadata endpoints hold instance credentials: refused even inside allowed networks.
_METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))


class AddressRefused(Refused, ValueError):
    """An address the service will not connect to; `allowable` says whether listing its
    network in REPORTING_WEBHOOK_ALLOWED_NETWORKS would change that."""

    def __init__(self, address: IPAddress, allowable: bool) -> None:
        hint = f"not in {WEBHOOK_ALLOWED_NETWORKS_VAR}" if allowable else "cloud metadata"
        super().__init__(f"address {address} is private ({hint})")
        self.address = address
        self.allowable = allowable


def check_email_address(address: str, what: str = "the address") -> None:
    """Accept a plain ASCII addr-spec only: no display names, lists or header tricks."""
    local, at, domain = address.rpartition("@")
    if not (at and local and "." in domain and address.isascii() and address.isprintable()):
        raise ValueError(f"{what} must be a plain address like name@example.org")
    if _FORBIDDEN & set(address):
        raise ValueError(f"{what} must be a bare address, without spaces, names or brackets")


def check_webhook_url(url: str) -> None:
    """Accept an http(s) URL with a host; the form only, not where it leads."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("the URL must start with https:// (or http:// on a network you trust)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or not parts.hostname or not (url.isascii() and url.isprintable()):
        raise ValueError("the URL must be a plain web address like https://receiver.example.org/")
    if " " in url:
        raise ValueError("the URL must not contain spaces")
    if "@" in parts.netloc:
        raise ValueError("the URL must not hold a user name or password")


def parse_networks(texts: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The operator's allowed networks (REPORTING_WEBHOOK_ALLOWED_NETWORKS) as networks."""
    return tuple(ipaddress.ip_network(text) for text in texts)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form would reach (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _not_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and _not_public(inner):
            return True
    return (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
        or not address.is_global or any(address in net for net in _BLOCKED)
    )  # fmt: skip


def check_address(address: IPAddress, allowed_networks: Sequence[IPNetwork]) -> None:
    """Refuse an address that is not public, unless its network is allowed (never a
    cloud metadata address)."""
    if address in _METADATA:
        raise AddressRefused(address, allowable=False)
    if _not_public(address) and not any(address in net for net in allowed_networks):
        raise AddressRefused(address, allowable=True)


def resolve_checked(host: str, port: int, allowed_networks: Sequence[IPNetwork]) -> list[str]:
    """Every address of `host`, each checked; one refused answer refuses them all.

    Raises AddressRefused, socket.gaierror when the name does not resolve, and
    UnicodeError for a label the IDNA codec rejects (e.g. longer than 63 characters).
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses = [str(info[4][0]) for info in infos]
    for text in addresses:
        check_address(ipaddress.ip_address(text), allowed_networks)
    if not addresses:
        raise socket.gaierror("no address")
    return list(dict.fromkeys(addresses))


def check_webhook_destination(url: str, allowed_networks: Sequence[IPNetwork]) -> None:
    """Refuse, when a channel is added, a webhook the worker would refuse at delivery:
    a malformed URL, a host that does not resolve here, or one that resolves to a private,
    loopback or link-local address outside the allowed networks. The worker checks the
    address it connects to again at every delivery, so a later DNS change is caught there.
    """
    check_webhook_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        resolve_checked(host, port, allowed_networks)
    except AddressRefused as refused:
        if not refused.allowable:
            raise ValueError(
                f"{host} is a cloud metadata address ({refused.address}); webhooks may never "
                "go there"
            ) from None
        raise ValueError(
            f"{host} is a private, loopback or link-local address ({refused.address}), so "
            "the worker would refuse every delivery to it. Give the receiver's public "
            "address; if the receiver really is on your own network, the server's operator "
            f"can allow that network with {WEBHOOK_ALLOWED_NETWORKS_VAR} (for example "
            "10.1.0.0/16)"
        ) from None
    except (OSError, UnicodeError):
        raise ValueError(
            f"{host} cannot be found from this server (its name does not resolve), so the "
            "worker could not deliver to it; check the URL"
        ) from None
