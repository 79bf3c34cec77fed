#!/usr/bin/env bash
# Runs the curl session of docs/api.md ("A full session: review, approve, regenerate") exactly as
# written, against a real lvserver, and checks what it printed.
# usage: api_walkthrough.sh SOURCE_DIR BIN_DIR
set -euo pipefail
src=$1
bin=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/lvwalk.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.json" <<'JSON'
{"pipeline": {"lease_seconds": 2}, "providers": {"local": {"type": "local", "latency_ms": 200}}}
JSON
export LV_LOG_LEVEL=warn
KEY=$("$bin/lvctl" --config "$work/config.json" --data-dir "$work/data" --json keys create --name walkthrough \
  --credits 1000 | jq -r .api_key)
"$bin/lvserver" --config "$work/config.json" --data-dir "$work/data" --listen 127.0.0.1:0 \
  --port-file "$work/port" --workers 1 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.1; done
LV=http://127.0.0.1:$(cat "$work/port")
export LV KEY

# The commands: every ```sh block between the walkthrough markers, in order.
awk '/<!-- walkthrough:begin -->/ {on = 1; next} /<!-- walkthrough:end -->/ {on = 0}
     on && /^```sh$/ {code = 1; next} on && /^```$/ {code = 0; next} on && code {print}' \
  "$src/docs/api.md" >"$work/session.sh"
[ "$(grep -c curl "$work/session.sh")" -ge 8 ] || { echo "walkthrough: too few commands extracted"; exit 1; }
timeout 600 bash -euo pipefail "$work/session.sh" | tee "$work/out.txt"

fail() { echo "walkthrough: $*"; cat "$work/server.log"; exit 1; }
grep -q "The keeper lights the lamp." "$work/out.txt" || fail "the subtitles lack the first edit"
grep -q "The cat watches the waves." "$work/out.txt" || fail "the subtitles lack the second edit"
grep -q '"cost_actual": 852.5' "$work/out.txt" || fail "cost_actual is not 852.5"
grep -q '"status": "succeeded"' "$work/out.txt" || fail "the regeneration did not succeed"
[ "$(tail -n 4 "$work/out.txt" | tr '\n' ' ')" = "reserve 687.5 settle 687.5 reserve 165 settle 165 " ] \
  || fail "the ledger is not one reserve/settle pair per movement"
echo "walkthrough: ok"
