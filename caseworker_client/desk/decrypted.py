"""Every pulled report this key opens, for the pages that look across reports (linked
cases, statistics, exports): decrypted through the desk's Library, so in memory only and
once per change of the report, as the inbox and the case page decrypt them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caseworker_client.desk.desk_state import desk
from caseworker_client.errors import ClientError


@dataclass
class Decrypted:
    """(the server's detail, the decrypted report document) per report, and how many failed."""

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    failed: int = 0

    def documents(self) -> dict[str, dict[str, Any]]:
        return {str(detail.get("id")): document for detail, document in self.pairs}


def decrypted_reports() -> Decrypted:
    state = desk()
    ctx = state.ctx
    found = Decrypted()
    for detail in ctx.store.details():
        try:
            opened = state.library.opened(ctx, str(detail.get("id")))
        except ClientError:  # not for this key, or ciphertext missing and no connection
            found.failed += 1
            continue
        found.pairs.append((opened.detail, opened.document))
    return found
