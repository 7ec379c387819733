"""Reporter pages: each view validates a form, calls one plain function, and renders."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from crypto import parse_identity
from reporting.accounts.session import renew_session
from reporting.infra import db
from reporting.infra.queue import send_deliveries, send_urgent_notice
from reporting.intake import codename_page, derivations, kept_files, uploads
from reporting.intake.abuse import ABUSE_ID, allow_codename_attempt, allow_submission
from reporting.intake.pages.codename_forms import shown_forms
from reporting.intake.pages.evidence import (
    ROWS_SUFFIX,
    chosen_uploads,
    descriptions,
    kept_descriptions,
)
from reporting.intake.pages.forms import (
    CodenameForm,
    ConsentForm,
    FollowupForm,
    LogoutForm,
    UrgentForm,
)
from reporting.intake.pages.report_form import follow_reading_language, report_form
from reporting.intake.pages.status import LABELS
from reporting.intake.reporter_controls import open_to_reporter
from reporting.intake.return_visit import case_view, find_report
from reporting.intake.submissions import store_followup, store_report
from reporting.intake.uploads import blob_store, receiving
from reporting.models import Report
from reporting.web import errors, i18n
from reporting.web.inputs import not_as_sent

bp = Blueprint("reporter", __name__)
# App-wide, for the error pages that show a new report's codename too.
bp.add_app_template_global(shown_forms, "codename_forms")

# Session keys. The reply identity is in the session only while the reporter is signed in;
# the session cookie is encrypted and nothing of it is kept on the server.
REPORT_ID = uploads.REPORT_ID
REPLY_IDENTITY = "reply_identity"
KEPT_ACROSS_SESSIONS = ("lang", ABUSE_ID)


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _require_multipart() -> None:
    """Our forms are sent as multipart; other encodings would hide undecodable text
    (an urlencoded %FF stays literal), so they are refused rather than guessed at."""
    if request.method == "POST" and request.mimetype != "multipart/form-data":
        abort(400, description=not_as_sent())


@bp.before_request
def _leave_codename_page() -> None:
    """Any other reporter page ends the codename page's flow: it cannot be shown again."""
    if request.endpoint != "reporter.received":
        codename_page.forget()


def _locale() -> str:
    return str(get_locale() or "en")


def _sign_in(report_id: str, identity: str) -> None:
    """Start a fresh session for this report (new id, new CSRF token, old one revoked)."""
    renew_session(keep=KEPT_ACROSS_SESSIONS)
    session[REPORT_ID] = report_id
    session[REPLY_IDENTITY] = identity


@bp.get("/")
def index() -> str:
    return render_template("reporter/index.html")


@bp.route("/report", methods=["GET", "POST"])
def report() -> Any:
    _require_multipart()
    previous = i18n.current_language()
    switched = i18n.switched_language()  # before the form: its countries are in the language
    form = report_form()
    if switched:
        follow_reading_language(form, previous)
    kept = kept_files.current(db.database(), kept_files.REPORT_SCOPE)
    files, rows = form["attachments"].data or [], form["attachments" + ROWS_SUFFIX]
    if switched or not form.validate_on_submit() or kept.gone:
        status = 400 if form.is_submitted() and not switched else 200
        uploads = chosen_uploads(files, kept_descriptions(files, rows))
        kept_files.check_count(kept.files, uploads)
        now_kept = kept_files.keep(db.database(), kept_files.REPORT_SCOPE, uploads)
        return (
            render_template(
                "reporter/report.html",
                form=form,
                limits=_settings().limits,
                kept=[*kept.files, *now_kept],
                kept_gone=kept.gone,
                language_form="report-form",
            ),
            status,
        )
    allow_submission()
    filing = receiving()
    uploads = chosen_uploads(files, descriptions(files, rows))
    kept_files.check_count(kept.files, uploads)
    receipt = store_report(
        db.database(),
        blob_store(),
        filing.organisation,
        filing.recipients,
        form.data,
        uploads,
        _settings().codename_salt,
        _locale(),
        derive=derivations.derive,
        kept=kept.files,
    )
    errors.note_stored(receipt.codename)  # from here on, any error page says it was stored
    send_deliveries(receipt.delivery_ids)
    if receipt.urgent:
        send_urgent_notice()
    # Signing in replaces the session, and with it the CSRF token: sending the same form
    # again (a reload, a replay) fails the CSRF check instead of filing a second report.
    _sign_in(receipt.report_id, receipt.reply_identity)
    codename_page.remember(receipt.codename)
    return _render_received(receipt.codename)


def cannot_show_again() -> str:
    """What a codename page drawn again for the wrong codename, or too late, says instead."""
    return str(
        _(
            "This page cannot be shown again. If you did not keep your codename, "
            "you can make a new report."
        )
    )


def _render_received(codename: str) -> str:
    return render_template(
        "reporter/received.html", codename=codename, language_form="codename-language"
    )


