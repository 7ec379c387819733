"""The field catalogue: one declarative description of every field of a report.

What a field is called in the document, what kind of answer it takes, its label
and help (English source messages, translated where they are shown: `N_` only
marks them for `make translations`), and four decisions that must never be
made twice: whether it identifies a person, whether an anonymised escalation may
keep it, whether statistics may count it, and how the client links reports that
share it. The form's labels and choices,
the reader's checks, the client's `show`, `escalate` and `stats` read them here.
"""

from __future__ import annotations

from collections.abc import Iterator

from protocol.fields import N_, Choice, Field, Kind, Link
from protocol.repression import FAMILY_HARMS, V2_FIELDS
from protocol.urgency import URGENT

__all__ = [
    "CATEGORIES",
    "CONSENT",
    "FILE_DESCRIPTION_MAX_CHARS",
    "REPORT_FIELDS",
    "Choice",
    "Field",
    "Kind",
    "Link",
    "field",
    "walk",
]

# A file's description is one line: what it shows, not a second narrative.
FILE_DESCRIPTION_MAX_CHARS = 200


CATEGORIES = Field(
    "categories",
    Kind.MULTIPLE,
    N_("What happened?"),
    N_("Choose all that apply. You can also leave this empty."),
    form_name="categories",
    choices=(
        Choice(
            "family_threatened",
            N_("Threats or pressure against family members in the home country"),
        ),
        Choice("pressure_to_return", N_("Pressure to return to the home country")),
        Choice(
            "police_station",
            N_(
                "Contact with, a summons to or a visit from an overseas police “service "
                "station” or its agents"
            ),
        ),
        Choice("surveillance", N_("Being watched, followed or photographed")),
        Choice("online", N_("Online harassment or hacking")),
        Choice("relatives_detained", N_("Relatives detained or questioned")),
        Choice("livelihood", N_("Threats to my job, residency or property")),
        Choice("other", N_("Something else")),
    ),
    anonymised=True,
    counted=True,
    title="What happened",
    section=N_("What happened"),
    until=1,  # reporting/v2 asks for methods, actors, contact and demands instead
)
CONSENT = Field(
    "consent",
    Kind.CHOICE,
    N_("May we share your report?"),
    N_(
        "Partner organisations give legal help, support diaspora communities or report on "
        "these cases. We never share your codename."
    ),
    form_name="consent",
    choices=(
        Choice("none", N_("Do not share my report with anyone outside this organisation")),
        Choice(
            "anonymised",
            N_("Share it with partner organisations without anything that identifies me"),
        ),
        Choice("full", N_("Share it in full with partner organisations")),
    ),
    required=True,
    anonymised=True,
    title="Sharing",
    section=N_("Sharing"),
)

