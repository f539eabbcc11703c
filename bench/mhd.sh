#!/usr/bin/env bash
# The bare-server reference: bench/mhd_hello.c (libmicrohttpd, one epoll thread) under wrk.
#   bench/mhd.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need cc pkg-config wrk

bin=$BENCH_WORK/mhd_hello
if [ ! -x "$bin" ] || [ "$BENCH_ROOT/mhd_hello.c" -nt "$bin" ]; then
	# shellcheck disable=SC2046
	cc -O2 -std=gnu17 -Wall -Wextra -o "$bin" "$BENCH_ROOT/mhd_hello.c" \
		$(pkg-config --cflags --libs libmicrohttpd) -lpthread ||
		die "mhd: cannot compile mhd_hello.c (libmicrohttpd-dev installed?)"
fi

out=$BENCH_WORK/mhd_hello.out
"${SERVER_CPU[@]}" "$bin" >"$out" 2>&1 &
pid=$!
trap 'stop_pid $pid' EXIT
for _ in $(seq 1 100); do
	grep -q '^port=' "$out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
port=$(sed -n 's/^port=//p' "$out")
[ -n "$port" ] && wait_port "$port" "$pid" 5 || { cat "$out" >&2; die "mhd: hello server did not start"; }

echo "bare libmicrohttpd hello (1 epoll thread), wrk -t$BENCH_THREADS -c$BENCH_CONNS -d${BENCH_DURATION}s"
run_wrk mhd "http://127.0.0.1:$port/"
