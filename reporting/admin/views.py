"""Admin views: each validates a form, calls one plain function, and renders or redirects."""

from __future__ import annotations
