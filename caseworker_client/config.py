"""The client's home folder: the identity, the session token and the ciphertext cache.

Everything in it is private to the caseworker: the folder is 0700 and every file
0600, written whole (a temporary file renamed into place) so that a crash never
leaves half a token or half an identity behind.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseworker_client.errors import ClientError
from crypto.files import atomic_write

HOME_VAR = "REPORTING_CASEWORKER_HOME"
IDENTITY_VAR = "REPORTING_CASEWORKER_IDENTITY"
APP_FOLDER = "reporting-caseworker"
IDENTITY_FILE = "identity.txt"
SESSION_FILE = "session.json"


class ConfigError(ClientError):
    """A problem with the local files, said in a way the caseworker can act on."""


def home_folder(environ: Mapping[str, str] | None = None) -> Path:
    """$REPORTING_CASEWORKER_HOME, else $XDG_DATA_HOME/reporting-caseworker, else ~/.local/share."""
    env = os.environ if environ is None else environ
    configured = env.get(HOME_VAR)
    if configured:
        return Path(configured).expanduser()
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / APP_FOLDER


def private_folder(path: Path) -> Path:
    """Create `path` (and parents) if needed, and make sure only its owner may enter it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as error:
        raise ConfigError(f"cannot create the folder {path}: {error.strerror}") from None
    return path


def write_private(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write `data` to `path` with mode 0600, atomically; refuse to replace it unless allowed."""
    private_folder(path.parent)
    if not overwrite and path.exists():
        raise ConfigError(f"{path} already exists; it was not changed")
    try:
        # Without overwrite, link() refuses an existing name: no race with the check above.
        with atomic_write(path, replace=overwrite) as handle:
            handle.write(data)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; it was not changed") from None
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror}") from None


@dataclass(frozen=True)
class Session:
    """Who is logged in where: the server's address, the username and the API token."""

    server: str
    username: str
    token: str
    expires_at: str = ""


class Home:
    """The paths of one home folder, and the session kept in it."""

    def __init__(self, root: Path, identity: Path | None = None) -> None:
        self.root = root
        self.identity = identity or root / IDENTITY_FILE

    @classmethod
    def from_environment(cls, identity: str | None = None) -> Home:
        chosen = identity or os.environ.get(IDENTITY_VAR)
        return cls(home_folder(), Path(chosen).expanduser() if chosen else None)

    def ensure(self) -> Path:
        return private_folder(self.root)

    @property
    def session_path(self) -> Path:
        return self.root / SESSION_FILE

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def load_session(self) -> Session | None:
        try:
            data: Any = json.loads(self.session_path.read_text(encoding="utf-8"))
            return Session(
                server=str(data["server"]),
                username=str(data["username"]),
                token=str(data["token"]),
                expires_at=str(data.get("expires_at") or ""),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            raise ConfigError(
                f"{self.session_path} is damaged; delete it and log in again"
            ) from None

    def save_session(self, session: Session) -> None:
        text = json.dumps(session.__dict__, indent=2) + "\n"
        write_private(self.session_path, text.encode("utf-8"))

    def forget_session(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.session_path.unlink()
