"""The triage inbox: the organisation's reports, and one report's triage page."""

from __future__ import annotations
