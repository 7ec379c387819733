"""Let `python -m reporting` start the service."""

from reporting.serve import main

main()
