"""API views: translate between JSON and the plain functions of triage and messages.

The routes live in one module per part of docs/caseworker-api.md; importing them
here registers them on the blueprint.
"""

from __future__ import annotations

from reporting.casework.api import account, messages, reports

__all__ = ["account", "messages", "reports"]
