#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test through ctest —
# once in a normal build and once under AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   scripts/test.sh                 everything
#   LV_TEST_SANITIZE=0 scripts/test.sh   skip the sanitizer pass
#   scripts/test.sh -R http         pass extra arguments to ctest (both passes)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
lv_install_deps
lv_install_npm

jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)

# A throwaway S3-compatible server (s3rver on loopback) for the storage suites; stopped on exit.
echo "== S3-compatible server"
s3_env=$(scripts/s3.sh start build)
eval "$s3_env"
trap 'scripts/s3.sh stop' EXIT
export LV_TEST_S3_REQUIRED=1

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
echo "== test"
(cd build && ctest --output-on-failure -j"$jobs" "$@")

if [ "${LV_TEST_SANITIZE:-1}" != "0" ]; then
  echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLV_SANITIZE=ON -DLV_BUILD_TESTS=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  echo "== test (sanitizers)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" -LE no-sanitize "$@")
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
