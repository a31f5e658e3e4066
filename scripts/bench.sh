#!/usr/bin/env bash
# make bench: every benchmark of the repository, then the time from starting the
# platform to every process SERVING, as `BENCH <name> <value> <unit>` lines
# (platform/cmd/benchfmt). Benchmark output that is not a figure is dropped.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every package with a benchmark, as a folder go test accepts from the root.
mapfile -t pkgs < <(grep -rl --include='*_test.go' --exclude-dir=.run --exclude-dir=.tools \
	'^func Benchmark' . | xargs -n1 dirname | sort -u)

{
	if [ ${#pkgs[@]} -gt 0 ]; then
		go test -run '^$' -bench . -benchmem "${pkgs[@]}"
	fi
	# Starts the platform on free ports the way the end-to-end test does.
	go test -count=1 -run '^TestUpToServing$' -v ./monitor/e2e -args -up-to-serving
	# Journeys through the gateways against the whole platform.
	go test -count=1 -timeout 20m -run '^TestMobileBench$' -v ./monitor/e2e/mobile -args -mobile-bench
	go test -count=1 -timeout 20m -run '^TestPartnerTransferP99$' -v ./monitor/e2e/partner -args -partner-bench
	go test -count=1 -timeout 20m -run '^TestWebBench$' -v ./monitor/e2e/web -args -web-bench
} 2>&1 | go run ./platform/cmd/benchfmt
