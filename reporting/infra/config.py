"""Settings for the reporting service, read once from the environment at start-up."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crypto.files import atomic_write
from crypto.tokens import new_secret_hex
from reporting.infra.instance_files import private_folder
from reporting.infra.portal_file import Portal, load_portal

INSTANCE_PATH_VAR = "REPORTING_INSTANCE_PATH"
# Names of where the key comes from, not keys (ruff's S105 would flag them).
SECRET_KEY_VAR = "REPORTING_SECRET_KEY"  # noqa: S105
SECRET_KEY_FILE = "secret_key"  # noqa: S105
SECRET_KEY_BYTES = 32
CODENAME_SALT_VAR = "REPORTING_CODENAME_SALT"
CODENAME_SALT_FILE = "codename_salt"
DATABASE_URL_VAR = "REPORTING_DATABASE_URL"
DATABASE_FILE = "reporting.sqlite3"
BLOB_PATH_VAR = "REPORTING_BLOB_PATH"
REDIS_URL_VAR = "REPORTING_REDIS_URL"
ONION_ADDRESS_VAR = "REPORTING_ONION_ADDRESS"
ALLOWED_HOSTS_VAR = "REPORTING_ALLOWED_HOSTS"
ORGANISATION_VAR = "REPORTING_ORGANISATION"
MAX_SUBMISSION_MB_VAR = "REPORTING_MAX_SUBMISSION_MB"
MAX_FILE_MB_VAR = "REPORTING_MAX_FILE_MB"
DERIVATION_POOL_VAR = "REPORTING_DERIVATION_POOL_SIZE"
SMTP_URL_VAR = "REPORTING_SMTP_URL"
WEBHOOK_ALLOWED_NETWORKS_VAR = "REPORTING_WEBHOOK_ALLOWED_NETWORKS"
DELIVERY_MAX_ATTEMPTS_VAR = "REPORTING_DELIVERY_MAX_ATTEMPTS"
NOTIFY_INTERVAL_VAR = "REPORTING_NOTIFY_INTERVAL_MINUTES"
# Tuning, mostly for tests and benchmarks that run the worker as a separate process.
DELIVERY_SECONDS_VARS = {
    "backoff_base_seconds": "REPORTING_DELIVERY_BACKOFF_SECONDS",
    "backoff_max_seconds": "REPORTING_DELIVERY_BACKOFF_MAX_SECONDS",
    "connect_timeout": "REPORTING_DELIVERY_CONNECT_TIMEOUT",
    "read_timeout": "REPORTING_DELIVERY_READ_TIMEOUT",
}
DELIVERY_WHOLE_SECONDS_VARS = {
    "sweep_interval_seconds": "REPORTING_SWEEP_INTERVAL_SECONDS",
    "lease_seconds": "REPORTING_DELIVERY_LEASE_SECONDS",
    "requeue_seconds": "REPORTING_DELIVERY_REQUEUE_SECONDS",
    "purge_interval_seconds": "REPORTING_PURGE_INTERVAL_SECONDS",
    "urgent_notice_seconds": "REPORTING_URGENT_NOTICE_SECONDS",
}


MIB = 1024 * 1024
FORM_FIELD_MAX_BYTES = 1 * MIB


@dataclass(frozen=True)
class Limits:
    """Size and abuse limits, pinned in one place so a review sees them together."""

    max_submission_bytes: int = 500 * MIB
    max_file_bytes: int = 250 * MIB
    max_files: int = 10
    narrative_min_chars: int = 40
    narrative_max_chars: int = 40_000
    short_field_max_chars: int = 200
    long_field_max_chars: int = 2_000
    # Abuse limits count per anonymous session (reporting/intake/abuse.py) and recover within a
    # minute: one client can slow only itself. The machine's real limit, Argon2id, is
    # guarded by the derivation pool below, not by an instance-wide budget anyone could spend.
    submissions_per_session: int = 5
    codename_attempts_per_session: int = 10
    rate_window_seconds: int = 60
    # Codename derivations (64 MiB of Argon2id each) per web process: this many at once
    # (0: one per core), at most `derivation_waiting` more requests waiting up to
    # `derivation_wait_seconds` for a slot; others get a "busy, nothing stored" page at once.
    # A web process's memory is bounded by base + 64 MiB x derivation_pool_size.
    derivation_pool_size: int = 0
    derivation_waiting: int = 32
    derivation_wait_seconds: float = 20.0
    session_idle_seconds: int = 30 * 60
    # Caseworkers: a session lasts at most this long however active it is, and ends after
    # session_idle_seconds without use. The client's API tokens end the same way: a token
    # left on a stolen laptop is as short-lived as a browser's session (docs/design.md).
    caseworker_session_max_seconds: int = 2 * 3600
    # Login throttling per account name: this many failures within the window lock it.
    login_failures: int = 5
    login_window_seconds: int = 60
    login_lock_seconds: int = 15 * 60
    # An invitation to a new caseworker is good for this long.
    invite_seconds: int = 48 * 3600
    min_password_chars: int = 12
    # Caseworker uploads through the API: replies, notes and status notes are small;
    # an escalation may carry attachments.
    max_message_bytes: int = 1 * MIB


@dataclass(frozen=True)
class DeliverySettings:
    """How the worker delivers ciphertext: retries, timeouts, and where it may connect."""

    max_attempts: int = 10
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    # Webhooks to private, loopback or link-local addresses are refused unless listed here.
    allowed_networks: tuple[str, ...] = ()
    smtp_url: str | None = field(default=None, repr=False)
    notify_interval_seconds: int = 3600
    # At most one "urgent report" notice per organisation this often, however many urgent
    # reports arrive (a flood of fake ones must not become a mail bomb); one held back goes
    # out with the next check after the interval (worker/notify.py).
    urgent_notice_seconds: int = 900
    sweep_interval_seconds: int = 60
    purge_interval_seconds: int = 3600
    # A delivery claimed by a worker that then died is taken up again after this long.
    lease_seconds: int = 600
    # The sweep queues a pending delivery again only after this long (duplicates are harmless
    # but pointless).
    requeue_seconds: int = 300


@dataclass(frozen=True)
class Settings:
    """Every setting in one immutable place, so nothing changes under a running app."""

    instance_path: Path
    secret_key: str = field(repr=False)
    codename_salt: bytes = field(repr=False)
    database_url: str
    blob_path: Path
    redis_url: str | None = None
    onion_address: str | None = None
    # Host names the service answers to (the onion addresses, loopback); empty = any.
    allowed_hosts: tuple[str, ...] = ()
    organisation: str | None = None
    # What the operator says on the landing page (instance/portal.toml).
    portal: Portal = field(default_factory=Portal)
    limits: Limits = field(default_factory=Limits)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    debug: bool = False

    @property
    def broker_url(self) -> str:
        """Redis in production; otherwise kombu's filesystem transport, which needs no server."""
        return self.redis_url or "reportingfs://localhost//"  # reporting/infra/fsbroker.py

    @property
    def broker_folder(self) -> Path:
        """Where the embedded broker keeps its messages (ids only, never content)."""
        return self.instance_path / "broker"

    def flask_config(self) -> dict[str, object]:
        """Map settings to Flask's config keys, the one place the two namings meet."""
        return {
            "SECRET_KEY": self.secret_key,
            "DEBUG": self.debug,
            "SETTINGS": self,
            "MAX_CONTENT_LENGTH": self.limits.max_submission_bytes,
            # Per text field: a 40,000-character narrative in four-byte characters fits, and
            # it must stay at least twice uploads.PARSE_BUFFER_BYTES (see there).
            "MAX_FORM_MEMORY_SIZE": FORM_FIELD_MAX_BYTES,
            # The report form has about 30 fields and up to `max_files` files.
            "MAX_FORM_PARTS": 100,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Strict",
            "PERMANENT_SESSION_LIFETIME": self.limits.session_idle_seconds,
            "WTF_CSRF_TIME_LIMIT": None,  # the session's idle limit bounds it instead
            # Flask answers 400 to any other Host header; None accepts any (the embedded default).
            "TRUSTED_HOSTS": list(self.allowed_hosts) or None,
        }


