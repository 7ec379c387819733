"""Run the age command line: `python -m crypto keygen|encrypt|decrypt`."""

import sys

from .age_command import main

sys.exit(main())
