#!/usr/bin/env bash
# GraphQL API benchmarks (issue 3, STYLE.md point 19) against the real
# binary on 127.0.0.1, each phase on a fresh server with a fresh data dir:
#   1. simple queries at fixed rates with vegeta (open loop), p50/p99, RSS;
#      then the highest rate with p99 < 10 ms; vegeta also with GOMAXPROCS=1;
#   2. executeActivity mutations, closed loop (bench/gqlmutate), fsync before ack;
#   3. WebSocket fan-out (bench/wsfanout): FAN_N subscribers, events appended
#      at FAN_RATES per second, append→delivery p50/p99, server RSS, and the
#      CPU per delivery of server and driver.
# Usage: bench/graphql.sh [outdir] (default bench/out-graphql). Knobs (env):
# REPS=3 DUR=20s RATES="2000 5000 10000" SEARCH="12500 15000 17500 20000 25000"
# MUT_C="64 256" FAN_N=10000 FAN_RATES="20 2" FAN_DUR=20s PHASES="1 2 3"
# FAN_ARGS="" (more wsfanout flags, e.g. "-reader gorilla": one reader
# goroutine per connection instead of the epoll reader).
# vegeta and the drivers share the 2 cores with the server: see RESULTS-graphql.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/out-graphql}
REPS=${REPS:-3} DUR=${DUR:-20s} RATES=${RATES:-"2000 5000 10000"}
SEARCH=${SEARCH:-"12500 15000 17500 20000 25000"} MUT_C=${MUT_C:-"64 256"}
FAN_N=${FAN_N:-10000} FAN_RATES=${FAN_RATES:-"20 2"} FAN_DUR=${FAN_DUR:-20s} PHASES=${PHASES:-"1 2 3"}
FAN_ARGS=${FAN_ARGS:-}
mkdir -p "$out/bin"
out=$(cd "$out" && pwd)
GOBIN_DIR=$(go env GOPATH)/bin
VEGETA=${VEGETA:-$(command -v vegeta || echo "$GOBIN_DIR/vegeta")}
[ -x "$VEGETA" ] || go install github.com/tsenart/vegeta/v12@v12.13.0
# 10,000 subscribers need 10,000 descriptors in the server and in the driver.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

make build >/dev/null
go build -o "$out/bin/wsfanout" ./bench/wsfanout
go build -o "$out/bin/gqlmutate" ./bench/gqlmutate
BIN=$PWD/bin/circuit-breaker

