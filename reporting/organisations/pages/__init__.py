"""Admin pages: caseworker accounts, the organisation's keys, triage tags, partners and
their delivery settings, and dead deliveries to retry. Admins of one organisation see
and change only their own organisation."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from reporting.organisations.pages import views  # noqa: E402, F401  (routes register on bp)
