#!/usr/bin/env bash
# Keep the translations in step with the code:
#   scripts/translations.sh update   # re-extract messages.pot from phr/ and templates/, merge it into every .po
#   scripts/translations.sh compile  # rebuild the committed .mo files from the .po files
# tests/web/test_i18n.py fails when a .po lacks a message, a message is untranslated, or a .mo is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
DIR=phr/translations
case "${1:-}" in
  update)
    "$PYBABEL" -q extract -F babel.cfg -k _l -k N_ -k lazy_gettext \
      --sort-output --no-location --omit-header --project "PHR Exchange" -o "$DIR/messages.pot" .
    "$PYBABEL" -q update -i "$DIR/messages.pot" -d "$DIR" --no-fuzzy-matching --ignore-obsolete --width 120 ;;
  compile)
    "$PYBABEL" compile -d "$DIR" --statistics ;;
  *) echo "usage: $0 update|compile" >&2; exit 2 ;;
esac
