#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for a test run: initdb in DIR, on a free loopback port, its unix
# socket in DIR too, run as an unprivileged user (the `postgres` account when this runs as root).
#
#   scripts/pg.sh start DIR    create and start the cluster; prints its URL (also in DIR/url)
#   scripts/pg.sh url DIR      print the URL of a running cluster
#   scripts/pg.sh stop DIR     stop it and remove DIR
#
# The URL names the superuser `lvtest` (trust authentication on loopback only) and the database
# `postgres`; the tests create a fresh database per test from it.  The role `lvpass` (if a test
# creates it) has to give its password.
set -euo pipefail

cmd="${1:-}"; dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|url|stop DIR" >&2
  exit 2
fi

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  echo "error: PostgreSQL server binaries (initdb) not found; install the Debian package postgresql" >&2
  return 1
}

# Run a command as the cluster's owner: ourselves, or `postgres` (else `nobody`) when we are root.
as_owner() {
  if [ "$(id -u)" -ne 0 ]; then "$@"; return; fi
  local user=postgres
  id -u "$user" >/dev/null 2>&1 || user=nobody
  runuser -u "$user" -- "$@"
}

owner_name() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  if id -u postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

case "$cmd" in
start)
  bin=$(pg_bin)
  mkdir -p "$dir"
  chown "$(owner_name)" "$dir"
  chmod 700 "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U lvtest -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; exit 1; }
  # Every role is trusted on loopback except `lvpass`, which must give its password (the tests of a
  # wrong password use it; they create the role themselves).
  as_owner sed -i '1i host all lvpass 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
  # Loopback only; fsync off (the cluster is thrown away); enough connections for the suites.
  for _ in $(seq 1 20); do
    port=$(( 20000 + RANDOM % 30000 ))
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
         -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
         start >/dev/null 2>&1; then
      url="postgresql://lvtest@127.0.0.1:$port/postgres"
      echo "$url" >"$dir/url"
      echo "$url"
      exit 0
    fi
  done
  echo "error: could not start PostgreSQL in $dir; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
  ;;
url)
  cat "$dir/url"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    bin=$(pg_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|url|stop DIR" >&2
  exit 2
  ;;
esac
