#!/usr/bin/env bash
# Install into a temporary prefix, then build the example against it twice: with pkg-config alone,
# and with the CMake package (find_package(longvideo) -> longvideo::longvideo).  Both must run.
set -euo pipefail
src="$1"; build="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name 'longvideo.pc' -printf '%h\n' | head -1)
test -n "$libdir" || { echo "FAIL: longvideo.pc was not installed"; exit 1; }
test -f "$tmp/prefix/include/longvideo.h" || { echo "FAIL: headers were not installed"; exit 1; }
export PKG_CONFIG_PATH="$libdir"
export LD_LIBRARY_PATH="$(dirname "$libdir")"

# 1. pkg-config alone.
cc -std=c11 -Wall -Werror "$src/examples/estimate.c" $(pkg-config --cflags --libs longvideo) -o "$tmp/estimate"
out=$(cd "$tmp" && ./estimate 60 720p)
echo "$out"
echo "$out" | grep -q "cost_estimate: 1650 credits" || { echo "FAIL: pkg-config build printed the wrong estimate"; exit 1; }

# 2. The CMake package.
cmake -S "$src/examples" -B "$tmp/ex" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/ex" >/dev/null
out=$(cd "$tmp" && "$tmp/ex/estimate" 3 720p)
echo "$out" | grep -q "cost_estimate: 82.5 credits" || { echo "FAIL: CMake package build printed the wrong estimate"; exit 1; }
echo "install: pkg-config and CMake package consumers build and run"
