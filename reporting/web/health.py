"""Liveness check, so a supervisor or load balancer can tell the app is serving."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """Answer without touching the database, so it reports on the web process alone."""
    return {"status": "ok"}
