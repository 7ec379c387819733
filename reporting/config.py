"""Settings for the reporting service, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crypto.tokens import new_secret_hex

INSTANCE_PATH_VAR = "REPORTING_INSTANCE_PATH"
# Names of where the key comes from, not keys (ruff's S105 would flag them).
SECRET_KEY_VAR = "REPORTING_SECRET_KEY"  # noqa: S105
SECRET_KEY_FILE = "secret_key"  # noqa: S105
SECRET_KEY_BYTES = 32


@dataclass(frozen=True)
class Settings:
    """Every setting in one immutable place, so nothing changes under a running app."""

    instance_path: Path
    secret_key: str
    debug: bool = False

    def flask_config(self) -> dict[str, object]:
        """Map settings to Flask's config keys, the one place the two namings meet."""
        return {"SECRET_KEY": self.secret_key, "DEBUG": self.debug}


def load_instance_path(environ: Mapping[str, str]) -> Path:
    """Use `instance/` in the working directory, so an installed package keeps no state."""
    configured = environ.get(INSTANCE_PATH_VAR)
    path = Path(configured) if configured else Path.cwd() / "instance"
    # Flask insists on an absolute instance path.
    return path.absolute()


def ensure_instance_folder(instance_path: Path) -> None:
    """Create the instance folder private to the service user: it will hold keys and data."""
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)


def read_or_create_secret_key(instance_path: Path) -> str:
    """Keep one secret key across restarts without an operator having to make one."""
    key_file = instance_path / SECRET_KEY_FILE
    if not key_file.exists():
        _create_secret_key_file(key_file)
    key = key_file.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{key_file} is empty; delete it to have a new key generated")
    return key


def _create_secret_key_file(key_file: Path) -> None:
    """Write a fresh key atomically, so workers starting together all read the same whole key."""
    temporary = key_file.with_name(f".{key_file.name}.{new_secret_hex(16)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_secret_hex(SECRET_KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if the name exists, so a key another process wrote first is kept.
        os.link(temporary, key_file)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def load_secret_key(environ: Mapping[str, str], instance_path: Path) -> str:
    """Prefer an operator-supplied key; otherwise fall back to the generated one."""
    return environ.get(SECRET_KEY_VAR) or read_or_create_secret_key(instance_path)


def load_settings(environ: Mapping[str, str], instance_path: Path | None = None) -> Settings:
    """Build the settings from the environment; `instance_path` lets tests use a temp folder."""
    path = instance_path.absolute() if instance_path else load_instance_path(environ)
    ensure_instance_folder(path)
    return Settings(instance_path=path, secret_key=load_secret_key(environ, path))
