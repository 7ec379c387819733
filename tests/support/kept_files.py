"""Sending a reporter form with its CSRF token, and reading which files the page says it
kept (tests/app/test_kept_files.py, test_language_switch_canary.py)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.portal import csrf_token, post_form


def send(client: FlaskClient, path: str = "/report", **fields: Any) -> TestResponse:
    page = "/case" if path.startswith("/case") else path
    return post_form(client, path, {"csrf_token": csrf_token(client, page), **fields})


def kept_ids(page: TestResponse) -> list[str]:
    return re.findall(r'name="remove_kept" value="([0-9a-f]{32})"', page.text)
