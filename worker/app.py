"""The worker's Celery app, wired to a Flask app as in Flask's Celery example.

Each task runs inside the Flask app context, so tasks use the same settings,
database and blob store as the web app. The configuration itself lives in
`reporting.infra.queue`, shared with the web app that sends the tasks.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from reporting import create_app
from reporting.infra.queue import make_celery


def create_celery(flask_app: Flask | None = None) -> Celery:
    """A Celery app whose tasks run in `flask_app`'s context (a new app from the environment
    when none is given)."""
    app = flask_app or create_app()

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = make_celery(app.config["SETTINGS"], "worker")
    # Only the worker and the beat consume and schedule (the web app just sends): a broker
    # outage is one line when it starts and one when it ends (worker/outage.py).
    celery.conf.worker_consumer = "worker.outage:QuietConsumer"
    celery.conf.beat_scheduler = "worker.outage:QuietScheduler"
    celery.Task = FlaskTask
    celery.set_default()
    app.extensions["celery"] = celery
    import worker.tasks  # noqa: F401  (registers the shared tasks on this app)

    celery.finalize()
    return celery
