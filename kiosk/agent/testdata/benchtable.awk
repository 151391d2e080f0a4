# Turns `go test -bench` output of `make bench` into a table.
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) v[name, $(i+1)] = $i
	names[++n] = name
}
END {
	printf "%-34s %12s %12s %12s  %s\n", "benchmark", "p50", "p99", "mean", "target"
	for (k = 1; k <= n; k++) {
		name = names[k]
		if (name == "BenchmarkLookupCacheHit") {
			printf "%-34s %9.0f µs %9.0f µs %9.0f µs  p99 <= 1 ms\n", "POST /api/lookup, cache hit", v[name, "p50-µs"], v[name, "p99-µs"], v[name, "ns/op"] / 1e3
		} else if (name == "BenchmarkLookupGateway") {
			printf "%-34s %9.0f µs %9.0f µs %9.0f µs  p99 <= 2 ms\n", "POST /api/lookup, via gateway", v[name, "p50-µs"], v[name, "p99-µs"], v[name, "ns/op"] / 1e3
		} else if (name == "BenchmarkBrowserLookupCacheHit") {
			printf "%-34s %9.1f ms %9.1f ms %12s  tap Cari -> painted, Chromium\n", "screen: Cari to result, cache hit", v[name, "p50-µs"] / 1e3, v[name, "p99-µs"] / 1e3, ""
		} else if (name == "BenchmarkBrowserLookupGateway") {
			printf "%-34s %9.1f ms %9.1f ms %12s  tap Cari -> painted, Chromium\n", "screen: Cari to result, gateway", v[name, "p50-µs"] / 1e3, v[name, "p99-µs"] / 1e3, ""
		} else if (name == "BenchmarkStatusPTY") {
			printf "%-34s %9.0f µs %9.0f µs %9.0f µs  DLE EOT 1..4 over a pty\n", "printer status poll, serial", v[name, "p50-µs"], v[name, "p99-µs"], v[name, "ns/op"] / 1e3
		} else if (name == "BenchmarkSlipPTY") {
			printf "%-34s %9.0f µs %9.0f µs %9.0f µs  render + send, 42 cols\n", "slip render + send, serial", v[name, "p50-µs"], v[name, "p99-µs"], v[name, "ns/op"] / 1e3
		} else if (name == "BenchmarkOutboxReplay") {
			printf "%-34s %12s %12s %8.0f ev/s  >= 5,000 ev/s to the stream (hub stored %.0f ev/s)\n", "outbox replay, 50,000 queued", "", "", v[name, "ev/s"], v[name, "hub-ev/s"]
		} else if (name == "BenchmarkPaperOutToHub") {
			printf "%-34s %9.2f s  %9.2f s  %12s  <= 2.5 s (max shown as p99)\n", "paper out -> fault stored at hub", v[name, "p50-ms"] / 1e3, v[name, "max-ms"] / 1e3, ""
		} else if (name ~ /^BenchmarkFleet\/kiosks=/) {
			fleet = name; sub(/.*=/, "", fleet)
			printf "%-34s %9.2f ms %9.2f ms %12s  p99 < 1 s; hub cpu %.0f%% of a core, %.0f hb/s, rss %.0f MB\n", "hub, " fleet " kiosks, 10 s heartbeat", v[name, "p50-µs"] / 1e3, v[name, "p99-µs"] / 1e3, "", v[name, "cpu-%"], v[name, "hb/s"], v[name, "rss-MB"]
		} else if (name == "BenchmarkFleetPage2000") {
			printf "%-34s %12s %12s %9.1f ms  server render, %.0f KB page\n", "dashboard fleet page, 2,000 kiosks", "", "", v[name, "ms/op"], v[name, "bytes/page"] / 1024
		} else if (name == "BenchmarkSSEFanout50") {
			printf "%-34s %9.1f ms %9.1f ms %12s  change -> all 50 viewers have the fragment\n", "dashboard SSE fan-out, 50 viewers", v[name, "p50-ms"], v[name, "p99-ms"], ""
		} else if (name == "BenchmarkGenerate100k") {
			printf "%-34s %12s %12s %10.2f s   once per hub data dir\n", "sample store build, 100,000 vehicles", "", "", v[name, "ns/op"] / 1e9
		}
	}
}
