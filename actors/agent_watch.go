package actors

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
)

// RunEvent types.
const (
	RunEventStarted     = "STARTED"
	RunEventToken       = "TOKEN"
	RunEventThinking    = "THINKING"
	RunEventModelCalled = "MODEL_CALLED"
	RunEventToolCall    = "TOOL_CALL"
	RunEventToolResult  = "TOOL_RESULT"
	RunEventWaiting     = "WAITING"
	RunEventAnswered    = "ANSWERED"
	RunEventCompleted   = "COMPLETED"
	RunEventFailed      = "FAILED"
	RunEventCancelled   = "CANCELLED"
)

// RunEvent is one thing that happened in a run, as Watch delivers it.
// TOKEN and THINKING carry a fragment of the model's text (Text) as it
// streams; they are not journaled, so a watcher that starts late or falls
// behind misses some. Every other type stands for a journaled event, at
// Position: MODEL_CALLED (Text is the answer's text), then one TOOL_CALL
// per tool call of the answer, TOOL_RESULT, WAITING (Text is the
// question), ANSWERED (Text is the answer). STARTED, WAITING, ANSWERED
// and the terminal COMPLETED, FAILED and CANCELLED carry the run's view.
type RunEvent struct {
	Type       string   `json:"type"`
	Step       int      `json:"step,omitempty"`
	Text       string   `json:"text,omitempty"`
	ToolCallID string   `json:"toolCallId,omitempty"`
	ToolName   string   `json:"toolName,omitempty"`
	Arguments  string   `json:"arguments,omitempty"`
	Result     string   `json:"result,omitempty"`
	IsError    bool     `json:"isError,omitempty"`
	Run        *RunView `json:"run,omitempty"`
	Position   uint64   `json:"position,omitempty"`
}

// hub fans a run's live events out to its watchers on this node.
type hub struct {
	watchers map[*watcher]struct{}
}

// hubMsg is a journaled event (env) or a delta (ev).
type hubMsg struct {
	env *events.Envelope
	ev  RunEvent
}

// watcherBuffer is how many live messages a watcher may fall behind
// before deltas are dropped and it catches up from the stream.
const watcherBuffer = 256

type watcher struct {
	ch     chan hubMsg
	lagged atomic.Bool
	poke   chan struct{} // signalled when lagged is set
}

// publish hands m to the run's watchers without blocking: a watcher whose
// buffer is full is marked lagged and catches up from the stream.
func (a *Agents) publish(key string, m hubMsg) {
	a.hubMu.RLock()
	defer a.hubMu.RUnlock()
	h := a.hubs[key]
	if h == nil {
		return
	}
	for w := range h.watchers {
		select {
		case w.ch <- m:
		default:
			w.lagged.Store(true)
			select {
			case w.poke <- struct{}{}:
			default:
			}
		}
	}
}

func (a *Agents) subscribe(key string) *watcher {
	w := &watcher{ch: make(chan hubMsg, watcherBuffer), poke: make(chan struct{}, 1)}
	a.hubMu.Lock()
	defer a.hubMu.Unlock()
	h := a.hubs[key]
	if h == nil {
		h = &hub{watchers: map[*watcher]struct{}{}}
		a.hubs[key] = h
	}
	h.watchers[w] = struct{}{}
	return w
}

func (a *Agents) unsubscribe(key string, w *watcher) {
	a.hubMu.Lock()
	defer a.hubMu.Unlock()
	if h := a.hubs[key]; h != nil {
		delete(h.watchers, w)
		if len(h.watchers) == 0 {
			delete(a.hubs, key)
		}
	}
}

// Watch streams the tenant's run id: its journaled events from the start,
// then live token deltas and events. The channel is closed after the
// terminal event, when ctx ends or when the system stops. A watcher that
// falls behind loses deltas, never journaled events: it catches up from
// the stream.
func (a *Agents) Watch(ctx context.Context, c Caller, id string) (<-chan RunEvent, error) {
	if !agent.ValidID(id) {
		return nil, fmt.Errorf("agent run %q: %w", id, ErrNotFound)
	}
	key := events.Scoped(c.Tenant, id)
	w := a.subscribe(key) // first: nothing appended after the read is missed
	stream := events.AgentRunStream(c.Tenant, id)
	first, err := a.store.ReadStream(ctx, stream, 1, 0)
	if err != nil {
		a.unsubscribe(key, w)
		return nil, fmt.Errorf("watch agent run %q: %w", id, err)
	}
	if len(first) == 0 || first[0].Tenant != c.Tenant {
		a.unsubscribe(key, w)
		return nil, fmt.Errorf("agent run %q: %w", id, ErrNotFound)
	}
	out := make(chan RunEvent, 16)
	if !a.goroutine(func() { a.pump(ctx, key, stream, w, first, out) }) {
		a.unsubscribe(key, w)
		return nil, ErrStopped
	}
	return out, nil
}

