"""The caseworker's actions on one report: read it, save its files, answer, triage, escalate.

Each function does one command's work with plain values in and out; the
click commands in cli.py only ask, call and print.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseworker_client import files, images, pins, render
from caseworker_client.api import Part
from caseworker_client.context import ActionError, Context
from caseworker_client.decrypt import (
    AttachmentRef,
    DecryptError,
    OpenedMessage,
    decrypt_file,
    open_messages,
    report_document,
)
from caseworker_client.escalate import (
    EscalationRefused,
    Package,
    build_package,
    describe_files,
)
from caseworker_client.stats import Counts, count

STATUSES = ("new", "triaged", "in_progress", "escalated", "closed")
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Opened:
    detail: dict[str, Any]
    messages: list[OpenedMessage]
    document: dict[str, Any]


def open_report(ctx: Context, report_id: str) -> Opened:
    """Decrypt a pulled report and its messages (pulling what the cache lacks)."""
    detail = ctx.pulled(report_id)
    messages = open_messages(ctx.store, detail, ctx.identities)
    return Opened(detail, messages, report_document(messages))


def report_text(ctx: Context, opened: Opened) -> str:
    names = ctx.caseworker_names()
    partners = {
        str(p.get("id")): str(p.get("name", ""))
        for p in ctx.organisation(refresh=False).get("partners") or []
    }
    parts = [render.report_text(opened.document, opened.detail)]
    first = next(m for m in opened.messages if m.kind == "report")
    if first.attachments:
        parts.append("Attachments\n" + "\n".join(render.attachment_lines(first.attachments)) + "\n")
    parts += [
        render.message_text(m, names, partners) for m in opened.messages if m.kind != "report"
    ]
    return "\n".join(parts)


def save_attachments(ctx: Context, opened: Opened, folder: Path, strip: bool) -> list[str]:
    """Decrypt every attachment into `folder`; returns one line per file for the caseworker."""
    return [
        save_attachment(ctx, message, ref, folder, strip)
        for message in opened.messages
        for ref in message.attachments
    ]


def save_attachment(
    ctx: Context, message: OpenedMessage, ref: AttachmentRef, folder: Path, strip: bool
) -> str:
    """Decrypt one attachment into `folder` under a safe name; one line for the caseworker."""
    files.private_output_folder(folder)
    prefix = "" if message.kind == "report" else f"followup{message.seq}-"
    name = f"{prefix}{ref.position + 1:02d}-{files.safe_filename(ref.filename)}"
    try:
        return _save_one(ctx, ref, folder, name, strip)
    except DecryptError as error:
        return f"{name}: not saved, {error}"


def _save_one(ctx: Context, ref: AttachmentRef, folder: Path, name: str, strip: bool) -> str:
    source = ctx.store.blob_path(ref.blob)
    if not strip:
        path = files.save_new_file(
            folder,
            name,
            lambda out: decrypt_file(source, ctx.identities, out, ref.size, ref.sha256),
        )
        return f"saved {path}"
    buffer = io.BytesIO()
    decrypt_file(source, ctx.identities, buffer, ref.size, ref.sha256)
    data = buffer.getvalue()
    try:
        stripped = images.strip_metadata(data)
    except images.ImageError as error:
        path = files.save_new_file(folder, name, lambda out: out.write(data))
        return f"saved {path} UNCHANGED: {error}, so its metadata was NOT removed"
    if stripped is None:
        path = files.save_new_file(folder, name, lambda out: out.write(data))
        return f"saved {path} unchanged (not a JPEG, PNG or WebP image: no metadata removed)"
    name = files.with_extension(name, stripped.extension)
    path = files.save_new_file(folder, name, lambda out: out.write(stripped.data))
    note = f"; {stripped.note}" if stripped.note else ""
    return f"saved {path} (re-encoded {stripped.format} without metadata{note})"


# -- answering --------------------------------------------------------------------------------


def _reporter_and_organisation(ctx: Context, report_id: str) -> list[Any]:
    from caseworker_client.compose import recipients
    from crypto import reply_recipients

    detail = ctx.fetch_detail(report_id)
    reporter = detail.get("reporter_recipient")
    organisation = ctx.organisation()
    (reporter_key,) = recipients([reporter] if reporter else [], "the reporter")
    return reply_recipients(
        reporter_key, recipients(pins.organisation_keys(ctx, organisation), "your organisation")
    )


def reply(ctx: Context, report_id: str, text: str) -> dict[str, Any]:
    """Encrypt a reply to the reporter and the organisation, and post it."""
    from caseworker_client.compose import armored, reply_document

    keys = _reporter_and_organisation(ctx, report_id)
    body = {"ciphertext": armored(reply_document(text), keys)}
    return dict(ctx.api.post(f"/reports/{report_id}/replies", body) or {})


def note(ctx: Context, report_id: str, text: str) -> dict[str, Any]:
    """Encrypt an internal note to the organisation's keys only, and post it."""
    from caseworker_client.compose import armored, note_document, recipients

    keys = recipients(pins.organisation_keys(ctx, ctx.organisation()), "your organisation")
    body = {"ciphertext": armored(note_document(text), keys)}
    return dict(ctx.api.post(f"/reports/{report_id}/notes", body) or {})