# In the order of the v1 document, which is the order a caseworker reads them in.
REPORT_FIELDS: tuple[Field, ...] = (
    Field("written_on", Kind.DAY, N_("Written on"), required=True, anonymised=True),
    CATEGORIES,
    Field(
        "narrative",
        Kind.LONG_TEXT,
        N_("Tell us what happened"),
        N_(
            "In your own words: what happened, who was involved, and what they asked or "
            "threatened. Any language is fine. This is the only required field."
        ),
        form_name="narrative",
        required=True,
        anonymised=True,  # the reporter's own words: an anonymised package carries a caveat
        title="Narrative",
        section=N_("What happened"),
        lines=12,
    ),
    URGENT,
    *V2_FIELDS,
    Field(
        "where",
        Kind.GROUP,
        N_("Where"),
        section=N_("Where"),
        fields=(
            Field(
                "where.country",
                Kind.COUNTRY,
                N_("Country where it happened"),
                N_("The country you were in, not your home country."),
                form_name="country",
                anonymised=True,
                counted=True,
                title="Host country",
            ),
            Field(
                "where.city",
                Kind.TEXT,
                N_("City"),
                N_("The city or area, if you are comfortable saying."),
                form_name="city",
                identifying=True,
            ),
            Field(
                "where.place",
                Kind.PLACE,
                N_("The station or office involved"),
                N_(
                    "For example an overseas “police service station”, a hometown association "
                    "or a consulate. Choose it from the list, or describe it in your own words."
                ),
                form_name="place",
                # A named station in a named city narrows a small community down to a few
                # people, so it identifies; an anonymised escalation keeps the host country.
                identifying=True,
                # Not counted: per-station figures would be small enough to point at the
                # reporters, and free text has no code to count. The caseworker's client
                # links reports by place locally instead.
                links=Link.PLACE,
                title="Station or office",
                since=2,
            ),
        ),
    ),
    Field(
        "when",
        Kind.GROUP,
        N_("When"),
        section=N_("When"),
        fields=(
            Field(
                "when.from",
                Kind.DATE,
                N_("From (approximate date)"),
                N_("A date such as 2025-03-14, or just a year and month such as 2025-03."),
                form_name="date_from",
                anonymised=True,
            ),
            Field(
                "when.to",
                Kind.DATE,
                N_("Until (approximate date)"),
                N_("Leave empty if it happened once or is still going on."),
                form_name="date_to",
                anonymised=True,
            ),
            Field(
                "when.note",
                Kind.TEXT,
                N_("Anything else about when"),
                N_("For example: “every week since last spring”."),
                form_name="when_note",
                anonymised=True,
            ),
        ),
    ),
    Field(
        "who",
        Kind.GROUP,
        N_("Who"),
        section=N_("Who"),
        fields=(
            Field(
                "who.people",
                Kind.LONG_TEXT,
                N_("People or organisations involved"),
                N_("Names, descriptions, phone numbers or accounts used to contact you."),
                form_name="people",
                identifying=True,
                links=Link.PHONE,  # the numbers in it; names are free text
            ),
            Field(
                "who.affiliation",
                Kind.TEXT,
                N_("Who they said they were working for"),
                N_(
                    "For example: a named public security bureau, a police station, a united "
                    "front group."
                ),
                form_name="affiliation",
                anonymised=True,
            ),
            Field(
                "who.station_address",
                Kind.LONG_TEXT,
                N_("Address of a “police service station”, if known"),
                N_("The address or a description of the place."),
                form_name="station_address",
                identifying=True,
                links=Link.PLACE,
                lines=3,
            ),
        ),
    ),
    Field(
        "family",
        Kind.GROUP,
        N_("Family members affected"),
        form_name="family",
        max_entries=5,
        share_flag="may_share",
        section=N_("Family members"),
        section_help=N_(
            "If family members were threatened, questioned or punished, you can tell us about "
            "up to five of them here. Leave this empty if it does not apply."
        ),
        entry_label=N_("Family member %(number)d"),
        fields=(
            Field(
                "family.relation",
                Kind.TEXT,
                N_("Relation to you"),
                N_("For example: mother, brother, cousin."),
                form_name="relation",
                anonymised=True,
            ),
            Field(
                "family.country",
                Kind.COUNTRY,
                N_("Country where they live"),
                form_name="country",
                anonymised=True,
                since=2,
            ),
            Field(
                "family.location",
                Kind.TEXT,
                N_("Province and city"),
                N_("Where they live, as precisely as you are comfortable with."),
                form_name="location",
                identifying=True,
            ),
            FAMILY_HARMS,
            Field(
                "family.what_happened",
                Kind.LONG_TEXT,
                N_("What happened to them"),
                N_("For example: visited by police, questioned, passport taken, job lost."),
                form_name="what_happened",
                anonymised=True,
                lines=3,
            ),
            Field(
                "family.may_share",
                Kind.FLAG,
                N_("What I wrote about this person may be shared with partner organisations"),
                N_("Leave this unticked to keep it within this organisation."),
                form_name="may_share",
                anonymised=True,
                title="may be shared with partners",
                since=2,
            ),
            Field(
                "family.do_not_contact",
                Kind.FLAG,
                N_("Do not contact this person"),
                form_name="do_not_contact",
                anonymised=True,  # a partner must know it too
                title="DO NOT CONTACT",
                since=2,
            ),
        ),
    ),
    Field(
        "attachments",
        Kind.FILES,
        N_("Evidence"),
        N_(
            "Photos, screenshots, recordings or documents. Files are encrypted as they arrive. "
            "Photos can contain the place and time they were taken: if that could identify "
            "you, take a screenshot of the photo and send that instead."
        ),
        form_name="attachments",
        # Each file as the service received it: blob, filename, content_type, size, and
        # (since v2) the SHA-256 of the original bytes and the reporter's one-line
        # description (free text: identifying like the files, so never anonymised).
        max_entries=5,  # the form's rows of a file and its description
        required=True,  # written by the service (what the files are), possibly empty
        identifying=True,  # photos show faces and places; files carry metadata
        section=N_("Evidence"),
    ),
    CONSENT,
    Field(
        "reply_language",
        Kind.LANGUAGE,
        N_("Language for our replies"),
        N_("We will try to reply in this language."),
        form_name="reply_language",
        required=True,
        title="Reply in",
        section=N_("Replies"),
    ),
    Field("interface_language", Kind.LANGUAGE, N_("Portal language"), required=True),
)


def walk(fields: tuple[Field, ...] | None = None) -> Iterator[Field]:
    """Every field (of the report, or of `fields`), each group before its own fields.

    Everything reads REPORT_FIELDS when it runs, never a copy taken at import, so a field
    added here reaches every part of the service (tests/app/test_catalogue.py adds one).
    """
    for field in REPORT_FIELDS if fields is None else fields:
        yield field
        yield from walk(field.fields)


def field(path: str) -> Field:
    """The field at `path` ("where.city"); KeyError for a path the catalogue lacks."""
    for candidate in walk():
        if candidate.path == path:
            return candidate
    raise KeyError(path)