def load_instance_path(environ: Mapping[str, str]) -> Path:
    """Use `instance/` in the working directory, so an installed package keeps no state."""
    configured = environ.get(INSTANCE_PATH_VAR)
    path = Path(configured) if configured else Path.cwd() / "instance"
    # Flask insists on an absolute instance path.
    return path.absolute()


def ensure_instance_folder(instance_path: Path) -> None:
    """Create the instance folder private to the service user: it will hold keys and data."""
    private_folder(instance_path)


def read_or_create_secret_key(instance_path: Path, name: str = SECRET_KEY_FILE) -> str:
    """Keep one secret across restarts without an operator having to make one."""
    key_file = instance_path / name
    if not key_file.exists():
        _create_secret_key_file(key_file)
    key = key_file.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{key_file} is empty; delete it to have a new key generated")
    return key


def _create_secret_key_file(key_file: Path) -> None:
    """Write a fresh key atomically, so workers starting together all read the same whole key."""
    # Never replacing: a key another process wrote first is kept.
    with contextlib.suppress(FileExistsError), atomic_write(key_file, replace=False) as handle:
        handle.write((new_secret_hex(SECRET_KEY_BYTES) + "\n").encode("ascii"))


def load_secret_key(environ: Mapping[str, str], instance_path: Path) -> str:
    """Prefer an operator-supplied key; otherwise fall back to the generated one."""
    return environ.get(SECRET_KEY_VAR) or read_or_create_secret_key(instance_path)


