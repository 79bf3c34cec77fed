#!/usr/bin/env bash
# A throwaway S3-compatible server for a test run: s3rver (npm, pinned) on a free loopback port,
# its objects in a temp dir, one bucket created at start.
#
#   eval "$(scripts/s3.sh start [BUILD_DIR])"   start it; prints the export lines below
#   scripts/s3.sh stop                          stop it (uses LV_TEST_S3_PID and LV_TEST_S3_DIR)
#
# Exported by start:
#   LV_TEST_S3_ENDPOINT    http://127.0.0.1:PORT
#   LV_TEST_S3_BUCKET      the bucket that exists
#   LV_TEST_S3_ACCESS_KEY  / LV_TEST_S3_SECRET_KEY  the server's account
#   LV_TEST_S3_PID, LV_TEST_S3_DIR                   for stop
#
# s3rver is installed into BUILD_DIR/npm (default build/npm) with `npm install --prefix` the first
# time.  It speaks the S3 REST API (SigV4 headers and presigned query strings, multipart uploads,
# ranges, ListObjectsV2) but does not verify SigV4 signatures: it refuses an unknown access key, not a
# wrong secret.  The signing itself is libcurl's; the presigning code is checked against AWS's
# published example in tests/test_storage.c.
set -euo pipefail
S3RVER_VERSION=3.7.1
cd "$(dirname "$0")/.."

start() {
  local build=${1:-build} npmdir bin dir log port i
  npmdir="$build/npm"
  bin="$npmdir/node_modules/.bin/s3rver"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "s3.sh: node and npm are needed (Debian: nodejs npm)" >&2
    return 1
  fi
  if [ ! -x "$bin" ]; then
    mkdir -p "$npmdir"
    npm install --prefix "$npmdir" --no-audit --no-fund --loglevel=error "s3rver@$S3RVER_VERSION" >&2
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/lv-s3.XXXXXX")
  log="$dir/s3rver.log"
  mkdir -p "$dir/data"
  # Port 0: the kernel picks a free port; s3rver prints the one it bound.
  setsid "$bin" -d "$dir/data" -a 127.0.0.1 -p 0 --service-endpoint localhost --configure-bucket lvtest >"$log" 2>&1 </dev/null &
  local pid=$!
  port=""
  for i in $(seq 1 150); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "s3.sh: s3rver exited at start:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  if [ -z "$port" ]; then
    echo "s3.sh: s3rver did not start within 30 s:" >&2
    cat "$log" >&2
    kill "$pid" 2>/dev/null || true
    return 1
  fi
  cat <<EOF
export LV_TEST_S3_ENDPOINT=http://127.0.0.1:$port
export LV_TEST_S3_BUCKET=lvtest
export LV_TEST_S3_ACCESS_KEY=S3RVER
export LV_TEST_S3_SECRET_KEY=S3RVER
export LV_TEST_S3_PID=$pid
export LV_TEST_S3_DIR=$dir
EOF
}

stop() {
  if [ -n "${LV_TEST_S3_PID:-}" ]; then
    kill "$LV_TEST_S3_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$LV_TEST_S3_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$LV_TEST_S3_PID" 2>/dev/null || true
  fi
  case "${LV_TEST_S3_DIR:-}" in
    */lv-s3.*) rm -rf "$LV_TEST_S3_DIR" ;;
  esac
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start [BUILD_DIR] | stop" >&2; exit 2 ;;
esac
