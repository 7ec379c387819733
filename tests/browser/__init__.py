"""Chromium, with JavaScript off, against a real `python -m reporting`."""
