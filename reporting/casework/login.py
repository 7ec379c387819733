"""Login, second factor, enrolment, password change and logout."""

from __future__ import annotations

from reporting.casework import bp


@bp.get("/login")
def login() -> str:
    return "login"  # placeholder until the accounts work lands