def set_status(ctx: Context, report_id: str, status: str, message: str | None) -> None:
    """Change the status; with a message, also the note the reporter sees beside it."""
    if status not in STATUSES:
        raise ActionError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
    if message:
        from caseworker_client.compose import armored, status_note_document

        keys = _reporter_and_organisation(ctx, report_id)
        ciphertext = armored(status_note_document(message), keys)
    ctx.api.patch(f"/reports/{report_id}", {"status": status})
    if message:
        ctx.api.put(f"/reports/{report_id}/status-note", {"ciphertext": ciphertext})


def assign(ctx: Context, report_id: str, username: str | None) -> None:
    assignee = None
    if username is not None:
        caseworkers = ctx.organisation().get("caseworkers") or []
        match = [c for c in caseworkers if str(c.get("username", "")).lower() == username.lower()]
        if not match:
            names = ", ".join(sorted(str(c.get("username")) for c in caseworkers))
            raise ActionError(f"no caseworker called {username!r} here; caseworkers: {names}")
        assignee = match[0]["id"]
    ctx.api.patch(f"/reports/{report_id}", {"assignee": assignee})


def tag(ctx: Context, report_id: str, tags: Sequence[str], remove: bool) -> list[str]:
    """Add (or remove) tags, keeping the report's others; returns the report's tags after."""
    known = [str(t) for t in ctx.organisation().get("tags") or []]
    unknown = [t for t in tags if t not in known]
    if unknown and not remove:
        raise ActionError(
            f"unknown tag(s): {', '.join(unknown)}; this organisation's tags are: "
            f"{', '.join(known) or '(none; an admin adds them)'}"
        )
    current = [str(t) for t in ctx.fetch_detail(report_id).get("tags") or []]
    if remove:
        wanted = [t for t in current if t not in tags]
    else:
        wanted = current + [t for t in dict.fromkeys(tags) if t not in current]
    summary = ctx.api.patch(f"/reports/{report_id}", {"tags": wanted}) or {}
    return [str(t) for t in summary.get("tags", wanted)]


def set_severity(ctx: Context, report_id: str, level: str) -> None:
    value = None if level == "none" else level
    if value is not None and value not in SEVERITIES:
        raise ActionError(f"unknown severity {level!r}; choose {', '.join(SEVERITIES)} or none")
    ctx.api.patch(f"/reports/{report_id}", {"severity": value})


# -- escalating -------------------------------------------------------------------------------


def find_partner(organisation: dict[str, Any], wanted: str) -> dict[str, Any]:
    partners = [p for p in organisation.get("partners") or [] if isinstance(p, dict)]
    for partner in partners:
        if (
            str(partner.get("id")) == wanted
            or str(partner.get("name", "")).lower() == wanted.lower()
        ):
            return partner
    names = ", ".join(f"{p.get('name')} (id {p.get('id')})" for p in partners) or "none yet"
    raise ActionError(f"no partner called {wanted!r}; partners: {names}")


@dataclass(frozen=True)
class Escalation:
    """An escalation built but not yet sent: what the partner would receive, to whom."""

    report_id: str
    partner: dict[str, Any]
    package: Package


