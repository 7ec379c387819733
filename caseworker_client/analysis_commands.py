"""`reporting-caseworker links` and `export`: linked cases and exports, over the pulled
reports decrypted in memory on this machine (cli.py adds them to the command group)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from caseworker_client import exports, files, render, report_actions
from caseworker_client.context import Context
from caseworker_client.linked import Linking, link_reports


def _decrypted(ctx: Context) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    pairs, failed = report_actions.decrypted_reports(ctx)
    if failed:
        click.echo(f"{len(failed)} pulled report(s) could not be opened with your key.", err=True)
    return pairs


def _link_lines(linking: Linking, report_id: str) -> list[str]:
    lines = []
    for link in linking.links.get(report_id, ()):
        lines.append(f"  {link.report}")
        for shared in link.shared:
            lines.append(
                f"    {shared.label}: {render.clean(shared.value)}"
                + (
                    f"  (there: {shared.other_label}: {render.clean(shared.other_value)})"
                    if (shared.other_value, shared.other_field) != (shared.value, shared.field)
                    else ""
                )
            )
    return lines


@click.command()
@click.argument("report", required=False)
@click.pass_obj
def links(ctx: Context, report: str | None) -> None:
    """Reports that share a phone number, account, name, plate or place (with REPORT: its own)."""
    pairs = _decrypted(ctx)
    linking = link_reports({str(summary.get("id")): document for summary, document in pairs})
    if report is not None:
        report_id = ctx.report_id(report)
        if report_id not in linking.links:
            raise click.ClickException(f"report {report_id} is not pulled or cannot be opened")
        lines = _link_lines(linking, report_id)
        click.echo(f"{report_id} is linked to:" if lines else f"{report_id} is linked to none.")
        for line in lines:
            click.echo(line)
        return
    if not linking.clusters:
        click.echo(f"None of the {len(pairs)} report(s) decrypted here share an identifier.")
        return
    for number, cluster in enumerate(linking.clusters, start=1):
        click.echo(f"Cluster {number}: {len(cluster)} reports")
        for report_id in cluster:
            click.echo(f"{report_id} is linked to:")
            for line in _link_lines(linking, report_id):
                click.echo(line)
        click.echo("")


@click.group()
def export() -> None:
    """Write figures for public reporting, or the cases consent allows, to a new file."""


def _write(output: Path, text: str) -> Path:
    """A new 0600 file (never replacing one: a name already taken gets a number)."""
    folder = files.private_output_folder(output.parent)
    return files.save_new_file(folder, output.name, lambda out: out.write(text.encode()))


@export.command("aggregate")
@click.option("--format", "form", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)  # fmt: skip
@click.option("--min-count", type=click.IntRange(min=2), default=exports.DEFAULT_MIN_COUNT,
              show_default=True, help="Withhold every figure below this.")  # fmt: skip
@click.option("--coarsen-places", is_flag=True, help="Countries only, no cities.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def aggregate(ctx: Context, form: str, min_count: int, coarsen_places: bool, output: Path) -> None:
    """Counts by method, actor, country, city and month, small counts withheld."""
    from caseworker_client.stats import count

    result = exports.aggregate(count(_decrypted(ctx)), min_count, coarsen_places)
    text = exports.aggregate_csv(result) if form == "csv" else exports.aggregate_json(result)
    path = _write(output, text)
    click.echo(f"Figures saved to {path} (counts below {min_count} withheld).")


@export.command("cases")
@click.option("--include-identifying", is_flag=True,
              help="Also the city, station, names, numbers, accounts and plates of reports "
                   "shared in full.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def cases(ctx: Context, include_identifying: bool, output: Path) -> None:
    """The reports whose consent allows sharing, as a CSV for a HURIDOCS Uwazi import."""
    from caseworker_client.uwazi import case_rows

    result = case_rows(_decrypted(ctx), include_identifying)
    path = _write(output, exports.csv_text([result.header, *result.rows]))
    click.echo(f"{len(result.rows)} case(s) saved to {path}; check them before importing.")
    if result.left_out:
        click.echo(f"{len(result.left_out)} report(s) left out: their consent does not allow it.")
