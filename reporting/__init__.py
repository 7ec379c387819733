"""The reporting service: a Flask app that stores only ciphertext of what reporters write."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from reporting import health
from reporting.config import load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a fresh app, so tests pass their config here instead of patching globals."""
    overrides = dict(config or {})
    # Flask fixes the instance folder at construction, so it is taken out before the rest.
    instance_path = overrides.pop("INSTANCE_PATH", None)
    settings = load_settings(os.environ, Path(instance_path) if instance_path else None)

    # Passed explicitly so that an installed (non-editable) package also uses ./instance.
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.from_mapping(settings.flask_config())
    app.config.from_mapping(overrides)

    app.register_blueprint(health.bp)
    return app
