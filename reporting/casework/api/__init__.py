"""The JSON API of the caseworker client (docs/caseworker-api.md).

Token auth only: cookies open nothing here, so the API needs no CSRF token.
Errors are JSON: {"error": code, "message": what went wrong and what to do}.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from reporting.casework.api import views  # noqa: E402, F401  (routes register on bp)
