#!/usr/bin/env bash
# lvctl as a client of a running lvserver (--server / LONGVIDEO_BASE):
#  - get, list, cancel, credits, the ledger, errors: the same output and exit codes as the local mode;
#  - download in both modes gives the same film (read back by ffprobe), resumes a partial file with Range;
#  - generate follows the event stream; Ctrl-C cancels (exit 130), --detach leaves the task running;
#  - batch of 20 prompts, killed with SIGKILL mid-run and run again: every film made, each charged once
#    (checked in the ledger through the API), and a summary printed.
# usage: cli_remote.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/lvcliremote.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "cli_remote: FAIL: $*"
  [ -f "$work/server.log" ] && tail -n 20 "$work/server.log"
  exit 1
}

cat >"$work/config.json" <<'JSON'
{"pipeline": {"lease_seconds": 2}, "providers": {"local": {"type": "local", "latency_ms": 20}}}
JSON
export LV_LOG_LEVEL=warn
unset LONGVIDEO_BASE LV_API_KEY
L=("$bin/lvctl" --config "$work/config.json" --data-dir "$work/data")
"${L[@]}" --json keys create --name remote --credits 100000 | jq -r .api_key >"$work/key"
"$bin/lvserver" --config "$work/config.json" --data-dir "$work/data" --listen 127.0.0.1:0 \
  --port-file "$work/port" --workers 2 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "lvserver did not start"
LV=http://127.0.0.1:$(cat "$work/port")
KEY=$(cat "$work/key")
L+=(--public-url "$LV" --key-file "$work/key")
R=("$bin/lvctl" --server "$LV" --key-file "$work/key")
# The batch's films: short, square, silent (the batch, not the pictures, is under test here).
SHORT='"duration":3,"aspect_ratio":"1:1","narration":false,"music":false'

# ---- generate over HTTP: progress from the event stream, the film saved ------------------------------
"${R[@]}" generate --prompt "a red kite over the dunes" --duration 3 --no-music --output "$work/gen.mp4" \
  >"$work/gen.out" 2>"$work/gen.err" || fail "remote generate: exit $? ($(cat "$work/gen.err"))"
grep -q '^task vid_' "$work/gen.err" || fail "generate did not print the task id"
grep -q 'completed' "$work/gen.err" || fail "generate showed no completed state"
[ "$(cat "$work/gen.out")" = "$work/gen.mp4" ] || fail "generate did not print the film's path"
ID=$(sed -n 's/^task \(vid_[A-Za-z0-9]*\):.*/\1/p' "$work/gen.err")
ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$work/gen.mp4" >"$work/probe" 2>&1; grep -q video "$work/probe" \
  || fail "the generated film has no video stream: $(cat "$work/probe")"

# ---- generate falls back to polling when the event stream is refused (4 streams already open) -----------
streams=()
for i in 1 2 3 4; do
  hid=$("${R[@]}" --json create --prompt "held for review $i" --duration 3 --review | jq -r .task_id)
  curl -sN "$LV/v1/videos/$hid/events" -H "Authorization: Bearer $KEY" >/dev/null &
  streams+=($!)
done
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$LV/v1/videos/$hid/events" -H "Authorization: Bearer $KEY" || true)
  [ "$code" = 429 ] && break
  sleep 0.1
done
[ "$code" = 429 ] || fail "four open streams did not exhaust the key's streams ($code)"
"${R[@]}" generate --prompt "a paper boat" --duration 3 --aspect-ratio 1:1 --no-music --no-narration \
  --output "$work/fb.mp4" >/dev/null 2>"$work/fb.err" || fail "generate without the event stream: exit $? ($(cat "$work/fb.err"))"
grep -q 'polling instead' "$work/fb.err" || fail "generate did not say it polls: $(cat "$work/fb.err")"
grep -q 'completed: cost' "$work/fb.err" || fail "generate by polling did not complete"
kill "${streams[@]}"
wait "${streams[@]}" 2>/dev/null || true

# ---- the same output and exit codes in both modes ------------------------------------------------------
same() {
  local lr=0 rr=0
  "${L[@]}" "$@" >"$work/l.out" 2>"$work/l.err" || lr=$?
  "${R[@]}" "$@" >"$work/r.out" 2>"$work/r.err" || rr=$?
  [ "$lr" = "$rr" ] || fail "lvctl $*: exit $lr locally, $rr remotely ($(cat "$work/r.err"))"
  cmp -s "$work/l.out" "$work/r.out" || { diff "$work/l.out" "$work/r.out" || true; fail "lvctl $*: output differs"; }
  echo "same ($lr): lvctl $* [${SECONDS}s]"
  return 0
}
same get "$ID"
same --json get "$ID"
same list
same credits
same credits --ledger
same credits --ledger --json --limit 2
same cancel "$ID"                 # a finished task is shown unchanged
same get vid_doesnotexist00000
same --json get vid_doesnotexist00000
same list --limit 0
same approve "$ID"
same download vid_doesnotexist00000 -o "$work/none.mp4"
grep -q '^lvctl: task_not_found: ' "$work/r.err" || fail "a server error does not print its API code"
# a task created remotely, canceled remotely, is the same seen locally
"${R[@]}" create --prompt "a slow queue" --duration 3 --review >"$work/c.out"
CID=$(cut -d' ' -f1 "$work/c.out")
# The server's workers script it and hold it for review: compare once it rests there.
for _ in $(seq 200); do
  [[ $("${R[@]}" get "$CID") == "$CID awaiting_review "* ]] && break
  sleep 0.05
