"""Security headers on every response: no script, no third parties, no caching, no framing."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Request, Response, request
from werkzeug.exceptions import SecurityError

from reporting.infra.config import Settings

# Reporters run Tor Browser "Safest" and pages need no script: allowing none means an injected
# <script> cannot run even if escaping fails somewhere, and nothing loads from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

# Every powerful feature off: a reporting form needs none, and each one is an avenue for
# fingerprinting or for a compromised page to reach a reporter's device.
DISABLED_FEATURES = (
    "accelerometer", "ambient-light-sensor", "attribution-reporting", "autoplay", "battery",
    "bluetooth", "browsing-topics", "camera", "clipboard-read", "clipboard-write",
    "compute-pressure", "display-capture", "document-domain", "encrypted-media", "fullscreen",
    "gamepad", "geolocation", "gyroscope", "hid", "identity-credentials-get", "idle-detection",
    "interest-cohort", "join-ad-interest-group", "local-fonts", "magnetometer", "microphone",
    "midi", "otp-credentials", "payment", "picture-in-picture", "publickey-credentials-create",
    "publickey-credentials-get", "run-ad-auction", "screen-wake-lock", "serial",
    "speaker-selection", "storage-access", "sync-xhr", "usb", "web-share", "window-management",
    "xr-spatial-tracking",
)  # fmt: skip
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DISABLED_FEATURES)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Referrer-Policy": "no-referrer",  # a link out must not reveal the portal's address
    # A shared or seized device must not keep copies of what a reporter read or wrote.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # Isolate the page from other windows and origins (no opener, no cross-origin embedding).
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}

# Headers that name the software stack; the app never sends them (the WSGI server may add its
# own `Server` line, which its configuration must suppress).
IDENTIFYING_HEADERS = ("Server", "X-Powered-By")


def onion_host(address: str) -> str:
    """Reduce a configured onion address to its bare lower-case host name."""
    host = address.strip().lower()
    if "://" in host:
        host = host.split("://", 1)[1]
    return host.rstrip("/")


def onion_location(onion: str, incoming: Request) -> str | None:
    """The same page on the onion service, or None when the request already came over it."""
    try:
        host = incoming.host.lower()
    except SecurityError:  # a Host not in REPORTING_ALLOWED_HOSTS: it gets a 400, no pointer
        return None
    if host == onion or host.startswith(onion + ":"):
        return None
    # Quoted again, so a decoded newline in the path can never break the header.
    path = quote(incoming.script_root + incoming.path, safe="/:@!$&'()*+,;=~")
    query = quote(incoming.query_string, safe="/?:@!$&'()*+,;=~%")
    return f"http://{onion}{path}" + (f"?{query}" if query else "")


def init_app(app: Flask) -> None:
    """Add the headers in an after_request hook, so error pages get them as well."""
    settings: Settings = app.config["SETTINGS"]
    onion = onion_host(settings.onion_address) if settings.onion_address else None

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        """Overwrite rather than default, so no view can loosen the policy by accident."""
        response.headers.update(SECURITY_HEADERS)
        for name in IDENTIFYING_HEADERS:
            response.headers.pop(name, None)
        location = onion_location(onion, request) if onion else None
        if location:
            response.headers["Onion-Location"] = location
        return response
