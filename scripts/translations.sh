#!/bin/sh
# Refresh the translations: extract messages from the code and templates, merge them into the
# catalogs (Chinese, Uyghur, Tibetan; new ones arrive untranslated, changed ones marked fuzzy),
# compile the .mo files. Then translate what `tests/unit/test_translations.py` names and run
# this again.
set -eu
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
DIR=reporting/translations

"$PYBABEL" extract --mapping-file babel.cfg --keywords _l --keywords lazy_gettext --keywords N_ \
    --sort-by-file --no-wrap --project reporting --version 0.1.0 \
    --copyright-holder "the reporting project" \
    --output-file "$DIR/messages.pot" .
for locale in zh_Hans zh_Hant ug bo; do
    if [ -f "$DIR/$locale/LC_MESSAGES/messages.po" ]; then
        "$PYBABEL" update --input-file "$DIR/messages.pot" --output-dir "$DIR" \
            --locale "$locale" --no-wrap --ignore-obsolete
    else
        "$PYBABEL" init --input-file "$DIR/messages.pot" --output-dir "$DIR" \
            --locale "$locale" --no-wrap
    fi
done
"$PYBABEL" compile --directory "$DIR" --statistics
