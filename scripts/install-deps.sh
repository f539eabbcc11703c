#!/usr/bin/env bash
# Install what Loy needs on Debian 12, and nothing when it is all there.
#
#   scripts/install-deps.sh [run|test]     (default: test)
#
#   run   build + runtime: what `make run` needs (compiler, cmake, the -dev libraries incl. cmocka's,
#         sqlite3, curl).
#   test  everything `make test` and `make bench` need on top: PostgreSQL and Redis servers, Node.js,
#         wrk, chromium, clang (libFuzzer, sanitizers), clang-format; then `npm ci` in tests/http.
#
# Fast path: one dpkg-query for the whole list (well under a second). apt-get runs only for the
# packages that are missing. Services are kept from being started by apt (policy-rc.d), since the
# test scripts start their own throwaway PostgreSQL and Redis, and CI machines have no systemd.
# Prints one line of what it installed; prints nothing when nothing was missing.
set -euo pipefail

mode=${1:-test}
case "$mode" in
run | test) ;;
-h | --help)
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	exit 0
	;;
*)
	echo "install-deps: unknown set '$mode' (expected 'run' or 'test')" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."

run_pkgs=(
	build-essential cmake pkg-config git
	libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 libpq-dev libhiredis-dev
	libssl-dev openssl libcurl4-openssl-dev libzip-dev libpng-dev libqrencode-dev libsodium-dev libjwt-dev
	libcmocka-dev # CMakeLists.txt configures tests/unit with cmocka REQUIRED, so the build needs it
	ca-certificates curl
)
test_pkgs=(
	postgresql postgresql-client redis-server
	wrk chromium
	unzip # tests/unit/test_pkpass takes passes apart with unzip and zipinfo
	clang libclang-rt-14-dev clang-format
)

want=("${run_pkgs[@]}")
if [ "$mode" = test ]; then
	want+=("${test_pkgs[@]}")
	# Node.js: keep whatever `node` is installed (a NodeSource nodejs already bundles npm and
	# conflicts with Debian's npm package); otherwise take Debian's.
	if ! command -v node >/dev/null 2>&1; then
		want+=(nodejs npm)
	fi
fi

# One dpkg-query for all: a package counts as present when "install ok installed" (or "hold ok
# installed"); half-installed or config-files-only packages are installed again.
declare -A have=()
while read -r pkg status; do
	case "$status" in
	"install ok installed" | "hold ok installed") have[$pkg]=1 ;;
	esac
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null || true)

missing=()
for p in "${want[@]}"; do
	[ -n "${have[$p]:-}" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			SUDO=(sudo)
		else
			echo "install-deps: missing ${missing[*]}; run as root (or install sudo)" >&2
			exit 1
		fi
	else
		SUDO=()
	fi

	# Keep apt from starting postgresql/redis: a policy-rc.d that says "no" (exit 101), only for
	# the length of this install, and only if the machine has none of its own.
	policy=/usr/sbin/policy-rc.d
	made_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# temporary, from loy scripts/install-deps.sh\nexit 101\n' |
			"${SUDO[@]}" tee "$policy" >/dev/null
		"${SUDO[@]}" chmod 755 "$policy"
		made_policy=1
	fi
	cleanup() { if [ -n "$made_policy" ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
	trap cleanup EXIT

	log=$(mktemp -t loy-apt.XXXXXX)
	export DEBIAN_FRONTEND=noninteractive
	if ! { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}"; } \
		>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "install-deps: apt-get failed installing: ${missing[*]} (full log: $log)" >&2
		exit 1
	fi
	rm -f "$log"
	echo "install-deps ($mode): installed ${missing[*]}"
fi

# Node packages of the integration tests (tests/http belongs to the test suite; handled if present).
if [ "$mode" = test ] && [ -f tests/http/package-lock.json ] && [ ! -d tests/http/node_modules ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "install-deps: npm not found; cannot install tests/http packages" >&2
		exit 1
	fi
	if ! out=$(npm ci --prefix tests/http --no-audit --no-fund --loglevel=error 2>&1); then
		printf '%s\n' "$out" >&2
		echo "install-deps: npm ci in tests/http failed" >&2
		exit 1
	fi
	echo "install-deps ($mode): installed tests/http node packages (npm ci)"
fi
