"""The reporter's side: landing page, report form, codename, coming back, follow-ups."""

from reporting.reporter.views import bp

__all__ = ["bp"]
