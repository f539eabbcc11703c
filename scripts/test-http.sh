#!/usr/bin/env bash
# Runs the HTTP integration suite (tests/http, Node's test runner) against a loy binary.
#
#   scripts/test-http.sh MODE LOYBIN [node --test args...]
#     MODE    sqlite    each test file's server gets a fresh SQLite file
#             postgres  a throwaway cluster (scripts/pg-cluster.sh) is started for the run; each
#                       test file's server gets a fresh database in it
#     LOYBIN  the binary, e.g. build/loy
#   Extra arguments go to `node --test` (e.g. --test-name-pattern=register, or test files).
#   LOY_TEST_VERBOSE=1 echoes the servers' logs; LOY_TEST_KEEP=1 keeps their temp dirs/databases.
#
# Exits non-zero on any failure.
set -euo pipefail

usage() {
	sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 2 ] || usage
mode=$1
bin=$2
shift 2
case "$mode" in sqlite | postgres) ;; *) usage ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
[ -x "$bin" ] || {
	echo "test-http: $bin is not an executable (build it first: make build)" >&2
	exit 2
}
command -v node >/dev/null || {
	echo "test-http: node not found (scripts/install-deps.sh test installs it)" >&2
	exit 2
}

if [ ! -d tests/http/node_modules ]; then
	echo "test-http: installing tests/http node packages (npm ci)" >&2
	npm ci --prefix tests/http --no-audit --no-fund --loglevel=error >&2
fi

export LOY_BIN="$bin"
export LOY_TEST_DB="$mode"

pgdir=
cleanup() {
	if [ -n "$pgdir" ]; then
		scripts/pg-cluster.sh stop "$pgdir" || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$mode" = postgres ]; then
	command -v psql >/dev/null || {
		echo "test-http: psql not found (Debian package postgresql-client)" >&2
		exit 2
	}
	pgdir=$(mktemp -d /tmp/loy-http-pg.XXXXXX)
	rmdir "$pgdir" # pg-cluster.sh wants it absent or empty, and makes it itself
	LOY_TEST_PG_URL=$(scripts/pg-cluster.sh start "$pgdir")
	export LOY_TEST_PG_URL
	echo "test-http: PostgreSQL at $LOY_TEST_PG_URL" >&2
fi

files=()
if [ $# -eq 0 ] || [[ "$*" != *.test.js* ]]; then
	files=(tests/http/*.test.js)
fi

start=$(date +%s)
rc=0
node --test --test-concurrency=2 --test-timeout=120000 "$@" "${files[@]}" || rc=$?
echo "test-http ($mode): $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s" >&2
exit $rc
