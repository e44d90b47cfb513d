#!/usr/bin/env bash
# LLM router benchmarks: the latency the router adds to a chat completion.
# Added = (vegeta → server /v1/chat/completions → simulator) minus
# (vegeta → simulator /v1/chat/completions), same body, same fixed rate
# (open loop), the simulator answering with zero delay; non-streamed and
# streamed ("stream":true: vegeta's latency ends when the whole body is read).
# Everything runs on 127.0.0.1: `circuit-breaker sim` and `circuit-breaker
# serve` (one openai-format deployment pointing at the simulator), each block
# of runs on a fresh pair with fresh temp dirs.
#   1. RATES, each mode: REPS interleaved pairs (direct, via, direct, via …)
#      of DUR each; per run exact p50/p90/p99/p99.9 from all samples.
#   2. Search, each mode: REPS pairs of SEARCH_DUR per rate. If the highest
#      of RATES passes (median p99 added < LIMIT_MS; phase 1 must have run),
#      upwards through the SEARCH rates above it until the first that fails;
#      otherwise downwards through the SEARCH_DOWN rates below it until the
#      first that passes.
# Each run also records the server's max VmRSS (sampled every 200 ms), the
# server's CPU per request, the CPU used by processes other than ours
# ("foreign": other builds on the machine), steal, and the router's own
# x-circuit-breaker-added-ms header.
# Usage: bench/llm.sh [outdir] (default bench/out-llm). Knobs (env):
# REPS=3 DUR=15s RATES="500 1000 2000" SEARCH="2500 3000 4000 5000 6000 8000"
# SEARCH_DOWN="1500 1000 750 500 250" SEARCH_DUR=10s LIMIT_MS=5 MODES="plain stream" PHASES="1 2" WARM=3s
# QUIET_PCT=15 QUIET_WAIT=300 NOISY_PCT=25 RETRIES=2 (see quiet and pairs)
# BIN=path (prebuilt circuit-breaker; default `make build`) KEEP_BIN=1
# (keep vegeta's result files). vegeta, the simulator and the server share
# the 2 cores: see RESULTS-llm.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/out-llm}
REPS=${REPS:-3} DUR=${DUR:-15s} RATES=${RATES:-"500 1000 2000"}
SEARCH=${SEARCH:-"2500 3000 4000 5000 6000 8000"} SEARCH_DOWN=${SEARCH_DOWN:-"1500 1000 750 500 250"}
SEARCH_DUR=${SEARCH_DUR:-10s} LIMIT_MS=${LIMIT_MS:-5}
MODES=${MODES:-"plain stream"} PHASES=${PHASES:-"1 2"} WARM=${WARM:-3s} KEEP_BIN=${KEEP_BIN:-0}
QUIET_PCT=${QUIET_PCT:-15} QUIET_WAIT=${QUIET_WAIT:-300} NOISY_PCT=${NOISY_PCT:-25} RETRIES=${RETRIES:-2}
mkdir -p "$out"
out=$(cd "$out" && pwd)
VEGETA=${VEGETA:-$(command -v vegeta || echo "$(go env GOPATH)/bin/vegeta")}
[ -x "$VEGETA" ] || go install github.com/tsenart/vegeta/v12@v12.13.0
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ -z "${BIN:-}" ]; then
	make build >/dev/null
	BIN=$PWD/bin/circuit-breaker
fi
# A copy: nothing rebuilt meanwhile changes the binary under test.
mkdir -p "$out/bin"
cp "$BIN" "$out/bin/circuit-breaker"
BIN=$out/bin/circuit-breaker
NCPU=$(nproc)
HZ=$(getconf CLK_TCK)

