#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test through ctest —
# once in a normal build and once under AddressSanitizer + UndefinedBehaviorSanitizer — then runs
# every fuzz harness for a few seconds (scripts/fuzz.sh).
#
#   scripts/test.sh                 everything
#   LV_TEST_SANITIZE=0 scripts/test.sh   skip the sanitizer pass
#   LV_TEST_FUZZ=0 scripts/test.sh       skip the short fuzzing pass (LV_TEST_FUZZ_SECONDS per harness, default 5)
#   scripts/test.sh -R http         pass extra arguments to ctest (both passes)
#   LV_TEST_PG=0 scripts/test.sh    no PostgreSQL cluster (the *_pg tests report "skipped")
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
lv_install_deps
lv_install_npm

# The services of the run are stopped at exit, whichever of them started.
pgdir=""
s3_started=0
stop_services() {
  if [ "$s3_started" = 1 ]; then scripts/s3.sh stop || true; fi
  if [ -n "$pgdir" ]; then scripts/pg.sh stop "$pgdir" || true; fi
}
trap stop_services EXIT

# A throwaway PostgreSQL cluster on loopback for the run (scripts/pg.sh): the store conformance
# suite, one pipeline and one HTTP suite run on it as well as on SQLite.
if [ "${LV_TEST_PG:-1}" != "0" ]; then
  pgdir=$(mktemp -u "${TMPDIR:-/tmp}/lvpg.XXXXXX")
  LV_TEST_PG_URL=$(scripts/pg.sh start "$pgdir")
  export LV_TEST_PG_URL
  echo "== PostgreSQL for the run: $LV_TEST_PG_URL"
fi

jobs=$(nproc 2>/dev/null || echo 2)
# Tests run one more at a time than there are cores: a good part of the suite waits on fake vendors,
# servers and child processes, and the extra one fills the processor while they wait.
test_jobs=$((jobs + 1))
start=$(date +%s)

# A throwaway S3-compatible server (s3rver on loopback) for the storage suites.
echo "== S3-compatible server"
s3_env=$(scripts/s3.sh start build)
s3_started=1
eval "$s3_env"
export LV_TEST_S3_REQUIRED=1

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_BUILD_TESTS=ON -DLV_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
echo "== test"
(cd build && ctest --output-on-failure -j"$test_jobs" "$@")

if [ "${LV_TEST_SANITIZE:-1}" != "0" ]; then
  echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
  # -O1, the level the sanitizers' authors recommend: at -O0 the renderer and the encoders ran the
  # sanitizer pass 3-5 times slower than the normal one, for no more findings.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
        -DLV_SANITIZE=ON -DLV_BUILD_TESTS=ON -DLV_WERROR=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  echo "== test (sanitizers)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$test_jobs" -LE no-sanitize "$@")
fi

# The fuzz harnesses (tests/fuzz), briefly: they keep building and a regression a seed or a few seconds of
# fuzzing reaches fails the suite.  The long run is scripts/fuzz.sh SECONDS (docs/operating.md).
if [ "${LV_TEST_FUZZ:-1}" != "0" ]; then
  echo "== fuzz (${LV_TEST_FUZZ_SECONDS:-5} s per harness)"
  LV_FUZZ_JOBS="$jobs" scripts/fuzz.sh "${LV_TEST_FUZZ_SECONDS:-5}"
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
