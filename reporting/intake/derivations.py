"""Codename derivations (Argon2id, 64 MiB each) in a small pool of their own threads.

Each derivation is the service's costliest step in memory and CPU. Running them on the
request threads let 32 reporters grow a web process to 640 MiB and made every page view
queue behind them. Here a fixed number of threads (one per core by default) derive, at a
lower scheduling priority than the threads that serve pages, so:

- a web process never holds more than `size` Argon2id runs, whatever the thread count;
- a page view never waits for a derivation (it never enters the pool, and wins the CPU);
- at most `waiting` requests wait for a free slot, each at most `wait_seconds`; beyond that
  the request is refused at once with `DerivationBusy` (a 503 "nothing was stored" page), so
  a flood of codename attempts cannot hold every request thread either.

The pool is per process (a gunicorn worker serves one app), created by `init_app`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app
from flask_babel import gettext as _
from werkzeug.exceptions import ServiceUnavailable

from crypto import CodenameKeys, derive_keys
from reporting.infra.config import Limits

EXTENSION = "derivations"
# Derivation threads run this much nicer than request threads: under saturation the CPU goes
# to rendering pages first, and the derivations take what is left.
DERIVATION_NICENESS = 10
RETRY_AFTER_SECONDS = 60

logger = logging.getLogger(__name__)


class DerivationBusy(ServiceUnavailable):
    """The pool is full: a readable 503 that says nothing was stored and when to come back."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "The service is very busy right now. Nothing was stored. Please try again "
                "in a minute."
            ),
            retry_after=RETRY_AFTER_SECONDS,
        )


def machine_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _lower_priority() -> None:
    """Make the calling (pool) thread nicer; Linux keeps niceness per thread, and Argon2id's
    lane threads inherit it from the thread that starts them."""
    try:
        tid = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, tid) + DERIVATION_NICENESS
        os.setpriority(os.PRIO_PROCESS, tid, niceness)
    except (AttributeError, OSError) as error:
        logger.warning("codename derivations keep normal priority: %s", error)


class DerivationPool:
    """A bounded pool of derivation threads with a bounded, short wait for a slot."""

    def __init__(
        self,
        size: int,
        *,
        waiting: int,
        wait_seconds: float,
        derive: Callable[[str, bytes], CodenameKeys] = derive_keys,
    ) -> None:
        if size < 1 or waiting < 0 or wait_seconds < 0:
            raise ValueError("a derivation pool needs size >= 1, waiting >= 0, wait_seconds >= 0")
        self.size = size
        self._derive = derive
        self._wait_seconds = wait_seconds
        # Admission counts running and waiting requests; it is never waited on.
        self._admission = threading.BoundedSemaphore(size + waiting)
        self._running = threading.BoundedSemaphore(size)
        self._executor = ThreadPoolExecutor(
            max_workers=size, thread_name_prefix="codename", initializer=_lower_priority
        )

    def derive(self, codename: str, salt: bytes) -> CodenameKeys:
        """Derive on a pool thread, or raise DerivationBusy without having derived anything."""
        if not self._admission.acquire(blocking=False):
            raise DerivationBusy()
        try:
            if not self._running.acquire(timeout=self._wait_seconds):
                raise DerivationBusy()
            try:
                # A slot is held, so a pool thread is free and the executor's queue stays empty.
                return self._executor.submit(self._derive, codename, salt).result()
            finally:
                self._running.release()
        finally:
            self._admission.release()

    def close(self) -> None:
        """Stop the threads once running derivations end (tests make many apps)."""
        self._executor.shutdown(wait=False)


def pool_for(limits: Limits) -> DerivationPool:
    """The pool the limits describe; size 0 means one slot per core."""
    return DerivationPool(
        limits.derivation_pool_size or machine_cores(),
        waiting=limits.derivation_waiting,
        wait_seconds=limits.derivation_wait_seconds,
    )


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = pool_for(app.config["SETTINGS"].limits)


def derive(codename: str, salt: bytes) -> CodenameKeys:
    """Derive through the current app's pool (the one way views reach Argon2id)."""
    pool: DerivationPool = current_app.extensions[EXTENSION]
    return pool.derive(codename, salt)