PID="" SIMPID="" DIR="" ADDR="" SIM=""
# start: a fresh simulator and server, each in its own temp dir.
start() {
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/cb-llm.XXXXXX")
	"$BIN" sim --addr 127.0.0.1:0 --addr-file "$DIR/simaddr" >"$DIR/sim.log" 2>&1 &
	SIMPID=$!
	for _ in $(seq 100); do [ -s "$DIR/simaddr" ] && break; sleep 0.1; done
	SIM=$(cat "$DIR/simaddr")
	cat >"$DIR/config.toml" <<-EOF
		[llm]
		from_env = false
		[llm.providers.openai]
		format = "openai"
		base_url = "http://$SIM/v1"
		api_key = "sk-bench"
		models = ["gpt-4o"]
	EOF
	"$BIN" serve --config "$DIR/config.toml" --port 0 --addr-file "$DIR/addr" --data-dir "$DIR/data" \
		>"$DIR/server.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do [ -s "$DIR/addr" ] && break; sleep 0.1; done
	ADDR=$(cat "$DIR/addr")
	echo "server pid $PID on $ADDR, simulator pid $SIMPID on $SIM, dirs in $DIR" >&2
	local mode stream
	for mode in plain stream; do
		stream=false
		[ "$mode" = stream ] && stream=true
		printf '{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32,"stream":%s}\n' \
			"$stream" >"$DIR/$mode.json"
		printf 'POST http://%s/v1/chat/completions\nAuthorization: Bearer sk-bench\nContent-Type: application/json\n@%s\n' \
			"$SIM" "$DIR/$mode.json" >"$DIR/direct-$mode.targets"
		printf 'POST http://%s/v1/chat/completions\nContent-Type: application/json\n@%s\n' \
			"$ADDR" "$DIR/$mode.json" >"$DIR/via-$mode.targets"
	done
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

# ticks SHELL SAMPLER: machine busy (user, nice, system, irq, softirq) and
# steal ticks; the server's, the simulator's, and SHELL's waited-for
# children's (vegeta's) CPU ticks; then the ticks of every other user
# process ("foreign": other helpers' builds), own and waited-for children's.
# Kernel threads are left out: they also do the server's I/O.
ticks() {
	awk '/^cpu / {printf "%d %d ", $2+$3+$4+$7+$8, $9}' /proc/stat
	awk '{printf "%d ", $14+$15}' "/proc/$PID/stat" "/proc/$SIMPID/stat"
	awk '{printf "%d ", $16+$17}' "/proc/$1/stat"
	local mine=" $PID $SIMPID $1 $2 $$ $BASHPID "
	# comm may hold spaces: fields are counted after its closing ")".
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v mine="$mine" '{
		s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		if ($1 != 2 && f[2] != 2 && index(mine, " " $1 " ") == 0) t += f[12] + f[13] + f[14] + f[15]
	} END {print t + 0}'
}

# run TARGET MODE RATE DURATION REP [KIND]: one vegeta run; prints a RESULT line.
run() {
	local target=$1 mode=$2 rate=$3 dur=$4 rep=$5 kind=${6:-fixed} me=$BASHPID name t0 t1 s0 s1 sampler load
	name="$target-$mode-$rate-$rep-$kind"
	load=$(cut -d' ' -f1 /proc/loadavg)
	(while kill -0 "$PID" 2>/dev/null; do
		awk '/^VmRSS/ {print $2}' "/proc/$PID/status"
		sleep 0.2
	done) >"$DIR/rss" &
	sampler=$!
	t0=$(date +%s.%N) s0=$(ticks "$me" "$sampler")
	"$VEGETA" attack -targets="$DIR/$target-$mode.targets" -rate="$rate" -duration="$dur" \
		-timeout=10s -max-workers=4096 >"$out/$name.bin"
	t1=$(date +%s.%N) s1=$(ticks "$me" "$sampler")
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	"$VEGETA" encode --to csv <"$out/$name.bin" | python3 "$out/stats.py" \
		"kind=$kind target=$target mode=$mode rate=$rate rep=$rep" "$mode" \
		"$(sort -n "$DIR/rss" | tail -1)" "$t0 $t1" "$s0" "$s1" "$NCPU" "$HZ" "$load"
	[ "$KEEP_BIN" = 1 ] || rm -f "$out/$name.bin"
}

