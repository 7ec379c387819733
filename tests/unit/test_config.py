"""Settings from the environment: defaults, overrides, and clear refusals by variable name."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.infra.config import MIB, load_delivery, load_limits, load_settings


def test_defaults_use_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "instance")
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'reporting.sqlite3'}"
    assert settings.blob_path == tmp_path / "instance" / "blobs"
    assert settings.broker_url == "reportingfs://localhost//"
    assert settings.limits.max_submission_bytes == 500 * MIB
    assert settings.redis_url is None and settings.onion_address is None


def test_the_environment_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "REPORTING_DATABASE_URL": "postgresql+psycopg://db/reports",
            "REPORTING_REDIS_URL": "redis://127.0.0.1:6379/3",
            "REPORTING_MAX_SUBMISSION_MB": "20",
            "REPORTING_MAX_FILE_MB": "5",
            "REPORTING_WEBHOOK_ALLOWED_NETWORKS": "10.1.0.0/16, 127.0.0.0/8",
            "REPORTING_DELIVERY_BACKOFF_SECONDS": "0.5",
            "REPORTING_SWEEP_INTERVAL_SECONDS": "5",
            "REPORTING_NOTIFY_INTERVAL_MINUTES": "15",
        },
        tmp_path / "instance",
    )
    assert settings.database_url == "postgresql+psycopg://db/reports"
    assert settings.broker_url == "redis://127.0.0.1:6379/3"
    assert settings.limits.max_submission_bytes == 20 * MIB
    assert settings.limits.max_file_bytes == 5 * MIB
    assert settings.delivery.allowed_networks == ("10.1.0.0/16", "127.0.0.0/8")
    assert settings.delivery.backoff_base_seconds == 0.5
    assert settings.delivery.sweep_interval_seconds == 5
    assert settings.delivery.notify_interval_seconds == 15 * 60


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPORTING_MAX_FILE_MB", "ten", "whole number of MiB"),
        ("REPORTING_MAX_FILE_MB", "0", "positive"),
        ("REPORTING_MAX_SUBMISSION_MB", "-1", "positive"),
    ],
)
def test_bad_limits_are_refused_by_name(variable: str, value: str, message: str) -> None:
    with pytest.raises(RuntimeError, match=f"{variable} must be .*{message}|{message}"):
        load_limits({variable: value})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REPORTING_DELIVERY_MAX_ATTEMPTS", "many"),
        ("REPORTING_DELIVERY_READ_TIMEOUT", "0"),
        ("REPORTING_DELIVERY_BACKOFF_SECONDS", "soon"),
        ("REPORTING_SWEEP_INTERVAL_SECONDS", "1.5"),
    ],
)
def test_bad_delivery_settings_are_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(RuntimeError, match=variable):
        load_delivery({variable: value})


@pytest.mark.parametrize("salt", ["not hex", "abcd"])
def test_a_bad_codename_salt_is_refused(tmp_path: Path, salt: str) -> None:
    with pytest.raises(RuntimeError, match="REPORTING_CODENAME_SALT"):
        load_settings({"REPORTING_CODENAME_SALT": salt}, tmp_path / "instance")


def test_secrets_stay_out_of_the_repr(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "REPORTING_SECRET_KEY": "operator-secret-key-value",
            "REPORTING_SMTP_URL": "smtp://user:smtp-password@mail.example:587?sender=a@b.example",
        },
        tmp_path / "instance",
    )
    shown = repr(settings)
    assert "operator-secret-key-value" not in shown and "smtp-password" not in shown
    assert settings.codename_salt.hex() not in shown
