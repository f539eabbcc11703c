#!/usr/bin/env bash
# Loy under load: the authenticated card lookup and the durable credit, with a fresh SQLite database.
#   bench/loy.sh LOYBIN            (e.g. build/loy)
#
# 1. fresh temp dir under bench/.work; `loy migrate`; an owner (`loy user add`); an API key
#    (`loy apikey create --name bench --role cashier`)
# 2. `loy serve` on a free 127.0.0.1 port; the key exchanged for a JWT (POST /api/v1/auth/token);
#    one customer (POST /api/v1/customers)
# 3. wrk, 64 connections: GET /api/v1/cards/{cardNumber}, then POST /api/v1/customers/{id}/transactions
#    {"type":"credit","amount":1} (durable: WAL, synchronous=FULL)
# 4. peak RSS (VmHWM) of the serve process; stop it; `loy verify` must pass.
# Environment: LOY_THREADS etc. pass through to `loy serve`; BENCH_DURATION (s per run, default 10).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl node wrk

[ $# -ge 1 ] || die "usage: bench/loy.sh LOYBIN"
loy=$1
[ -x "$loy" ] || die "loy: $loy is not an executable (make build first)"
loy=$(cd "$(dirname "$loy")" && pwd)/$(basename "$loy")

notready() {
	echo "bench: loy: the server is not ready for this benchmark: $*" >&2
	[ -n "${log:-}" ] && [ -s "$log" ] && { echo "--- last lines of loy serve's log ($log):" >&2; tail -n 15 "$log" >&2; }
	exit 1
}

# json_get KEY < JSON: the top-level KEY of a JSON object, or nothing.
json_get() {
	node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			try { const v = JSON.parse(s)[process.argv[1]]; if (v !== undefined && v !== null) process.stdout.write(String(v)); }
			catch (e) {}
		});' "$1"
}

