"""Checks of single settings: the secret key, the database and Redis URLs, the onion address,
the portal file."""

from __future__ import annotations

import base64
import ipaddress
import math
import re
import string
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import make_url

from reporting.infra.config import (
    ALLOWED_HOSTS_VAR,
    DATABASE_URL_VAR,
    ONION_ADDRESS_VAR,
    REDIS_URL_VAR,
    SECRET_KEY_FILE,
    SECRET_KEY_VAR,
)
from reporting.infra.doctor.findings import PLACEHOLDER, Finding, Severity, unsafe
from reporting.infra.portal_file import PORTAL_FILE, Portal
from reporting.web.headers import onion_host

MIN_SECRET_BITS = 256
ONION_V3 = re.compile(r"[a-z2-7]{56}\.onion")
_ALPHABETS = (
    string.digits,
    string.hexdigits,
    string.ascii_lowercase,
    string.ascii_letters,
    string.ascii_letters + string.digits,
    string.ascii_letters + string.digits + "+/-_=",
)


def estimated_bits(key: str) -> float:
    """Bits of a random key of this length over the smallest usual alphabet that holds it.

    An upper bound: a typed phrase has far less, which is why placeholders and repeated
    characters are refused separately and why the key should come from a generator.
    """
    size = next((len(set(a)) for a in _ALPHABETS if set(key) <= set(a)), 95)
    return len(key) * math.log2(size)


def check_secret_key(key: str) -> list[Finding]:
    """A guessable key lets anyone forge a session cookie, a caseworker's included."""
    fix = (
        f"Remove {SECRET_KEY_VAR} from the environment so the service generates a random key "
        f"into the instance folder's {SECRET_KEY_FILE}, or set 64 hex digits from "
        "`openssl rand -hex 32`."
    )
    if PLACEHOLDER.lower() in key.lower() or "example" in key.lower():
        return unsafe("The secret key is a placeholder from an example file.", fix)
    if estimated_bits(key) < MIN_SECRET_BITS or len(set(key)) < 8:
        return unsafe(
            f"The secret key is too short or too simple (at most about "
            f"{int(estimated_bits(key))} bits; at least {MIN_SECRET_BITS} are needed).",
            fix,
        )
    return []


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_database(url: str) -> list[Finding]:
    """SQLite is for trying the service; PostgreSQL must not be reached across a network."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return unsafe(
            "The database is SQLite: one writer at a time, so web processes and the worker "
            "block each other, and a file in the instance folder to back up by hand.",
            f"Use PostgreSQL: set {DATABASE_URL_VAR} as deploy/env.example shows.",
        )
    socket = str(parsed.query.get("host", ""))
    if parsed.host and not is_loopback(parsed.host) and not socket.startswith("/"):
        return unsafe(
            f"The database is on another machine ({parsed.host}): its traffic would cross "
            "a network.",
            "Run PostgreSQL on this server and connect through its local socket.",
        )
    return []


def check_redis(url: str | None) -> list[Finding]:
    """An open or remote Redis lets anyone read the queue and reset the abuse limits."""
    fix = (
        f"Set up Redis as deploy/README.md shows and set {REDIS_URL_VAR}="
        "redis://reporting:PASSWORD@127.0.0.1:6379/0."
    )
    if not url:
        return unsafe(
            "No Redis is configured: rate limits are kept per web process, so each of "
            "them allows the full limit.",
            fix,
        )
    parts = urlsplit(url)
    password = parts.password or (parse_qs(parts.query).get("password") or [""])[0]
    findings = []
    if not password:
        findings += unsafe("Redis is used without a password.", fix)
    elif PLACEHOLDER.lower() in password.lower():
        findings += unsafe("The Redis password is the placeholder from deploy/env.example.", fix)
    local = parts.scheme in ("unix", "redis+socket") or is_loopback(parts.hostname)
    if not local:
        findings += unsafe(f"Redis is not on loopback ({parts.hostname}).", fix)
    return findings


def check_onion(address: str | None) -> list[Finding]:
    """Without the address, Onion-Location is not sent and operators cannot check it here."""
    fix = (
        f"Set {ONION_ADDRESS_VAR} to the address in /var/lib/tor/reporting-reporter/hostname "
        "(deploy/README.md, Tor)."
    )
    if not address:
        return unsafe("No onion address is configured.", fix)
    host = onion_host(address)
    if not ONION_V3.fullmatch(host) or base64.b32decode(host[:56].upper())[-1] != 3:
        return unsafe(f"{address!r} is not a v3 onion address.", fix)
    return []


def check_allowed_hosts(onion_address: str | None, allowed: tuple[str, ...]) -> list[Finding]:
    """A deployment that names its onion should answer to it (and loopback) only."""
    fix = f"Set {ALLOWED_HOSTS_VAR} to both onion addresses and 127.0.0.1 (deploy/env.example)."
    if not allowed:
        return unsafe("The service answers to any host name a request gives.", fix)
    onion = onion_host(onion_address) if onion_address else None
    if onion and onion not in allowed:
        return unsafe(f"{ALLOWED_HOSTS_VAR} leaves out the reporter onion {onion}.", fix)
    return []


def check_portal(portal: Portal) -> list[Finding]:
    """A portal that names nobody asks reporters to trust "the organisation"; one that does
    not say where its address is published gives them no way to tell it from a fake."""
    findings = []
    if not portal.named:
        findings.append(
            Finding(
                Severity.WARNING,
                'The portal does not say who runs it: reporters see only "the organisation".',
                f"Set name (and description) in the [en] table of instance/{PORTAL_FILE}, and "
                'in each language\'s table (README, "The portal file").',
            )
        )
    if not any(texts.verify for _, texts in portal.texts):
        findings.append(
            Finding(
                Severity.WARNING,
                "The portal does not tell reporters how to check its onion address.",
                f"Set verify in the [en] table of instance/{PORTAL_FILE}: where the "
                'organisation publishes the address (README, "The portal file").',
            )
        )
    return findings
