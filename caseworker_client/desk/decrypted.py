"""Every pulled report this key opens, for the pages that look across reports (linked
cases, statistics, exports): report_actions.decrypted_reports through the desk's Library,
so in memory only and once per change of the report, as the inbox and the case page
decrypt them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caseworker_client.desk.desk_state import desk
from caseworker_client.errors import ClientError
from caseworker_client.report_actions import Pair
from caseworker_client.report_actions import decrypted_reports as opened_reports


@dataclass
class Decrypted:
    """(the server's detail, the decrypted report document) per report, and how many failed."""

    pairs: list[Pair] = field(default_factory=list)
    failed: int = 0

    def documents(self) -> dict[str, dict[str, Any]]:
        return {str(detail.get("id")): document for detail, document in self.pairs}


def decrypted_reports() -> Decrypted:
    state = desk()

    def open_pair(detail: dict[str, Any]) -> Pair:
        opened = state.library.opened(state.ctx, str(detail.get("id")))
        return opened.detail, opened.document

    # Not for this key, or ciphertext missing and no connection: counted, not shown.
    pairs, failed = opened_reports(state.ctx, open_pair, skip=(ClientError,))
    return Decrypted(pairs, len(failed))
