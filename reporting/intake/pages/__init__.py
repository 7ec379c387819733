"""The reporter's side: landing page, report form, codename, coming back, follow-ups, and
what a reporter controls afterwards (urgency, consent, deletion)."""

from reporting.intake.pages import (  # noqa: F401  (their routes join the blueprint)
    codename_error,
    controls,
)
from reporting.intake.pages.views import bp

__all__ = ["bp"]
