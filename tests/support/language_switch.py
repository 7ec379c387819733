"""What the reporter pages' language switch is checked by: the page's language, the form
each language button belongs to, the words of a page that is shown nothing, and how many
reports were stored (tests/app/test_language_switch.py, test_codename_error_page.py).
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from reporting.infra import db
from reporting.models import Report

CANNOT_SHOW = "This page cannot be shown again"


def reports(app: Flask) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Report)) or 0


def html_lang(page: TestResponse) -> str:
    match = re.search(r'<html lang="([^"]+)"', page.text)
    assert match
    return match.group(1)


def language_buttons(page: TestResponse) -> list[str]:
    """The `form` each language button of the page belongs to."""
    return re.findall(r'<button type="submit" form="([^"]+)" name="language"', page.text)
