#!/usr/bin/env bash
# Runs the store and actor benchmarks (STYLE.md point 19) and summarises
# them with benchstat. Usage: bench/run.sh [outdir] (default bench/out).
# COUNT (default 3) sets -count; compare two runs with
#   benchstat bench/out-old/all.txt bench/out/all.txt
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/out}
count=${COUNT:-3}
mkdir -p "$out"
BENCHSTAT=${BENCHSTAT:-$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")}

# Throughput benchmarks are time-based; activation and memory are per-op
# expensive (an op replays 10,000 events or activates 20,000 actors).
run() { # pkg pattern benchtime
	go test -run='^$' -bench="$2" -benchtime="$3" -count="$count" -timeout=30m "$1"
}
{
	run ./events/natsjs/ '^Benchmark(Append|RawJetStream|RawAtomicBatch)$' 2s
	run ./actors/ '^BenchmarkFire$' 3s
	run ./actors/ '^BenchmarkActivation$' 5x
	run ./actors/ '^BenchmarkIdleActorMemory$' 1x
	run ./projections/ '^BenchmarkRebuild$' 3x
} | tee "$out/all.txt"

"$BENCHSTAT" "$out/all.txt" | tee "$out/benchstat.txt"
