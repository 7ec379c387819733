"""Checks of the running service: debug mode, gunicorn's logging and addresses, the
organisations' keys, the upload path, and who may read the instance files."""

from __future__ import annotations

import os
import runpy
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crypto import parse_recipient
from reporting.infra.config import FORM_FIELD_MAX_BYTES, Settings
from reporting.infra.doctor.findings import Finding, unsafe
from reporting.infra.doctor.settings import is_loopback
from reporting.intake.uploads import EncryptingRequest
from reporting.models import Organisation
from reporting.organisations.recipients import receiving_organisation, recipients_of


def check_debug(app: Flask, environ: Mapping[str, str]) -> list[Finding]:
    """Debug mode shows tracebacks (with local variables) to whoever triggers an error."""
    if app.debug or environ.get("FLASK_DEBUG", "").lower() in ("1", "true", "yes", "on"):
        return unsafe(
            "Debug mode is on: an error page would show code and data to a visitor.",
            "Remove FLASK_DEBUG (and --debug) from the service's environment.",
        )
    return []


def load_gunicorn_config(path: Path) -> dict[str, Any]:
    """The settings a gunicorn configuration file defines (it is Python: run it)."""
    return runpy.run_path(str(path))


def _bound_publicly(address: str) -> bool:
    if address.startswith(("unix:", "fd://")):
        return False
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return not is_loopback(host)


def check_gunicorn(settings: Mapping[str, Any], environ: Mapping[str, str]) -> list[Finding]:
    """An access log records every visit with its time (and, before Tor, its address)."""
    findings = []
    command_line = environ.get("GUNICORN_CMD_ARGS", "")
    if settings.get("accesslog") is not None or "--access-logfile" in command_line:
        findings += unsafe(
            "gunicorn writes an access log: every request, with its time, is recorded.",
            "Set accesslog = None in deploy/gunicorn.conf.py and drop --access-logfile.",
        )
    if settings.get("syslog") and not settings.get("disable_redirect_access_to_syslog"):
        findings += unsafe(
            "gunicorn sends access lines to syslog.",
            "Set disable_redirect_access_to_syslog = True, or syslog = False.",
        )
    bind = settings.get("bind", "127.0.0.1:8000")
    public = [a for a in ([bind] if isinstance(bind, str) else bind) if _bound_publicly(a)]
    if public:
        findings += unsafe(
            f"gunicorn listens beyond loopback ({', '.join(public)}): the service is reachable "
            "without Tor, and the caseworker side without client authorization.",
            "Bind to 127.0.0.1 only, as deploy/gunicorn.conf.py does.",
        )
    return findings


def check_organisations(db: Session, configured: str | None) -> list[Finding]:
    """No key means no report can be accepted; mixed kinds make every report as weak as the
    classic key."""
    organisations = db.scalars(select(Organisation).order_by(Organisation.name)).all()
    if not organisations:
        return unsafe(
            "There is no organisation, so the portal accepts no report.",
            "Create one with `flask org create NAME`, then its first admin (deploy/README.md).",
        )
    findings = []
    if receiving_organisation(db, configured) is None:
        findings += unsafe(
            "The portal has no receiving organisation: REPORTING_ORGANISATION names none, or "
            "it is unset and there are several.",
            "Set REPORTING_ORGANISATION to a name that `flask org list` shows.",
        )
    for organisation in organisations:
        kinds = {parse_recipient(row.recipient).post_quantum for row in organisation.recipients}
        if not recipients_of(organisation):
            findings += unsafe(
                f"{organisation.name!r} has no key in use: its reports cannot be encrypted, so "
                "none are accepted.",
                "A caseworker registers a public key on /casework/account (deploy/README.md, "
                "key ceremony).",
            )
        if len(kinds) > 1:
            findings += unsafe(
                f"{organisation.name!r} mixes classic (age1…) and post-quantum (age1pq1…) keys: "
                "every report is only as strong as the classic key.",
                "Replace the classic keys with post-quantum ones (age-keygen -pq), on /admin/keys.",
            )
    return findings


def check_uploads(app: Flask) -> list[Finding]:
    """Werkzeug's own request class would spool every upload over 500 KB to a temp file in
    clear; the app's encrypts each chunk before it reaches the disk."""
    request_class = app.request_class
    findings = []
    if not (
        issubclass(request_class, EncryptingRequest)
        and request_class._get_file_stream is EncryptingRequest._get_file_stream
    ):
        findings += unsafe(
            f"Uploads would be spooled to disk in clear (request class {request_class.__name__}).",
            "Use reporting.intake.uploads.EncryptingRequest, as create_app does.",
        )
    memory = app.config.get("MAX_FORM_MEMORY_SIZE")
    if memory is None or memory > FORM_FIELD_MAX_BYTES:
        findings += unsafe(
            f"Form fields may hold {memory or 'unlimited'} bytes in memory per request.",
            f"Keep MAX_FORM_MEMORY_SIZE at {FORM_FIELD_MAX_BYTES} (reporting/infra/config.py).",
        )
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        findings += unsafe("Requests have no size limit.", "Set REPORTING_MAX_SUBMISSION_MB.")
    return findings


# More findings than this about file modes are summed up in one more line.
MAX_FILE_FINDINGS = 10


def check_files(settings: Settings) -> list[Finding]:
    """Keys, the salt, the database, the ciphertext and everything else under the instance
    path are for the service user alone (the service makes them 0600 and 0700 itself)."""
    findings: list[Finding] = []
    loose = 0
    for path in _instance_files(settings):
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except FileNotFoundError:
            continue
        if path.is_symlink() or not mode & 0o077:
            continue
        loose += 1
        if loose <= MAX_FILE_FINDINGS:
            findings += unsafe(
                f"{path} is readable by other users (mode {oct(mode)}).",
                f"chmod {'700' if path.is_dir() else '600'} {path} (the units set UMask=0077).",
            )
    if loose > MAX_FILE_FINDINGS:
        root = settings.instance_path
        findings += unsafe(
            f"{loose - MAX_FILE_FINDINGS} more files or folders are readable by other users.",
            f"chmod -R go= {root}"
            + (f" {settings.blob_path}" if settings.blob_path != root else ""),
        )
    return findings


def _instance_files(settings: Settings) -> list[Path]:
    """The instance folder, the blob store and the database, with everything below them."""
    roots = [settings.instance_path, settings.blob_path]
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        roots.append(Path(url.database))
    seen: dict[Path, None] = {}
    for root in roots:
        if not root.exists():
            continue
        seen[root] = None
        if root.is_dir():
            for folder, subfolders, names in os.walk(root):
                base = Path(folder)
                for name in (*subfolders, *names):
                    seen[base / name] = None
    return list(seen)
