"""The reporter's side: landing page, report form, codename, coming back, follow-ups, and
what a reporter controls afterwards (urgency, consent, deletion)."""

from reporting.intake.pages import controls  # noqa: F401  (its routes join the blueprint)
from reporting.intake.pages.views import bp

__all__ = ["bp"]
