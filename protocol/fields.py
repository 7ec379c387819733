"""The building blocks of the field catalogue (protocol/catalogue.py): kinds and fields."""

from __future__ import annotations

import enum
from dataclasses import dataclass


def N_(message: str) -> str:
    """Mark `message` for translation where it is shown; it is the English source text."""
    return message


class Kind(enum.StrEnum):
    TEXT = "text"  # one line
    LONG_TEXT = "long_text"
    CHOICE = "choice"  # one code of `choices`
    MULTIPLE = "multiple"  # several codes of `choices`
    DATE = "date"  # an approximate date as the reporter wrote it ("2025-03")
    DAY = "day"  # an exact day, YYYY-MM-DD, written by the service
    COUNTRY = "country"  # an ISO 3166 code
    # A place: an entry of the organisation's registry ({"registry_id", "name"}, its name as
    # the reporter saw it, so a client needs no server to show it) or free text ({"text"});
    # {} when not answered.
    PLACE = "place"
    LANGUAGE = "language"  # a language code
    GROUP = "group"  # a repeated group of `fields`
    FILES = "files"  # the attachments' descriptions, written by the service
    FLAG = "flag"  # yes or no: a checkbox, stored as true or false


class Link(enum.StrEnum):
    """How the caseworker's client compares a field's answers to link reports that name the
    same phone, account, person, vehicle or place (caseworker_client/linked.py): each rule
    normalises differently. Linking happens only on the caseworker's machine."""

    NONE = ""  # never links
    PHONE = "phone"  # the phone numbers found in the answer
    ACCOUNT = "account"  # messaging or social media accounts, separated by commas
    NAME = "name"  # names or titles, separated by commas
    PLATE = "plate"  # vehicle number plates, separated by commas
    PLACE = "place"  # a station, office or address, the whole answer


@dataclass(frozen=True)
class Choice:
    code: str  # stable: stored in documents and counted by statistics
    label: str


@dataclass(frozen=True)
class Field:
    """One answer of a report. `path` is where it sits in the document ("where.city")."""

    path: str
    kind: Kind
    label: str
    help: str = ""
    form_name: str = ""  # the reporter form's field name; "" when the service writes it
    choices: tuple[Choice, ...] = ()
    required: bool = False  # in every report; any other field may be missing (not answered,
    # or a report written before the field existed)
    identifying: bool = False  # names, places, accounts or files that can point at a person
    anonymised: bool = False  # an anonymised escalation may keep it
    counted: bool = False  # statistics may count it
    links: Link = Link.NONE  # the client links reports sharing an answer (identifying only)
    fields: tuple[Field, ...] = ()  # the fields of each entry of a GROUP
    max_entries: int = 0  # of a GROUP
    # Of a repeated GROUP: the FLAG field of an entry that must be set for any escalation
    # to carry that entry (a relative the reporter did not allow to share never leaves).
    share_flag: str = ""
    title: str = ""  # a shorter name for caseworkers' tools and the docs (English)
    # How the reporter form shows it: the section (a fieldset) a top-level field opens or
    # joins, the section's help, the legend of each entry of a repeated group, and how
    # many lines a long answer's box shows.
    section: str = ""
    section_help: str = ""
    entry_label: str = ""
    lines: int = 0
    # The schema version that added it, and the last one whose form asked for it (0: still
    # asked). A retired field is never written again but still read: older reports hold it,
    # and so do they once upgraded in memory.
    since: int = 1
    until: int = 0

    def in_version(self, version: int) -> bool:
        """Whether reports of schema version `version` may hold this field."""
        return self.since <= version

    @property
    def retired(self) -> bool:
        """Kept to read older reports; no longer asked or written."""
        return bool(self.until)

    @property
    def name(self) -> str:
        """What caseworkers' tools call the field: its title, else its label."""
        return self.title or self.label

    @property
    def key(self) -> str:
        """The field's own key inside its parent object."""
        return self.path.rpartition(".")[2]

    def label_of(self, code: str) -> str:
        """The label of one of this field's codes (the code itself if unknown)."""
        return next((c.label for c in self.choices if c.code == code), code)
