#!/usr/bin/env bash
# Installs the Debian packages liblongvideo needs to build, test and run, when they are missing.
# Sourced by scripts/test.sh and scripts/demo.sh; can also be run on its own.
set -euo pipefail

LV_DEBIAN_PACKAGES=(
  build-essential cmake pkg-config git
  libcurl4-openssl-dev libcjson-dev libsqlite3-dev sqlite3 libssl-dev
  libavformat-dev libavcodec-dev libavfilter-dev libavutil-dev libswscale-dev libswresample-dev ffmpeg
  libcivetweb-dev check libsubunit-dev
  libespeak-ng-dev espeak-ng-data libunibreak-dev libexttextcat-dev libexttextcat-data
  libfontconfig-dev fontconfig
  fonts-wqy-microhei fonts-dejavu-core fonts-noto-core fonts-thai-tlwg
  curl jq ca-certificates cppcheck wrk
  clang libclang-rt-14-dev
  libpq-dev postgresql
  nodejs chromium
  groff-base man-db
)

lv_install_deps() {
  local missing=() p
  for p in "${LV_DEBIAN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "Installing missing Debian packages: ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: these packages are missing and this is not root (no sudo): ${missing[*]}" >&2
      return 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# npm (for the test S3 server, scripts/s3.sh): Debian's own package, unless nodejs already brings it.
lv_install_npm() {
  command -v npm >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  lv_install_deps
fi
