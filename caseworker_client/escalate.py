"""The escalation package: what the reporter consented to share with a partner, and no more.

Consent decides the starting point. "none" (or no recorded consent) refuses
outright. "full" shares the whole report, follow-ups and files. "anonymised"
keeps only the fields the field catalogue (protocol/catalogue.py) marks
`anonymised`, and the follow-up texts, so a field added to the report later is
withheld until its catalogue entry says it is safe. Today that drops the names,
numbers and accounts of the people involved, the station address and the city
(they place the reporter), where family members live, the reply and portal
languages (they narrow down who wrote it) and every attachment (photos show
faces and places, files carry metadata).

The free text that is kept (narrative, follow-ups, affiliation, what happened to
family) is the reporter's own words, unedited: the package says so in a caveat,
and the caseworker can drop more with --redact.

Files that are shared lose their metadata where it can be removed: JPEG, PNG and
WebP images are re-encoded from their pixels (caseworker_client/images.py, as
`show --strip-metadata` does), unless the caseworker asks for the originals
(--keep-originals). Each file's entry says which it is (`describe_files`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from caseworker_client.decrypt import AttachmentRef, OpenedMessage
from caseworker_client.errors import ClientError
from protocol import CONSENTS, catalogue, escalation_document

CONSENT_ORDER = CONSENTS  # from the strictest
# What an anonymised escalation drops and keeps, and what --redact accepts, come from the
# field catalogue (protocol/catalogue.py), read when an escalation is built.


def anonymised_drops() -> tuple[str, ...]:
    """The fields an anonymised escalation leaves out: every one not marked `anonymised`."""
    return tuple(
        f.path for f in catalogue.walk() if not f.anonymised and f.kind is not catalogue.Kind.GROUP
    )


def redactable() -> tuple[str, ...]:
    """Every field --redact accepts (a typo must fail loudly, never share what was meant to
    go). Consent is not one: the package states it."""
    return (*(f.path for f in catalogue.walk() if f.path != catalogue.CONSENT.path), "followups")


def _anonymised_keep() -> dict[str, tuple[str, ...]]:
    """For each group of fields, the ones an anonymised escalation keeps."""
    groups = [f for f in catalogue.REPORT_FIELDS if f.kind is catalogue.Kind.GROUP]
    return {g.key: tuple(f.key for f in g.fields if f.anonymised) for g in groups}


def _anonymised_top() -> tuple[str, ...]:
    keep = _anonymised_keep()
    return tuple(f.key for f in catalogue.REPORT_FIELDS if f.anonymised or keep.get(f.key))


CAVEAT = (
    "The reporter allowed sharing without anything that identifies them. Fields that could "
    "identify them were removed, but the narrative and other free text are their own words, "
    "unedited: check them before publishing or passing anything on."
)


# What the partner reads about the files (each file's "metadata" says which applies).
FILES_NOTE = (
    'Files marked "metadata": "removed" were re-encoded from their pixels by the sending '
    "caseworker: their EXIF (GPS position, time, camera or phone), XMP, comments and colour "
    'profiles are gone, and their size is the new file\'s. Files marked "original" are as '
    "the reporter sent them, metadata included; check them before passing them on."
)


class EscalationRefused(ClientError):
    """The reporter's consent (or the caseworker's input) does not allow this escalation."""


@dataclass(frozen=True)
class Package:
    """The escalation document and, in upload order, the files that go with it."""

    document: dict[str, Any]
    attachments: list[AttachmentRef]
    redacted: list[str]


def effective_consent(document: Mapping[str, Any], server_consent: Any) -> str:
    """The stricter of what the decrypted report and the server's copy say; refuse "none"
    and a consent either of them lacks."""
    values = [document.get("consent"), server_consent]
    if any(v not in CONSENT_ORDER for v in values):
        # The server refuses these too: a report from before consent was kept in clear.
        raise EscalationRefused(
            "this report records no consent to share it, so it cannot be escalated"
        )
    consent = min(values, key=CONSENT_ORDER.index)
    if consent == "none":
        raise EscalationRefused(
            "the reporter chose “do not share my report with anyone outside this "
            "organisation”: it cannot be escalated, and nothing was sent"
        )
    return str(consent)


def check_redactions(fields: Sequence[str]) -> list[str]:
    unknown = [f for f in fields if f not in redactable()]
    if unknown:
        raise EscalationRefused(
            f"unknown field(s) to redact: {', '.join(unknown)}; nothing was sent. "
            f"Fields are: {', '.join(redactable())}"
        )
    return list(dict.fromkeys(fields))


def _drop(report: dict[str, Any], path: str) -> bool:
    """Remove a dotted field (applied to each entry of a list); whether anything was there."""
    head, _, rest = path.partition(".")
    if head not in report:
        return False
    if not rest:
        value = report.pop(head)
        return bool(value)
    container = report[head]
    entries = container if isinstance(container, list) else [container]
    found = False
    for entry in entries:
        if isinstance(entry, dict) and rest in entry:
            found = bool(entry.pop(rest)) or found
    return found


def _withhold_unshared(report: dict[str, Any]) -> list[str]:
    """Drop the entries of a repeated group (a relative) the reporter did not allow to share,
    whatever the consent; the groups that lost one, for the package's list."""
    lost = []
    for group in catalogue.REPORT_FIELDS:
        entries = report.get(group.key)
        if not group.share_flag or not isinstance(entries, list):
            continue
        shared = [e for e in entries if isinstance(e, dict) and e.get(group.share_flag) is True]
        if len(shared) != len(entries):
            lost.append(f"{group.path} (entries not allowed to be shared)")
        report[group.key] = shared
    return lost


