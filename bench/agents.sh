#!/usr/bin/env bash
# Agent run benchmark (issue 5): N agent runs started at once on one node,
# 3 steps each (model → tool, model → tool, model → answer), the provider
# simulator answering every model call after 200 ms; start rate, runs/s,
# time to finish, run duration p50/p99, the server's peak RSS, heap,
# goroutines, and the events appended. Everything on 127.0.0.1:
# `circuit-breaker sim --latency 200ms` and `circuit-breaker serve` (one
# openai-format deployment "sim" with no model list, so "sim/<any model>"
# passes through; the embedded NATS store, every write fsynced), each N on
# a fresh pair with fresh temp dirs. The driver, bench/agentload, serves
# the HTTP tool, scripts one model per run on the simulator, creates one
# agent per run, starts the runs with executeAgent and waits for them (see
# its doc comment).
# Usage: bench/agents.sh [outdir] (default bench/out-agents). Knobs (env):
# NS="1000 10000" LATENCY=200ms (the simulator's, per model call; a long
# one, e.g. 20s, keeps all N runs in flight at once for the memory) REPS=2 C=64 METRICS=1 (0: the server runs with
# ENABLE_METRICS=false and goroutines/heap are not sampled) SAMPLE=250ms
# (/proc) METRICS_EVERY=0 (GET /metrics, which has series per model: 0
# means N/5000 seconds)
# QUIET_PCT=15 QUIET_WAIT=300 (wait for other builds to calm down first)
# BIN=path (prebuilt circuit-breaker; default `make build`) REV=label
# (what BIN was built from, for the header line) PPROF=host:port (BIN is
# a diagnostic build serving net/http/pprof where $CB_PPROF says, see
# RESULTS-agents.md: profiles go to outdir/prof-N-REP.{cpu,heap,goroutine,end-heap}).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/out-agents}
NS=${NS:-"1000 10000"} LATENCY=${LATENCY:-200ms} REPS=${REPS:-2} C=${C:-64} METRICS=${METRICS:-1} SAMPLE=${SAMPLE:-250ms} METRICS_EVERY=${METRICS_EVERY:-0}
QUIET_PCT=${QUIET_PCT:-15} QUIET_WAIT=${QUIET_WAIT:-300}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# 10,000 runs in flight hold 10,000 connections to the simulator in the
# server and in the simulator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ -z "${BIN:-}" ]; then
	make build >/dev/null
	BIN=$PWD/bin/circuit-breaker
fi
go build -o "$out/agentload" ./bench/agentload

PID="" SIMPID="" DIR="" ADDR="" SIM=""
start() {
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/cb-agents.XXXXXX")
	"$BIN" sim --addr 127.0.0.1:0 --addr-file "$DIR/simaddr" --latency "$LATENCY" >"$DIR/sim.log" 2>&1 &
	SIMPID=$!
	for _ in $(seq 100); do [ -s "$DIR/simaddr" ] && break; sleep 0.1; done
	SIM=$(cat "$DIR/simaddr")
	cat >"$DIR/config.toml" <<-EOF
		[llm]
		from_env = false
		[llm.providers.sim]
		format = "openai"
		base_url = "http://$SIM/v1"
		api_key = "sk-bench"
	EOF
	local metrics=true
	[ "$METRICS" = 1 ] || metrics=false
	CB_PPROF=${PPROF:-} ENABLE_METRICS=$metrics "$BIN" serve --config "$DIR/config.toml" --port 0 --addr-file "$DIR/addr" \
		--data-dir "$DIR/data" >"$DIR/server.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do [ -s "$DIR/addr" ] && break; sleep 0.1; done
	ADDR=$(cat "$DIR/addr")
	echo "server pid $PID on $ADDR, simulator pid $SIMPID on $SIM, dirs in $DIR" >&2
}
stop1() { # pid: SIGINT, then SIGKILL after 20 s
	[ -n "$1" ] || return 0
	kill -INT "$1" 2>/dev/null || true
	for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
stop() {
	[ -n "$PID$SIMPID" ] || return 0
	stop1 "$PID"
	stop1 "$SIMPID"
	local ts
	ts=$(date +%s)
	cp "$DIR/server.log" "$out/server-$ts.log" 2>/dev/null || true
	cp "$DIR/sim.log" "$out/sim-$ts.log" 2>/dev/null || true
	rm -rf "$DIR"
	PID="" SIMPID=""
}
trap stop EXIT

# quiet: waits (at most QUIET_WAIT seconds) until the machine's CPU use
# over one second is below QUIET_PCT (other helpers' builds).
quiet() {
	local end=$((SECONDS + QUIET_WAIT)) a b busy
	while :; do
		a=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
		sleep 1
		b=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
		busy=$(awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); print int(100 * (y[1] - x[1]) / (y[2] - x[2]))}')
		[ "$busy" -lt "$QUIET_PCT" ] && return 0
		[ "$SECONDS" -ge "$end" ] && { echo "machine busy ($busy %) after ${QUIET_WAIT}s: running anyway" >&2; return 0; }
		sleep 4
	done
}

echo "bench/agents.sh: $("$BIN" version 2>&1 | head -1), ${REV:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)" |
	tee -a "$out/results.txt"
for n in $NS; do
	for rep in $(seq "$REPS"); do
		start
		quiet
		metrics=true
		[ "$METRICS" = 1 ] || metrics=false
		prof=()
		[ -z "${PPROF:-}" ] || prof=(-pprof "$PPROF" -pprof-out "$out/prof-$n-$rep")
		"$out/agentload" -addr "$ADDR" -sim "$SIM" -n "$n" -c "$C" -pid "$PID" -sim-pid "$SIMPID" \
			-metrics="$metrics" -sample "$SAMPLE" -metrics-every "$METRICS_EVERY" -label "rep=$rep metrics=$METRICS latency=$LATENCY" "${prof[@]}" |
			tee -a "$out/results.txt"
		stop
	done
done