# quiet: waits (at most QUIET_WAIT seconds) until the machine's CPU use
# over one second, ours idle, is below QUIET_PCT: other helpers' builds.
quiet() {
	local end=$((SECONDS + QUIET_WAIT)) a b
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

# pairs MODE RATE DURATION KIND: REPS interleaved direct/via pairs. A pair
# in which processes other than ours used more than NOISY_PCT of the
# machine is logged as NOISY and run again (at most RETRIES times).
pairs() {
	local rep try d v
	for rep in $(seq "$REPS"); do
		for try in $(seq 0 "$RETRIES"); do
			quiet
			d=$(run direct "$1" "$2" "$3" "$rep" "$4")
			v=$(run via "$1" "$2" "$3" "$rep" "$4")
			if [ "$try" -lt "$RETRIES" ] && [ "$(noisy "$d")" = 1 -o "$(noisy "$v")" = 1 ]; then
				printf '%s\n%s\n' "${d/RESULT/NOISY}" "${v/RESULT/NOISY}" | say
				continue
			fi
			printf '%s\n%s\n' "$d" "$v" | say
			break
		done
	done
}
noisy() { awk -v max="$NOISY_PCT" '{for (i = 1; i <= NF; i++) if ($i ~ /^foreign_pct=/) {split($i, a, "="); print (a[2] > max) ? 1 : 0}}' <<<"$1"; }
warm() {
	"$VEGETA" attack -targets="$DIR/direct-$1.targets" -rate=500 -duration="$WARM" -timeout=10s >/dev/null
	"$VEGETA" attack -targets="$DIR/via-$1.targets" -rate=500 -duration="$WARM" -timeout=10s >/dev/null
}
say() { tee -a "$out/results.txt"; }

cat >"$out/stats.py" <<'EOF'
# stats.py LABEL MODE RSS_KB "T0 T1" "TICKS0" "TICKS1" NCPU HZ LOAD1 < vegeta csv
# Exact percentiles (nearest rank over all samples) of one run.
import base64, csv, math, sys
label, mode, rss_kb, (t0, t1) = sys.argv[1], sys.argv[2], sys.argv[3], map(float, sys.argv[4].split())
k0, k1 = [list(map(int, a.split())) for a in sys.argv[5:7]]
ncpu, hz, load1 = int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
lat, added, ts, ok, bad_body = [], [], [], 0, 0
for row in csv.reader(sys.stdin):
    ts.append(int(row[0]))
    lat.append(int(row[2]))
    if row[1] == "200" and not row[5]:
        ok += 1
        body = base64.b64decode(row[6])
        done = body.rstrip().endswith(b"data: [DONE]") if mode == "stream" else b'"finish_reason":"stop"' in body
        bad_body += not done
    for line in base64.b64decode(row[11]).decode().splitlines():
        k, _, v = line.partition(":")
        if k.lower() == "x-circuit-breaker-added-ms":
            added.append(float(v))
def pct(xs, q):
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)] if xs else float("nan")
n = len(lat)
span = (max(ts) - min(ts)) / 1e9 if n > 1 else float("nan")
el = (t1 - t0) * hz
d = [b - a for a, b in zip(k0, k1)]  # busy, steal, server, sim, vegeta, other processes
f = dict(n=n, success=round(ok / n, 4) if n else 0, bad_body=bad_body, achieved=round((n - 1) / span) if n > 1 else 0)
for q, name in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p999"), (1, "max")):
    f[name + "_ms"] = round(pct(lat, q) / 1e6, 3)
if added:
    f["hdr_p50_ms"], f["hdr_p99_ms"] = pct(added, 0.5), pct(added, 0.99)
f["rss_mb"] = round(int(rss_kb) / 1024) if rss_kb else ""
f["srv_cpu_us"] = round(d[2] * 1e6 / hz / n, 1) if n else ""
f["cpu_pct"] = round(100 * d[0] / el / ncpu, 1)
f["vegeta_pct"] = round(100 * d[4] / el / ncpu, 1)
f["foreign_pct"] = round(100 * d[5] / el / ncpu, 1)
f["kernel_pct"] = round(100 * (d[0] - sum(d[2:6])) / el / ncpu, 1)  # kernel threads, softirq
f["steal_pct"] = round(100 * d[1] / el / ncpu, 1)
f["load1"] = load1
print("RESULT " + label + " " + " ".join(f"{k}={v}" for k, v in f.items()))
EOF

