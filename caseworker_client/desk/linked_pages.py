"""Linked cases on the desk: on each case page, the reports sharing an identifier with it
(and what they share); on their own page, the clusters of reports linked directly or
through others. linked.py decides what links; this only shows it, computed anew from the
reports decrypted in memory on each visit, and kept nowhere."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template

from caseworker_client import render
from caseworker_client.desk.decrypted import decrypted_reports
from caseworker_client.linked import LinkedReport, Linking, link_reports

bp = Blueprint("linked", __name__)


@dataclass(frozen=True)
class SharedLine:
    label: str
    value: str
    there: str  # how the other report gives it, when it says it differently


@dataclass(frozen=True)
class Link:
    report: str
    received_on: str
    shared: list[SharedLine]


def _link(link: LinkedReport, received: dict[str, str]) -> Link:
    lines = []
    for shared in link.shared:
        same = (shared.other_value, shared.other_field) == (shared.value, shared.field)
        there = "" if same else f"{shared.other_label}: {render.clean(shared.other_value)}"
        lines.append(SharedLine(shared.label, render.clean(shared.value), there))
    return Link(link.report, received.get(link.report, ""), lines)


def _linking() -> tuple[Linking, dict[str, str], int]:
    found = decrypted_reports()
    received = {str(d.get("id")): render.clean(d.get("received_on")) for d, _ in found.pairs}
    return link_reports(found.documents()), received, found.failed


def linked_to(report_id: str) -> list[Link]:
    """The case page's section: the reports linked to this one (its include calls this)."""
    linking, received, _ = _linking()
    return [_link(link, received) for link in linking.links.get(report_id, ())]


@bp.app_context_processor
def helpers() -> dict[str, object]:
    return {"linked_to": linked_to}


@bp.get("/linked")
def clusters() -> str:
    linking, received, failed = _linking()
    shown = [
        [
            (
                report_id,
                received.get(report_id, ""),
                [_link(link, received) for link in linking.links[report_id]],
            )
            for report_id in cluster
        ]
        for cluster in linking.clusters
    ]
    return render_template(
        "desk/linked.html", clusters=shown, reports=len(linking.links), failed=failed
    )
