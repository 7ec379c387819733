"""Let `python -m reporting` start the service."""

from reporting.web.serve import main

main()
