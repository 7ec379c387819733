"""`python -m receiver`: the same as the `reporting-ngo-receiver` command."""

from receiver.cli import main

main(prog_name="reporting-ngo-receiver")
