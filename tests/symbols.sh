#!/usr/bin/env bash
# The shared library exports exactly the public API: every function declared with LV_EXTERN in
# include/ and nothing else, each under the library's version node.
set -euo pipefail
src="$1"; build="$2"
so=$(find "$build/lib" -maxdepth 1 -name 'liblongvideo.so.*' -type f | head -1)
if [ -z "$so" ]; then
  echo "SKIP: no shared library in $build/lib (BUILD_SHARED_LIBS=OFF)"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Declarations may span lines: join each header, then take the name before the '(' of each LV_EXTERN.
for h in "$src"/include/longvideo.h "$src"/include/longvideo/*.h "$src"/include/longvideo/sys/*.h; do
  if [ -f "$h" ]; then tr "\n" " " < "$h"; echo; fi
done | grep -oE 'LV_EXTERN\(([^()]|\([^()]*\))*\)[[:space:]*]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(' \
     | sed -E 's/[[:space:]]*\($//; s/.*[^A-Za-z0-9_]//' | sort -u > "$tmp/declared"
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' > "$tmp/raw"
# Every exported symbol carries the version node (name@@LONGVIDEO_x.y); the node itself is listed too.
if grep -v '@@LONGVIDEO_' "$tmp/raw" | grep -q .; then
  echo "FAIL: symbols without a version node:"; grep -v '@@LONGVIDEO_' "$tmp/raw"; exit 1
fi
sed 's/@@.*//' "$tmp/raw" | grep -v '^LONGVIDEO_' | sort -u > "$tmp/exported"
test -s "$tmp/declared" || { echo "FAIL: found no LV_EXTERN declaration in $src/include"; exit 1; }
if ! diff -u "$tmp/declared" "$tmp/exported" > "$tmp/diff"; then
  echo "FAIL: exported symbols differ from the public API ('-' declared only, '+' exported only):"
  grep -E '^[-+][^-+]' "$tmp/diff"; exit 1
fi
echo "symbols: $(wc -l < "$tmp/exported") exported symbols, exactly the declared public API, versioned $(sed -n 's/.*@@//p' "$tmp/raw" | sort -u | head -1)"
