"""The embedded broker hands a worker only whole messages."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from kombu import Connection
from kombu.transport import filesystem

from reporting.infra import fsbroker


def _channel(scheme: str, folder: Path) -> Any:
    """A channel on `folder` (the folder is the broker)."""
    fsbroker.register()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    connection = Connection(f"{scheme}://localhost//", transport_options=options)
    return connection.channel()


class HeldWrite:
    """A message value whose encoding waits until released: `_put` is caught mid-write."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __json__(self) -> str:  # kombu's JSON encoder calls this
        self.entered.set()
        assert self.release.wait(timeout=30)
        return "x" * 1024


def _taken_mid_write(scheme: str, folder: Path) -> tuple[Any, Any]:
    """What a consumer takes while a message is being written, then once it is written."""
    producer, consumer = _channel(scheme, folder), _channel(scheme, folder)
    held = HeldWrite()
    writer = threading.Thread(target=producer._put, args=("q", {"body": held}))
    writer.start()
    try:
        assert held.entered.wait(timeout=30)
        try:
            during: Any = consumer._get("q")
        except (filesystem.Empty, json.JSONDecodeError) as error:
            during = type(error)
    finally:
        held.release.set()
        writer.join(timeout=30)
    try:
        after: Any = consumer._get("q")
    except filesystem.Empty as error:
        after = type(error)
    producer.close()
    consumer.close()
    return during, after


def test_a_message_being_written_is_not_taken_and_then_is_taken_whole(tmp_path: Path) -> None:
    during, after = _taken_mid_write(fsbroker.SCHEME, tmp_path)
    assert during is filesystem.Empty
    assert after == {"body": "x" * 1024}
    assert not list(tmp_path.iterdir())  # nothing partial left behind


def test_kombus_own_channel_hands_out_a_message_being_written(tmp_path: Path) -> None:
    """The hazard the test above guards against is real: kombu's channel creates the file
    under its final name before writing, so a consumer takes it empty, and it is lost."""
    during, after = _taken_mid_write("filesystem", tmp_path)
    assert during is json.JSONDecodeError
    assert after is filesystem.Empty


def test_broker_urls_name_the_safe_transport() -> None:
    fsbroker.register()
    with Connection("reportingfs://localhost//") as connection:
        assert isinstance(connection.transport, fsbroker.Transport)