# verdict KIND MODE RATE: 0 when the median over the reps of p99 added < LIMIT_MS.
verdict() {
	python3 - "$out/results.txt" "$1" "$2" "$3" "$LIMIT_MS" <<'EOF'
import statistics, sys
path, kind, mode, rate, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
runs = {}
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    if line.startswith("RESULT") and f["kind"] == kind and f["mode"] == mode and f["rate"] == rate:
        runs.setdefault(f["rep"], {})[f["target"]] = f
diffs = [float(r["via"]["p99_ms"]) - float(r["direct"]["p99_ms"]) for r in runs.values() if len(r) == 2
         and float(r["via"]["success"]) == 1 and float(r["direct"]["success"]) == 1]
ok = len(diffs) == len(runs) > 0 and statistics.median(diffs) < limit
print(f"verdict kind={kind} mode={mode} rate={rate} p99_added_ms={[round(d, 3) for d in diffs]} pass={ok}", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

phase1() {
	for mode in $MODES; do
		for r in $RATES; do
			start
			warm "$mode"
			pairs "$mode" "$r" "$DUR" fixed
			stop
		done
	done
}

phase2() {
	local top
	top=$(tr ' ' '\n' <<<"$RATES" | sort -n | tail -1)
	for mode in $MODES; do
		if verdict fixed "$mode" "$top"; then
			for r in $SEARCH; do
				[ "$r" -gt "$top" ] || continue
				search1 "$mode" "$r" || break
			done
		else
			for r in $SEARCH_DOWN; do
				[ "$r" -lt "$top" ] || continue
				search1 "$mode" "$r" && break
			done
		fi
	done
}
# search1 MODE RATE: REPS pairs on a fresh server; 0 when the rate passes.
search1() {
	start
	warm "$1"
	pairs "$1" "$2" "$SEARCH_DUR" search
	stop
	verdict search "$1" "$2"
}

case " $PHASES " in *" 1 "*) : >"$out/results.txt" ;; esac # phase 2 alone reads phase 1's
echo "bench/llm.sh: $("$BIN" version 2>&1 | head -1), $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)" | say
for p in $PHASES; do "phase$p"; done

# Summary: per kind, mode and rate, medians over the pairs; added = median
# of the per-pair differences via − direct. RSS is the largest of the via
# runs' maxima, foreign% the median over the pairs of the larger of the two
# runs'. Twice: the accepted pairs (RESULT lines), then only the quiet pairs
# (RESULT or NOISY, foreign ≤ NOISY_PCT in both runs).
echo
echo "Medians over pairs (raw lines in $out/results.txt):"
python3 - "$out/results.txt" "$NOISY_PCT" <<'EOF'
import statistics, sys
from collections import defaultdict
quiet_max = float(sys.argv[2])
pairs, direct = defaultdict(list), None
for line in open(sys.argv[1]):
    tag = line.split(" ", 1)[0]
    if tag not in ("RESULT", "NOISY"):
        continue
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    f["tag"] = tag
    if f["target"] == "direct":
        direct = f
    elif direct and all(direct[k] == f[k] for k in ("kind", "mode", "rate", "rep")):
        pairs[(f["kind"], f["mode"], int(f["rate"]))].append((direct, f))
        direct = None
med = statistics.median
for title, keep in (("accepted pairs", lambda d, v: v["tag"] == "RESULT"),
                    (f"quiet pairs (foreign <= {quiet_max:g} %)",
                     lambda d, v: max(float(d["foreign_pct"]), float(v["foreign_pct"])) <= quiet_max)):
    print(f"\n{title}:")
    print(f"{'kind':6} {'mode':6} {'rate':>5} {'n':>2} | {'direct p50':>10} {'p99':>7} | {'via p50':>8} {'p99':>7} | "
          f"{'added p50':>9} {'p99':>7} | {'hdr p50':>7} {'p99':>6} | {'rss MB':>6} {'cpu/req us':>10} {'foreign%':>8} {'ok':>6}")
    for (kind, mode, rate), ps in sorted(pairs.items()):
        sel = [p for p in ps if keep(*p)]
        if not sel:
            continue
        g = lambda i, k: med([float(p[i][k]) for p in sel if p[i].get(k, "") != ""])
        add = lambda k: med([float(v[k]) - float(d[k]) for d, v in sel])
        print(f"{kind:6} {mode:6} {rate:5} {len(sel):2} | {g(0, 'p50_ms'):10.3f} {g(0, 'p99_ms'):7.3f} | "
              f"{g(1, 'p50_ms'):8.3f} {g(1, 'p99_ms'):7.3f} | {add('p50_ms'):9.3f} {add('p99_ms'):7.3f} | "
              f"{g(1, 'hdr_p50_ms'):7.3f} {g(1, 'hdr_p99_ms'):6.3f} | {max(float(v['rss_mb']) for d, v in sel):6.0f} "
              f"{g(1, 'srv_cpu_us'):10.1f} {med([max(float(d['foreign_pct']), float(v['foreign_pct'])) for d, v in sel]):8.1f} "
              f"{min(float(x['success']) for p in sel for x in p):6.4f}")
EOF
