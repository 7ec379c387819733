"""The reporting service: a Flask app that stores only ciphertext of what reporters write."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

import templates
from reporting.accounts import account_commands, audit, session, signin
from reporting.casework import api
from reporting.casework import pages as casework_pages
from reporting.delivery import delivery_commands
from reporting.infra import db, doctor, instance_files, operator_commands, queue
from reporting.infra.blobs import BlobStore
from reporting.infra.config import Settings, load_settings
from reporting.intake import derivations
from reporting.intake import pages as reporter_pages
from reporting.intake.uploads import EncryptingRequest
from reporting.organisations import pages as admin_pages
from reporting.organisations import registry_commands
from reporting.web import errors, headers, health, i18n, inputs, portal_texts, ratelimit

TEMPLATE_FOLDER = Path(templates.__file__).parent
# Where "Quick exit" goes unless instance/portal.toml names a page for the reader's language.
QUICK_EXIT_URL = "https://en.wikipedia.org/wiki/Special:Random"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a fresh app, so tests pass their config here instead of patching globals."""
    # Before anything is created: keys, database and ciphertext are the service user's alone.
    instance_files.keep_private()
    overrides = dict(config or {})
    # Flask fixes the instance folder at construction, so it is taken out before the rest.
    instance_path = overrides.pop("INSTANCE_PATH", None)
    settings = load_settings(os.environ, Path(instance_path) if instance_path else None)
    settings = _with_overrides(settings, overrides)

    # Passed explicitly so that an installed (non-editable) package also uses ./instance.
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(TEMPLATE_FOLDER),
    )
    app.request_class = EncryptingRequest
    app.config.from_mapping(settings.flask_config())
    app.config["QUICK_EXIT_URL"] = QUICK_EXIT_URL
    app.config.from_mapping({k: v for k, v in overrides.items() if k not in SETTING_OVERRIDES})

    app.extensions["blobs"] = _open_blob_store(settings)
    db.init_app(app)
    # Every POST needs the session's CSRF token; a failure is a readable 400 (errors.py).
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)  # token auth; a cookie opens nothing there
    # Checked by its own MAC instead: a late failure may leave the browser no session.
    csrf.exempt(reporter_pages.codename_error.codename_error)
    session.init_app(app)
    audit.init_app(app)
    signin.init_app(app)
    i18n.init_app(app)
    portal_texts.init_app(app)
    ratelimit.init_app(app)
    derivations.init_app(app)
    queue.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    inputs.init_app(app)  # before the blueprints: their <int:…> parts take its bound
    operator_commands.init_app(app)
    doctor.init_app(app)
    account_commands.init_app(app)
    delivery_commands.init_app(app)
    registry_commands.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(reporter_pages.bp)
    app.register_blueprint(casework_pages.bp)
    app.register_blueprint(admin_pages.bp)
    app.register_blueprint(api.bp)
    return app


def _open_blob_store(settings: Settings) -> BlobStore:
    """The blob store, with the instance path settled as every process starts: what an older
    version or an operator made with looser modes or exact times is closed up and dated to
    the day, and what killed uploads left is cleared (uploads in progress elsewhere keep
    their files: reporting/infra/blobs.py)."""
    store = BlobStore(settings.blob_path)
    roots = [settings.instance_path]
    if not settings.blob_path.is_relative_to(settings.instance_path):
        roots.append(settings.blob_path)
    for root in roots:
        instance_files.settle_below(root, skip_files_in=store.folders())
    store.sweep_partial_files()
    return store


# Config keys a caller (a test, a benchmark) may pass to replace a setting of the environment.
SETTING_OVERRIDES = {
    "DATABASE_URL": "database_url",
    "BLOB_PATH": "blob_path",
    "REDIS_URL": "redis_url",
    "ONION_ADDRESS": "onion_address",
    "ALLOWED_HOSTS": "allowed_hosts",
    "ORGANISATION": "organisation",
    "LIMITS": "limits",
    "DELIVERY": "delivery",
}


def _with_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    changes = {
        field: overrides[key] for key, field in SETTING_OVERRIDES.items() if key in overrides
    }
    return replace(settings, **changes) if changes else settings