// pump feeds one watcher: the events read so far, then the live ones,
// re-reading the stream whenever it sees a gap or has lagged.
func (a *Agents) pump(ctx context.Context, key, stream string, w *watcher, first []events.Envelope, out chan<- RunEvent) {
	defer close(out)
	defer a.unsubscribe(key, w)
	var run agent.Run
	emit := func(ev RunEvent) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
		case <-a.quit:
		}
		return false
	}
	// apply folds e and emits its run events; false ends the watch.
	apply := func(e events.Envelope) bool {
		if e.Revision <= run.Revision {
			return true
		}
		if err := run.Apply(e); err != nil {
			a.log.Warn("agent run watch ended", "run", key, "err", err)
			return false
		}
		for _, ev := range runEvents(e, &run) {
			if !emit(ev) {
				return false
			}
		}
		return !run.Status.Terminal()
	}
	catchUp := func() bool {
		evs, err := a.store.ReadStream(ctx, stream, run.Revision+1, 0)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("agent run watch ended", "run", key, "err", err)
			}
			return false
		}
		for _, e := range evs {
			if !apply(e) {
				return false
			}
		}
		return true
	}
	for _, e := range first {
		if !apply(e) {
			return
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.quit:
			return
		case <-w.poke:
		case m := <-w.ch:
			switch {
			case m.env == nil:
				if !emit(m.ev) {
					return
				}
			case m.env.Revision > run.Revision+1:
				if !catchUp() {
					return
				}
			default:
				if !apply(*m.env) {
					return
				}
			}
		}
		if w.lagged.Swap(false) && !catchUp() {
			return
		}
	}
}

// runEvents are the RunEvents of one journaled event, run having folded it.
func runEvents(e events.Envelope, run *agent.Run) []RunEvent {
	view := func() *RunView { v := viewOf(run); return &v }
	base := RunEvent{Position: e.Position}
	switch e.Type {
	case events.TypeAgentRunStarted:
		base.Type, base.Run = RunEventStarted, view()
	case events.TypeAgentModelCalled:
		var d events.AgentModelCalled
		if e.Decode(&d) != nil {
			return nil
		}
		parts := agent.LLMParts(d.Parts)
		base.Type, base.Step, base.Text = RunEventModelCalled, d.Step, llm.Message{Parts: parts}.Text()
		out := []RunEvent{base}
		for _, p := range parts {
			if p.Kind == llm.PartToolCall {
				out = append(out, RunEvent{Type: RunEventToolCall, Step: d.Step, ToolCallID: p.ToolCall.ID,
					ToolName: p.ToolCall.Name, Arguments: p.ToolCall.Arguments, Position: e.Position})
			}
		}
		return out
	case events.TypeAgentToolCalled:
		var d events.AgentToolCalled
		if e.Decode(&d) != nil {
			return nil
		}
		base.Type, base.Step, base.ToolCallID, base.ToolName = RunEventToolResult, d.Step, d.ToolCallID, d.Name
		base.Arguments, base.Result, base.IsError = d.Arguments, d.Result, d.IsError
	case events.TypeAgentRunWaiting:
		var d events.AgentRunWaiting
		if e.Decode(&d) != nil {
			return nil
		}
		base.Type, base.Step, base.ToolCallID, base.Text, base.Run = RunEventWaiting, d.Step, d.ToolCallID, d.Question, view()
	case events.TypeAgentRunAnswered:
		var d events.AgentRunAnswered
		if e.Decode(&d) != nil {
			return nil
		}
		base.Type, base.ToolCallID, base.Text, base.Run = RunEventAnswered, d.ToolCallID, d.Answer, view()
	case events.TypeAgentRunCompleted:
		base.Type, base.Text, base.Run = RunEventCompleted, run.Output, view()
	case events.TypeAgentRunFailed:
		base.Type, base.Text, base.Run = RunEventFailed, run.Error, view()
	case events.TypeAgentRunCancelled:
		base.Type, base.Run = RunEventCancelled, view()
	default:
		return nil
	}
	return []RunEvent{base}
}
