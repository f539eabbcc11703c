#!/usr/bin/env bash
# Pass signing on one core: signatures/s of signer_sign_manifest (a .pkpass manifest: detached
# PKCS#7, SHA-256, RSA 2048, both certificates, signingTime) beside the RSA limit, `openssl speed
# rsa2048` sign/s, on the same core. OpenSSL's PKCS7_sign and CMS_sign doing the same work are shown
# as peers. Issue 3's aim: at least 90 % of the RSA limit.
#   bench/sign.sh [BUILD_DIR] [SECONDS]      (default build, 5 s per run)
# Knobs: BENCH_ROUNDS (3; the best round of each counts, as other work on the machine only ever
# slows a run down), BENCH_CPU (1; the core everything is pinned to, when taskset and 2+ cores exist).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

build=${1:-build}
secs=${2:-5}
rounds=${BENCH_ROUNDS:-3}
need cc openssl pkg-config
[ -f "$build/libloy_core.a" ] || die "sign: no $build/libloy_core.a (cmake -S . -B $build && cmake --build $build)"

src=$(cd "$BENCH_ROOT/.." && pwd)/src
bin=$BENCH_WORK/sign
if [ ! -x "$bin" ] || [ "$BENCH_ROOT/sign.c" -nt "$bin" ] || [ "$build/libloy_core.a" -nt "$bin" ]; then
	# shellcheck disable=SC2046
	cc -O2 -std=gnu17 -Wall -Wextra -I"$src" -o "$bin" "$BENCH_ROOT/sign.c" "$build/libloy_core.a" \
		$(pkg-config --libs openssl) -lpthread || die "sign: cannot compile sign.c"
fi
certs=$BENCH_WORK/sign-certs

pin=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	pin=(taskset -c "${BENCH_CPU:-1}")
fi

best() { # best OLD NEW: the larger, as an integer
	awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { printf "%.0f", (b > a ? b : a) }'
}
one() { # one WAY: signs/s of one run of the driver
	"${pin[@]}" "$bin" "$certs" "$secs" "$1" | sed -n 's/^signs_per_s=//p'
}

echo "pass signing: one core ${pin[*]:+(${pin[*]})}, ${secs} s per run, best of $rounds rounds; CPU busy before: $(cpu_busy_pct) %"
rsa=0 loy=0 pkcs7=0 cms=0
for r in $(seq 1 "$rounds"); do
	v=$("${pin[@]}" openssl speed -seconds "$secs" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $6 }')
	[ -n "$v" ] || die "sign: openssl speed printed no rsa 2048 line"
	rsa=$(best "$rsa" "$v")
	l=$(one loy) || die "sign: the driver failed (loy)"
	loy=$(best "$loy" "$l")
	p=$(one pkcs7) || die "sign: the driver failed (pkcs7)"
	pkcs7=$(best "$pkcs7" "$p")
	c=$(one cms) || die "sign: the driver failed (cms)"
	cms=$(best "$cms" "$c")
	printf '  round %d: openssl speed %s, loy %s, PKCS7_sign %s, CMS_sign %s sign/s\n' "$r" "$v" "$l" "$p" "$c"
done

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
result sign.rsa2048_per_s "$rsa"
result sign.loy_per_s "$loy"
result sign.pkcs7_per_s "$pkcs7"
result sign.cms_per_s "$cms"
printf '  %-34s %8s sign/s\n' "openssl speed rsa2048 (the limit)" "$rsa"
printf '  %-34s %8s sign/s  %5s %% of the limit (aim >= 90 %%)\n' "loy signer_sign_manifest" "$loy" "$(pct "$loy" "$rsa")"
printf '  %-34s %8s sign/s  %5s %%\n' "OpenSSL PKCS7_sign (peer)" "$pkcs7" "$(pct "$pkcs7" "$rsa")"
printf '  %-34s %8s sign/s  %5s %%\n' "OpenSSL CMS_sign (peer)" "$cms" "$(pct "$cms" "$rsa")"
