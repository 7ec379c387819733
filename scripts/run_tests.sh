#!/bin/sh
# `make test`: every test, in two passes.
#
# The units and app tests are most of the suite and each is quick, so they are spread over
# one worker process per core (pytest-xdist, a test file per worker at a time: the files
# that share a Redis database number, one each, never run against each other). The
# processes, browser, interop and fuzz tests start servers, browsers and workers of their
# own and some watch the clock, so they run after, one at a time.
#
# Extra pytest arguments go to both passes. A pass that selects no test is no failure
# (pytest's exit status 5) unless neither selects any. Arguments that choose by marker
# (-m) make one pass in one process, as asked.
#
# Usage: scripts/run_tests.sh PYTHON [PYTEST ARGUMENTS...]
set -u
python=$1
shift

for arg in "$@"; do
    case $arg in
        -m*) exec "$python" -m pytest "$@" ;;
    esac
done

"$python" -m pytest -m "unit or app" -n auto --dist loadfile "$@"
spread=$?
"$python" -m pytest -m "not (unit or app)" "$@"
serial=$?

if [ "$spread" -eq 5 ] && [ "$serial" -eq 5 ]; then
    exit 5  # no test at all was selected
fi
for status in "$spread" "$serial"; do
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
        exit "$status"
    fi
done
exit 0
