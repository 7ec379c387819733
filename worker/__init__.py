"""The delivery worker: Celery tasks that move ciphertext from the outbox to the NGOs.

`celery -A worker worker` and `celery -A worker beat` find the Celery app as
`worker.celery`, which is made on first use (so importing the package for its
plain functions does not build an app from the environment).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "celery":
        from worker.app import create_celery

        app = create_celery()
        globals()["celery"] = app
        return app
    raise AttributeError(f"module 'worker' has no attribute {name!r}")
