"""A small thread pool for payload chunks.

`cryptography` releases the GIL while it runs ChaCha20-Poly1305, so chunks of
one file can be sealed or opened on several cores at once. Files of one chunk
(most reports) never touch the pool.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = max(1, min(4, os.cpu_count() or 1))

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="age-chunks")
        return _pool


def _forget_pool() -> None:
    # A forked child (gunicorn, Celery prefork) inherits the pool object but not
    # its threads; it must build its own.
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def map_ordered(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Apply `fn` to every item, in parallel slices, and keep the order."""
    if len(items) < 2 or WORKERS == 1:
        return [fn(item) for item in items]
    step = -(-len(items) // WORKERS)
    slices = [items[i : i + step] for i in range(0, len(items), step)]
    futures = [_get_pool().submit(lambda s: [fn(item) for item in s], s) for s in slices[1:]]
    results = [fn(item) for item in slices[0]]
    for future in futures:
        results.extend(future.result())
    return results
