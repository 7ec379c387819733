"""kombu's filesystem transport, with messages that appear whole.

The embedded default (`make run`, no Redis) queues tasks as files in
`instance/broker/queue/`. kombu's own transport creates the file under its final
name and then writes it, so a worker polling the folder can take a message
before its bytes are there (a JSONDecodeError, and the task is lost until the
sweep). Here a message is written under a name the consumer ignores and then
renamed, which is atomic on one file system.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps

SCHEME = "reportingfs"
PARTIAL_SUFFIX = ".part"  # _get matches "<name>.<queue>.msg" exactly, so this is skipped


class Channel(filesystem.Channel):
    def _put(self, queue: Any, message: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Write to a partial name, then rename into the queue folder."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as handle:
                handle.write(dumps(message).encode("utf-8"))  # type: ignore[no-untyped-call]
            os.replace(partial, final)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from error


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> None:
    """Let broker URLs name this transport (`reportingfs://localhost//`)."""
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
