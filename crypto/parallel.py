"""A small thread pool for payload chunks.

`cryptography` releases the GIL while it runs ChaCha20-Poly1305, so the chunks
of one file can be sealed or opened on several cores, and while they are the
calling thread is free to read the next input or write the last output.
Files of one chunk (most reports) never touch the pool.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

T = TypeVar("T")
R = TypeVar("R")

WORKERS = max(1, min(4, os.cpu_count() or 1))

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # Imported here: it costs start-up time that one-chunk files never need.
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="age-chunks")
        return _pool


def _forget_pool() -> None:
    # A forked child (gunicorn, Celery prefork) inherits the pool object but not
    # its threads; it must build its own.
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


class Batch(Generic[R]):
    """Work on a sequence of items, running in the background; `wait()` for the results."""

    def __init__(self, fn: Callable[[T], R], items: Sequence[T]) -> None:
        self._futures: list[Future[list[R]]] = []
        self._results: list[R] | None = None
        if len(items) < 2 or WORKERS == 1:
            self._results = [fn(item) for item in items]
            return
        step = -(-len(items) // WORKERS)
        pool = _get_pool()
        for start in range(0, len(items), step):
            part = items[start : start + step]
            self._futures.append(pool.submit(lambda p: [fn(item) for item in p], part))

    def wait(self) -> list[R]:
        """Block until every item is done; re-raise the first failure."""
        if self._results is None:
            self._results = [r for f in self._futures for r in f.result()]
        return self._results
