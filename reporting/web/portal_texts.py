"""The operator's texts for the page being rendered: in the reader's language, else English,
else nothing (the templates then keep their generic wording)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from reporting.infra.config import Settings
from reporting.web.i18n import current_language


def portal_context() -> dict[str, Any]:
    """`portal` for every template: name, description, verify (str or None), the onion
    address, and `quick_exit_url`, the language's own or the service's default."""
    settings: Settings = current_app.config["SETTINGS"]
    language = current_language()
    texts = {key: settings.portal.text(language, key) for key in ("name", "description", "verify")}
    quick_exit = settings.portal.text(language, "quick_exit")
    return {
        "portal": {**texts, "onion_address": settings.onion_address},
        "quick_exit_url": quick_exit or current_app.config["QUICK_EXIT_URL"],
    }


def init_app(app: Flask) -> None:
    app.context_processor(portal_context)