# http METHOD PATH [BODY]: sets STATUS and BODY_OUT; bearer token when $token is set.
http() {
	local method=$1 path=$2 data=${3:-} args=()
	args=(-s -o "$tmp/resp" -w '%{http_code}' --max-time 10 -X "$method")
	[ -n "${token:-}" ] && args+=(-H "Authorization: Bearer $token")
	[ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	STATUS=$(curl "${args[@]}" "http://127.0.0.1:$port$path") || STATUS=000
	BODY_OUT=$(cat "$tmp/resp" 2>/dev/null || true)
}

tmp=$(mktemp -d "$BENCH_WORK/loy.XXXXXX")
log=$tmp/serve.log
pid=
cleanup() {
	local rc=$?
	[ -n "$pid" ] && stop_pid "$pid"
	if [ "$rc" = 0 ]; then
		rm -rf "$tmp"
	else
		echo "bench: loy: database and logs kept in $tmp" >&2
	fi
}
trap cleanup EXIT

export LOY_DATABASE_URL="sqlite:$tmp/loy.db"
export LOY_SECRET_KEY=${LOY_SECRET_KEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}
port=$(free_port)
export LOY_LISTEN="127.0.0.1:$port"
export LOY_BASE_URL="http://127.0.0.1:$port"

echo "loy: $("$loy" --version 2>/dev/null | head -n 1 || echo "$loy"), fresh SQLite in $tmp"

# -- 1. database, owner, API key (CLI) --------------------------------------------------------
timeout 30 "$loy" migrate >"$tmp/migrate.out" 2>&1 ||
	{ cat "$tmp/migrate.out" >&2; notready "'loy migrate' failed"; }
password=${BENCH_PASSWORD:-bench-password-$RANDOM$RANDOM}
printf '%s\n' "$password" | timeout 30 "$loy" user add --email bench@bench.example --role owner \
	>"$tmp/user.out" 2>&1 || { cat "$tmp/user.out" >&2; notready "'loy user add --email bench@bench.example --role owner' failed"; }
timeout 30 "$loy" apikey create --name bench --role cashier >"$tmp/key.out" 2>"$tmp/key.err" ||
	{ cat "$tmp/key.out" "$tmp/key.err" >&2; notready "'loy apikey create --name bench --role cashier' failed"; }
# The key: the last "loy_..." token on stdout, else the last long token (the command may print a
# sentence around it).
apikey=$(grep -oE 'loy_[A-Za-z0-9_-]+' "$tmp/key.out" | tail -n 1 || true)
[ -n "$apikey" ] || apikey=$(grep -oE '[A-Za-z0-9_.~+/=-]{16,}' "$tmp/key.out" | tail -n 1 || true)
[ -n "$apikey" ] || { cat "$tmp/key.out" >&2; notready "'loy apikey create' printed no key on stdout"; }

# -- 2. serve, token, customer -----------------------------------------------------------------
"${SERVER_CPU[@]}" "$loy" serve >"$log" 2>&1 &
pid=$!
wait_port "$port" "$pid" 15 || notready "'loy serve' did not listen on $LOY_LISTEN within 15 s"
for _ in $(seq 1 50); do
	http GET /healthz
	[ "$STATUS" = 200 ] && break
	sleep 0.1
done

token=
http POST /api/v1/auth/token "{\"apiKey\":\"$apikey\"}"
[ "$STATUS" = 200 ] || [ "$STATUS" = 201 ] || notready "POST /api/v1/auth/token answered $STATUS: $BODY_OUT"
token=$(json_get accessToken <<<"$BODY_OUT")
[ -n "$token" ] || notready "POST /api/v1/auth/token gave no accessToken: $BODY_OUT"

http POST /api/v1/customers '{"name":"Bench","phone":"+79990000001"}'
[ "$STATUS" = 201 ] || notready "POST /api/v1/customers answered $STATUS (want 201): $BODY_OUT"
customer=$(json_get id <<<"$BODY_OUT")
card=$(json_get cardNumber <<<"$BODY_OUT")
[ -n "$customer" ] && [ -n "$card" ] || notready "POST /api/v1/customers: no id or cardNumber in $BODY_OUT"

http GET "/api/v1/cards/$card"
[ "$STATUS" = 200 ] || notready "GET /api/v1/cards/$card answered $STATUS: $BODY_OUT"
balance0=$(json_get balance <<<"$BODY_OUT")
http POST "/api/v1/customers/$customer/transactions" '{"type":"credit","amount":1}'
[ "$STATUS" = 201 ] || [ "$STATUS" = 200 ] ||
	notready "POST /api/v1/customers/$customer/transactions answered $STATUS: $BODY_OUT"

# -- 3. load -----------------------------------------------------------------------------------
export LOY_BENCH_TOKEN=$token LOY_BENCH_CARD=$card LOY_BENCH_CUSTOMER=$customer
echo "loy serve (LOY_THREADS=${LOY_THREADS:-default}), wrk -t$BENCH_THREADS -c$BENCH_CONNS -d${BENCH_DURATION}s"
ok=1
run_wrk loy_card "http://127.0.0.1:$port/" "$BENCH_ROOT/wrk/card.lua" || ok=0
card_non2xx=${WRK_non2xx:-0}
run_wrk loy_credit "http://127.0.0.1:$port/" "$BENCH_ROOT/wrk/credit.lua" || ok=0
credit_ok=$(( ${WRK_requests:-0} - ${WRK_non2xx:-0} + ${WRK_warm_ok:-0} ))
credit_non2xx=${WRK_non2xx:-0}

rss=$(peak_rss_kib "$pid" || true)
if [ -n "$rss" ]; then
	result loy.rss_kib "$rss"
	printf '  %-28s %10s MiB\n' "peak RSS (VmHWM)" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
fi

# Every credit wrk saw acknowledged (warm-up included) must be in the balance; a few more may have
# landed as wrk stopped with requests in flight.
http GET "/api/v1/cards/$card"
balance1=$(json_get balance <<<"$BODY_OUT")
if [[ "$balance0" =~ ^[0-9]+$ && "$balance1" =~ ^[0-9]+$ ]]; then
	gained=$((balance1 - balance0 - 1))
	result loy.credits_acked "$credit_ok"
	result loy.credits_applied "$gained"
	printf '  %-28s %10s acknowledged, %s applied to the balance\n' "credits" "$credit_ok" "$gained"
	[ "$gained" -ge "$credit_ok" ] || { echo "bench: loy: balance grew by $gained but $credit_ok credits were acknowledged" >&2; ok=0; }
fi

stop_pid "$pid"
pid=
# -- 4. verify -----------------------------------------------------------------------------------
if timeout 60 "$loy" verify >"$tmp/verify.out" 2>&1; then
	result loy.verify passed
	printf '  %-28s %10s\n' "loy verify" "passed"
else
	result loy.verify FAILED
	cat "$tmp/verify.out" >&2
	printf '  %-28s %10s\n' "loy verify" "FAILED"
	ok=0
fi

if [ "$card_non2xx" != 0 ] || [ "$credit_non2xx" != 0 ]; then
	echo "bench: loy: non-2xx answers under load (cards $card_non2xx, credits $credit_non2xx): figures not valid" >&2
	tail -n 5 "$log" >&2
	ok=0
fi
[ "$ok" = 1 ]
