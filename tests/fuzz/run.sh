#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input with libFuzzer (clang, -fsanitize=fuzzer,address,undefined).
#
#   tests/fuzz/run.sh [SECONDS] [NAME...]
#
#   SECONDS  how long each fuzzer runs (default 30; libFuzzer's -max_total_time)
#   NAME     which drivers: phone, email, ... (tests/fuzz/fuzz_NAME.c); default all of them
#
# Configures and builds its own tree, build-fuzz/ (LOY_FUZZ_BUILD to change), with
# `cmake -DCMAKE_C_COMPILER=clang -DLOY_FUZZ=ON`, then runs each fuzzer in turn on a copy of its seed
# corpus under build-fuzz/fuzz-work/NAME/ (the committed corpus is never written). Inputs that crash
# a driver (a sanitizer report, a broken property, a leak, a timeout) are copied to
# tests/fuzz/crashes/NAME/; reproduce one with build-fuzz/tests/fuzz/fuzz_NAME FILE.
# Prints executions per second and total runs per fuzzer; exits 1 if any fuzzer crashed.
set -euo pipefail

cd "$(dirname "$0")/../.."
build=${LOY_FUZZ_BUILD:-build-fuzz}
secs=30
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
	secs=$1
	shift
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		names+=("${n%.c}")
	done
fi
for n in "${names[@]}"; do
	if [ ! -f "tests/fuzz/fuzz_$n.c" ] || [ ! -d "tests/fuzz/corpus/$n" ]; then
		echo "run.sh: no driver tests/fuzz/fuzz_$n.c with a corpus tests/fuzz/corpus/$n/" >&2
		exit 2
	fi
done

if ! command -v clang >/dev/null 2>&1; then
	echo "run.sh: clang not found (scripts/install-deps.sh test installs clang and libclang-rt-14-dev)" >&2
	exit 2
fi

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DLOY_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${names[@]/#/fuzz_}" >/dev/null

# A hang or a runaway allocation is a finding too; UBSan prints where it stopped.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

failed=()
summary=()
for n in "${names[@]}"; do
	work=$build/fuzz-work/$n
	rm -rf "$work"
	mkdir -p "$work/corpus"
	cp -R "tests/fuzz/corpus/$n/." "$work/corpus/"
	echo "== fuzz_$n: ${secs}s"
	rc=0
	"$build/tests/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$work/log" | tail -n 1 || true)
	corpus=$(find "$work/corpus" -type f | wc -l)
	if [ "$rc" -ne 0 ]; then
		mkdir -p "tests/fuzz/crashes/$n"
		find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
			-o -name 'oom-*' \) -exec cp {} "tests/fuzz/crashes/$n/" \;
		grep -E 'ERROR|SUMMARY|property violated|runtime error|#[0-9]+ 0x' "$work/log" | head -n 30
		echo "   CRASHED (exit $rc); log: $work/log; inputs: tests/fuzz/crashes/$n/"
		failed+=("$n")
		summary+=("$(printf '%-16s %10s runs %9s exec/s  %-22s corpus %5s  CRASH' "$n" "${runs:-?}" \
			"${eps:-?}" "$cov" "$corpus")")
	else
		summary+=("$(printf '%-16s %10s runs %9s exec/s  %-22s corpus %5s  ok' "$n" "${runs:-?}" \
			"${eps:-?}" "$cov" "$corpus")")
	fi
done

echo
echo "fuzzed ${secs}s each:"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "run.sh: crashes in: ${failed[*]}" >&2
	exit 1
fi
