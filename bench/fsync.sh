#!/usr/bin/env bash
# This disk's fdatasync rate: 4 KiB write + fdatasync per op, for 5 s, in DIR (default bench/.work,
# the same filesystem as the benchmark's database; pass the directory of a real install's database,
# e.g. /var/lib/loy, to measure that disk).
#   bench/fsync.sh [DIR] [SECONDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

dir=${1:-$BENCH_WORK}
secs=${2:-5}
[ -d "$dir" ] || die "fsync: no directory $dir"
need cc

bin=$BENCH_WORK/fsync
if [ ! -x "$bin" ] || [ "$BENCH_ROOT/fsync.c" -nt "$bin" ]; then
	cc -O2 -std=gnu17 -Wall -Wextra -o "$bin" "$BENCH_ROOT/fsync.c" || die "fsync: cannot compile fsync.c"
fi

echo "disk: fdatasync rate in $dir (${secs} s)"
out=$("$bin" "$dir" "$secs" 2>&1) || { printf '%s\n' "$out" >&2; die "fsync: measurement failed"; }
ops=$(printf '%s\n' "$out" | sed -n 's/^fdatasync_ops_per_s=//p')
[ -n "$ops" ] || { printf '%s\n' "$out" >&2; die "fsync: no figure"; }
printf '%s\n' "$out" | grep -v '^fdatasync_ops_per_s=' | sed 's/^/  /'

result fsync.ops "$ops"
printf '  %-28s %10s ops/s\n' "fdatasync 4 KiB" "$ops"