def prepare_escalation(
    ctx: Context,
    report_id: str,
    partner_name: str,
    redact: Sequence[str],
    cover_note: str = "",
) -> Escalation:
    """Build the package the reporter consented to, as the server has the report now, for a
    partner that can receive it; nothing is encrypted or sent (the desk previews this)."""
    ctx.fetch_detail(report_id)  # consent and messages as the server has them now
    opened = open_report(ctx, report_id)
    organisation = ctx.organisation()
    package = build_package(
        opened.messages, opened.detail, str(organisation.get("name", "")), redact, cover_note
    )
    partner = find_partner(organisation, partner_name)
    if partner.get("deliverable") is False:
        raise EscalationRefused(
            f"{partner.get('name')} has no delivery channel, so it could not receive this; "
            "ask an admin to set one up. Nothing was sent"
        )
    pins.partner_keys(ctx, partner)  # a changed key is refused before anything is shown
    return Escalation(report_id, partner, package)


def escalate(
    ctx: Context,
    report_id: str,
    partner_name: str,
    redact: Sequence[str],
    cover_note: str = "",
    keep_originals: bool = False,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Build the package the reporter consented to, encrypt it to the partner, upload it.

    Returns the server's answer, the redacted fields and one line per file sent (whether
    its metadata was removed). Everything is refused (and nothing uploaded) before any
    ciphertext is made if consent forbids it, and before anything is uploaded if an image
    cannot be cleaned.
    """
    prepared = prepare_escalation(ctx, report_id, partner_name, redact, cover_note)
    return send_escalation(ctx, prepared, keep_originals)


def send_escalation(
    ctx: Context, prepared: Escalation, keep_originals: bool = False
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Encrypt a prepared package and its files to the partner and upload them (escalate)."""
    from caseworker_client.compose import recipients, seal_document
    from caseworker_client.partner_files import seal_attachment

    report_id, partner, package = prepared.report_id, prepared.partner, prepared.package
    keys = recipients(pins.partner_keys(ctx, partner), f"the partner {partner.get('name')}")
    scratch = ctx.store.scratch()
    written: list[Path] = []
    try:
        # The files first: what was sent of each (its size, once cleaned) goes in the document.
        parts, sent = [], []
        for index, ref in enumerate(package.attachments):
            path = scratch / f"{report_id}-attachment-{index}.age"
            written.append(path)
            with path.open("wb") as sink:
                sent.append(seal_attachment(ctx, ref, keys, sink, keep_originals))
            parts.append(Part("attachment", path, f"attachment-{index}.age"))
        document = describe_files(package.document, sent)
        document_path = scratch / f"{report_id}-escalation.age"
        written.append(document_path)
        document_path.write_bytes(seal_document(document, keys, armor=False))
        answer = ctx.api.post_multipart(
            f"/reports/{report_id}/escalations",
            {"partner": str(partner["id"])},
            [Part("document", document_path, "escalation.age"), *parts],
            scratch,
        )
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    lines = [file.line(position) for position, file in enumerate(sent)]
    return dict(answer or {}), package.redacted, lines


# -- figures ----------------------------------------------------------------------------------


def decrypted_counts(ctx: Context) -> tuple[Counts, list[str]]:
    """Counts over every pulled report this key opens; and the ids of those it cannot."""
    pairs, failed = decrypted_reports(ctx)
    return count(pairs), failed


Pair = tuple[dict[str, Any], dict[str, Any]]


def decrypted_reports(
    ctx: Context,
    open_pair: Callable[[dict[str, Any]], Pair] | None = None,
    skip: tuple[type[Exception], ...] = (DecryptError,),
) -> tuple[list[Pair], list[str]]:
    """(summary, decrypted report document) of every pulled report this key opens, in memory
    only; and the ids of those it cannot open (`skip`: other errors stop the whole).
    `open_pair` opens one pulled summary (the desk passes its cache of decrypted reports);
    by default only the report's own message is decrypted, from the local cache."""
    opener = open_pair or _report_pair(ctx)
    pairs, failed = [], []
    for detail in ctx.store.details():
        try:
            pairs.append(opener(detail))
        except skip:
            failed.append(str(detail.get("id", "")))
    return pairs, failed


def _report_pair(ctx: Context) -> Callable[[dict[str, Any]], Pair]:
    def open_pair(detail: dict[str, Any]) -> Pair:
        messages = open_messages(ctx.store, _report_only(detail), ctx.identities)
        return detail, report_document(messages)

    return open_pair


def _report_only(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        **detail,
        "messages": [m for m in detail.get("messages") or [] if m.get("kind") == "report"],
    }
