"""`python -m worker`: one worker process with its beat, for the embedded default (make run).

Production runs `celery -A worker worker` and `celery -A worker beat` as separate services.
"""

from __future__ import annotations

import sys

from worker.app import create_celery


def main() -> None:
    celery = create_celery()
    argv = [
        "worker",
        "--beat",
        "--pool=threads",
        "--concurrency=4",
        # Celery logs every task at INFO, with the time: that would date each report's arrival.
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        *sys.argv[1:],
    ]
    celery.worker_main(argv)


main()
