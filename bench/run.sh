#!/usr/bin/env bash
# make bench: every benchmark in one run, then one table of each figure beside its peer or limit.
#   bench/run.sh LOYBIN          (e.g. build/loy)
#
# Figures are printed, never asserted: the table says whether each aim of issue 2 is met, and the
# exit status is non-zero only when a piece could not run (or Loy answered errors under load).
# Pieces, each runnable alone: fsync.sh (disk), mhd.sh (bare libmicrohttpd hello), express.sh
# (Express hello), loy.sh LOYBIN. About 1 minute in all; traffic only to 127.0.0.1.
# Knobs (environment): BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_CONNS (64), BENCH_THREADS (2),
# BENCH_PIN=1 (servers on one core, wrk on the other).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: bench/run.sh LOYBIN"
loy=$1

export BENCH_RESULTS
BENCH_RESULTS=$(mktemp "$BENCH_WORK/results.XXXXXX")
trap 'rm -f "$BENCH_RESULTS"' EXIT

echo "== Loy benchmarks on $(nproc) cores, $(uname -sr); wrk -t$BENCH_THREADS -c$BENCH_CONNS -d${BENCH_DURATION}s;" \
	"$([ ${#SERVER_CPU[@]} -gt 0 ] && echo "servers pinned to CPU 1, wrk to CPU 0" || echo "no CPU pinning")"
failed=()
busy=()
piece() {
	local name=$1 load
	shift
	echo
	# Other work on the machine (a build, a test suite) skews every figure: say so.
	load=$(cpu_busy_pct)
	if [ "$load" -gt 10 ]; then
		busy+=("$name ($load % CPU busy)")
	fi
	if ! "$@"; then
		failed+=("$name")
		echo "   ($name did not complete)"
	fi
}
piece fsync "$BENCH_ROOT/fsync.sh"
piece mhd "$BENCH_ROOT/mhd.sh"
piece express "$BENCH_ROOT/express.sh"
piece loy "$BENCH_ROOT/loy.sh" "$loy"

# ---- the table -------------------------------------------------------------------------------
get() { sed -n "s/^$1=//p" "$BENCH_RESULTS" | tail -n 1; }
fmt() { # fmt N UNIT: "72 000 req/s", or "-" when not measured (ASCII only: the table is aligned by printf)
	if [ -n "$1" ]; then
		printf '%s' "$(printf '%s' "$1" | sed -E ':a; s/^([0-9]+)([0-9]{3})/\1 \2/; ta')"
		[ -z "${2:-}" ] || printf ' %s' "$2"
	else
		printf -- '-'
	fi
}
ratio() { # ratio A B → "1.23×" or "—"
	if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
	else
		printf -- '-'
	fi
}
verdict() { # verdict A B AIM → "met" / "NOT met" / ""
	if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ]; then
		awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { print (a / b >= m) ? "met" : "NOT met" }'
	fi
}

fs=$(get fsync.ops)
mhd=$(get mhd.rps)
ex=$(get express.rps)
card=$(get loy_card.rps)
credit=$(get loy_credit.rps)

row() { printf '%-30s | %-18s | %-34s | %-7s | %s\n' "$@"; }
echo
echo "== Results (measured in this run; aims from issue 2, not asserted)"
row "name" "figure" "peer/limit" "ratio" "aim"
row "------------------------------" "------------------" "----------------------------------" "-------" "-----------"
row "disk fdatasync, 4 KiB" "$(fmt "$fs" ops/s)" "(issue 2: ~3 800 here)" "" ""
row "bare MHD hello, 1 epoll thread" "$(fmt "$mhd" req/s)" "(DESIGN: ~72 000 here)" "" ""
row "Express hello, 1 Node process" "$(fmt "$ex" req/s)" "(DESIGN: ~3 500 here)" "" ""
row "loy GET /cards/{n}" "$(fmt "$card" req/s)" "bare MHD hello $(fmt "$mhd")" "$(ratio "$card" "$mhd")" ">= 0.5x $(verdict "$card" "$mhd" 0.5)"
row "loy POST credit (durable)" "$(fmt "$credit" req/s)" "Express hello $(fmt "$ex")" "$(ratio "$credit" "$ex")" ">= 4x $(verdict "$credit" "$ex" 4)"
row "loy POST credit (durable)" "$(fmt "$credit" req/s)" "fdatasync $(fmt "$fs")" "$(ratio "$credit" "$fs")" ">= 4x $(verdict "$credit" "$fs" 4)"
lat() { if [ -n "$(get "$1.p50_ms")" ]; then printf '%s / %s ms' "$(get "$1.p50_ms")" "$(get "$1.p99_ms")"; else printf -- '-'; fi; }
row "loy GET /cards/{n} p50 / p99" "$(lat loy_card)" "MHD hello $(lat mhd)" "" ""
row "loy POST credit p50 / p99" "$(lat loy_credit)" "Express hello $(lat express)" "" ""
rss=$(get loy.rss_kib)
row "loy peak RSS (VmHWM)" "$(if [ -n "$rss" ]; then awk -v k="$rss" 'BEGIN { printf "%.1f MiB", k / 1024 }'; else printf -- '-'; fi)" "" "" ""
acked=$(get loy.credits_acked)
row "loy credits acked / applied" "$(fmt "$acked") / $(fmt "$(get loy.credits_applied)")" "applied >= acked" "" ""
v=$(get loy.verify)
row "loy verify (after the runs)" "${v:--}" "" "" ""

if [ ${#busy[@]} -gt 0 ]; then
	echo
	echo "note: other work was using the CPU just before: ${busy[*]};"
	echo "      the figures are noisy. Run again on a quiet machine."
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo
	echo "bench: did not complete: ${failed[*]}"
	exit 1
fi
