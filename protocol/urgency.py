"""Urgency: the one answer of a report the server also keeps in clear, beside consent.

The reporter ticks it when someone is in danger now or within days. Inside the
encrypted document it is an answer like any other; the server copies it to the
report's row so that the organisation gets an immediate content-free notice and
the inbox sorts the report first (deploy/THREAT-MODEL.md weighs what that tells
whoever holds the database).
"""

from __future__ import annotations

from protocol.fields import N_, Field, Kind

URGENT = Field(
    "urgent",
    Kind.FLAG,
    N_("Someone is in danger now or within days"),
    N_(
        "Tick this only if someone is at risk now or in the next few days. We are told at "
        "once and read your report first. Leave it unticked otherwise."
    ),
    form_name="urgent",
    anonymised=True,  # a partner helping in time must know it too
    counted=True,
    title="Urgent",
    section=N_("Urgency"),
    since=2,
)