def load_codename_salt(environ: Mapping[str, str], instance_path: Path) -> bytes:
    """The instance-wide Argon2id salt: secret, so a seized database alone cannot be
    searched for codenames, and stable, or every reporter would be locked out."""
    configured = environ.get(CODENAME_SALT_VAR)
    text = configured or read_or_create_secret_key(instance_path, CODENAME_SALT_FILE)
    try:
        salt = bytes.fromhex(text)
    except ValueError:
        raise RuntimeError(f"{CODENAME_SALT_VAR} must be hex (at least 32 digits)") from None
    if len(salt) < 16:
        raise RuntimeError(f"{CODENAME_SALT_VAR} must be at least 16 bytes (32 hex digits)")
    return salt


def load_database_url(environ: Mapping[str, str], instance_path: Path) -> str:
    """SQLite under `instance/` unless an operator points at PostgreSQL."""
    return environ.get(DATABASE_URL_VAR) or f"sqlite:///{instance_path / DATABASE_FILE}"


def load_allowed_hosts(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Host names separated by commas, without scheme or port (`.example.org` also allows
    its subdomains); a Host header with another name gets a 400."""
    hosts = []
    for part in environ.get(ALLOWED_HOSTS_VAR, "").split(","):
        host = part.strip().lower()
        if not host:
            continue
        if "/" in host or (":" in host and not host.startswith("[")):
            raise RuntimeError(
                f"{ALLOWED_HOSTS_VAR} takes host names without scheme or port, not {part!r}"
            )
        hosts.append(host)
    return tuple(hosts)


def load_megabytes(environ: Mapping[str, str], name: str, default: int) -> int:
    """Read a size limit given in MiB."""
    return load_whole_number(environ, name, default // MIB, unit="MiB") * MIB


def load_limits(environ: Mapping[str, str]) -> Limits:
    """Defaults, with the upload sizes and derivation pool an operator may need to change."""
    defaults = Limits()
    return Limits(
        derivation_pool_size=load_whole_number(
            environ, DERIVATION_POOL_VAR, defaults.derivation_pool_size
        ),
        max_submission_bytes=load_megabytes(
            environ, MAX_SUBMISSION_MB_VAR, defaults.max_submission_bytes
        ),
        max_file_bytes=load_megabytes(environ, MAX_FILE_MB_VAR, defaults.max_file_bytes),
    )


def load_whole_number(environ: Mapping[str, str], name: str, default: int, unit: str = "") -> int:
    """A positive whole number from the environment, refusing nonsense by name."""
    text = environ.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        of_unit = f" of {unit}" if unit else ""
        raise RuntimeError(f"{name} must be a whole number{of_unit}, not {text!r}") from None
    if value <= 0:
        raise RuntimeError(f"{name} must be positive")
    return value


def load_seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds (fractions allowed) from the environment."""
    text = environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise RuntimeError(f"{name} must be a number of seconds, not {text!r}") from None
    if not value > 0:
        raise RuntimeError(f"{name} must be positive")
    return value


def load_delivery(environ: Mapping[str, str]) -> DeliverySettings:
    """Delivery settings: SMTP server, extra allowed networks, attempts, notification interval."""
    defaults = DeliverySettings()
    networks = tuple(
        part.strip()
        for part in environ.get(WEBHOOK_ALLOWED_NETWORKS_VAR, "").split(",")
        if part.strip()
    )
    seconds: dict[str, Any] = {
        field_name: load_seconds(environ, var, getattr(defaults, field_name))
        for field_name, var in DELIVERY_SECONDS_VARS.items()
    }
    whole_seconds: dict[str, Any] = {
        field_name: load_whole_number(environ, var, getattr(defaults, field_name))
        for field_name, var in DELIVERY_WHOLE_SECONDS_VARS.items()
    }
    return DeliverySettings(
        **seconds,
        **whole_seconds,
        max_attempts=load_whole_number(environ, DELIVERY_MAX_ATTEMPTS_VAR, defaults.max_attempts),
        allowed_networks=networks,
        smtp_url=environ.get(SMTP_URL_VAR) or None,
        notify_interval_seconds=60
        * load_whole_number(environ, NOTIFY_INTERVAL_VAR, defaults.notify_interval_seconds // 60),
    )


def load_settings(environ: Mapping[str, str], instance_path: Path | None = None) -> Settings:
    """Build the settings from the environment; `instance_path` lets tests use a temp folder."""
    path = instance_path.absolute() if instance_path else load_instance_path(environ)
    ensure_instance_folder(path)
    blob_path = Path(environ.get(BLOB_PATH_VAR) or path / "blobs").absolute()
    return Settings(
        instance_path=path,
        secret_key=load_secret_key(environ, path),
        codename_salt=load_codename_salt(environ, path),
        database_url=load_database_url(environ, path),
        blob_path=blob_path,
        redis_url=environ.get(REDIS_URL_VAR) or None,
        onion_address=environ.get(ONION_ADDRESS_VAR) or None,
        allowed_hosts=load_allowed_hosts(environ),
        organisation=environ.get(ORGANISATION_VAR) or None,
        portal=load_portal(path),
        limits=load_limits(environ),
        delivery=load_delivery(environ),
    )
