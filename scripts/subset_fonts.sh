#!/bin/sh
# Rebuild the fonts the portal serves for Uyghur and Tibetan (reporting/static/fonts/), so a
# browser without them still shows these scripts, and nothing is fetched from another origin.
# Source: Debian's fonts-noto-core (SIL Open Font License 1.1, see fonts/OFL.txt); cut down with
# fontTools' pyftsubset to the script's own range plus the marks and spaces it is written with.
# WOFF (zlib) rather than WOFF2, which would need brotli; every browser reads WOFF.
set -eu
cd "$(dirname "$0")/.."
PYFTSUBSET="${PYFTSUBSET:-.venv/bin/pyftsubset}"
NOTO=/usr/share/fonts/truetype/noto
OUT=reporting/static/fonts
[ -d "$NOTO" ] || { echo "$NOTO missing: apt-get install fonts-noto-core" >&2; exit 1; }

# Arabic block (all of Uyghur Arabic script), joiners and direction marks, « » and spaces.
ARABIC="U+0600-06FF,U+200C-200F,U+00AB,U+00BB,U+0020,U+00A0,U+25CC"
# Tibetan block, joiners, spaces and the dotted circle that stands in for a missing base.
TIBETAN="U+0F00-0FFF,U+200C-200D,U+0020,U+00A0,U+25CC"

# All layout features (Arabic joining forms, Tibetan stacking); every name record, so the
# copyright and licence stay in the file as the OFL asks.
subset() {  # source font, unicodes, output name
    "$PYFTSUBSET" "$NOTO/$1.ttf" --unicodes="$2" --layout-features='*' --flavor=woff \
        --no-hinting --desubroutinize --name-IDs='*' --name-legacy \
        --output-file="$OUT/$3.woff"
}
subset NotoSansArabic-Regular "$ARABIC" NotoSansArabic-Regular-ug
subset NotoSansArabic-Bold "$ARABIC" NotoSansArabic-Bold-ug
# Tibetan's subset is 220 KB; over Tor one weight is enough, and the browser draws bold itself.
subset NotoSerifTibetan-Regular "$TIBETAN" NotoSerifTibetan-Regular-bo
# The language switcher names Uyghur and Tibetan in their own scripts on every page: a few
# glyphs each, so a page in another language need not download the whole fonts to show them.
# Keep these in step with the names in reporting/web/languages.py (tests/unit/test_fonts.py checks).
subset_text() {  # source font, text, output name
    "$PYFTSUBSET" "$NOTO/$1.ttf" --text="$2" --layout-features='*' --flavor=woff \
        --no-hinting --desubroutinize --name-IDs='*' --name-legacy \
        --output-file="$OUT/$3.woff"
}
subset_text NotoSansArabic-Regular "ئۇيغۇرچە" NotoSansArabic-name-ug
subset_text NotoSerifTibetan-Regular "བོད་ཡིག" NotoSerifTibetan-name-bo
ls -l "$OUT"/*.woff
