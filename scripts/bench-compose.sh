#!/bin/sh
# Build and run the composer benchmark: lv_compose_run against ffmpeg -f concat -c:v copy.
# Arguments go to lv-bench-compose (e.g. --small, --segments 23 --seconds 180 --size 1920x1080).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$root/build"}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target lv-bench-compose
LV_LOG_LEVEL=${LV_LOG_LEVEL:-warn} exec "$build/bin/lv-bench-compose" "$@"
