-- Summary line for bench/lib.sh: req/s, latency percentiles (ms), and what went wrong.
-- Included by the other scripts here; alone it drives a plain GET of the URL.
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d errors=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
