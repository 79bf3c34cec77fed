#!/usr/bin/env bash
# The API contract tests (docs/openapi.json):
#   contract.sh validate SOURCE_DIR BUILD_DIR        the document is valid OpenAPI 3.1 (a real validator)
#   contract.sh check SOURCE_DIR BUILD_DIR REC_DIR   every recorded response of the HTTP suites conforms
# The npm packages are installed into BUILD_DIR/npm-api by npm.sh; 77 (skipped) without node/npm.
set -euo pipefail
mode=$1 src=$2 build=$3
here=$(cd "$(dirname "$0")" && pwd)
modules=$("$here/npm.sh" "$build") || exit $?
case "$mode" in
  validate)
    node "$here/validate.mjs" "$modules" "$src/docs/openapi.json"
    ;;
  check)
    rec=$4
    if ! ls "$rec"/*.jsonl >/dev/null 2>&1; then
      echo "contract.sh: no recorded responses in $rec (run the HTTP suites first; ctest does)" >&2
      exit 1
    fi
    status=0
    node "$here/check.mjs" "$modules" "$src/docs/openapi.json" "$rec" || status=$?
    # The next run records afresh.
    rm -f "$rec"/*.jsonl
    exit $status
    ;;
  *)
    echo "usage: contract.sh validate|check SOURCE_DIR BUILD_DIR [REC_DIR]" >&2
    exit 2
    ;;
esac
