"""Requests in every shape, for the input fuzzer (tests/app/test_fuzz_input.py).

The forms are read from the HTML of our own pages (names, kinds, choices), so a new
form or field is fuzzed the day it appears. Hypothesis draws a *plan* (which fields,
in which shape, with which values, sent how); values that only exist when the
request is sent (the session's CSRF token, a TOTP code of this minute) are `Live`
placeholders, filled in by `render`.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from hypothesis import strategies as st

BOUNDARY = "fuzz-boundary-3Vq9xKp0"

# Text a browser never sends us: undecodable bytes, NUL, a surrogate as CESU-8, an
# overlong encoding, a code point past U+10FFFF, the replacement character itself.
BAD_BYTES = [
    b"\xff\xfe",
    b"a\x00b",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"\xf4\x90\x80\x80",
    "\ufffd".encode(),
    b"\x00",
]
# Numbers where an id or a count goes: past every integer column, signed, other digits.
NUMBERS = [b"99999999999999999999", b"-1", b"0", b"1e3", "\u0663".encode(), b" 7 ", b"9" * 5000]
# Sizes past the limits of the fields (200, 4,000, 40,000 characters) and of a form's
# text in memory (Werkzeug's 500,000 bytes).
OVERSIZE = [201, 4_001, 40_001, 600_000]
JUNK_NAMES = [
    "",
    "x",
    "csrf_token[]",
    "narrative ",
    "NARRATIVE",
    "a\tb",
    "名字",
    "family-9-relation",
]
JUNK_PATH_VALUES = [
    "0",
    "1",
    "2147483648",
    "9" * 30,
    "abc",
    "%00",
    "%FF",
    "%ED%A0%80",
    "..%2F..%2Fetc",
    "a" * 300,
    "%E5%90%8D",
    "0" * 32,
]
JUNK_QUERY_KEYS = ["next", "status", "severity", "assignee", "tag", "unread", "lang", "x"]


@dataclass(frozen=True)
class Live:
    """A value known only when the request is sent (a CSRF token, a TOTP code...)."""

    name: str


Value = bytes | Live


@dataclass
class FieldSpec:
    """One field as a page shows it. kind: text, choice, multi, hidden, submit, file, files."""

    name: str
    kind: str
    options: list[str] = field(default_factory=list)
    value: str = ""


@dataclass
class Target:
    """One route and method with the fields it takes and how they arrive."""

    endpoint: str
    method: str
    rule: str  # the URL rule, e.g. /admin/keys/<int:key_id>/remove
    paths: list[str]  # concrete paths with the world's ids
    actor: str
    encoding: str  # multipart, urlencoded, json, query
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    def __repr__(self) -> str:  # short: hypothesis prints the strategies' arguments
        return f"Target({self.method} {self.endpoint})"


@dataclass
class Part:
    name: str
    value: Value
    filename: str | None = None  # set: a file part
    content_type: str | None = None


@dataclass
class Plan:
    """One request, drawn by hypothesis and rendered when it is sent."""

    target: Target
    actor: str
    path: str
    query: str
    encoding: str  # multipart, urlencoded, json, text, none, junk
    parts: list[Part]
    corruption: str = ""  # cut, no-close, wrong-boundary, no-boundary, not-object...
    cut: float = 1.0
    auth: str = "token"  # for the API: token, none, junk
    junk: bytes = b""

    def __repr__(self) -> str:  # short: hypothesis prints a failing plan
        return f"Plan({self.describe()})"

    def describe(self) -> str:
        shapes = ", ".join(
            f"{p.name}{'(file)' if p.filename is not None else ''}" for p in self.parts
        )
        return (
            f"{self.target.method} {self.path}{'?' + self.query if self.query else ''} as "
            f"{self.actor} ({self.encoding}{' ' + self.corruption if self.corruption else ''})"
            f": {shapes}"
        )


# --- Reading forms from our pages --------------------------------------------------------------


class FormParser(HTMLParser):
    """Each <form>: its action, method, encoding and fields, as a browser would send them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: FieldSpec | None = None

    def _field(self, name: str, kind: str) -> FieldSpec:
        assert self._form is not None
        fields: dict[str, FieldSpec] = self._form["fields"]
        return fields.setdefault(name, FieldSpec(name, kind))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": (a.get("method") or "get").upper(),
                "multipart": a.get("enctype") == "multipart/form-data",
                "fields": {},
            }
            self.forms.append(self._form)
            return
        name = a.get("name")
        if self._form is None:
            return
        if tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
        if not name:
            return
        if tag == "textarea":
            self._field(name, "text")
        elif tag == "select":
            self._select = self._field(name, "multi" if "multiple" in a else "choice")
        elif tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit")
            if kind == "file":
                several = "multiple" in a or name in self._form["fields"]  # or inputs, one name
                self._field(name, "files").kind = "files" if several else "file"
            elif kind in ("checkbox", "radio"):
                spec = self._field(name, "multi" if kind == "checkbox" else "choice")
                spec.options.append(a.get("value", "on"))
            elif kind in ("hidden", "submit"):
                self._field(name, kind).value = a.get("value", "")
            else:
                self._field(name, "text")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_on(html: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


# --- Values -------------------------------------------------------------------------------------


def _encoded(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Value]:
    return strategy.map(lambda text: text.encode("utf-8", "surrogatepass"))


@functools.cache
def choice(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """sampled_from, made once per set of values (hypothesis studies each new strategy)."""
    return st.sampled_from(values)


# Text a program might send: any characters, bad bytes, far too much.
JUNK_TEXT: st.SearchStrategy[Value] = st.one_of(
    _encoded(st.text(max_size=30)),
    st.sampled_from(BAD_BYTES),
    st.sampled_from(NUMBERS),
    st.sampled_from(OVERSIZE).map(lambda n: ("長" * n).encode() if n < 1000 else b"x" * n),
)


def valid_values(spec: FieldSpec, hints: Callable[[str], list[Value]]) -> tuple[Value, ...]:
    """What our own page would send for this field, the best value first."""
    if spec.kind in ("hidden", "submit"):
        return (Live("csrf"),) if spec.name.endswith("csrf_token") else (spec.value.encode(),)
    if spec.kind in ("choice", "multi"):
        return tuple(o.encode() for o in spec.options) or (b"",)
    return tuple(hints(spec.name.rsplit("-", 1)[-1]))


@functools.cache
def file_part(name: str, contents: tuple[Value, ...]) -> st.SearchStrategy[Part]:
    return st.builds(
        Part,
        st.just(name),
        st.one_of(st.sampled_from(contents), st.binary(max_size=300)),
        st.sampled_from(["evidence.jpg", "", "名字.png", "../../etc/passwd", "a b\t.txt"]),
        st.sampled_from(["application/octet-stream", "image/png", "", "text/plain"]),
    )


SHAPES = ("normal",) * 8 + ("missing", "file", "twice", "empty", "junk", "text", "many")


def field_parts(
    draw: st.DrawFn, spec: FieldSpec, good: tuple[Value, ...], files: tuple[Value, ...], valid: bool
) -> list[Part]:
    """The parts one field arrives as: usually as the page sends it, else in another shape.
    In a valid request every field is as the page sends it, mostly with the best value."""
    shape = "normal" if valid else draw(choice(SHAPES))
    pick = choice((good[0], good[0], *good)) if valid else choice(good)
    if spec.kind in ("file", "files"):
        if shape == "normal":
            low = 1 if valid and spec.kind == "file" else 0
            count = draw(choice(tuple(range(low, 3 if spec.kind == "files" else 2))))
            return [draw(file_part(spec.name, files)) for _ in range(count)]
        if shape in ("text", "junk", "empty"):
            return [Part(spec.name, draw(choice((b"", files[0]))))]
        if shape in ("twice", "many"):
            count = 2 if shape == "twice" else 12
            return [draw(file_part(spec.name, files)) for _ in range(count)]
        return []
    if shape == "normal":
        if spec.kind == "multi":
            chosen = draw(st.lists(choice(good), unique=True, max_size=len(good)))
            return [Part(spec.name, value) for value in chosen]
        return [Part(spec.name, draw(pick))]
    if shape == "missing":
        return []
    if shape == "file":
        return [draw(file_part(spec.name, files))]
    if shape in ("twice", "many"):
        return [Part(spec.name, draw(pick)) for _ in range(2 if shape == "twice" else 5)]
    if shape == "empty":
        return [Part(spec.name, b"")]
    return [Part(spec.name, draw(JUNK_TEXT))]


def path_for(rule: str, good: list[str], junk: bool, draw: st.DrawFn) -> str:
    """A path of the rule: one the world's pages link to, or arguments made up."""
    if not junk or "<" not in rule:
        return draw(choice(tuple(good))) if good else rule
    path, rest = "", rule
    while "<" in rest:
        before, _, after = rest.partition("<")
        _, _, rest = after.partition(">")
        path += before + draw(choice(tuple(JUNK_PATH_VALUES)))
    return path + rest


QUERY_VALUE = st.one_of(_encoded(st.text(max_size=12)), st.sampled_from(BAD_BYTES))


def query_string(draw: st.DrawFn, keys: list[str]) -> str:
    pairs = draw(
        st.lists(st.tuples(choice(tuple(keys or JUNK_QUERY_KEYS)), QUERY_VALUE), max_size=3)
    )
    return "&".join(
        f"{urllib.parse.quote(k)}={urllib.parse.quote_from_bytes(bytes(v))}"
        for k, v in pairs
        if isinstance(v, bytes)
    )


# --- Rendering a plan into bytes ---------------------------------------------------------------


def _value(value: Value, resolve: Callable[[str], str]) -> bytes:
    return resolve(value.name).encode() if isinstance(value, Live) else value


def _multipart(parts: list[Part], resolve: Callable[[str], str], close: bool) -> bytes:
    out = bytearray()
    for part in parts:
        disposition = f'form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if part.content_type:
            out += f"Content-Type: {part.content_type}\r\n".encode()
        out += b"\r\n" + _value(part.value, resolve) + b"\r\n"
    if close:
        out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def _urlencoded(parts: list[Part], resolve: Callable[[str], str]) -> bytes:
    return "&".join(
        f"{urllib.parse.quote(p.name)}={urllib.parse.quote_from_bytes(_value(p.value, resolve))}"
        for p in parts
    ).encode()


def _json(plan: Plan, resolve: Callable[[str], str]) -> bytes:
    """A JSON object written by hand, so a key can come twice and a value be any JSON text."""
    members = []
    for part in plan.parts:
        raw = part.value
        text = json.dumps(resolve(raw.name)).encode() if isinstance(raw, Live) else raw
        members.append(json.dumps(part.name).encode() + b":" + text)
    body = b"{" + b",".join(members) + b"}"
    if plan.corruption == "not-object":
        return b"[" + body + b"]"
    if plan.corruption == "deep":
        return b"[" * 100_000 + b"]" * 100_000
    if plan.corruption == "invalid":
        return body[: len(body) // 2]
    return body


def render(plan: Plan, resolve: Callable[[str], str]) -> tuple[bytes, str | None]:
    """The body and its Content-Type header, as the plan says to send them."""
    multipart = f"multipart/form-data; boundary={BOUNDARY}"
    if plan.encoding == "junk":
        return plan.junk, multipart
    if plan.encoding == "json" and plan.target.encoding == "json":
        return _json(plan, resolve), "application/json"
    if plan.encoding == "json":  # a form sent as JSON, as some clients do
        data = {p.name: _value(p.value, resolve).decode("utf-8", "replace") for p in plan.parts}
        return json.dumps(data if plan.corruption != "not-object" else [1, 2]).encode(), (
            "application/json"
        )
    if plan.encoding == "urlencoded":
        charset = "; charset=iso-8859-1" if plan.corruption == "charset" else ""
        return _urlencoded(plan.parts, resolve), "application/x-www-form-urlencoded" + charset
    body = _multipart(plan.parts, resolve, close=plan.corruption != "no-close")
    if plan.encoding == "text":
        return body, "text/plain"
    if plan.encoding == "none":
        return body, None
    if plan.corruption == "wrong-boundary":
        return body, "multipart/form-data; boundary=another-boundary"
    if plan.corruption == "no-boundary":
        return body, "multipart/form-data"
    if plan.corruption == "charset":
        return body, multipart + "; charset=utf-16"
    return body, multipart
