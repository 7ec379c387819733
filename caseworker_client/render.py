"""Readable text of decrypted documents (protocol/) for the terminal.

What a reporter wrote is untrusted: control characters are replaced before it
reaches the terminal, so a report cannot move the cursor, retitle the window or
hide text with escape sequences.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from caseworker_client.decrypt import AttachmentRef, OpenedMessage
from protocol import catalogue
from protocol.catalogue import Field, Kind

# C0 and C1 controls (but newline and tab), DEL, and the bidirectional overrides that
# can make text read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
WIDTH = 88


def clean(value: Any) -> str:
    """Text safe to print: untrusted control characters shown as U+FFFD."""
    return _UNSAFE.sub("\ufffd", str(value if value is not None else ""))


def country_name(code: str) -> str:
    """ "NL (Netherlands)": the ISO code with its English name when Babel knows it."""
    code = clean(code).strip()
    if not code:
        return ""
    try:
        from babel import Locale

        name = Locale("en").territories.get(code.upper())
    except ImportError:  # pragma: no cover - Babel comes with the package
        name = None
    return f"{code} ({name})" if name else code


def human_size(size: int | None) -> str:
    if size is None:
        return "size unknown"
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""  # pragma: no cover


def _block(text: Any, indent: str = "  ") -> str:
    """Wrap each paragraph of untrusted text to the terminal width, indented."""
    lines: list[str] = []
    for paragraph in clean(text).splitlines() or [""]:
        wrapped = textwrap.wrap(paragraph, WIDTH - len(indent)) or [""]
        lines.extend(indent + line for line in wrapped)
    return "\n".join(lines)


def _field(label: str, value: Any) -> str | None:
    text = clean(value).strip()
    if not text:
        return None
    if "\n" in text or len(label) + len(text) > WIDTH - 4:
        return f"  {label}:\n{_block(text, '    ')}"
    return f"  {label}: {text}"


@dataclass(frozen=True)
class Answer:
    """One answer of a section: a labelled value, an item of a list (no label), or a numbered
    entry of a repeated group with its long answers as `notes`."""

    label: str
    text: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """A part of the report as the field catalogue lays it out. `kind` says how to show it:
    "fields" (label and answer), "list" (chosen items), "entries" (numbered), "prose"."""

    title: str
    kind: str
    answers: tuple[Answer, ...]


def _section_text(section: Section) -> list[str]:
    if section.kind == "prose":
        return [section.title, _block(section.answers[0].text if section.answers else ""), ""]
    lines: list[str | None] = []
    for answer in section.answers:
        if section.kind == "list":
            lines.append(f"  - {answer.text}")
        elif section.kind == "entries":
            lines.append(f"  {answer.label} {answer.text}")
            lines += [_block(note, "     ") for note in answer.notes]
        else:
            lines.append(_field(answer.label, answer.text))
    kept = [line for line in lines if line]
    return [section.title, *kept, ""] if kept else []


def attachment_lines(refs: Sequence[AttachmentRef]) -> list[str]:
    """Each file: its name, type and size, the reporter's description and the SHA-256 the
    server recorded of the original (`save` checks the decrypted bytes against it)."""
    lines = []
    for ref in refs:
        lines.append(
            f"  {ref.position + 1}. {clean(ref.filename) or '(no name)'} "
            f"({clean(ref.content_type) or 'type unknown'}, {human_size(ref.size)})"
        )
        if ref.description:
            lines.append(_block(f"“{ref.description}”", "     "))
        if ref.sha256:
            lines.append(f"     SHA-256 {clean(ref.sha256)}")
    return lines


def report_sections(document: Mapping[str, Any]) -> list[Section]:
    """The reporter's structured report, laid out from the field catalogue: a section per
    group of fields and per list of choices (left out when empty), the short answers under
    their form section's title, the long ones (the narrative) last. Every text is cleaned."""
    out: list[Section] = []
    short: dict[str, list[Answer]] = {"About this report": []}
    long: list[Section] = []
    for field in catalogue.REPORT_FIELDS:
        value = document.get(field.key)
        if field.key not in document and field.retired:
            continue  # asked only in older reports
        if field.kind is Kind.FILES:
            continue  # listed with the files' sizes beside the report
        if field.kind is Kind.MULTIPLE:
            items = [Answer("", clean(field.label_of(str(c)))) for c in value or []]
            out += _kept(Section(field.name, "list", tuple(items)))
        elif field.kind is Kind.GROUP and field.max_entries:
            out += _kept(Section(field.name, "entries", tuple(_entries(field, value or []))))
        elif field.kind is Kind.GROUP:
            value = value if isinstance(value, Mapping) else {}
            answers = [_answer(sub, value.get(sub.key)) for sub in field.fields]
            out += _kept(Section(field.name, "fields", tuple(a for a in answers if a)))
        elif field.kind is Kind.LONG_TEXT:
            long.append(Section(field.name, "prose", (Answer("", clean(value)),)))
        else:
            found = _answer(field, value)
            short.setdefault(field.section or "About this report", [])
            if found:
                short[field.section or "About this report"].append(found)
    for title, kept in short.items():
        out += _kept(Section(title, "fields", tuple(kept)))
    return out + long