done
same get "$CID"
out=$("${R[@]}" cancel "$CID"); [[ $out == "$CID canceled "* ]] || fail "remote cancel did not cancel: $out"
same get "$CID"
# a wrong key: exit 4 in both modes
rr=0; "$bin/lvctl" --server "$LV" get "$ID" --key sk-wrongwrongwrong >/dev/null 2>&1 || rr=$?
lr=0; "$bin/lvctl" --config "$work/config.json" --data-dir "$work/data" get "$ID" --key sk-wrongwrongwrong \
  >/dev/null 2>&1 || lr=$?
[ "$lr" = 4 ] && [ "$rr" = 4 ] || fail "a wrong key: exit $lr locally, $rr remotely (want 4)"
# LONGVIDEO_BASE and LONGVIDEO_KEY select the server and the key
out=$(LONGVIDEO_BASE=$LV LONGVIDEO_KEY=$KEY "$bin/lvctl" get "$ID"); [[ $out == "$ID completed "* ]] \
  || fail "LONGVIDEO_BASE/LONGVIDEO_KEY not used"

# ---- download: both modes give the same files; a partial file is resumed --------------------------------
"${R[@]}" download "$ID" -o "$work/r.mp4" --subtitles --thumbnail >/dev/null || fail "remote download"
"${L[@]}" download "$ID" -o "$work/l.mp4" --subtitles --thumbnail >/dev/null || fail "local download"
cmp "$work/r.mp4" "$work/l.mp4" && cmp "$work/r.vtt" "$work/l.vtt" && cmp "$work/r.jpg" "$work/l.jpg" \
  || fail "remote and local downloads differ"
size=$(stat -c %s "$work/l.mp4")
# A .part of zeros: a resumed download keeps those bytes and fetches only the rest (Range).
head -c 1000 /dev/zero >"$work/p.mp4.part"
"${R[@]}" download "$ID" -o "$work/p.mp4" >/dev/null || fail "resumed download"
[ "$(stat -c %s "$work/p.mp4")" = "$size" ] || fail "the resumed download has the wrong size"
cmp -s -n 1000 "$work/p.mp4" /dev/zero || fail "the partial file was fetched again instead of resumed"
cmp -s -i 1000 "$work/p.mp4" "$work/l.mp4" || fail "the resumed part differs"
[ ! -e "$work/p.mp4.part" ] || fail "the .part file was left behind"

# ---- generate: Ctrl-C cancels (130), --detach leaves the task running (0) ----------------------------------
interrupt() { # generate args..., then SIGINT once the task id is printed; prints the exit code
  "${R[@]}" generate --prompt "a long night train" --duration 30 --quiet "$@" --output "$work/int.mp4" \
    >/dev/null 2>"$work/int.err" &
  local pid=$! rc=0
  for _ in $(seq 200); do grep -q '^task vid_' "$work/int.err" && break; sleep 0.05; done
  kill -INT "$pid"
  wait "$pid" || rc=$?
  echo "$rc"
}
[ "$(interrupt)" = 130 ] || fail "Ctrl-C did not exit 130 ($(cat "$work/int.err"))"
IID=$(sed -n 's/^task \(vid_[A-Za-z0-9]*\):.*/\1/p' "$work/int.err")
out=$("${R[@]}" get "$IID"); [[ $out == "$IID canceled "* ]] || fail "Ctrl-C did not cancel the task: $out"
[ "$(interrupt --detach)" = 0 ] || fail "--detach did not exit 0 ($(cat "$work/int.err"))"
DID=$(sed -n 's/^task \(vid_[A-Za-z0-9]*\):.*/\1/p' "$work/int.err")
out=$("${R[@]}" get "$DID"); [[ $out != *canceled* ]] || fail "--detach canceled the task: $out"
"${R[@]}" cancel "$DID" >/dev/null

