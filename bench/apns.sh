#!/usr/bin/env bash
# APNs pushes per second (issue 3: "pushes per second to a fast local HTTP/2 server for 100 000
# device tokens"; aim: at least 20 000/s). Loy's client (wallet/apple/apns over net/http2: one TLS
# connection, the pass certificate as client certificate, up to BENCH_APNS_STREAMS streams) pushes N
# tokens in one apns_push call to:
#   1. the fake APNs (tests/fakes/apns.js, Node), beside its own ceiling measured by a Node HTTP/2
#      client (bench/apns_fake_client.js; h2load cannot send a client certificate);
#   2. bench/apns_server.c (nghttp2 + OpenSSL, answers 200 after reading the body, as APNs does),
#      with nghttp2's rapid-reset protection on (as a protected server has it), beside its ceiling
#      by h2load on the same server;
#   3. the same server with that protection off, which shows the client's own multiplexing speed:
#      libcurl 7.88 ends every completed stream with RST_STREAM, so a protected server sends GOAWAY
#      about every 1 000 streams and the client reconnects (see bench/apns_server.c).
# nghttpd (--echo-upload) is not used: it answers near 12 000 requests/s on one connection here,
# below the aim, so it cannot measure the client. nginx's `return 200` answers before reading the
# body and resets the stream, which libcurl 7.88 counts as a failure.
#   bench/apns.sh [BUILD_DIR] [N]          (default build, 100000 tokens)
# Knobs: BENCH_APNS_STREAMS (500, the client's cap), BENCH_APNS_SWEEP=1 (also 10 50 100 1000
# streams against server 3), BENCH_APNS_PIN (1: client on CPU 0, servers on CPU 1, when taskset and
# 2+ cores exist). Installs nghttp2-client (h2load) and libnghttp2-dev when missing and run as root.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

build=${1:-build}
n=${2:-100000}
streams=${BENCH_APNS_STREAMS:-500}
aim=20000
root=$(cd "$BENCH_ROOT/.." && pwd)
need cc node pkg-config
[ -f "$build/libloy_core.a" ] || die "apns: no $build/libloy_core.a (cmake -S . -B $build && cmake --build $build)"

missing=()
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
pkg-config --exists libnghttp2 || missing+=(libnghttp2-dev)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "apns: needs ${missing[*]} (apt-get install ${missing[*]})"
	echo "apns: installing ${missing[*]}"
	apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 && apt-get install -y "${missing[@]}" >/dev/null; } ||
		die "apns: cannot install ${missing[*]}"
fi

client_cpu=() server_cpu=()
if [ "${BENCH_APNS_PIN:-1}" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	client_cpu=(taskset -c 0)
	server_cpu=(taskset -c 1)
fi

bin=$BENCH_WORK/apns
srv=$BENCH_WORK/apns_server
if [ ! -x "$bin" ] || [ "$BENCH_ROOT/apns.c" -nt "$bin" ] || [ "$build/libloy_core.a" -nt "$bin" ]; then
	# shellcheck disable=SC2046
	cc -O2 -std=gnu17 -Wall -Wextra -I"$root/src" -o "$bin" "$BENCH_ROOT/apns.c" \
		"$build/libloy_core.a" $(pkg-config --libs libmicrohttpd jansson sqlite3 libpq \
		libsodium libjwt openssl libzip libcurl libpng) -lpthread || die "apns: cannot compile apns.c"
fi
if [ ! -x "$srv" ] || [ "$BENCH_ROOT/apns_server.c" -nt "$srv" ]; then
	# shellcheck disable=SC2046
	cc -O2 -std=gnu17 -Wall -Wextra -o "$srv" "$BENCH_ROOT/apns_server.c" \
		$(pkg-config --cflags --libs libnghttp2 openssl) || die "apns: cannot compile apns_server.c"
fi
certs=$BENCH_WORK/apns-certs
mkdir -p "$certs"

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do stop_pid "$p"; done
}
trap cleanup EXIT

# start_server NAME CMD...: runs CMD in the background, waits for its "listening URL" line, sets URL.
start_server() {
	local name=$1 out=$BENCH_WORK/apns-$1.out i
	shift
	"$@" >"$out" 2>&1 </dev/null &
	pids+=($!)
	for i in $(seq 1 100); do
		URL=$(sed -n 's/^listening //p' "$out" | head -n 1)
		[ -n "$URL" ] && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$out" >&2
	die "apns: $name did not start"
}

