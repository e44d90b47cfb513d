// Command gqlmutate measures executeActivity mutations over GraphQL/HTTP:
// a closed loop of -c concurrent callers, each owning its own resources
// and firing the two activities of a cycle (submit, reject) on them in
// turn, so no two calls on one resource overlap. Every call is answered
// after its StateChanged event is fsynced (the embedded store syncs every
// write). It prints mutations/s and the p50/p99 of the acknowledgement
// latency, and fails if any call returns a GraphQL error.
//
// It is a benchmark driver, not a test: see bench/graphql.sh.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4000", "server `host:port`")
	conc := flag.Int("c", 64, "concurrent callers (closed loop)")
	nres := flag.Int("resources", 1024, "resources, spread over the callers")
	dur := flag.Duration("duration", 20*time.Second, "measured duration")
	warm := flag.Duration("warmup", 3*time.Second, "unmeasured warm-up before it")
	maxReq := flag.Int("max", 2_000_000, "bound on the number of calls")
	flag.Parse()
	if *nres < *conc {
		*nres = *conc
	}
	ctx, cancel := context.WithTimeout(context.Background(), *warm+*dur+2*time.Minute)
	defer cancel()
	d := &driver{addr: *addr, wf: fmt.Sprintf("mut-%d", time.Now().UnixNano()),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc + 8}}}
	if err := d.setup(ctx, *nres); err != nil {
		fmt.Fprintln(os.Stderr, "gqlmutate: setup:", err)
		os.Exit(1)
	}
	if err := d.run(ctx, *conc, *nres, *warm, *dur, *maxReq); err != nil {
		fmt.Fprintln(os.Stderr, "gqlmutate:", err)
		os.Exit(1)
	}
}

type driver struct {
	addr string
	wf   string
	http *http.Client
}

func (d *driver) setup(ctx context.Context, nres int) error {
	if err := d.gql(ctx, fmt.Sprintf(`mutation { createWorkflow(input: {id: %q, name: "Mutation bench",
		states: ["draft", "review"], activities: [
		{id: "submit", fromStates: ["draft"], toState: "review"},
		{id: "reject", fromStates: ["review"], toState: "draft"}]}) { id } }`, d.wf)); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var failed atomic.Value
	sem := make(chan struct{}, 32)
	for i := range nres {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := d.gql(ctx, fmt.Sprintf(`mutation { executeWorkflow(workflowId: %q, resourceId: "%s-%d") { id } }`, d.wf, d.wf, i)); err != nil {
				failed.CompareAndSwap(nil, err)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	return nil
}

func (d *driver) run(ctx context.Context, conc, nres int, warm, dur time.Duration, maxReq int) error {
	var calls atomic.Int64
	var firstErr atomic.Value
	var errs atomic.Int64
	lat := make([][]time.Duration, conc)
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+dur)
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() {
			fired := map[int]int{} // activities fired per owned resource
			for k := 0; ; k++ {
				// Caller w owns resources w, w+conc, w+2·conc, …
				owned := (nres - w + conc - 1) / conc
				i := w + (k%owned)*conc
				act := "submit"
				if fired[i]%2 == 1 {
					act = "reject"
				}
				if time.Now().After(end) || calls.Add(1) > int64(maxReq) || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := d.gql(ctx, fmt.Sprintf(`mutation { executeActivity(resourceId: "%s-%d", activityId: %q) { toState revision } }`, d.wf, i, act))
				done := time.Now()
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					return
				}
				fired[i]++
				if t.After(measureFrom) && done.Before(end) {
					lat[w] = append(lat[w], done.Sub(t))
				}
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("%d calls failed, first: %w", errs.Load(), err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	p := func(q float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, max(0, int(q*float64(len(all))+0.5)-1))]) / 1e6
	}
	fmt.Printf("RESULT c=%d resources=%d mutations=%d per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
		conc, nres, len(all), float64(len(all))/dur.Seconds(), p(.5), p(.99))
	return nil
}

// gql posts a GraphQL operation; a GraphQL error is an error.
func (d *driver) gql(ctx context.Context, q string) error {
	body, _ := json.Marshal(map[string]string{"query": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+d.addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var out struct{ Errors []json.RawMessage }
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	if len(out.Errors) > 0 {
		return fmt.Errorf("GraphQL error: %s", out.Errors[0])
	}
	return nil
}
