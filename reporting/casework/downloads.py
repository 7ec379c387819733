"""Handing a stored age file to a caseworker: the web inbox and the API answer alike."""

from __future__ import annotations

from pathlib import Path

from flask import Response, send_file

from reporting.infra.instance_files import open_for_reading


def ciphertext_response(path: Path, name: str) -> Response:
    """The file as a download that no cache keeps (it is ciphertext, but its existence and
    size are still nobody else's business)."""
    response = send_file(
        open_for_reading(path),  # read without recording when (reporting/infra/instance_files.py)
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
