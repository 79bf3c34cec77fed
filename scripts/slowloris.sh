#!/bin/sh
# Slowloris measurement: start lvserver, hold SLOW connections open from 127.0.0.2 that never finish
# their request head, and measure /healthz latency and the rate of authenticated GET /v1/videos/{id}
# from 127.0.0.1 against a baseline measured in the same run (bench/bench_slowloris.c; run by
# scripts/bench.sh).
#   scripts/slowloris.sh [SECONDS] [SLOW]      (defaults: 10 s per phase, 500 connections)
set -eu
seconds=${1:-10}
slow=${2:-500}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-"$root/build"}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target lvserver lvctl lv-bench-slowloris >/dev/null
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
# Every slow connection is let in (the per-address limit is above SLOW): the point is that holding
# them costs no worker thread.
cat >"$dir/config.json" <<JSON
{"server": {"max_connections_per_ip": $((slow + 64)), "max_connections": $((slow + 512))},
 "pipeline": {"workers": 0}}
JSON
LV_LOG_LEVEL=warn "$build/bin/lvserver" --config "$dir/config.json" --data-dir "$dir/data" \
	--listen 127.0.0.1:0 --port-file "$dir/port" 2>"$dir/server.log" &
pid=$!
i=0
while [ ! -s "$dir/port" ]; do
	i=$((i + 1))
	[ "$i" -lt 200 ] || { cat "$dir/server.log"; exit 1; }
	sleep 0.1
done
key=$("$build/bin/lvctl" --config "$dir/config.json" --data-dir "$dir/data" keys create --name slowloris \
	--credits 1000 | head -n 1)
"$build/bin/lv-bench-slowloris" --port "$(cat "$dir/port")" --key "$key" --seconds "$seconds" --slow "$slow"
