"""An error page that showed a new report's codename, drawn again in another language.

Something failed after the report was stored (or perhaps stored): the page shows the
codename, and its language buttons send a form carrying the codename and the MAC the
server made of it (reporting/intake/codename_page.py), so switching language keeps it.
The form has no CSRF token (create_app exempts this view): the failure may have skipped
saving the session that would hold one. What comes back is checked whole by its MAC,
and anything else shows and keeps nothing.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request

from reporting.intake import codename_page
from reporting.intake.pages.views import bp, cannot_show_again
from reporting.web import errors, i18n

KINDS = (errors.STORED_KIND, errors.UNCERTAIN_KIND)


@bp.post("/report/stored")
def codename_error() -> Any:
    code = i18n.requested_language()
    codename = request.form.get("codename", "")
    fields = {name: request.form.get(name, "") for name in ("kind", "code", "until", "mac")}
    if code is None or fields["kind"] not in KINDS:
        abort(400, description=cannot_show_again())
    if not codename_page.is_vouched(fields, codename):
        abort(400, description=cannot_show_again())
    i18n.use_language(code)
    return errors.codename_error_page(fields["kind"], int(fields["code"]), codename)
