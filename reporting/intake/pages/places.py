"""The places the report form offers: the registry of the organisation this portal files
reports with (`flask registry load`), as (id, name as shown) pairs."""

from __future__ import annotations

import logging

from flask import current_app, request
from sqlalchemy.exc import InterfaceError, OperationalError

from reporting.infra import db
from reporting.organisations.place_registry import places_of
from reporting.organisations.recipients import receiving_organisation

logger = logging.getLogger(__name__)


def offered_places() -> list[tuple[str, str]]:
    """The receiving organisation's registry; none when it has none (or is not set up).

    A reporter must be able to open the form and write while the database restarts: showing
    the form stores nothing, so there the place question falls back to free text. Sending it
    still needs the database, and a POST lets the error through, so it gets the page that
    says nothing was stored rather than a misleading "choose a place from the list"."""
    try:
        organisation = receiving_organisation(
            db.session(), current_app.config["SETTINGS"].organisation
        )
        if organisation is None:
            return []
        places = places_of(db.session(), organisation.id)
        return [(place.registry_id, place.label) for place in places]
    except (OperationalError, InterfaceError):
        if request.method != "GET":
            raise
        db.session().rollback()
        logger.warning("the place registry could not be read; the form offers free text only")
        return []
