"""kombu's filesystem transport, with messages that appear whole.

The embedded default (`make run`, no Redis) queues tasks as files in
`instance/broker/queue/`. kombu's own transport creates the file under its final
name and then writes it, so a worker polling the folder can take a message
before its bytes are there (a JSONDecodeError, and the task is lost until the
sweep). Here a message is written under a name the consumer ignores and then
renamed, which is atomic on one file system.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps

from crypto.files import atomic_write
from reporting.infra.instance_files import to_the_day

SCHEME = "reportingfs"
PARTIAL_SUFFIX = ".part"  # _get matches "<name>.<queue>.msg" exactly, so this is skipped


class Channel(filesystem.Channel):
    def _put(self, queue: Any, message: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Write to a partial name, then rename into the queue folder (crypto.files: a hidden
        `.….part` name, which kombu's `_get` skips since it is not `<name>.<queue>.msg`)."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:
            with atomic_write(final) as handle:
                handle.write(dumps(message).encode("utf-8"))  # type: ignore[no-untyped-call]
            self._to_the_day(Path(final))
        except OSError as error:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from error

    def _get(self, queue: Any, timeout: Any = None) -> Any:
        """Take a message; the folder it was removed from keeps only the day."""
        try:
            return super()._get(queue)  # type: ignore[no-untyped-call]
        finally:
            self._to_the_day()

    def _to_the_day(self, *messages: Path) -> None:
        """Sending and taking a message write and read the queue and the exchange table: set
        their times back to the day, or they would date each report's arrival
        (reporting/infra/instance_files.py)."""
        control = Path(self.control_folder)
        tables = list(control.glob("*.exchange"))
        folders = {control, Path(self.data_folder_in), Path(self.data_folder_out)}
        broker = Path(self.data_folder_out).parent  # the three folders and `processed`
        folders.update(p for p in broker.iterdir() if p.is_dir())
        to_the_day(*messages, *tables, *folders, broker)


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    """Let broker URLs name this transport (`reportingfs://localhost//`)."""
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
