"""Keys the client trusts: the organisation's and each partner's, pinned on first sight.

The server tells the client which public keys to encrypt to. A server in someone else's
hands could swap a partner's key and receive the full escalation, or add its own key to
the organisation's and read every reply and note. So the client remembers the keys it
first saw for each subject (in pins.json in the home folder, per server) and refuses to
encrypt to a set that differs in any way until the caseworker has compared the new
fingerprints with their owner over another channel and accepted them. Reading is never
refused: only what would be encrypted to unchecked keys is.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

import crypto
from caseworker_client.config import write_private
from caseworker_client.errors import ClientError

if TYPE_CHECKING:
    from caseworker_client.context import Context

PINS_FILE = "pins.json"
ORGANISATION = "organisation"
_VERSION = 1


class PinError(ClientError):
    """The pin file cannot be used, or a subject the caseworker named is not known."""


def fingerprints(keys: Iterable[str]) -> list[str]:
    """The short forms of `keys` a caseworker compares with their owners (crypto/)."""
    return [crypto.recipient_fingerprint(key) for key in keys]


@dataclass(frozen=True)
class _Subject:
    subject: str  # "organisation" or "partner:<id>"
    name: str

    @property
    def title(self) -> str:
        return "your organisation" if self.subject == ORGANISATION else f"the partner {self.name}"


@dataclass(frozen=True)
class Pin(_Subject):
    """The keys of one subject as the client first saw them (or as last accepted)."""

    keys: tuple[str, ...]
    pinned_on: str


@dataclass(frozen=True)
class Change(_Subject):
    """A subject whose keys on the server are not the ones pinned."""

    old: tuple[str, ...]
    new: tuple[str, ...]

    @property
    def new_fingerprints(self) -> list[str]:
        return fingerprints(self.new)


class KeyChanged(ClientError):
    """The server's keys for a subject differ from the pinned ones: nothing is encrypted."""

    def __init__(self, change: Change) -> None:
        self.change = change
        self.subject, self.old, self.new = change.subject, change.old, change.new
        super().__init__(_changed_text(change))


def partner_subject(partner: dict[str, Any]) -> str:
    return f"partner:{partner.get('id')}"


def organisation_keys(ctx: Context, organisation: dict[str, Any]) -> list[str]:
    """The organisation's keys from this server answer, if they are the pinned ones."""
    keys = _keys(organisation.get("recipients"))
    return _trusted(ctx, ORGANISATION, str(organisation.get("name", "")), keys)


def partner_keys(ctx: Context, partner: dict[str, Any]) -> list[str]:
    """A partner's keys from this server answer, if they are the pinned ones."""
    keys = _keys(partner.get("recipients"))
    return _trusted(ctx, partner_subject(partner), str(partner.get("name", "")), keys)


def observe(ctx: Context, organisation: dict[str, Any]) -> None:
    """Pin every subject of a fresh server answer seen for the first time; leave changes be
    (they are refused when used, and listed by `changes`)."""
    try:
        for subject, name, keys in _subjects(organisation):
            with contextlib.suppress(KeyChanged):
                _trusted(ctx, subject, name, keys)
    except PinError as error:  # reading goes on; encrypting is refused with this error
        ctx.notify(f"Warning: {error}")


def pinned(ctx: Context) -> list[Pin]:
    """Every subject pinned for the server this client is logged in to."""
    return sorted(_load(ctx).values(), key=lambda pin: (pin.subject != ORGANISATION, pin.name))


def changes(ctx: Context) -> list[Change]:
    """The subjects whose keys the server now gives differently (asks the server)."""
    pins = _load(ctx)
    found = []
    for subject, name, keys in _subjects(ctx.organisation()):
        old = pins.get(subject) or _namesake(pins, subject, name)
        if old is not None and keys and set(old.keys) != set(keys):
            found.append(Change(subject, name, old.keys, tuple(keys)))
    return found


def change_of(ctx: Context, wanted: str) -> Change:
    """The change of the subject named by its subject (`partner:7`) or its name."""
    matches = [
        change
        for change in changes(ctx)
        if wanted == change.subject or wanted.casefold() == change.name.casefold()
    ]
    if not matches:
        raise PinError(
            f"the server gives the same keys as pinned for {wanted!r} (or knows no such "
            "subject): there is nothing to accept; `reporting-caseworker keys` lists them"
        )
    return matches[0]


def accept(ctx: Context, subject: str, seen: Sequence[str]) -> Pin:
    """Pin the server's current keys of `subject`, only if their fingerprints are `seen`.

    `seen` are the new fingerprints the caseworker was shown and compared: if the server
    changed the keys again since, nothing is pinned and KeyChanged says so.
    """
    change = next((c for c in changes(ctx) if c.subject == subject), None)
    if change is None:
        raise PinError(f"nothing to accept for {subject}: its keys are the pinned ones")
    if sorted(change.new_fingerprints) != sorted(seen):
        raise KeyChanged(change)
    return _pin(ctx, change.subject, change.name, change.new)


def own_key_registered(ctx: Context, recipient: str, replaced: object = None) -> None:
    """After this caseworker registered their own key (replacing `replaced`, their previous
    one as the server said), trust it in the organisation's pin: it comes from the
    identity file on this machine, not from the server."""
    old = _load(ctx).get(ORGANISATION)
    if old is not None:
        kept = tuple(key for key in old.keys if key != replaced and key != recipient)
        _pin(ctx, ORGANISATION, old.name, (*kept, recipient))


