#!/usr/bin/env bash
# Builds the whole tree (library, programs, tests, examples, benchmarks) the ways a packager or a user
# might — every CMake build type with gcc and with clang — with warnings as errors, and reports which
# combinations build.  Optimisation levels change what the compilers' flow analysis sees, so a warning
# can appear in one build type only; this finds it before a packager does.
#
#   scripts/build-matrix.sh [BUILD_ROOT]     (default: build-matrix/; ccache is used when installed)
# Environment: LV_MATRIX_TYPES (default "Debug Release RelWithDebInfo MinSizeRel"),
#              LV_MATRIX_COMPILERS (default "gcc clang").
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-"$src/build-matrix"}
types=${LV_MATRIX_TYPES:-"Debug Release RelWithDebInfo MinSizeRel"}
compilers=${LV_MATRIX_COMPILERS:-"gcc clang"}
jobs=$(nproc 2>/dev/null || echo 2)
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

failed=0
results=()
for cc in $compilers; do
  case $cc in gcc) cxx=g++ ;; clang) cxx=clang++ ;; *) cxx=c++ ;; esac
  if ! command -v "$cc" >/dev/null 2>&1; then
    results+=("$cc: not installed, skipped"); continue
  fi
  for type in $types; do
    dir="$root/$cc-$type"
    log="$dir.log"
    mkdir -p "$root"
    if CC=$cc CXX=$cxx cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DLV_WERROR=ON \
         -DLV_BUILD_TESTS=ON -DLV_BUILD_BENCH=ON "${launcher[@]}" >"$log" 2>&1 &&
       cmake --build "$dir" -j"$jobs" >>"$log" 2>&1; then
      results+=("$cc $type: ok")
    else
      results+=("$cc $type: FAILED (see $log)")
      grep -E "(error|warning):" "$log" | sort -u | head -20 >&2 || true
      failed=1
    fi
  done
done
printf '%s\n' "${results[@]}"
exit $failed
