#!/usr/bin/env bash
# Run a test program with its store on the PostgreSQL server of this test run (LV_TEST_PG_URL,
# see scripts/pg.sh): LV_TEST_STORE tells the suites' helpers to give each store a fresh
# database there.  Without a server the test reports "skipped" (exit 77).
if [ -z "${LV_TEST_PG_URL:-}" ]; then
  echo "no PostgreSQL server for this run (LV_TEST_PG_URL unset): skipped"
  exit 77
fi
export LV_TEST_STORE="$LV_TEST_PG_URL"
exec "$@"
