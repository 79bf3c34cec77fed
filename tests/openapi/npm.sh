#!/usr/bin/env bash
# Installs the pinned npm packages of the API contract tests into BUILD_DIR/npm-api (once):
# the OpenAPI validator, Ajv, the client generator and the browser driver.
#   tests/openapi/npm.sh BUILD_DIR     prints the node_modules directory
# Exits 77 (the suite's "skipped") when node or npm is missing.
set -euo pipefail
build=${1:?usage: npm.sh BUILD_DIR}
packages=(
  @seriousme/openapi-schema-validator@2.11.0
  ajv@8.20.0
  ajv-formats@3.0.1
  openapi-typescript@7.13.0
  openapi-fetch@0.17.0
  typescript@5.9.3
  @types/node@20.19.43
  playwright-core@1.65.2
)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "npm.sh: node and npm are needed (Debian: nodejs npm; scripts/deps.sh installs them)" >&2
  exit 77
fi
dir="$build/npm-api"
stamp="$dir/.installed"
want="${packages[*]}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  mkdir -p "$dir"
  # One install at a time per build tree (tests start in parallel).
  exec 9>"$dir/.lock"
  flock 9
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact "${packages[@]}" >&2
    echo "$want" >"$stamp"
  fi
fi
echo "$dir/node_modules"
