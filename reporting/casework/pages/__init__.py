"""The caseworkers' web pages: login and enrolment, and the triage inbox.

Caseworker pages show triage metadata only; reading a report happens on the
caseworker's own machine, with the client or the stock `age` command.
"""

from flask import Blueprint

bp = Blueprint("casework", __name__, url_prefix="/casework")

from reporting.casework.pages import inbox, login  # noqa: E402, F401  (routes register on bp)
