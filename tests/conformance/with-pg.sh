#!/usr/bin/env bash
# Runs a command with LOY_TEST_PG_URL pointing at a throwaway PostgreSQL cluster of its own, which
# is stopped and removed when the command ends, however it ends.
#
#   tests/conformance/with-pg.sh COMMAND [ARG...]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/loy-conformance-pg.XXXXXX)
cleanup() {
	"$root/scripts/pg-cluster.sh" stop "$work/pg" || true
	rm -rf "$work"
}
trap cleanup EXIT

LOY_TEST_PG_URL=$("$root/scripts/pg-cluster.sh" start "$work/pg")
export LOY_TEST_PG_URL
"$@"
