package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// result is one measurement.
type result struct {
	cfg        config
	started    int
	startErrs  int
	startRate  float64 // runs started per second (until the last answer)
	startedIn  time.Duration
	finish     time.Duration
	detected   time.Duration
	runsPerSec float64
	p50, p99   float64 // run duration, ms: AgentRunStarted → terminal event
	minMs      float64
	inflight   int // most runs between their start and end events at once
	maxMs      float64
	statuses   map[string]int
	badSteps   int
	tools      int64
	base, peak sample
	end        sample // after every run ended and the journal settled
	events     uint64
	byType     map[string]int
	foreignPct float64
	serverPct  float64 // of the whole machine (2 cores: 50 % is one core)
	serverCPU  time.Duration
	load0      string
	load1      string
}

// summarize computes the figures from the runs as read at the end. The
// run duration and the end of the last run use the server's event times
// (same machine, same clock as t0).
func summarize(cfg config, t0 time.Time, startedIn, detected time.Duration, runs []runInfo, startErrs int) *result {
	r := &result{cfg: cfg, started: len(runs), startErrs: startErrs, detected: detected, startedIn: startedIn, statuses: map[string]int{}}
	r.startRate = float64(len(runs)) / startedIn.Seconds()
	var last time.Time
	durs := make([]float64, 0, len(runs))
	for _, run := range runs {
		r.statuses[run.Status]++
		if run.Steps != 3 {
			r.badSteps++
		}
		if run.UpdatedAt.After(last) {
			last = run.UpdatedAt
		}
		durs = append(durs, float64(run.UpdatedAt.Sub(run.StartedAt))/float64(time.Millisecond))
	}
	slices.Sort(durs)
	r.inflight = maxOverlap(runs)
	r.finish = last.Sub(t0)
	if r.finish > 0 {
		r.runsPerSec = float64(r.statuses["completed"]) / r.finish.Seconds()
	}
	r.p50, r.p99 = percentile(durs, 0.50), percentile(durs, 0.99)
	if len(durs) > 0 {
		r.minMs, r.maxMs = durs[0], durs[len(durs)-1]
	}
	return r
}

func mb(kb int64) string {
	if kb < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", float64(kb)/1024)
}

func mbBytes(b int64) string {
	if b < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

// perRun is (peak - base) / n in KB.
func perRun(peak, base int64, n int, unit float64) string {
	if peak < 0 || base < 0 || n == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f", float64(peak-base)*unit/1024/float64(n))
}

func (r *result) print(stdout, stderr io.Writer) {
	n := r.cfg.n
	types := slices.Sorted(maps.Keys(r.byType))
	var bt []string
	for _, t := range types {
		bt = append(bt, fmt.Sprintf("%s:%d", t, r.byType[t]))
	}
	line := kv(
		"n", n, "c", r.cfg.c, "started", r.started, "start_errors", r.startErrs,
		"completed", r.statuses["completed"], "failed", r.statuses["failed"], "not_3_steps", r.badSteps,
		"start_per_s", fmt.Sprintf("%.0f", r.startRate), "start_s", fmt.Sprintf("%.2f", r.startedIn.Seconds()),
		"runs_per_s", fmt.Sprintf("%.0f", r.runsPerSec),
		"finish_s", fmt.Sprintf("%.2f", r.finish.Seconds()),
		"p50_ms", fmt.Sprintf("%.0f", r.p50), "p99_ms", fmt.Sprintf("%.0f", r.p99),
		"inflight_peak", r.inflight, "min_ms", fmt.Sprintf("%.0f", r.minMs), "max_ms", fmt.Sprintf("%.0f", r.maxMs),
		"rss_base_mb", mb(r.base.rssKB), "rss_peak_mb", mb(r.peak.rssKB), "hwm_mb", mb(r.peak.hwmKB), "rss_end_mb", mb(r.end.rssKB),
		"rss_kb_per_run", perRun(r.peak.rssKB, r.base.rssKB, n, 1024),
		"heap_base_mb", mbBytes(r.base.heapBytes), "heap_peak_mb", mbBytes(r.peak.heapBytes), "heap_end_mb", mbBytes(r.end.heapBytes),
		"heap_kb_per_run", perRun(r.peak.heapBytes, r.base.heapBytes, n, 1),
		"goroutines_base", r.base.goroutines, "goroutines_peak", r.peak.goroutines, "goroutines_end", r.end.goroutines,
		"threads_peak", r.peak.threads, "fds_peak", r.peak.fds,
		"events", r.events, "events_per_run", fmt.Sprintf("%.2f", float64(r.events)/float64(max(1, r.started))),
		"tool_calls", r.tools,
		"server_cpu_pct", fmt.Sprintf("%.1f", r.serverPct),
		"server_cpu_ms_per_run", fmt.Sprintf("%.2f", r.serverCPU.Seconds()*1000/float64(max(1, r.started))), "foreign_cpu_pct", fmt.Sprintf("%.1f", r.foreignPct), "load1_start", r.load0, "load1_end", r.load1,
	)
	if r.cfg.label != "" {
		line += " " + r.cfg.label
	}
	fmt.Fprintln(stdout, "RESULT "+line)
	fmt.Fprintf(stderr, `
%d agent runs started at once (3 steps each), c=%d
  started        %d in %.2fs: %.0f starts/s (%d errors)
  finished       all in %.2fs after the first start (seen at %.2fs): %.0f runs/s
  statuses       %v (%d without exactly 3 steps)
  in flight      at most %d runs at once (between their start and end events)
  run duration   p50 %.0f ms, p99 %.0f ms (min %.0f, max %.0f) — AgentRunStarted to the terminal event
  server RSS     %s MB idle → %s MB peak (VmHWM %s MB) → %s MB at the end
  heap+stacks    %s MB idle → %s MB peak → %s MB at the end
  goroutines     %d idle → %d peak → %d at the end; threads %d; fds %d
  events         %d appended (%.2f per run): %s
  tool calls     %d
  CPU            server %.1f%% (%.2f ms per run), other processes %.1f%% of the machine (all cores); load1 %s → %s
`, n, r.cfg.c, r.started, r.startedIn.Seconds(), r.startRate, r.startErrs,
		r.finish.Seconds(), r.detected.Seconds(), r.runsPerSec, r.statuses, r.badSteps,
		r.inflight, r.p50, r.p99, r.minMs, r.maxMs, mb(r.base.rssKB), mb(r.peak.rssKB), mb(r.peak.hwmKB), mb(r.end.rssKB),
		mbBytes(r.base.heapBytes), mbBytes(r.peak.heapBytes), mbBytes(r.end.heapBytes), r.base.goroutines, r.peak.goroutines, r.end.goroutines,
		r.peak.threads, r.peak.fds, r.events, float64(r.events)/float64(max(1, r.started)),
		strings.Join(bt, " "), r.tools, r.serverPct, r.serverCPU.Seconds()*1000/float64(max(1, r.started)), r.foreignPct, r.load0, r.load1)
}

// maxOverlap is the most runs under way at one moment, from their start
// and end times.
func maxOverlap(runs []runInfo) int {
	type edge struct {
		t time.Time
		d int
	}
	es := make([]edge, 0, 2*len(runs))
	for _, r := range runs {
		es = append(es, edge{r.StartedAt, 1}, edge{r.UpdatedAt, -1})
	}
	slices.SortFunc(es, func(a, b edge) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return a.d - b.d // an end before a start at the same instant
	})
	cur, best := 0, 0
	for _, e := range es {
		cur += e.d
		best = max(best, cur)
	}
	return best
}
