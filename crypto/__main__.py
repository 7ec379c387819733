"""Run the age command line: `python -m crypto keygen|encrypt|decrypt`."""

import sys

from .cli import main

sys.exit(main())