def _kept(section: Section) -> list[Section]:
    return [section] if section.answers else []


def report_text(document: Mapping[str, Any], summary: Mapping[str, Any] | None = None) -> str:
    """The report for the terminal (report_sections), under the server's triage facts."""
    summary = summary or {}
    out = []
    if summary:
        facts = [
            f"Report {clean(summary.get('id'))}",
            f"received {clean(summary.get('received_on'))}",
            f"status {clean(summary.get('status'))}",
            f"severity {clean(summary.get('severity')) or '—'}",
        ]
        out += [" · ".join(facts), ""]
    for section in report_sections(document):
        out += _section_text(section)
    return "\n".join(out).rstrip() + "\n"


def _answer(field: Field, value: Any) -> Answer | None:
    """One labelled answer (None when not answered); a code with its label, a country with
    its name."""
    if field.kind is Kind.COUNTRY:
        value = country_name(str(value or ""))
    elif field.kind is Kind.PLACE:
        value = place_text(value)
    elif field.kind is Kind.CHOICE and value:
        value = f"{value}: {field.label_of(str(value))}"
    elif field.kind is Kind.FLAG and isinstance(value, bool):
        value = "yes" if value else "no"
    text = clean(value).strip()
    return Answer(field.name, text) if text else None


def place_text(value: Any) -> str:
    """A place as the reporter gave it: a registry entry by its name and id, or their words."""
    if not isinstance(value, Mapping):
        return ""
    if value.get("registry_id"):
        return f"{clean(value.get('name'))} (registry entry {clean(value['registry_id'])})"
    text = clean(value.get("text")).strip()
    return f"{text} (in the reporter's words)" if text else ""


def _short(field: Field, value: Any) -> str:
    """One short answer of a group's entry: a flag by its name when set, codes by label."""
    if field.kind is Kind.FLAG:
        return clean(field.name) if value is True else ""
    if field.kind is Kind.MULTIPLE:
        return ", ".join(clean(field.label_of(str(code))) for code in value or [])
    if field.kind is Kind.COUNTRY:
        return country_name(str(value or ""))
    if field.kind is Kind.PLACE:
        return place_text(value)
    return clean(value)


def _entries(group: Field, entries: Sequence[Any]) -> list[Answer]:
    """Each entry of a repeated group: its short answers on one line, the long ones below."""
    answers = []
    for number, entry in enumerate(entries, start=1):
        entry = entry if isinstance(entry, Mapping) else {}
        short = [_short(f, entry.get(f.key)) for f in group.fields if f.kind is not Kind.LONG_TEXT]
        notes = tuple(
            clean(entry[f.key])
            for f in group.fields
            if f.kind is Kind.LONG_TEXT and entry.get(f.key)
        )
        answers.append(Answer(f"{number}.", " — ".join(p for p in short if p) or "(blank)", notes))
    return answers


def person(value: Any, caseworkers: Mapping[str, str] | None = None) -> str:
    """A caseworker as the server gave them (an object or an id), as a name."""
    if isinstance(value, Mapping):
        return clean(value.get("username") or value.get("display_name") or value.get("id"))
    if value in (None, ""):
        return ""
    return clean((caseworkers or {}).get(str(value)) or str(value)[:8])


def message_text(
    message: OpenedMessage,
    caseworkers: Mapping[str, str] | None = None,
    partners: Mapping[str, str] | None = None,
) -> str:
    """One later message of the conversation (follow-up, reply, note, escalation)."""
    title = message_title(message, caseworkers, partners)
    lines = [f"#{message.seq} · {clean(message.created_on)} · {title}"]
    if message.document is None:
        lines.append(f"  (cannot be opened here: {message.problem})")
    else:
        lines.append(_block(message.document.get("text", "")))
    if message.attachments:
        lines.append("  Attachments:")
        lines += ["  " + line for line in attachment_lines(message.attachments)]
    return "\n".join(lines) + "\n"


def message_title(
    message: OpenedMessage,
    caseworkers: Mapping[str, str] | None = None,
    partners: Mapping[str, str] | None = None,
) -> str:
    """What a message is and who wrote it: "Reply to the reporter by alice"."""
    author = person(message.author, caseworkers)
    partner = _partner(message.partner, partners or {})
    titles = {
        "followup": "Follow-up from the reporter",
        "reply": f"Reply to the reporter by {author or 'a caseworker'}",
        "note": f"Internal note by {author or 'a caseworker'}",
        "escalation": f"Escalation to {partner} by {author or 'a caseworker'}",
        "report": "The report",
    }
    return titles.get(message.kind, f"Message ({clean(message.kind)})")


def _partner(value: Any, partners: Mapping[str, str]) -> str:
    if isinstance(value, Mapping):
        return clean(value.get("name") or value.get("id"))
    if value in (None, ""):
        return "a partner"
    return clean(partners.get(str(value)) or f"partner {value}")
