#!/usr/bin/env bash
# A client generated from docs/openapi.json runs the quickstart against a real lvserver:
# openapi-typescript generates the types, tsc --strict checks tests/openapi/quickstart.mts against
# them (with openapi-fetch as the client), and the compiled script runs create -> events -> get ->
# download; the downloaded film is read back with ffprobe.
# usage: client.sh SOURCE_DIR BIN_DIR BUILD_DIR      (77: node/npm missing)
set -euo pipefail
src=$1 bin=$2 build=$3
modules=$("$src/tests/openapi/npm.sh" "$build") || exit $?
# The generated client lives beside node_modules so that module resolution finds openapi-fetch.
gen="$(dirname "$modules")/client"
rm -rf "$gen"
mkdir -p "$gen"
work=$(mktemp -d "${TMPDIR:-/tmp}/lvclient.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Fields with a default are optional in requests (openapi-typescript 7 would make them required).
node "$modules/openapi-typescript/bin/cli.js" "$src/docs/openapi.json" --default-non-nullable false -o "$gen/api.d.ts"
cp "$src/tests/openapi/quickstart.mts" "$gen/"
node "$modules/typescript/bin/tsc" --strict --noEmitOnError --target es2022 --module nodenext \
  --moduleResolution nodenext --types node --typeRoots "$modules/@types" --outDir "$gen" "$gen/quickstart.mts"

cat >"$work/config.json" <<'JSON'
{"providers": {"local": {"type": "local", "latency_ms": 0}}}
JSON
export LV_LOG_LEVEL=warn
KEY=$("$bin/lvctl" --config "$work/config.json" --data-dir "$work/data" --json keys create --name sdk \
  --credits 1000 | jq -r .api_key)
"$bin/lvserver" --config "$work/config.json" --data-dir "$work/data" --listen 127.0.0.1:0 \
  --port-file "$work/port" --workers 1 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "client: lvserver did not start"; cat "$work/server.log"; exit 1; }

timeout 300 node "$gen/quickstart.mjs" "http://127.0.0.1:$(cat "$work/port")" "$KEY" "$work/film.mp4" \
  || { echo "client: the quickstart failed"; cat "$work/server.log"; exit 1; }
# The download is a film: one H.264 video stream of about 5 s.
probe=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name:format=duration -of csv=p=0 "$work/film.mp4")
echo "ffprobe: $probe"
echo "$probe" | grep -q '^h264' || { echo "client: the download has no H.264 video"; exit 1; }
awk -v d="$(echo "$probe" | tail -1)" 'BEGIN { exit !(d > 4.5 && d < 5.5) }' \
  || { echo "client: the film does not last about 5 s"; exit 1; }
echo "client: ok"
