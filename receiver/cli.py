"""`reporting-ngo-receiver`: serve the receiver, or make a new shared secret.

The secret is made here, on the machine that keeps it, and handed once to the
reporting service's admin, who pastes it on the admin page: the service never makes
or shows one, so it crosses one hand-over only.

It listens on localhost by default; the NGO puts its own TLS proxy or Tor
onion service in front. There is no access log: who delivered what, and when,
is not worth keeping, and the one log line per delivery carries only its id.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import click
from werkzeug.serving import WSGIRequestHandler, run_simple

from crypto.files import atomic_write
from crypto.webhooks import WebhookSignatureError, check_secret, new_secret

from .app import make_app


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler that logs no access lines and never a client's address."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Drop the access line: the app logs one line per delivery itself."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Keep server errors visible, but without the client's address and timestamp."""
        getattr(logging.getLogger("werkzeug"), type)(message, *args)

    def version_string(self) -> str:
        """Say nothing about the software versions in the Server header."""
        return "receiver"


def write_new_secret(path: Path) -> str:
    """Create `path` (0600, never overwriting) holding a fresh `whsec_…` secret."""
    secret = new_secret()
    try:
        with atomic_write(path, replace=False) as file:
            file.write((secret + "\n").encode("ascii"))
    except FileExistsError:
        raise click.ClickException(
            f"{path} already exists; choose another file, or delete it if it is unused"
        ) from None
    except OSError as error:
        raise click.ClickException(f"cannot create {path}: {error.strerror}") from None
    return secret


def read_secret(path: Path) -> str:
    """The secret in `path`, refused if anyone but its owner may read the file."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise click.ClickException(
                f"{path} is readable by other users; run `chmod 600 {path}` and start again"
            )
        secret = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text file"
        raise click.ClickException(f"cannot read the secret file {path}: {reason}") from None
    try:
        check_secret(secret)
    except WebhookSignatureError as error:
        raise click.ClickException(
            f"{path} holds no valid whsec_ secret ({error}); make one with --new-secret FILE"
        ) from None
    return secret


def prepare_store(path: Path) -> Path:
    """Create the store folder 0700, or refuse one that other users may enter."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = path.stat().st_mode
    except OSError as error:
        raise click.ClickException(f"cannot create the store {path}: {error.strerror}") from None
    if not stat.S_ISDIR(mode):
        raise click.ClickException(f"{path} is not a folder; choose a folder for --store")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise click.ClickException(
            f"{path} is open to other users; run `chmod 700 {path}` and start again"
        )
    return path.resolve()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", type=click.Path(path_type=Path), help="Folder for deliveries.")
@click.option("--secret-file", type=click.Path(path_type=Path), help="File with whsec_ secret.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--tolerance",
    default=300,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds a delivery's timestamp may be off.",
)
@click.option(
    "--new-secret",
    "new_secret_file",
    type=click.Path(path_type=Path),
    help="Write a new secret to this file (0600), print it, and exit.",
)
@click.option("--fail-rate", default=0.0, type=click.FloatRange(0, 1), hidden=True)
@click.option("--hang-rate", default=0.0, type=click.FloatRange(0, 1), hidden=True)
@click.option("--hang-seconds", default=0.0, type=click.FloatRange(0), hidden=True)
def main(
    store: Path | None,
    secret_file: Path | None,
    host: str,
    port: int,
    tolerance: int,
    new_secret_file: Path | None,
    fail_rate: float,
    hang_rate: float,
    hang_seconds: float,
) -> None:
    """Receive signed deliveries of encrypted reports and store each one once."""
    if new_secret_file is not None:
        secret = write_new_secret(new_secret_file)
        click.echo(f"Wrote a new secret to {new_secret_file} (readable only by you):")
        click.echo(secret)
        click.echo(
            "Give it once, over a safe channel (in person, or an end-to-end encrypted\n"
            "message), to the reporting service's admin with this receiver's URL; they paste\n"
            "both on the admin page. Then delete it from that channel, and start the receiver\n"
            f"with --secret-file {new_secret_file}."
        )
        return
    if store is None or secret_file is None:
        raise click.UsageError("give --store DIR and --secret-file FILE (or --new-secret FILE)")
    secret = read_secret(secret_file)
    folder = prepare_store(store)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no dev-server banner
    app = make_app(
        folder,
        secret,
        tolerance=tolerance,
        fail_rate=fail_rate,
        hang_rate=hang_rate,
        hang_seconds=hang_seconds,
    )
    click.echo(f"Storing deliveries in {folder}; listening on http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, request_handler=QuietRequestHandler)
