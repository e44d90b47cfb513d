package e2e

import (
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	resources = 20
	workers   = 8
)

// ack is an acknowledged transition.
type ack struct {
	Resource string
	Revision uint64
	To       string
}

type transition struct {
	To       string `json:"to"`
	Revision uint64 `json:"revision"`
}

type resource struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Revision uint64 `json:"revision"`
}

type history struct {
	History []struct {
		Revision uint64 `json:"revision"`
		To       string `json:"to"`
	} `json:"history"`
}

func setupWorkflow(t *testing.T, p *proc) []string {
	t.Helper()
	p.must(t, "POST", "/api/v1/workflows", pingPong, nil)
	ids := make([]string, resources)
	for i := range ids {
		ids[i] = fmt.Sprintf("r-%02d", i)
		p.must(t, "POST", "/api/v1/resources", map[string]any{"workflowId": "ping-pong", "id": ids[i]}, nil)
	}
	return ids
}

// TestCrashKeepsAcknowledgedTransitions fires activities from several
// goroutines, SIGKILLs the server mid-load, restarts it on the same data
// and checks that every acknowledged transition is in the history.
func TestCrashKeepsAcknowledgedTransitions(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	ids := setupWorkflow(t, p)

	var (
		mu    sync.Mutex
		acks  []ack
		total atomic.Int64
		wg    sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			// Each worker owns the resources i ≡ w (mod workers), so firings
			// never race on a resource and each knows the next activity.
			state := map[string]string{}
			for seq := 0; ; seq++ {
				for i := w; i < len(ids); i += workers {
					id := ids[i]
					act := "hit"
					if state[id] == "pong" {
						act = "return"
					}
					var tr transition
					key := fmt.Sprintf("w%d-%d-%s", w, seq, id)
					if _, err := p.call("POST", "/api/v1/resources/"+id+"/activities/"+act, map[string]any{"idempotencyKey": key}, &tr); err != nil {
						return // the server died (or refused): stop this worker
					}
					state[id] = tr.To
					mu.Lock()
					acks = append(acks, ack{id, tr.Revision, tr.To})
					mu.Unlock()
					total.Add(1)
				}
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for total.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.kill()
	wg.Wait()
	if len(acks) == 0 {
		t.Fatalf("no transition acknowledged before the kill:\n%s", p.log)
	}
	t.Logf("%d transitions acknowledged before SIGKILL", len(acks))

	p = start(t, dir)
	last := map[string]ack{}
	for _, a := range acks {
		if a.Revision > last[a.Resource].Revision {
			last[a.Resource] = a
		}
	}
	hist := map[string]map[uint64]string{}
	for _, id := range ids {
		var h history
		p.must(t, "GET", "/api/v1/resources/"+id+"/history", nil, &h)
		hist[id] = map[uint64]string{}
		for i, e := range h.History {
			if e.Revision != uint64(i+1) {
				t.Fatalf("%s: history entry %d has revision %d", id, i, e.Revision)
			}
			hist[id][e.Revision] = e.To
		}
		var r resource
		p.must(t, "GET", "/api/v1/resources/"+id, nil, &r)
		if r.Revision < last[id].Revision {
			t.Errorf("%s: at revision %d after restart, but revision %d was acknowledged", id, r.Revision, last[id].Revision)
		}
		if r.Revision != uint64(len(h.History)) {
			t.Errorf("%s: at revision %d, history has %d entries", id, r.Revision, len(h.History))
		}
	}
	for _, a := range acks {
		if got, ok := hist[a.Resource][a.Revision]; !ok || got != a.To {
			t.Errorf("acknowledged %s@%d → %s, history has %q (present %v)", a.Resource, a.Revision, a.To, got, ok)
		}
	}
	// The restarted server keeps working.
	p.must(t, "POST", "/api/v1/resources", map[string]any{"workflowId": "ping-pong", "id": "after"}, nil)
	p.stop(t)
}

// TestReplayRebuildsTheSameViews stops the server, rebuilds the projections
// offline with "replay" and checks the restarted server serves the same
// lists; replay is refused while the server runs.
func TestReplayRebuildsTheSameViews(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	ids := setupWorkflow(t, p)
	for i, id := range ids {
		for range i % 3 {
			var r resource
			p.must(t, "GET", "/api/v1/resources/"+id, nil, &r)
			act := map[string]string{"ping": "hit", "pong": "return"}[r.State]
			p.must(t, "POST", "/api/v1/resources/"+id+"/activities/"+act, nil, nil)
		}
	}
	// Histories read their own writes, so after these the lists are current.
	for _, id := range ids {
		p.must(t, "GET", "/api/v1/resources/"+id+"/history", nil, nil)
	}
	var before, after, wfBefore, wfAfter map[string]any
	p.must(t, "GET", "/api/v1/resources", nil, &before)
	p.must(t, "GET", "/api/v1/workflows", nil, &wfBefore)

	out, err := exec.Command(binary(t), "replay", "--data-dir", dir, "--quiet").CombinedOutput()
	if err == nil || !regexp.MustCompile(`in use by another circuit-breaker process`).Match(out) {
		t.Fatalf("replay while serving: err %v, output:\n%s", err, out)
	}
	p.stop(t)

	out, err = exec.Command(binary(t), "replay", "--data-dir", dir).Output()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`^replayed \d+ events in \S+ \(\d+ events/s\)\n$`).Match(out) {
		t.Fatalf("replay printed %q", out)
	}

	p = start(t, dir)
	p.must(t, "GET", "/api/v1/resources", nil, &after)
	p.must(t, "GET", "/api/v1/workflows", nil, &wfAfter)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("resources differ after replay:\nbefore %v\nafter  %v", before, after)
	}
	if !reflect.DeepEqual(wfBefore, wfAfter) {
		t.Errorf("workflows differ after replay:\nbefore %v\nafter  %v", wfBefore, wfAfter)
	}
	p.stop(t)
}