def _answered(value: Any) -> bool:
    """Whether the reporter wrote anything here (a group of blank answers is not)."""
    if isinstance(value, dict):
        return any(_answered(v) for v in value.values())
    if isinstance(value, list):
        return any(_answered(v) for v in value)
    return bool(value)


def _anonymise(report: dict[str, Any]) -> dict[str, Any]:
    """Keep only the allow-listed fields (see the module docstring)."""
    kept: dict[str, Any] = {}
    keep = _anonymised_keep()
    for key in _anonymised_top():
        if key not in report:
            continue
        value = report[key]
        allowed = keep.get(key)
        if allowed is None:
            kept[key] = value
        elif isinstance(value, list):
            kept[key] = [{k: e[k] for k in allowed if k in e} for e in value if isinstance(e, dict)]
        elif isinstance(value, dict):
            kept[key] = {k: value[k] for k in allowed if k in value}
    return kept


@dataclass(frozen=True)
class SentFile:
    """A file as it goes to the partner: its metadata removed (an image re-encoded from its
    pixels, maybe under a new extension and type), or the original bytes."""

    filename: str
    content_type: str
    size: int | None
    metadata_removed: bool
    why: str = ""  # why not removed, or what the re-encoding changed besides metadata

    def line(self, position: int) -> str:
        """One line for the caseworker's terminal."""
        name = f"{position + 1:02d} {self.filename}"
        if self.metadata_removed:
            extra = f"; {self.why}" if self.why else ""
            return f"{name}: metadata removed (re-encoded{extra})"
        return f"{name}: sent as the reporter sent it, metadata included ({self.why})"


def describe_files(document: dict[str, Any], sent: Sequence[SentFile]) -> dict[str, Any]:
    """The package's file entries updated to the files actually sent, saying for each
    whether its metadata was removed, so the partner knows what they hold."""
    entries = []
    for entry, file in zip(document["attachments"], sent, strict=True):
        changed = {
            **entry,
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.size,
            "metadata": "removed" if file.metadata_removed else "original",
        }
        if file.why:
            changed["metadata_note"] = file.why
        entries.append(changed)
    updated = {**document, "attachments": entries}
    if entries:
        updated["attachments_note"] = FILES_NOTE
    return updated


def _file_entry(ref: AttachmentRef, position: int, source: str) -> dict[str, Any]:
    """A shared file (only a full escalation shares files, so its description may go too)."""
    entry: dict[str, Any] = {
        "position": position,
        "filename": ref.filename,
        "content_type": ref.content_type,
        "size": ref.size,
        "from": source,
    }
    if ref.description:
        entry["description"] = ref.description
    return entry


def shareable_report(
    document: Mapping[str, Any], server_consent: Any
) -> tuple[str, dict[str, Any], list[str]]:
    """What of a decrypted report its consent lets leave the organisation: the consent
    (refused as `effective_consent` refuses), a copy of the report without the fields and
    relatives it withholds, and the list of what was withheld. Escalations and the
    case-level export (exports.py) both start from it."""
    consent = effective_consent(document, server_consent)
    original = copy.deepcopy(dict(document))
    report = {k: v for k, v in original.items() if k not in ("schema", "kind")}
    unshared = _withhold_unshared(report)
    redacted = []
    if consent == "anonymised":
        redacted = [path for path in anonymised_drops() if _drop(copy.deepcopy(report), path)]
        kept = _anonymised_top()
        dropped = (*kept, *redacted, *(path.partition(".")[0] for path in redacted))
        redacted += [k for k, v in report.items() if _answered(v) and k not in dropped]
        report = _anonymise(report)
    return consent, report, redacted + unshared


def build_package(
    messages: Sequence[OpenedMessage],
    summary: Mapping[str, Any],
    organisation_name: str,
    redact: Sequence[str] = (),
    cover_note: str = "",
) -> Package:
    """The escalation document for a report, as its consent and `redact` allow."""
    redact = check_redactions(redact)
    report_message = next((m for m in messages if m.kind == "report"), None)
    if report_message is None or report_message.document is None:
        raise EscalationRefused("the report itself cannot be opened here, so it cannot be shared")
    consent, report, redacted = shareable_report(report_message.document, summary.get("consent"))
    followups = [m for m in messages if m.kind == "followup" and m.document is not None]
    share_files = consent == "full" and "attachments" not in redact
    for path in redact:
        if path == "followups":
            if followups:
                redacted.append(path)
            followups = []
        elif _drop(report, path) or (path == "attachments" and report_message.attachments):
            redacted.append(path)
    report.pop("attachments", None)  # blob ids of our store mean nothing to the partner

    files: list[AttachmentRef] = []
    entries: list[dict[str, Any]] = []

    def add_files(message: OpenedMessage, source: str) -> None:
        if share_files:
            for ref in message.attachments:
                entries.append(_file_entry(ref, len(files), source))
                files.append(ref)

    add_files(report_message, "report")
    followup_entries = []
    for message in followups:
        assert message.document is not None
        followup_entries.append(
            {
                "written_on": message.document.get("written_on", ""),
                "text": message.document.get("text", ""),
            }
        )
        add_files(message, f"followup #{message.seq}")
    withheld = sum(len(m.attachments) for m in [report_message, *followups]) - len(files)

    document = escalation_document(
        from_organisation=organisation_name,
        reference=str(summary.get("id", "")),
        received_on=str(summary.get("received_on", "")),
        consent=consent,
        redacted=redacted,
        report=report,
        followups=followup_entries,
        attachments=entries,
        attachments_withheld=withheld,
        caveat=CAVEAT if consent == "anonymised" else "",
        note=cover_note,
    )
    return Package(document, files, document["redacted"])