# push URL STREAMS: the driver's best of BENCH_ROUNDS (1) rounds; sets PPS and CPU_US.
push() {
	local line
	line=$("${client_cpu[@]}" "$bin" "$certs" "$1" "$n" "$2" "${BENCH_ROUNDS:-1}" | tail -n 1) ||
		die "apns: the client failed against $1: $line"
	PPS=$(printf '%s\n' "$line" | sed -n 's/.*pushes_per_s=\([0-9]*\).*/\1/p')
	CPU_US=$(printf '%s\n' "$line" | sed -n 's/.*cpu_us_per_push=\([0-9.]*\).*/\1/p')
}

h2load_rps() { # h2load_rps URL: the server's ceiling on one connection, 500 streams
	local tok
	tok=$(openssl rand -hex 32)
	printf '{}' >"$BENCH_WORK/apns-body.json"
	"${client_cpu[@]}" h2load -n "$n" -c 1 -m 500 -d "$BENCH_WORK/apns-body.json" \
		-H 'apns-topic: pass.dev.loy.demo' "$1/3/device/$tok" 2>&1 |
		awk '/^finished in/ { printf "%.0f", $4 }'
}

row() { printf '  %-44s %9s pushes/s  %6s us CPU/push  ceiling %9s req/s (%s)\n' "$@"; }

echo "APNs: $n tokens in one apns_push, one connection, $streams streams; aim $aim pushes/s"
echo "  ${client_cpu[*]:+client ${client_cpu[*]}, servers ${server_cpu[*]}; }CPU busy before: $(cpu_busy_pct) %"
"$bin" "$certs" https://127.0.0.1:1 1 >/dev/null 2>&1 || true # makes the certificates

start_server fake "${server_cpu[@]}" node "$root/tests/fakes/apns.js" --quiet --port 0 \
	--ca "$certs/ca.pem" --cert "$certs/localhost.pem" --key "$certs/localhost.key"
push "$URL" "$streams"
fake_pps=$PPS fake_cpu=$CPU_US
fake_ceiling=$("${client_cpu[@]}" node "$BENCH_ROOT/apns_fake_client.js" "$URL" "$certs" 20000 500 |
	sed -n 's/^req_per_s=\([0-9]*\).*/\1/p')
row "fake APNs (Node)" "$fake_pps" "$fake_cpu" "${fake_ceiling:-?}" "Node HTTP/2 client"

start_server guarded "${server_cpu[@]}" "$srv" "$certs" 0 1000 0
push "$URL" "$streams"
guarded_pps=$PPS guarded_cpu=$CPU_US
guarded_ceiling=$(h2load_rps "$URL")
row "apns_server, nghttp2 reset protection on" "$guarded_pps" "$guarded_cpu" "${guarded_ceiling:-?}" "h2load"

start_server open "${server_cpu[@]}" "$srv" "$certs" 0 1000 100000000
push "$URL" "$streams"
open_pps=$PPS open_cpu=$CPU_US
open_url=$URL
open_ceiling=$(h2load_rps "$URL")
row "apns_server, reset protection off" "$open_pps" "$open_cpu" "${open_ceiling:-?}" "h2load"

if [ "${BENCH_APNS_SWEEP:-0}" = 1 ]; then
	for s in 10 50 100 1000; do
		push "$open_url" "$s"
		row "  same, $s streams" "$PPS" "$CPU_US" "${open_ceiling:-?}" "h2load"
	done
fi

result apns.fake_pushes_per_s "$fake_pps"
result apns.fake_ceiling_per_s "${fake_ceiling:-0}"
result apns.guarded_pushes_per_s "$guarded_pps"
result apns.guarded_ceiling_per_s "${guarded_ceiling:-0}"
result apns.open_pushes_per_s "$open_pps"
result apns.open_ceiling_per_s "${open_ceiling:-0}"
result apns.client_cpu_us_per_push "$open_cpu"
best=$(printf '%s\n' "$guarded_pps" "$open_pps" | sort -n | tail -n 1)
printf '  best against a fast server: %s pushes/s, %s %% of the aim (%s/s)\n' "$best" \
	"$(awk -v a="$best" -v b="$aim" 'BEGIN { printf "%.0f", 100 * a / b }')" "$aim"