# ---- batch: 20 films, killed mid-run, run again: each made and charged once ------------------------------
for i in $(seq 20); do echo "{\"prompt\":\"a lantern festival, view $i\",$SHORT}"; done >"$work/prompts.jsonl"
"${R[@]}" batch "$work/prompts.jsonl" --concurrency 4 --poll-ms 200 >"$work/b1.out" 2>"$work/b1.err" &
bpid=$!
# Kill it once some tasks exist and before all do.
for _ in $(seq 600); do
  n=$("${R[@]}" --json list --limit 100 | jq '[.data[] | select(.prompt | startswith("a lantern"))] | length')
  [ "$n" -ge 6 ] && break
  sleep 0.1
done
kill -KILL "$bpid"
wait "$bpid" 2>/dev/null || true
n=$("${R[@]}" --json list --limit 100 | jq '[.data[] | select(.prompt | startswith("a lantern"))] | length')
echo "[${SECONDS}s] killed the batch with $n of 20 tasks created"
[ "$n" -lt 20 ] || fail "the batch finished before it was killed; nothing to resume"
rc=0
"${R[@]}" batch "$work/prompts.jsonl" --concurrency 4 --poll-ms 200 >"$work/b2.out" 2>"$work/b2.err" || rc=$?
cat "$work/b2.out"
[ "$rc" = 0 ] || fail "the rerun exited $rc: $(tail -n 3 "$work/b2.err")"
grep -q '^20 tasks: 20 completed, 0 failed, 0 unfinished' "$work/b2.out" || fail "no summary of 20 completed films"
[ "$(grep -c ' completed ' "$work/b2.out")" = 20 ] || fail "the summary table lacks rows"
grep -q 'already made\|completed' "$work/b2.err" || fail "no progress display"
# Exactly 20 tasks, each with one reserve in the ledger (every page, through the API).
"${R[@]}" --json list --all --limit 100 | jq -c '.data[] | select(.prompt | startswith("a lantern")) | .task_id' \
  | sort >"$work/tasks"
[ "$(wc -l <"$work/tasks")" = 20 ] || fail "$(wc -l <"$work/tasks") tasks for 20 lines"
"${R[@]}" --json credits --ledger --all --limit 100 | jq -c '.data[] | select(.kind == "reserve") | .task_id' \
  | sort >"$work/reserves"
for t in $(cat "$work/tasks"); do
  [ "$(grep -c "^$t\$" "$work/reserves")" = 1 ] || fail "task $t has $(grep -c "^$t\$" "$work/reserves") reserves"
done
# A third run makes and charges nothing; --json gives the document.
before=$("${R[@]}" --json credits | jq .balance)
"${R[@]}" --json batch "$work/prompts.jsonl" --quiet >"$work/b3.json" || fail "the third run failed"
[ "$(jq .completed "$work/b3.json")" = 20 ] || fail "--json summary: $(cat "$work/b3.json")"
[ "$("${R[@]}" --json credits | jq .balance)" = "$before" ] || fail "the third run charged credits"
# The local mode derives the same keys: on the same store it finds the same 20 tasks, prints the same
# summary, and charges nothing.
"${L[@]}" batch "$work/prompts.jsonl" --workers 0 --quiet >"$work/b4.out" || fail "the local rerun failed"
cmp -s "$work/b2.out" "$work/b4.out" || { diff "$work/b2.out" "$work/b4.out" || true; fail "local batch summary differs"; }
[ "$("${R[@]}" --json credits | jq .balance)" = "$before" ] || fail "the local rerun charged credits"
# The films are media: one of the batch's, read back.
"${R[@]}" download "$(head -n 1 "$work/tasks" | tr -d '"')" -o "$work/b.mp4" >/dev/null
ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/b.mp4" | grep -Eq '^[0-9]' \
  || fail "a batch film does not read back"
# A failing line makes the exit code non-zero (9) and names the line.
printf '%s\n' "{\"prompt\":\"fine\",$SHORT}" '{"prompt":"bad","duration":1}' >"$work/bad.jsonl"
rc=0; "${R[@]}" batch "$work/bad.jsonl" --poll-ms 200 >"$work/bad.out" 2>/dev/null || rc=$?
[ "$rc" = 9 ] || fail "a batch with a rejected line exited $rc, want 9"
grep -q '^2 .*error.*invalid_request: duration' "$work/bad.out" || fail "the rejected line is not in the summary"
# CSV works too (same keys: a rerun of the CSV makes nothing new).
printf 'prompt,duration,aspect_ratio,narration,music,metadata.ref\n"a kite, red",3,1:1,false,false,k1\n' >"$work/p.csv"
"${R[@]}" batch "$work/p.csv" --poll-ms 200 --quiet >"$work/csv.out" || fail "CSV batch: exit $?"
grep -q '^1 tasks: 1 completed' "$work/csv.out" || fail "CSV batch: $(cat "$work/csv.out")"
echo "cli_remote: ok"
