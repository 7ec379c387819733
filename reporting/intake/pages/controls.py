"""Reporter pages for what a reporter controls after sending: urgency, consent, deletion.

Each form is POST only with a CSRF token; a bad value changes nothing and shows the case
page again with the error. After a change the session is renewed (new id, new token), so
replaying the request changes nothing more. The work is in reporting/intake/reporter_controls.py.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from reporting.accounts.session import renew_session
from reporting.infra import db
from reporting.infra.queue import send_urgent_notice
from reporting.intake.pages.forms import ConsentForm, DeletionForm, FollowupForm, UrgentForm
from reporting.intake.pages.views import (
    KEPT_ACROSS_SESSIONS,
    REPLY_IDENTITY,
    REPORT_ID,
    bp,
    render_case,
    signed_in_report,
)
from reporting.intake.reporter_controls import request_deletion, set_consent, set_urgent
from reporting.models import Consent, Report


def _renewed() -> None:
    """A new session id and CSRF token, still signed in: a replay changes nothing more."""
    renew_session(keep=(*KEPT_ACROSS_SESSIONS, REPORT_ID, REPLY_IDENTITY))


def _confirmation(report: Report, form: DeletionForm, status: int) -> Any:
    delay = report.organisation.deletion_delay_days
    return render_template("reporter/delete.html", form=form, delay_days=delay), status


@bp.post("/case/urgent")
def change_urgent() -> Any:
    report, identity = signed_in_report()
    form = UrgentForm()
    if not form.validate_on_submit():
        return render_case(report, identity, FollowupForm(formdata=None), 400, urgent_form=form)
    urgent = form.urgent.data == "yes"
    if set_urgent(db.database(), report.id, urgent):
        send_urgent_notice()
    _renewed()
    if urgent:
        flash(_("Your report is marked urgent. The caseworkers are told at once."), "success")
    else:
        flash(_("Your report is no longer marked urgent."), "success")
    return redirect(url_for("reporter.case"))


@bp.post("/case/consent")
def change_consent() -> Any:
    report, identity = signed_in_report()
    form = ConsentForm()
    if not form.validate_on_submit():
        return render_case(report, identity, FollowupForm(formdata=None), 400, consent_form=form)
    set_consent(db.database(), report.id, Consent(form.consent.data))
    _renewed()
    flash(_("Your choice about sharing is saved and applies from now on."), "success")
    return redirect(url_for("reporter.case"))


@bp.get("/case/delete")
def delete_confirmation() -> Any:
    report, _identity = signed_in_report()
    return _confirmation(report, DeletionForm(), 200)


@bp.post("/case/delete")
def delete() -> Any:
    report, _identity = signed_in_report()
    form = DeletionForm()
    if not form.validate_on_submit():
        return _confirmation(report, form, 400)
    request_deletion(db.database(), report.id)
    # Signed out: the report is closed to this session and to the codename from now on.
    renew_session(keep=KEPT_ACROSS_SESSIONS)
    flash(
        _(
            "Your report is closed and will be deleted. Your codename no longer opens it. "
            "Close Tor Browser (or choose “New Identity”) to clear it."
        ),
        "success",
    )
    return redirect(url_for("reporter.index"))
