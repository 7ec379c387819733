"""Statistics and exports on the desk: the figures of stats.py as tables and charts, and
the two exports of exports.py and uwazi.py, over the reports decrypted in memory.

The chart is drawn into memory and served to the desk's own page. An export is sent to
the browser as a download (Content-Disposition: attachment), built in memory: it reaches
the disk only if the caseworker chooses to save it, where they choose. The forms are the
command line's options (`reporting-caseworker export`), with the same defaults.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from caseworker_client import exports, stats
from caseworker_client.desk.decrypted import decrypted_reports
from caseworker_client.uwazi import case_rows

bp = Blueprint("figures", __name__)


class AggregateForm(FlaskForm):  # type: ignore[misc]
    form = SelectField(
        "Format", choices=[SelectChoice("csv", "CSV"), SelectChoice("json", "JSON")], default="csv"
    )
    min_count = IntegerField(
        "Withhold every count below",
        default=exports.DEFAULT_MIN_COUNT,
        validators=[InputRequired(), NumberRange(min=2, max=1_000_000)],
    )
    coarsen_places = BooleanField("Countries only, no cities")
    send = SubmitField("Download the figures")


class CasesForm(FlaskForm):  # type: ignore[misc]
    include_identifying = BooleanField(
        "Also the city, station, names, numbers, accounts and plates of reports shared in full"
    )
    send = SubmitField("Download the cases for Uwazi")


@bp.get("/statistics")
def statistics() -> str:
    found = decrypted_reports()
    counts = stats.count(found.pairs)
    return render_template(
        "desk/statistics.html",
        reports=counts.reports,
        tables=stats.tables(counts),
        failed=found.failed,
    )


@bp.get("/statistics/chart.png")
def chart() -> Response:
    """The bar charts, drawn into memory for this answer only."""
    buffer = io.BytesIO()
    stats.chart(stats.count(decrypted_reports().pairs), buffer)
    return Response(buffer.getvalue(), mimetype="image/png")


def _exports_page(
    aggregate_form: AggregateForm, cases_form: CasesForm, status: int = 200
) -> tuple[str, int]:
    found = decrypted_reports()
    page = render_template(
        "desk/exports.html",
        aggregate=aggregate_form,
        cases=cases_form,
        reports=len(found.pairs),
        failed=found.failed,
    )
    return page, status


@bp.get("/exports")
def exports_page() -> tuple[str, int]:
    return _exports_page(AggregateForm(formdata=None), CasesForm(formdata=None))


def download(text: str, stem: str, extension: str, media_type: str) -> Response:
    """`text` as a file the browser offers to save, never shown as a page."""
    name = f"{stem}-{datetime.now(UTC).date().isoformat()}.{extension}"
    return Response(
        text.encode("utf-8"),
        mimetype=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/exports/aggregate")
def aggregate() -> Response | tuple[str, int]:
    form = AggregateForm()
    if not form.validate():
        return _exports_page(form, CasesForm(formdata=None), 400)
    counts = stats.count(decrypted_reports().pairs)
    result = exports.aggregate(counts, form.min_count.data, bool(form.coarsen_places.data))
    if form.form.data == "json":
        return download(exports.aggregate_json(result), "figures", "json", "application/json")
    return download(exports.aggregate_csv(result), "figures", "csv", "text/csv")


@bp.post("/exports/cases")
def cases() -> Response | tuple[str, int]:
    form = CasesForm()
    if not form.validate():
        return _exports_page(AggregateForm(formdata=None), form, 400)
    result = case_rows(decrypted_reports().pairs, bool(form.include_identifying.data))
    return download(exports.csv_text([result.header, *result.rows]), "cases", "csv", "text/csv")
