"""API views: translate between JSON and the plain functions of triage and messages."""

from __future__ import annotations
