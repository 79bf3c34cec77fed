#!/usr/bin/env bash
# The library's layers point one way (docs/design.md, "Layers"): a file of lib/ includes headers of its
# own layer or of lower layers only, the modules of one layer do not include each other in a circle,
# and lvserver and lvctl include only the public headers.
#
#   0 util       lib/util, lib/http
#   1 model      lib/model, lib/media, lib/providers/caps.{c,h}
#   2 services   lib/config, lib/store, lib/storage, lib/plan, lib/providers, lib/compose,
#                lib/webhook (delivery: webhook.c, fetch.c, ssrf.c)
#   3 core       lib/core, lib/ledger, lib/webhook/outbox.{c,h}
#   4 pipeline   lib/pipeline, itself in parts that point one way (a file includes its own header and
#                those of lower parts only; see "The pipeline" in docs/design.md):
#                  0 scratch, cpu, storyboard (forwards to the model layer)
#                  1 held      held tasks, their refcounts and cancel flags; lv_own, lv_advance, lv_fail_task
#                  2 driver    the segment driver
#                  3 stages    the stages of a task
#                  4 worker    the threads, claims, the monitor, the ready queue; start and stop
#   public headers (include/) may be included from anywhere; frontends (server/, cli/) sit on top.
#
# Usage: layers.sh SOURCE_DIR        (exit 1 listing every violation)
set -euo pipefail
src=$(cd "${1:-.}" && pwd)
cd "$src/lib"

fail=0
edges=$(mktemp)
trap 'rm -f "$edges" "$edges.err" "$edges.headers"' EXIT

# One pass over every quoted #include of lib/ (<...> are system and dependency headers).  A module is
# the first directory of a path, except the files placed apart below.  Modules of one layer that stay
# apart although the layers would allow it: providers get media helpers (probing, encoding) from the
# model layer, never from the composer.
find . -name '*.h' | sed 's|^\./||' > "$edges.headers"
find . -name '*.c' -o -name '*.h' | sort | xargs grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' /dev/null |
awk -v edges="$edges" -v headers="$edges.headers" '
function module(p) {
  if (p == "providers/caps.c" || p == "providers/caps.h") return "caps"
  if (p == "webhook/outbox.c" || p == "webhook/outbox.h") return "outbox"
  sub(/\/.*/, "", p); return p
}
function layer(m) {
  if (m == "util" || m == "http") return 0
  if (m == "model" || m == "media" || m == "caps") return 1
  if (m == "config" || m == "store" || m == "storage" || m == "plan" || m == "providers" || m == "compose" || m == "webhook") return 2
  if (m == "core" || m == "ledger" || m == "outbox") return 3
  if (m == "pipeline") return 4
  return -1
}
BEGIN { denied["providers>compose"] = 1; bad = 0; while ((getline h < headers) > 0) header[h] = 1 }
{
  file = $0; sub(/:.*/, "", file); sub(/^\.\//, "", file)
  inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
  from = module(file); lf = layer(from)
  if (lf < 0) { if (!(from in unplaced)) print "FAIL: lib/" from "/ has no layer; add it to tests/layers.sh and docs/design.md"; unplaced[from] = 1; bad = 1; next }
  if (inc ~ /^longvideo(\/|\.h$)/) next            # the public API
  if (!(inc in header)) next                        # a header next to the file (providers/local/...)
  to = module(inc); if (to == from) next
  lt = layer(to)
  if (lt < 0 || lt > lf) { print "FAIL: " file " (layer " lf ", " from ") includes " inc " (layer " lt ", " to ")"; bad = 1 }
  if ((from ">" to) in denied) { print "FAIL: " file " includes " inc ": " from " must not use " to " (same layer, kept apart: see docs/design.md)"; bad = 1 }
  if (lt == lf) print from, to >> edges
}
END { exit bad }' || fail=1

# Modules of one layer may use each other, but not in a circle: tsort reports a cycle.
if [ -s "$edges" ] && ! sort -u "$edges" | tsort > /dev/null 2> "$edges.err"; then
  echo "FAIL: modules of one layer include each other in a circle:"; cat "$edges.err"
  fail=1
fi

# The pipeline's parts: a file of lib/pipeline/ (part = its name without .c/.h) includes its own header and
# the headers of lower parts only, so its calls point down; a function of another part is reached through
# that part's header, never declared in a .c file; and the parts' includes form no circle.
pedges=$(mktemp)
trap 'rm -f "$edges" "$edges.err" "$edges.headers" "$pedges" "$pedges.err"' EXIT
cd "$src/lib/pipeline"
part_level() {
  case "$1" in
    scratch | cpu | storyboard) echo 0 ;;
    held) echo 1 ;;
    driver) echo 2 ;;
    stages) echo 3 ;;
    worker) echo 4 ;;
    *) echo -1 ;;
  esac
}
for f in *.c *.h; do
  [ -f "$f" ] || continue
  part="${f%.*}"; lf=$(part_level "$part")
  if [ "$lf" -lt 0 ]; then
    echo "FAIL: lib/pipeline/$f belongs to no part of the pipeline; place it in tests/layers.sh and docs/design.md"
    fail=1; continue
  fi
  while IFS= read -r inc; do
    case "$inc" in
      pipeline/*) to="${inc#pipeline/}" ;;
      */*) continue ;;
      *) [ -f "$inc" ] || continue; to="$inc" ;;
    esac
    to="${to%.h}"; [ "$to" = "$part" ] && continue
    lt=$(part_level "$to")
    if [ "$lt" -lt 0 ] || [ "$lt" -ge "$lf" ]; then
      echo "FAIL: lib/pipeline/$f (part $lf, $part) includes $inc (part $lt, $to): a part uses only lower parts"
      fail=1
    fi
    echo "$part $to" >> "$pedges"
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  if [ "${f##*.}" = c ]; then
    # A prototype at file scope (not static) of an lv_ function: reaching around the headers.
    while IFS= read -r decl; do
      echo "FAIL: lib/pipeline/$f declares a function itself ($decl); include the header of the part that defines it"
      fail=1
    done < <(grep -E '^[a-z][a-z0-9_ *]*[ *]lv_[a-z0-9_]+\(.*\);' "$f" | grep -v '^static' || true)
  fi
done
if [ -s "$pedges" ] && ! sort -u "$pedges" | tsort > /dev/null 2> "$pedges.err"; then
  echo "FAIL: parts of the pipeline include each other in a circle:"; cat "$pedges.err"
  fail=1
fi

# Frontends: only <longvideo.h> and their own headers.
cd "$src"
for d in server cli; do
  [ -d "$d" ] || continue
  while IFS= read -r line; do
    file="${line%%:*}"; inc=$(echo "$line" | sed 's/.*"\(.*\)".*/\1/')
    [ -f "$(dirname "$file")/$inc" ] && continue
    echo "FAIL: $file includes \"$inc\", which is not the public API nor one of $d/'s own headers"; fail=1
  done < <(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$d"/*.c "$d"/*.h 2>/dev/null || true)
done

if [ "$fail" -ne 0 ]; then
  echo "layers: the include graph of lib/ breaks the layering written in docs/design.md"
  exit 1
fi
echo "layers: $(find "$src/lib" -name '*.[ch]' | wc -l) files of lib/ include their own or lower layers only; no circle between modules of one layer; the pipeline's parts point one way"
