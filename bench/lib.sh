# Helpers shared by the bench scripts (sourced, not run).
#
# Every piece writes its figures as key=value lines to $BENCH_RESULTS when run.sh sets it, and
# prints them for a person either way. All traffic goes to 127.0.0.1; every step has a time limit.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_WORK=${BENCH_WORK:-$BENCH_ROOT/.work}
BENCH_DURATION=${BENCH_DURATION:-10}   # seconds per wrk run
BENCH_CONNS=${BENCH_CONNS:-64}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_WARMUP=${BENCH_WARMUP:-2}       # seconds of unmeasured load first (JIT, caches); 0: none
# BENCH_PIN=1: the server on CPU 1 only and wrk on CPU 0, i.e. "the server on one core" as DESIGN.md
# measured its peers. Default: no pinning; server and wrk share all cores.
BENCH_PIN=${BENCH_PIN:-0}
SERVER_CPU=()
WRK_CPU=()
if [ "$BENCH_PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	SERVER_CPU=(taskset -c 1)
	WRK_CPU=(taskset -c 0)
fi
mkdir -p "$BENCH_WORK"

die() {
	echo "bench: $*" >&2
	exit 1
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "'$c' not found (scripts/install-deps.sh test installs it)"
	done
}

# result KEY VALUE: record one figure.
result() {
	if [ -n "${BENCH_RESULTS:-}" ]; then
		printf '%s=%s\n' "$1" "$2" >>"$BENCH_RESULTS"
	fi
}

# port_free PORT: true when nothing answers on 127.0.0.1:PORT.
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: a port in 20000..59999 on which nothing listens now.
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# wait_port PORT PID [SECONDS]: wait until PORT accepts connections while PID is alive.
wait_port() {
	local port=$1 pid=$2 limit=${3:-10} i
	for i in $(seq 1 $((limit * 20))); do
		kill -0 "$pid" 2>/dev/null || return 1
		port_free "$port" || return 0
		sleep 0.05
	done
	return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 5 s; waits for it.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}

# cpu_busy_pct: how busy all CPUs were over the next second, in percent (iowait counts as idle).
cpu_busy_pct() {
	local a b
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		n = split(a, x); split(b, y); tot = 0
		for (i = 2; i <= n; i++) tot += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		printf "%d", (tot > 0 ? 100 * (tot - idle) / tot : 0)
	}'
}

# peak_rss_kib PID: VmHWM of a live process, in KiB.
peak_rss_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# run_wrk PREFIX URL [LUA]: a warm-up of BENCH_WARMUP s, then the measured wrk run with the shared
# parameters; records PREFIX.rps, PREFIX.p50_ms, PREFIX.p99_ms, PREFIX.requests, PREFIX.non2xx,
# PREFIX.errors and sets WRK_<same>; WRK_warm_ok is the warm-up's 2xx count. Returns non-zero when
# wrk failed or nothing was answered.
run_wrk() {
	local prefix=$1 url=$2 lua=${3:-$BENCH_ROOT/wrk/report.lua} out line
	need wrk
	WRK_warm_ok=0
	if [ "${BENCH_WARMUP:-0}" -gt 0 ]; then
		out=$(timeout $((BENCH_WARMUP + 20)) "${WRK_CPU[@]}" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNS" \
			-d"${BENCH_WARMUP}s" --timeout 5s -s "$lua" "$url" 2>&1) || true
		line=$(printf '%s\n' "$out" | grep '^BENCH ' | tail -n 1)
		if [[ "$line" =~ requests=([0-9]+)\ non2xx=([0-9]+) ]]; then
			WRK_warm_ok=$((BASH_REMATCH[1] - BASH_REMATCH[2]))
		fi
	fi
	out=$(timeout $((BENCH_DURATION + 20)) "${WRK_CPU[@]}" wrk -t"$BENCH_THREADS" -c"$BENCH_CONNS" \
		-d"${BENCH_DURATION}s" --timeout 5s -s "$lua" "$url" 2>&1) || {
		printf '%s\n' "$out" >&2
		echo "bench: wrk failed against $url" >&2
		return 1
	}
	line=$(printf '%s\n' "$out" | grep '^BENCH ' | tail -n 1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" >&2
		echo "bench: wrk printed no summary" >&2
		return 1
	fi
	# line: BENCH rps=... p50_ms=... p99_ms=... requests=... non2xx=... errors=...
	local kv k v
	for kv in ${line#BENCH }; do
		k=${kv%%=*}
		v=${kv#*=}
		result "$prefix.$k" "$v"
		eval "WRK_$k=\$v"
	done
	printf '  %-28s %10s req/s   p50 %s ms   p99 %s ms   (%s requests, %s non-2xx, %s socket errors)\n' \
		"$prefix" "$WRK_rps" "$WRK_p50_ms" "$WRK_p99_ms" "$WRK_requests" "$WRK_non2xx" "$WRK_errors"
	[ "${WRK_requests:-0}" -gt 0 ]
}
