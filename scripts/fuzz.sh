#!/usr/bin/env bash
# Build the libFuzzer harnesses (tests/fuzz) with clang in build-fuzz/ and run each for SECONDS seconds,
# starting from its seed corpus in tests/fuzz/corpus/<harness>/.  Prints the executions of every harness
# and fails if any of them finds a crash, a leak or undefined behaviour (the reproducer is left in
# build-fuzz/findings/<harness>/).
#
#   scripts/fuzz.sh [SECONDS]     (default 60)
#
# At the end a table gives every harness's executions, executions per second and status.
#
# Environment: LV_FUZZ_JOBS build jobs (default 2) and harnesses run at the same time (default 1: one after
# another; each still runs SECONDS); LV_FUZZ_ONLY a space-separated list of harnesses to run;
# LV_FUZZ_TIMEOUT seconds one input may take before it counts as a hang (default 10; raise it on a
# machine loaded by other work, where a harness can be descheduled that long).
set -euo pipefail

seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
corpus_src="$root/tests/fuzz/corpus"

command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_FUZZ=ON -DLV_BUILD_TESTS=OFF \
  -DLV_BUILD_BENCH=OFF -DBUILD_SHARED_LIBS=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
rm -f "$build.configure.log"
nice cmake --build "$build" -j "${LV_FUZZ_JOBS:-2}" --target fuzz >"$build.build.log" 2>&1 ||
  { tail -50 "$build.build.log" >&2; exit 1; }
rm -f "$build.build.log"

harnesses=${LV_FUZZ_ONLY:-$(cd "$build/bin" && ls fuzz_* | sort)}
export LV_LOG_LEVEL=off ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Harnesses that write files (subtitles, WAV) run much faster on tmpfs.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
jobs=${LV_FUZZ_JOBS:-1}
case "$jobs" in '' | *[!0-9]* | 0) jobs=1 ;; esac

# One harness for SECONDS from its seeds; its status ("ok" or "FAILED") goes to logs/<harness>.status.
run_one() {
  local h=$1 work="$build/corpus/$1" findings="$build/findings/$1" log="$build/logs/$1.log" status
  local seeds=()
  mkdir -p "$work" "$findings"
  [ -d "$corpus_src/$h" ] && seeds=("$corpus_src/$h")
  # New inputs go to the scratch corpus in build-fuzz (the seeds in the tree stay small).
  if "$build/bin/$h" -max_total_time="$seconds" -timeout="${LV_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$findings/" -print_final_stats=1 "$work" "${seeds[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
  fi
  echo "$status" >"$build/logs/$h.status"
  echo "fuzz.sh: $h $status" >&2
}

mkdir -p "$build/logs"
rm -f "$build"/logs/*.status
# LV_FUZZ_JOBS harnesses at a time (each still runs SECONDS).
running=0
for h in $harnesses; do
  if [ "$jobs" -le 1 ]; then
    run_one "$h"
    continue
  fi
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$h" &
  running=$((running + 1))
done
wait || true

failed=()
echo
printf '%-26s %14s %10s  %s\n' harness executions exec/s status
for h in $harnesses; do
  log="$build/logs/$h.log"
  status=$(cat "$build/logs/$h.status" 2>/dev/null || echo FAILED)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1)
  printf '%-26s %14s %10s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "$status"
  if [ "$status" != ok ]; then
    failed+=("$h")
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" 2>/dev/null | head -20 >&2 || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes found in: ${failed[*]} (logs in $build/logs, inputs in $build/findings)" >&2
  exit 1
fi
echo "fuzz.sh: every harness ran ${seconds} s clean (${jobs} at a time)"