@bp.post("/report/received")
def received() -> Any:
    """The codename page again, in the language its button asked for: only for the codename
    this session was shown (codename_page.py); anything else shows and keeps nothing."""
    code = i18n.requested_language()
    codename = request.form.get("codename", "")
    if code is None or not codename_page.is_shown(codename):
        codename_page.forget()
        abort(400, description=cannot_show_again())
    i18n.use_language(code)
    return _render_received(codename)


@bp.route("/return", methods=["GET", "POST"])
def come_back() -> Any:
    form = CodenameForm()
    if session.get(REPORT_ID) and not form.is_submitted():
        return redirect(url_for("reporter.case"))
    switched = i18n.switched_language()  # the typed codename comes back; nothing is tried
    if switched or not form.validate_on_submit():
        status = 400 if form.is_submitted() and not switched else 200
        page = render_template("reporter/return.html", form=form, language_form="return-form")
        return page, status
    allow_codename_attempt()
    found = find_report(
        db.session(),
        form.codename.data or "",
        _settings().codename_salt,
        derive=derivations.derive,
    )
    if found is None:
        form.codename.errors = [
            _(
                "No report matches this codename. Check each word, digit or character, "
                "then try again."
            )
        ]
        return render_template("reporter/return.html", form=form), 403
    report, identity = found
    _sign_in(report.id, identity)
    return redirect(url_for("reporter.case"))


def signed_in_report() -> tuple[Report, str]:
    report_id = session.get(REPORT_ID)
    identity = session.get(REPLY_IDENTITY)
    report = db.session().get(Report, report_id) if isinstance(report_id, str) else None
    if report is not None and not open_to_reporter(report):
        report = None  # deletion asked for: closed to the reporter at once, in every session
    if report is None or not isinstance(identity, str):
        if getattr(session, "expired", False):
            flash(
                _(
                    "Your session ended after 30 minutes without activity. Enter your codename "
                    "to continue."
                )
            )
        abort(redirect(url_for("reporter.come_back")))
    db.release_connection()  # a follow-up's upload may take minutes to arrive
    return report, identity


def render_case(
    report: Report,
    identity: str,
    followup_form: FollowupForm,
    status: int,
    kept: kept_files.Kept | None = None,
    urgent_form: UrgentForm | None = None,
    consent_form: ConsentForm | None = None,
) -> Any:
    view = case_view(blob_store(), report, parse_identity(identity))
    if kept is None:  # the follow-up form lists the files kept for it, whatever was sent
        kept = kept_files.current(db.database(), kept_files.followup_scope(report.id))
    if urgent_form is None:
        urgent_form = UrgentForm(formdata=None, urgent="yes" if report.urgent else "no")
    if consent_form is None:
        consent_form = ConsentForm(
            formdata=None, consent=None if report.consent is None else str(report.consent)
        )
    label, explanation = LABELS[report.status]
    return (
        render_template(
            "reporter/case.html",
            status=view.status,
            status_label=label,
            status_explanation=explanation,
            status_note=view.status_note,
            messages=view.messages,
            followup_form=followup_form,
            urgent_form=urgent_form,
            consent_form=consent_form,
            logout_form=LogoutForm(),
            kept=kept.files,
            kept_gone=kept.gone,
            language_form="followup-form",
        ),
        status,
    )


@bp.get("/case")
def case() -> Any:
    report, identity = signed_in_report()
    return render_case(report, identity, FollowupForm(), 200)


@bp.post("/case/followup")
def followup() -> Any:
    report, identity = signed_in_report()
    _require_multipart()
    scope = kept_files.followup_scope(report.id)
    kept = kept_files.current(db.database(), scope)
    switched = i18n.switched_language()
    form = FollowupForm()
    if switched or not form.validate_on_submit() or kept.gone:
        uploads = chosen_uploads(form.attachments.data)
        kept_files.check_count(kept.files, uploads)
        now_kept = kept_files.keep(db.database(), scope, uploads)
        shown = kept_files.Kept([*kept.files, *now_kept], kept.gone)
        # After a switch the typed message comes back with no errors shown (not validated).
        return render_case(report, identity, form, 200 if switched else 400, shown)
    allow_submission()
    uploads = chosen_uploads(form.attachments.data)
    kept_files.check_count(kept.files, uploads)
    stored = store_followup(
        db.database(),
        blob_store(),
        report.id,
        receiving().recipients,
        form.message.data or "",
        uploads,
        kept.files,
    )
    errors.note_stored()
    send_deliveries(stored.delivery_ids)
    # A new session id and CSRF token: replaying this request cannot send it twice.
    renew_session(keep=(*KEPT_ACROSS_SESSIONS, REPORT_ID, REPLY_IDENTITY))
    flash(_("Your information was sent securely to the caseworkers."), "success")
    return redirect(url_for("reporter.case"))


@bp.post("/logout")
def logout() -> Response:
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    renew_session(keep=KEPT_ACROSS_SESSIONS)
    flash(_("You are logged out. Close Tor Browser (or choose “New Identity”) to clear it."))
    return redirect(url_for("reporter.index"))
