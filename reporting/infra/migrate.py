"""Schema migrations with Alembic, driven from code so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parents[1] / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for this database, with our migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config is an INI file underneath: a % in a URL would be read as interpolation.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (the newest by default)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Take the database back to `revision` (`base` empties it)."""
    command.downgrade(alembic_config(database_url), revision)
