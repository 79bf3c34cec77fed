#!/usr/bin/env bash
# Headless Chromium against a real lvserver: a page on another origin creates a task, follows its
# event stream and plays the film with subtitles (tests/browser/film.mjs).
# usage: run.sh SOURCE_DIR BIN_DIR BUILD_DIR
# Exits 77 (skipped) only when no Chromium is installed (Debian: chromium; scripts/deps.sh installs it)
# or node/npm are missing.
set -euo pipefail
src=$1 bin=$2 build=$3
chromium=${LV_CHROMIUM:-}
if [ -z "$chromium" ]; then
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then chromium=$(command -v "$c"); break; fi
  done
fi
if [ -z "$chromium" ] || [ ! -x "$chromium" ]; then
  echo "browser test: no Chromium (set LV_CHROMIUM or install the Debian package chromium)"
  exit 77
fi
modules=$("$src/tests/openapi/npm.sh" "$build") || exit $?
exec node "$src/tests/browser/film.mjs" "$modules" "$bin" "$chromium"
