#!/usr/bin/env bash
# Runs every benchmark and prints one table of ratios, each against a baseline measured in the same
# run (never asserted by the tests: speed is shown here, correctness there).
#
#   scripts/bench.sh            # the full set (several minutes: a 180 s 1080p film, 10,000 tasks,
#                               # a million ledger rows, 1,000 held tasks, 500 slowloris connections)
#   scripts/bench.sh --quick    # smaller and shorter runs, to check that the benchmarks work
# The scale-out part (bench/bench_scale.sh) starts its own PostgreSQL cluster; with LV_TEST_S3_*
# set (eval "$(scripts/s3.sh start)") its workers keep media on that S3-compatible server.
#
# Environment: BUILD_DIR (default build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$root/build"}
quick=0
[ "${1:-}" = "--quick" ] && quick=1
source "$root/scripts/deps.sh"
lv_install_deps

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target lv-bench-api lv-bench-compose lvserver lvctl >/dev/null
export LV_LOG_LEVEL=${LV_LOG_LEVEL:-warn}
out=$(mktemp -d "${TMPDIR:-/tmp}/lv-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

if [ $quick -eq 1 ]; then
  api_args=(--seconds 2 --tasks 2000 --ledger 100000 --held 0,50)
  compose_args=(--small --repeat 1)
  demo_seconds=10
else
  api_args=(--seconds 5 --tasks 10000 --ledger 1000000 --held 0,200,1000)
  compose_args=(--segments 23 --seconds 180 --size 1920x1080 --repeat 3)
  demo_seconds=30
fi

echo "== API: reads, creates, idle workers" >&2
"$build/bin/lv-bench-api" --bin "$build/bin" "${api_args[@]}" | tee "$out/api.txt"

echo "== composer" >&2
"$build/bin/lv-bench-compose" "${compose_args[@]}" | tee "$out/compose.txt"

echo "== the ${demo_seconds} s demo film (built-in providers, this machine's cores)" >&2
demo="$out/demo"
mkdir -p "$demo"
key=$("$build/bin/lvctl" --data-dir "$demo" keys create --name bench --credits 100000 2>/dev/null | head -n 1)
start=$(date +%s.%N)
"$build/bin/lvctl" --data-dir "$demo" generate --key "$key" --prompt "城市清晨的延时风光" \
  --duration "$demo_seconds" --output "$demo/film.mp4" >/dev/null
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v d="$demo_seconds" 'BEGIN {
  printf "demo: %d s film in %.2f s\n", d, e - s
  printf "RATIO|%d s demo film: film seconds per second of wall time|%.3f|>= 8\n", d, d / (e - s) }' |
  tee "$out/demo.txt"

echo "== scale-out: PostgreSQL, 1/2/4 worker processes (bench/bench_scale.sh)" >&2
if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  if [ $quick -eq 1 ]; then
    scale_args=(--creates 100 --tasks 4 --latency-ms 3000)
  else
    scale_args=()
  fi
  "$root/bench/bench_scale.sh" --build "$build" "${scale_args[@]}" | tee "$out/scale.txt"
else
  echo "skipped: PostgreSQL is not installed (scripts/deps.sh installs it)" >&2
fi

echo "== slowloris: 500 connections from 127.0.0.2 held open (scripts/slowloris.sh)" >&2
if [ $quick -eq 1 ]; then slow_seconds=3; else slow_seconds=10; fi
BUILD_DIR="$build" "$root/scripts/slowloris.sh" "$slow_seconds" 500 | tee "$out/slowloris.txt"

echo
echo "== ratios ($(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ))"
cat "$out"/*.txt | awk -F'|' '/^RATIO\|/ {
  rows[++n] = $2; vals[n] = $3; tgts[n] = $4; if (length($2) > w) w = length($2) }
  END {
    printf "%-*s  %10s  %s\n", w, "measure", "value", "target"
    for (i = 1; i <= n; i++) printf "%-*s  %10s  %s\n", w, rows[i], vals[i], tgts[i]
  }'
