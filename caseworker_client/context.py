"""What every command works with: the home folder, the cache, the server and the identity.

The API connection and the identity are made on first use, so a command that
needs neither (list from the cache, keygen) asks for no passphrase and needs no
network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import crypto
from caseworker_client import pins
from caseworker_client.api import Api, ApiError
from caseworker_client.config import Home, Session
from caseworker_client.errors import ClientError
from caseworker_client.identity import load_identities
from caseworker_client.store import Store, blobs_of, checked_id, resolve

T = TypeVar("T")
# click.progressbar, or anything with its shape: (items, label) → a context giving the items.
Progress = Callable[..., AbstractContextManager[Iterable[Any]]]


class ActionError(ClientError):
    """A command that cannot go on, said in a way the caseworker can act on."""


def quiet_progress(items: Sequence[T], label: str = "") -> AbstractContextManager[Iterable[T]]:
    """No progress bar (for callers without a terminal)."""
    from contextlib import nullcontext

    return nullcontext(items)


@dataclass
class PullResult:
    reports: int
    fetched: int
    downloaded: int


def _silent(text: str) -> None:
    """Notices go nowhere (for callers that show none)."""


class Context:
    def __init__(
        self,
        home: Home,
        ask_passphrase: Callable[[], str],
        notify: Callable[[str], None] = _silent,
    ) -> None:
        self.home = home
        self.store = Store(home.cache)
        self._ask_passphrase = ask_passphrase
        # Things the caseworker should know once, such as keys pinned on first sight.
        self.notify = notify

    @cached_property
    def session(self) -> Session:
        session = self.home.load_session()
        if session is None:
            raise ActionError("you are not logged in; run `reporting-caseworker login SERVER_URL`")
        return session

    @cached_property
    def api(self) -> Api:
        return Api(self.session.server, self.session.token)

    @cached_property
    def identities(self) -> list[crypto.Identity]:
        return load_identities(self.home.identity, self._ask_passphrase)

    def logged_in(self) -> bool:
        return self.home.load_session() is not None

    def start_session(self, session: Session) -> None:
        """Keep a new login's session, and use it from now on in this Context too."""
        self.home.save_session(session)
        for cached in ("session", "api"):
            self.__dict__.pop(cached, None)

    # -- reports --------------------------------------------------------------------------------

    def report_id(self, prefix: str, *, ask_server: bool = True) -> str:
        """The report an (unambiguous) id prefix names, looking on the server if not cached."""
        found = resolve(prefix, self.store.known_ids())
        if found is None and ask_server and self.logged_in():
            self.refresh_index()
            found = resolve(prefix, self.store.known_ids())
        if found is None:
            raise ActionError(f"no report id starts with {prefix!r}; `list` shows them")
        return found

    def refresh_index(self) -> dict[str, Any]:
        listing = self.api.get("/reports")
        if not isinstance(listing, dict) or not isinstance(listing.get("reports"), list):
            raise ActionError("the server's list of reports is not in the expected form")
        self.store.save_index(listing)
        return listing

    def organisation(self, *, refresh: bool = True) -> dict[str, Any]:
        """The organisation's keys, tags, caseworkers and partners (cached for offline use).

        Keys seen for the first time are pinned here; encrypting to them goes through
        `pins.organisation_keys` / `pins.partner_keys`, which refuse changed ones.
        """
        if refresh:
            organisation = self.api.get("/organisation")
            if not isinstance(organisation, dict):
                raise ActionError("the server's organisation answer is not in the expected form")
            self.store.save_organisation(organisation)
            pins.observe(self, organisation)
            return organisation
        return self.store.load_organisation() or {}

    def caseworker_names(self) -> dict[str, str]:
        organisation = self.store.load_organisation() or {}
        return {
            str(c.get("id")): str(c.get("username") or c.get("display_name") or "")
            for c in organisation.get("caseworkers") or []
            if isinstance(c, dict)
        }

    def fetch_detail(self, report_id: str) -> dict[str, Any]:
        detail = self.api.get(f"/reports/{checked_id(report_id, 'report')}")
        if not isinstance(detail, dict) or detail.get("id") != report_id:
            raise ActionError("the server's answer for this report is not in the expected form")
        self.store.save_detail(detail)
        return detail

    def download_missing(self, details: Iterable[dict[str, Any]], progress: Progress) -> int:
        missing: list[tuple[str, str]] = []
        for detail in details:
            missing += [(detail["id"], b) for b in blobs_of(detail) if not self.store.has_blob(b)]
        missing = list(dict.fromkeys(missing))
        with progress(missing, label="Downloading ciphertext") as bar:
            for report_id, blob in bar:
                self.api.download(f"/reports/{report_id}/blobs/{blob}", self.store.blob_path(blob))
        return len(missing)

    def pull(self, progress: Progress = quiet_progress) -> PullResult:
        """Fetch new reports and messages, then every blob not yet cached; safe to re-run."""
        listing = self.refresh_index()
        self.organisation()  # names of caseworkers and partners, for reading offline
        stale = []
        for summary in listing["reports"]:
            report_id = checked_id(summary.get("id"), "report")
            cached = self.store.load_detail(report_id)
            if cached is None or _message_count(summary) != len(cached.get("messages") or []):
                stale.append(report_id)
            else:  # same messages: keep the triage fields current without marking it read
                self.store.save_detail({**cached, **summary, "messages": cached["messages"]})
        with progress(stale, label="Fetching new reports") as bar:
            for report_id in bar:
                try:
                    self.fetch_detail(report_id)
                except ApiError as error:
                    if error.status != 404:
                        raise
        downloaded = self.download_missing(self.store.details(), progress)
        return PullResult(len(listing["reports"]), len(stale), downloaded)

    def refresh(self, report_id: str) -> str | None:
        """Fetch the report's latest detail when logged in (the server marks it read).

        Offline, or with the session expired, the pulled copy serves, with a warning.
        """
        if not self.logged_in():
            return None
        try:
            self.fetch_detail(report_id)
        except ApiError as error:
            if self.store.load_detail(report_id) is None:
                raise
            return f"showing the copy pulled earlier: {error}"
        return None

    def pulled(self, report_id: str, *, refresh: bool = False) -> dict[str, Any]:
        """The report's detail with all its ciphertext cached, fetching what is missing."""
        detail = self.store.load_detail(report_id)
        if detail is None or refresh:
            detail = self.fetch_detail(report_id)
        if any(not self.store.has_blob(b) for b in blobs_of(detail)):
            self.download_missing([detail], quiet_progress)
        return detail


def _message_count(summary: dict[str, Any]) -> int | None:
    messages = summary.get("messages")
    if isinstance(messages, list):
        return len(messages)
    return messages if isinstance(messages, int) else None


# Every error the client raises on purpose (caseworker_client/errors.py).
EXPECTED_ERRORS: tuple[type[Exception], ...] = (ClientError,)
