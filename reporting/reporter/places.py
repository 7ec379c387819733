"""The places the report form offers: the registry of the organisation this portal files
reports with (`flask registry load`), as (id, name as shown) pairs."""

from __future__ import annotations

from flask import current_app

from reporting import db
from reporting.organisations import receiving_organisation
from reporting.registry import places_of


def offered_places() -> list[tuple[str, str]]:
    """The receiving organisation's registry; none when it has none (or is not set up)."""
    organisation = receiving_organisation(db.session(), current_app.config["SETTINGS"].organisation)
    if organisation is None:
        return []
    return [(place.registry_id, place.label) for place in places_of(db.session(), organisation.id)]
