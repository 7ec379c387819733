"""A broker outage is one line in the log when it starts and one when it ends.

Left to itself, Celery logs every failed reconnection of the worker and every task the
beat could not send, the beat's with a full traceback: a Redis restart buried the log
under a traceback every few seconds. The worker's consumer and the beat's scheduler below
report to one `BrokerOutage` per process instead, which says once that the broker is
unreachable (and that everything waits in the database meanwhile) and once that it is back.
Each is named in the worker's Celery configuration (worker/app.py).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.beat import PersistentScheduler
from celery.worker.consumer import consumer as celery_consumer
from celery.worker.consumer.consumer import Consumer

logger = logging.getLogger("worker.broker")


# Right after Redis restarts, a connection or two from before may still fail once; the
# outage is over when the broker has answered for this long without a failure.
STABLE_SECONDS = 5.0


class BrokerOutage:
    """Whether the broker is reachable, as this process last saw it."""

    def __init__(self, stable_seconds: float = STABLE_SECONDS) -> None:
        self._lock = threading.Lock()
        self._down = False
        self._stable_seconds = stable_seconds
        self._pending: threading.Timer | None = None

    def failed(self, error: BaseException) -> None:
        """The broker could not be reached: say so the first time only."""
        with self._lock:
            self._cancel_pending()
            if self._down:
                return
            self._down = True
        logger.warning(
            "The broker is unreachable (%s: %s). Reports are still stored and their deliveries "
            "wait in the database; retrying quietly until it is back.",
            type(error).__name__,
            error,
        )

    def recovered(self) -> None:
        """The broker answered: the outage ends once it has kept answering for a while."""
        with self._lock:
            if not self._down or self._pending is not None:
                return
            self._pending = threading.Timer(self._stable_seconds, self._end)
            self._pending.daemon = True
            self._pending.start()

    def _end(self) -> None:
        with self._lock:
            if self._pending is None:
                return  # a failure came first
            self._pending = None
            self._down = False
        logger.warning("The broker is reachable again; queued work resumes.")

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


OUTAGE = BrokerOutage()


class _RetryLines(logging.Filter):
    """Turns the consumer's "Cannot connect … Trying again" lines into the outage's one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg is celery_consumer.CONNECTION_ERROR and isinstance(record.args, tuple):
            error = record.args[1]
            OUTAGE.failed(error if isinstance(error, BaseException) else ConnectionError(error))
            return False
        return True


logging.getLogger(celery_consumer.__name__).addFilter(_RetryLines())


class QuietConsumer(Consumer):  # type: ignore[misc]
    """The worker's consumer, reporting connection losses to the outage instead of the log."""

    def on_connection_error_before_connected(self, exc: BaseException) -> None:
        OUTAGE.failed(exc)

    def on_connection_error_after_connected(self, exc: BaseException) -> None:
        OUTAGE.failed(exc)

    def ensure_connected(self, conn: Any) -> Any:
        connected = super().ensure_connected(conn)
        OUTAGE.recovered()
        return connected


class QuietScheduler(PersistentScheduler):  # type: ignore[misc]
    """The beat's scheduler: a task it cannot send for want of a broker is one outage line,
    not a traceback per task per tick; the next run sends it."""

    def apply_entry(self, entry: Any, producer: Any = None) -> None:
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as error:
            if self._is_connection_error(error):
                OUTAGE.failed(_root_cause(error))
            else:  # as Celery's own scheduler does: log it, and go on with the other tasks
                logging.getLogger("celery.beat").error("Message Error: %s", error, exc_info=True)
        else:
            OUTAGE.recovered()

    def _is_connection_error(self, error: BaseException) -> bool:
        errors = (*self.connection.connection_errors, OSError)
        return isinstance(_root_cause(error), errors)

    def _ensure_connected(self) -> Any:
        connected = self.connection.ensure_connection(
            lambda error, _interval: OUTAGE.failed(error),
            self.app.conf.broker_connection_max_retries,
        )
        OUTAGE.recovered()
        return connected


def _root_cause(error: BaseException) -> BaseException:
    """Celery wraps a failed send in SchedulingError; the cause says what really happened."""
    while (cause := error.__cause__ or error.__context__) is not None:
        error = cause
    return error
