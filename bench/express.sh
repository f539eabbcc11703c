#!/usr/bin/env bash
# The peer: an Express hello-world JSON server (bench/express/, one Node process) under wrk.
#   bench/express.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need node npm wrk

dir=$BENCH_ROOT/express
if [ ! -d "$dir/node_modules/express" ]; then
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2 ||
		die "express: npm ci in bench/express failed"
fi

out=$BENCH_WORK/express.out
NODE_ENV=production "${SERVER_CPU[@]}" node "$dir/server.js" >"$out" 2>&1 &
pid=$!
trap 'stop_pid $pid' EXIT
for _ in $(seq 1 200); do
	grep -q '^port=' "$out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
port=$(sed -n 's/^port=//p' "$out")
[ -n "$port" ] && wait_port "$port" "$pid" 5 || { cat "$out" >&2; die "express: server did not start"; }

echo "Express $(node -p 'require(process.argv[1]).version' "$dir/node_modules/express/package.json") hello on Node $(node --version), wrk -t$BENCH_THREADS -c$BENCH_CONNS -d${BENCH_DURATION}s"
run_wrk express "http://127.0.0.1:$port/"