PID="" DIR="" ADDR=""
start_server() {
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/cb-bench.XXXXXX")
	"$BIN" serve --port 0 --addr-file "$DIR/addr" --data-dir "$DIR/data" >"$DIR/server.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do [ -s "$DIR/addr" ] && break; sleep 0.1; done
	ADDR=$(cat "$DIR/addr")
	echo "server pid $PID on $ADDR, data in $DIR" >&2
}
stop_server() {
	[ -n "$PID" ] || return 0
	kill -INT "$PID" 2>/dev/null || true
	for _ in $(seq 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	cp "$DIR/server.log" "$out/server-$(date +%s).log" 2>/dev/null || true
	rm -rf "$DIR"
	PID=""
}
trap stop_server EXIT
rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$PID/status"; }
say() { tee -a "$out/results.txt"; } # keeps RESULT lines
gql() { curl -fsS -XPOST "http://$ADDR/graphql" -H 'Content-Type: application/json' -d "$1" >/dev/null; }

# attack NAME RATE DURATION [env…]: one vegeta run; appends a RESULT line.
attack() {
	local name=$1 rate=$2 dur=$3
	shift 3
	env "$@" "$VEGETA" attack -targets="$out/$name.targets" -rate="$rate" -duration="$dur" \
		-timeout=10s -max-workers=4096 >"$out/$name-$rate.bin"
	"$VEGETA" report -type=json <"$out/$name-$rate.bin" | jq -r --arg n "$name" --arg r "$rate" \
		--arg rss "$(rss_mb)" --arg env "${*:-default}" \
		'"RESULT query=\($n) rate=\($r) vegeta=\($env) p50_ms=\(.latencies["50th"]/1e6) p99_ms=\(.latencies["99th"]/1e6) throughput=\(.throughput|floor) success=\(.success) rss_mb=\($rss)"'
}

phase1() {
	start_server
	gql '{"query":"mutation { createWorkflow(input: {id: \"doc\", name: \"Document Approval\", states: [\"draft\", \"review\", \"approved\"], activities: [{id: \"submit\", fromStates: [\"draft\"], toState: \"review\"}, {id: \"approve\", fromStates: [\"review\"], toState: \"approved\"}]}) { id } }"}'
	gql '{"query":"mutation { createWorkflow(input: {id: \"inv\", name: \"Invoice\", states: [\"open\", \"paid\"], activities: [{id: \"pay\", fromStates: [\"open\"], toState: \"paid\"}]}) { id } }"}'
	gql '{"query":"mutation { executeWorkflow(workflowId: \"doc\", resourceId: \"doc-1\") { id } }"}'
	gql '{"query":"mutation { executeActivity(resourceId: \"doc-1\", activityId: \"submit\") { toState } }"}'
	echo '{"query":"{ workflows { id name } }"}' >"$out/workflows.json"
	echo '{"query":"{ resource(id: \"doc-1\") { state } }"}' >"$out/resource.json"
	for q in workflows resource; do
		printf 'POST http://%s/graphql\nContent-Type: application/json\n@%s\n' "$ADDR" "$out/$q.json" >"$out/$q.targets"
	done
	attack workflows 2000 5s >/dev/null # warm-up
	for rep in $(seq "$REPS"); do
		for q in workflows resource; do
			for r in $RATES; do attack "$q" "$r" "$DUR" | say; done
		done
		attack workflows 10000 "$DUR" GOMAXPROCS=1 | say
		# Highest rate with p99 < 10 ms (10 s steps, stops at the first miss).
		for r in $SEARCH; do
			line=$(attack workflows "$r" 10s)
			echo "${line/RESULT/RESULT search}" | say
			awk '{for(i=1;i<=NF;i++) if ($i ~ /^p99_ms=/) {split($i,a,"="); exit !(a[2] < 10)}}' <<<"$line" || break
		done
	done
	stop_server
}

phase2() {
	start_server
	"$out/bin/gqlmutate" -addr "$ADDR" -c 16 -duration 3s -warmup 1s >/dev/null # warm-up
	for rep in $(seq "$REPS"); do
		for c in $MUT_C; do
			echo "$("$out/bin/gqlmutate" -addr "$ADDR" -c "$c" -duration "$DUR") rss_mb=$(rss_mb)" | say
		done
	done
	stop_server
}

phase3() {
	for rep in $(seq "$REPS"); do
		for r in $FAN_RATES; do
			start_server
			# shellcheck disable=SC2086 # FAN_ARGS is a list of flags
			"$out/bin/wsfanout" $FAN_ARGS -addr "$ADDR" -n "$FAN_N" -rate "$r" -duration "$FAN_DUR" -pid "$PID" -timeout 4m \
				| tee "$out/fanout-$r-$rep.txt" >&2
			grep '^RESULT' "$out/fanout-$r-$rep.txt" >>"$out/results.txt"
			stop_server
		done
	done
}

: >"$out/results.txt"
for p in $PHASES; do "phase$p"; done

# Summary: medians over the repetitions.
echo
echo "Medians of $REPS runs (raw lines in $out/results.txt):"
python3 - "$out/results.txt" <<'EOF'
import re, statistics, sys
from collections import defaultdict
rows = defaultdict(lambda: defaultdict(list))
for line in open(sys.argv[1]):
    if not line.startswith("RESULT"):
        continue
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    if "query" in f:
        key = ("query" + (" search" if " search " in line else ""), f["query"], f["rate"], f["vegeta"])
        cols = ["throughput", "p50_ms", "p99_ms", "success", "rss_mb"]
    elif "c" in f:
        key, cols = ("mutations", "c=" + f["c"], "", ""), ["per_s", "p50_ms", "p99_ms", "rss_mb"]
    else:
        key = ("fan-out", "n=" + f["subscribers"], "rate=" + f["rate"], "")
        cols = ["delivered_pct", "p50_ms", "p99_ms", "ack_p50_ms", "ack_p99_ms", "rss_idle_mb", "rss_load_mb",
                "server_us", "driver_us", "other_cpu_s"]
    for c in cols:
        try:
            rows[key][c].append(float(f[c]))
        except (KeyError, ValueError):
            pass
for key, cols in rows.items():
    vals = " ".join(f"{c}={statistics.median(v):.6g}(n={len(v)})" for c, v in cols.items())
    print(f"{' '.join(k for k in key if k):45s} {vals}")
EOF
