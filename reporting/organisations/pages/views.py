"""Admin views: each validates a form, calls one plain function, and renders or redirects.

This module holds the overview and the caseworker accounts; the organisation's keys,
tags and settings, partners, and deliveries are in the modules imported at the end.
"""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, url_for

from reporting.accounts import staff
from reporting.accounts.signin import admin_required
from reporting.infra import db
from reporting.models import Caseworker, Role
from reporting.organisations.administration import AdminError, dead_deliveries
from reporting.organisations.pages import bp
from reporting.organisations.pages.common import (
    CONFLICT,
    INVALID,
    admin,
    done,
    own,
    refuse,
    require_action,
)
from reporting.organisations.pages.forms import ActionForm, InviteForm, RoleForm


@bp.get("/")
@admin_required
def index() -> str:
    """The overview: what there is to manage, with a count where one helps."""
    me = admin()
    dbs = db.session()
    return render_template(
        "admin/index.html",
        organisation=me.organisation,
        people=len(staff.roster(dbs, me.organisation_id)),
        dead=len(dead_deliveries(dbs, me.organisation)),
    )


def _role_form(caseworker: Caseworker) -> RoleForm:
    """Each row's role form has its own prefix, so field ids stay unique on the page."""
    return RoleForm(
        formdata=None, prefix=f"cw-{caseworker.id}", data={"role": caseworker.role.value}
    )


def _caseworkers_page(
    invite: InviteForm | None = None, error: str | None = None, status: int = 200
) -> tuple[str, int]:
    me = admin()
    rows = [
        (row, _role_form(row.caseworker)) for row in staff.roster(db.session(), me.organisation_id)
    ]
    return render_template(
        "admin/caseworkers.html",
        rows=rows,
        me=me,
        invite=invite or InviteForm(formdata=None),
        action=ActionForm(formdata=None),
        error=error,
    ), status


@bp.get("/caseworkers")
@admin_required
def caseworkers() -> tuple[str, int]:
    return _caseworkers_page()


@bp.post("/caseworkers")
@admin_required
def invite() -> Any:
    """Make an account and show its invitation link, once: only its digest is stored."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _caseworkers_page(form, "Please check the invitation form.", INVALID)
    dbs = db.session()
    try:
        caseworker, token = staff.invite(
            dbs,
            admin(),
            form.username.data or "",
            Role(form.role.data),
            form.display_name.data or "",
        )
    except AdminError as error:
        field = form.display_name if error.field == "display_name" else form.username
        return _caseworkers_page(form, refuse(field, str(error)), INVALID)
    dbs.commit()
    link = url_for("casework.accept_invite", token=token, _external=True)
    return render_template("admin/invited.html", caseworker=caseworker, link=link)


@bp.post("/caseworkers/<caseworker_id>/disable")
@admin_required
def disable(caseworker_id: str) -> Any:
    """End the account's sessions and tokens at once and leave its key out of new reports."""
    require_action()
    caseworker = own(Caseworker, caseworker_id)
    try:
        no_key_left = staff.disable(db.session(), admin(), caseworker)
    except AdminError as error:
        return _caseworkers_page(error=refuse(None, str(error)), status=CONFLICT)
    if no_key_left:
        flash(
            "No key is left that new reports can be encrypted to: the portal will refuse "
            "reports until a caseworker with a key is active or an organisation key is added.",
            "error",
        )
    return done(
        f"{caseworker.username} is disabled: their sessions and tokens have ended and their "
        "key is left out of new reports.",
        "admin.caseworkers",
    )


@bp.post("/caseworkers/<caseworker_id>/enable")
@admin_required
def enable(caseworker_id: str) -> Any:
    require_action()
    caseworker = own(Caseworker, caseworker_id)
    try:
        staff.enable(db.session(), admin(), caseworker)
    except AdminError as error:
        return _caseworkers_page(error=refuse(None, str(error)), status=CONFLICT)
    return done(
        f"{caseworker.username} is active again; their key is used for new reports.",
        "admin.caseworkers",
    )


@bp.post("/caseworkers/<caseworker_id>/role")
@admin_required
def change_role(caseworker_id: str) -> Any:
    caseworker = own(Caseworker, caseworker_id)
    form = RoleForm(prefix=f"cw-{caseworker.id}")
    if not form.validate_on_submit():
        return _caseworkers_page(error="Choose a role: caseworker or admin.", status=INVALID)
    role = Role(form.role.data)
    try:
        staff.set_role(db.session(), admin(), caseworker, role)
    except AdminError as error:
        return _caseworkers_page(error=refuse(None, str(error)), status=CONFLICT)
    return done(f"{caseworker.username} is now {staff.role_name(role)}.", "admin.caseworkers")


from reporting.organisations.pages import deliveries, organisation, partners  # noqa: E402, F401