# -- checking and pinning ---------------------------------------------------------------------


def _trusted(ctx: Context, subject: str, name: str, keys: list[str]) -> list[str]:
    pins = _load(ctx)
    pin = pins.get(subject)
    if pin is None:
        namesake = _namesake(pins, subject, name)
        if namesake is not None and keys and set(namesake.keys) != set(keys):
            # A partner deleted and made again under the same name is the same partner to
            # the caseworker: its new keys are a change, not a first sight.
            raise KeyChanged(Change(subject, name, namesake.keys, tuple(keys)))
        if keys:
            _pin(ctx, subject, name, tuple(keys))
            title = _Subject(subject, name).title
            ctx.notify(f"Pinned {len(keys)} key(s) of {title} ({subject}).")
        return keys
    # No keys at all is no change to accept: nothing can be encrypted to none (compose
    # refuses), and keys that come back are compared with the pin again.
    if keys and set(pin.keys) != set(keys):
        raise KeyChanged(Change(subject, name or pin.name, pin.keys, tuple(keys)))
    return keys


def _namesake(pins: dict[str, Pin], subject: str, name: str) -> Pin | None:
    if subject == ORGANISATION or not name.strip():
        return None
    return next(
        (
            pin
            for pin in pins.values()
            if pin.subject != subject
            and pin.subject != ORGANISATION
            and pin.name.casefold() == name.casefold()
        ),
        None,
    )


def _pin(ctx: Context, subject: str, name: str, keys: tuple[str, ...]) -> Pin:
    pins = _load(ctx)
    pin = Pin(subject, name, tuple(keys), datetime.now(UTC).date().isoformat())
    pins[subject] = pin
    # A namesake's old pin is replaced by this one (see _trusted).
    for other in [p for p in pins.values() if p.subject != subject]:
        if other.subject != ORGANISATION and name and other.name.casefold() == name.casefold():
            del pins[other.subject]
    _save(ctx, pins)
    return pin


def _keys(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(str(key).strip() for key in value if str(key).strip()))


def _subjects(organisation: dict[str, Any]) -> Iterable[tuple[str, str, list[str]]]:
    yield ORGANISATION, str(organisation.get("name", "")), _keys(organisation.get("recipients"))
    for partner in organisation.get("partners") or []:
        if isinstance(partner, dict):
            yield (
                partner_subject(partner),
                str(partner.get("name", "")),
                _keys(partner.get("recipients")),
            )


# -- the pin file -----------------------------------------------------------------------------


def _path(ctx: Context) -> Path:
    return ctx.home.root / PINS_FILE


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": _VERSION, "servers": {}}
    except (OSError, ValueError):
        data = None
    if not (isinstance(data, dict) and isinstance(data.get("servers"), dict)):
        raise PinError(
            f"{path} is damaged. It holds the keys you trust: restore it from a backup. "
            "Deleting it makes the client trust whatever keys the server gives next, so "
            "compare the fingerprints `reporting-caseworker keys` then shows with your "
            "colleagues and partners"
        )
    return data


def _load(ctx: Context) -> dict[str, Pin]:
    path = _path(ctx)
    entries = _read(path)["servers"].get(ctx.session.server) or {}
    try:
        return {
            subject: Pin(subject, str(e["name"]), tuple(map(str, e["keys"])), str(e["pinned_on"]))
            for subject, e in entries.items()
        }
    except (KeyError, TypeError, AttributeError):
        raise PinError(f"{path} has an entry that is not in the expected form") from None


def _save(ctx: Context, pins: dict[str, Pin]) -> None:
    path = _path(ctx)
    data = _read(path)
    data["servers"][ctx.session.server] = {
        pin.subject: {"name": pin.name, "keys": list(pin.keys), "pinned_on": pin.pinned_on}
        for pin in pins.values()
    }
    write_private(path, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def _changed_text(change: Change) -> str:
    owner = "your colleagues" if change.subject == ORGANISATION else change.name
    return (
        f"the server now gives different keys for {change.title} than the ones this client "
        f"trusts, so nothing was encrypted or sent.\n{side_by_side(change)}\n"
        "This can be a legitimate change (a new colleague, a rotated key) or a sign that "
        f"the server is compromised. Compare the new fingerprints with {owner} over another "
        "channel (in person, by phone); only if they match, run "
        f"`reporting-caseworker keys accept {change.subject}`"
    )


def compared(change: Change) -> list[tuple[str, str, bool]]:
    """(pinned, now on the server, changed) fingerprint rows: the unchanged first, then the
    removed and added ones side by side ("-" where one column has none)."""
    old, new = set(fingerprints(change.old)), set(fingerprints(change.new))
    rows = [(f, f, False) for f in sorted(old & new)]
    rows += [
        (left, right, True)
        for left, right in zip_longest(sorted(old - new), sorted(new - old), fillvalue="-")
    ]
    return rows


def side_by_side(change: Change) -> str:
    """The pinned and the server's fingerprints in two columns, the differences marked."""
    rows = compared(change)
    width = max((len(f) for row in rows for f in row[:2]), default=0) + 2
    lines = [f"  {'pinned':<{width}}now on the server"]
    lines += [
        f"  {left:<{width}}{right}{'  <- changed' if flag else ''}" for left, right, flag in rows
    ]
    return "\n".join(lines)
