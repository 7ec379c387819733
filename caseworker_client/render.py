"""Readable text of decrypted documents (protocol/) for the terminal.

What a reporter wrote is untrusted: control characters are replaced before it
reaches the terminal, so a report cannot move the cursor, retitle the window or
hide text with escape sequences.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from caseworker_client.decrypt import AttachmentRef, OpenedMessage

CATEGORY_LABELS = {
    "family_threatened": "Threats or pressure against family members in the home country",
    "pressure_to_return": "Pressure to return to the home country",
    "police_station": "Contact with an overseas police “service station” or its agents",
    "surveillance": "Being watched, followed or photographed",
    "online": "Online harassment or hacking",
    "relatives_detained": "Relatives detained or questioned",
    "livelihood": "Threats to job, residency or property",
    "other": "Something else",
}
CONSENT_LABELS = {
    "none": "do not share outside this organisation",
    "anonymised": "may be shared with partners without anything that identifies the reporter",
    "full": "may be shared in full with partners",
}
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


def _section(title: str, lines: Sequence[str | None]) -> list[str]:
    kept = [line for line in lines if line]
    return [title, *kept, ""] if kept else []


def attachment_lines(refs: Sequence[AttachmentRef]) -> list[str]:
    return [
        f"  {ref.position + 1}. {clean(ref.filename) or '(no name)'} "
        f"({clean(ref.content_type) or 'type unknown'}, {human_size(ref.size)})"
        for ref in refs
    ]


def report_text(document: Mapping[str, Any], summary: Mapping[str, Any] | None = None) -> str:
    """The reporter's structured report, laid out the way a caseworker reads it."""
    summary = summary or {}
    where = document.get("where") or {}
    when = document.get("when") or {}
    who = document.get("who") or {}
    out = []
    if summary:
        facts = [
            f"Report {clean(summary.get('id'))}",
            f"received {clean(summary.get('received_on'))}",
            f"status {clean(summary.get('status'))}",
            f"severity {clean(summary.get('severity')) or '—'}",
        ]
        out += [" · ".join(facts), ""]
    categories = [
        f"  - {CATEGORY_LABELS.get(str(c), clean(c))}" for c in document.get("categories") or []
    ]
    out += _section("What happened", categories or ["  (no category chosen)"])
    out += _section(
        "Where",
        [
            _field("Country", country_name(str(where.get("country") or ""))),
            _field("City", where.get("city")),
        ],
    )
    out += _section(
        "When",
        [
            _field("From", when.get("from")),
            _field("Until", when.get("to")),
            _field("Note", when.get("note")),
        ],
    )
    out += _section(
        "Who",
        [
            _field("People or organisations involved", who.get("people")),
            _field("Said they work for", who.get("affiliation")),
            _field("Police “service station” address", who.get("station_address")),
        ],
    )
    family = []
    for number, member in enumerate(document.get("family") or [], start=1):
        member = member if isinstance(member, Mapping) else {}
        heading = " — ".join(
            part for part in (clean(member.get("relation")), clean(member.get("location"))) if part
        )
        family.append(f"  {number}. {heading or '(relation not given)'}")
        if member.get("what_happened"):
            family.append(_block(member["what_happened"], "     "))
    out += _section("Family members affected", family)
    consent = str(document.get("consent") or "")
    out += _section(
        "Consent and language",
        [
            _field("Sharing", f"{consent}: {CONSENT_LABELS.get(consent, 'not stated')}"),
            _field("Reply in", document.get("reply_language")),
            _field("Portal language", document.get("interface_language")),
            _field("Written on", document.get("written_on")),
        ],
    )
    out += ["Narrative", _block(document.get("narrative")), ""]
    return "\n".join(out).rstrip() + "\n"


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
    author = person(message.author, caseworkers)
    partner = _partner(message.partner, partners or {})
    titles = {
        "followup": "Follow-up from the reporter",
        "reply": f"Reply to the reporter by {author or 'a caseworker'}",
        "note": f"Internal note by {author or 'a caseworker'}",
        "escalation": f"Escalation to {partner} by {author or 'a caseworker'}",
        "report": "The report",
    }
    title = titles.get(message.kind, f"Message ({clean(message.kind)})")
    lines = [f"#{message.seq} · {clean(message.created_on)} · {title}"]
    if message.document is None:
        lines.append(f"  (cannot be opened here: {message.problem})")
    else:
        lines.append(_block(message.document.get("text", "")))
    if message.attachments:
        lines.append("  Attachments:")
        lines += ["  " + line for line in attachment_lines(message.attachments)]
    return "\n".join(lines) + "\n"


def _partner(value: Any, partners: Mapping[str, str]) -> str:
    if isinstance(value, Mapping):
        return clean(value.get("name") or value.get("id"))
    if value in (None, ""):
        return "a partner"
    return clean(partners.get(str(value)) or f"partner {value}")
