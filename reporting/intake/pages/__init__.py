"""The reporter's side: landing page, report form, codename, coming back, follow-ups."""

from reporting.intake.pages.views import bp

__all__ = ["bp"]
