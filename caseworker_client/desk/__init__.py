"""The caseworker's desk: `reporting-caseworker desk`, the client in a browser on this machine.

A small Flask app served on 127.0.0.1 only, for this caseworker's browser only (guard.py),
that reads and works the cases with the command line's own functions: the Context's
login, cache and identity (context.py), report_actions.py for every action, render.py for
the report's layout. Reports are decrypted in this process's memory (reading.py); the
pages need no JavaScript and load nothing from another origin.

It is an optional part of the client (requirements-desk.txt): the plain command line
installs and runs without Flask.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from caseworker_client.context import Context
from caseworker_client.desk import (
    actions,
    escalation,
    evidence_pages,
    figures,
    guard,
    keys_pages,
    linked_pages,
    pages,
    signin_pages,
)
from caseworker_client.desk.desk_state import Desk
from caseworker_client.errors import ClientError


def create_app(
    ctx: Context, admission: guard.Admission, config: dict[str, Any] | None = None
) -> Flask:
    """The desk for one run: `admission` holds its one-time token and, once bound, its port."""
    app = Flask(__name__)
    app.config.update(
        WTF_CSRF_TIME_LIMIT=None,  # the token is bound to this run's session cookie
        MAX_CONTENT_LENGTH=1024 * 1024,  # forms of text only
        TEMPLATES_AUTO_RELOAD=False,
    )
    guard.init_app(app, admission)
    app.config.update(config or {})
    CSRFProtect(app)
    app.extensions["desk"] = Desk(ctx)
    signin_pages.init_app(app)
    for blueprint in (pages.bp, actions.bp, escalation.bp):
        app.register_blueprint(blueprint)
    # Evidence, linked cases, statistics, exports and keys (keys_pages also explains KeyChanged).
    for blueprint in (evidence_pages.bp, linked_pages.bp, figures.bp, keys_pages.bp):
        app.register_blueprint(blueprint)
    _serialise(app)
    _errors(app)
    return app


def _serialise(app: Flask) -> None:
    """One request at a time works with the Context (its cache files and API connection)."""
    from flask import g

    desk: Desk = app.extensions["desk"]

    @app.before_request
    def hold() -> None:
        desk.library.lock.acquire()
        g.desk_held = True

    @app.teardown_request
    def release(_: BaseException | None) -> None:
        if g.pop("desk_held", False):
            desk.library.lock.release()


def _errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        message = (
            "This form did not come from this desk's page, or the desk was restarted since "
            "it was shown. Nothing was sent: go back, reload the page and try again."
        )
        return render_template("desk/error.html", title="Form refused", message=message), 400

    @app.errorhandler(ClientError)
    def client_error(error: ClientError) -> Any:
        """Anything the client refuses on purpose (the server's answer, consent, a key that
        changed): said plainly, with nothing sent. A session the server no longer accepts
        leads to the sign-in page."""
        if signin_pages.expired(error):
            return redirect(url_for("signin.sign_in", expired=1), 303)
        message = str(error)
        return render_template("desk/error.html", title="That did not work", message=message), 409

    @app.errorhandler(500)
    def failed(_: Exception) -> tuple[str, int]:
        message = (
            "Something went wrong in the desk, and what you asked may not have been done. "
            "The details are in the terminal where the desk runs."
        )
        return render_template(
            "desk/error.html", title="Something went wrong", message=message
        ), 500

    @app.errorhandler(404)
    def not_found(_: Exception) -> tuple[str, int]:
        message = "There is no such page on the desk."
        return render_template("desk/error.html", title="Not found", message=message), 404
