package actors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
)

// StartRun asks for a run of an agent.
type StartRun struct {
	// AgentID and Version name the stored agent (Version 0: the latest).
	AgentID string
	Version int
	Input   string
	// Data is optional structured input, shown to the model as JSON.
	Data map[string]any
	// RunID is optional. Starting an id that exists returns that run, so
	// deterministic ids make starts idempotent. When empty, it derives
	// from IdempotencyKey if set, else a ULID is generated.
	RunID          string
	IdempotencyKey string
	// ResourceID and Activity link a run a workflow activity started.
	ResourceID string
	Activity   string
	// Agent is an inline agent (a workflow's agentConfig without an
	// agentId); it replaces the stored one. AgentID, when set, names it.
	Agent *agent.Definition
}

// RunView is an agent run as the API shows it.
type RunView struct {
	ID           string          `json:"id"`
	AgentID      string          `json:"agentId"`
	AgentVersion int             `json:"agentVersion"`
	Tenant       string          `json:"tenant,omitempty"`
	Status       string          `json:"status"`
	Input        string          `json:"input"`
	Output       string          `json:"output,omitempty"`
	OutputJSON   json.RawMessage `json:"outputJson,omitempty"`
	Steps        int             `json:"steps"`
	Usage        llm.Usage       `json:"usage"`
	CostUSD      float64         `json:"costUsd"`
	Priced       bool            `json:"priced"`
	Error        string          `json:"error,omitempty"`
	// ErrorKind is the kind of a failure (events.AgentFail*).
	ErrorKind  string `json:"errorKind,omitempty"`
	ResourceID string `json:"resourceId,omitempty"`
	Activity   string `json:"activity,omitempty"`
	// Question is what a waiting run asks a human.
	Question string `json:"question,omitempty"`
	// Revision is the revision of the run's last event.
	Revision  uint64    `json:"revision"`
	StartedAt time.Time `json:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func viewOf(r *agent.Run) RunView {
	v := RunView{
		ID: r.ID, AgentID: r.AgentID, AgentVersion: r.AgentVersion, Tenant: r.Tenant, Status: string(r.Status),
		Input: r.Input, Output: r.Output, OutputJSON: r.OutputJSON, Steps: r.Steps, Usage: r.Usage,
		CostUSD: r.CostUSD, Priced: r.Priced, Error: r.Error, ErrorKind: r.FailKind,
		ResourceID: r.ResourceID, Activity: r.Activity, Revision: r.Revision,
		StartedAt: r.StartedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.Status != agent.StatusCompleted {
		v.Output, v.OutputJSON = "", nil
	}
	if r.Waiting != nil {
		v.Question = r.Waiting.Question
	}
	return v
}

// Start starts a run and returns once its AgentRunStarted event is
// durable; the run proceeds in its actor.
func (a *Agents) Start(ctx context.Context, c Caller, req StartRun) (RunView, error) {
	var def agent.Definition
	if req.Agent != nil {
		def = agent.Normalize(*req.Agent)
		if req.AgentID != "" {
			def.ID = req.AgentID
		}
		if err := agent.Validate(def); err != nil {
			return RunView{}, err
		}
	} else {
		d, err := a.Get(ctx, c, req.AgentID, req.Version)
		if err != nil {
			return RunView{}, err
		}
		def = d
	}
	if req.RunID == "" {
		if req.IdempotencyKey != "" {
			sum := sha256.Sum256([]byte(def.ID + "\x00" + req.IdempotencyKey))
			req.RunID = "k-" + hex.EncodeToString(sum[:12])
		} else {
			req.RunID = ulid.Make().String()
		}
	}
	if !agent.ValidID(req.RunID) {
		return RunView{}, fmt.Errorf("run id %q: %w: must be 1-128 letters, digits, '-' or '_'", req.RunID, events.ErrInvalid)
	}
	r, err := a.request(ctx, c.Tenant, req.RunID, &runStartMsg{caller: c, req: req, def: def})
	return r.view, err
}

// Run returns the tenant's run id. A resident run answers from its actor;
// any other is read from its stream, without activating it.
func (a *Agents) Run(ctx context.Context, c Caller, id string) (RunView, error) {
	if !agent.ValidID(id) {
		return RunView{}, fmt.Errorf("agent run %q: %w", id, ErrNotFound)
	}
	a.mu.Lock()
	_, resident := a.active[events.Scoped(c.Tenant, id)]
	a.mu.Unlock()
	if resident {
		r, err := a.request(ctx, c.Tenant, id, &runGetMsg{caller: c})
		return r.view, err
	}
	run, err := a.read(ctx, c.Tenant, id)
	if err != nil {
		return RunView{}, err
	}
	if run.Revision == 0 || run.Tenant != c.Tenant {
		return RunView{}, fmt.Errorf("agent run %q: %w", id, ErrNotFound)
	}
	return viewOf(run), nil
}

// read folds the tenant's run id from its stream.
func (a *Agents) read(ctx context.Context, tenant, id string) (*agent.Run, error) {
	var run agent.Run
	evs, err := a.store.ReadStream(ctx, events.AgentRunStream(tenant, id), 1, 0)
	if err != nil {
		return nil, fmt.Errorf("read agent run %q: %w", id, err)
	}
	for _, e := range evs {
		if err := run.Apply(e); err != nil {
			return nil, err
		}
	}
	return &run, nil
}

// Cancel cancels a run: an in-flight model or tool call is cancelled and
// AgentRunCancelled appended. Cancelling an ended run returns it as it is.
func (a *Agents) Cancel(ctx context.Context, c Caller, id string) (RunView, error) {
	r, err := a.request(ctx, c.Tenant, id, &runCancelMsg{caller: c})
	return r.view, err
}

// Answer gives a waiting run the human's answer (AgentRunAnswered, the
// result of its escalate_to_human call) and lets it continue. A run that
// is not waiting fails with ErrNotWaiting.
func (a *Agents) Answer(ctx context.Context, c Caller, id, answer string) (RunView, error) {
	r, err := a.request(ctx, c.Tenant, id, &runAnswerMsg{caller: c, answer: answer})
	return r.view, err
}

// Resume re-activates every run that is running (not waiting, not ended),
// so that runs cut short by a stop or a crash continue from their last
// journaled step. Call it once at start-up.
//
// It scans the log once (ReadAll, pages of 1,000) and keeps only the runs
// not ended so far, keyed by stream: memory is bounded by the runs under
// way, not by the log. A run started while the scan runs is resident
// already; re-activating it is harmless.
func (a *Agents) Resume(ctx context.Context) error {
	last, err := a.store.LastPosition(ctx)
	if err != nil {
		return fmt.Errorf("resume agent runs: %w", err)
	}
	type open struct {
		tenant  string
		waiting bool
	}
	runs := map[string]open{}
	for from := uint64(1); from <= last; {
		page, err := a.store.ReadAll(ctx, from, 1000)
		if err != nil {
			return fmt.Errorf("resume agent runs: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Position > last {
				break
			}
			if !strings.HasPrefix(e.Stream, events.AgentRunStreamPrefix) {
				continue
			}
			switch e.Type {
			case events.TypeAgentRunStarted:
				runs[e.Stream] = open{tenant: e.Tenant}
			case events.TypeAgentRunWaiting, events.TypeAgentRunAnswered:
				if o, ok := runs[e.Stream]; ok {
					o.waiting = e.Type == events.TypeAgentRunWaiting
					runs[e.Stream] = o
				}
			case events.TypeAgentRunCompleted, events.TypeAgentRunFailed, events.TypeAgentRunCancelled:
				delete(runs, e.Stream)
			}
		}
		from = page[len(page)-1].Position + 1
	}
	n := 0
	for stream, o := range runs {
		if o.waiting {
			continue
		}
		_, id := events.Unscope(strings.TrimPrefix(stream, events.AgentRunStreamPrefix))
		if err := a.kick(ctx, o.tenant, id); err != nil {
			return fmt.Errorf("resume agent run %s: %w", stream, err)
		}
		n++
	}
	if n > 0 {
		a.log.Info("agent runs resumed", "runs", n)
	}
	return nil
}

// kick activates the tenant's run id and lets it continue. The actor
// acknowledges at once and loads the run afterwards.
func (a *Agents) kick(ctx context.Context, tenant, id string) error {
	_, err := a.request(ctx, tenant, id, runKickMsg{})
	return err
}

// runActivation is a resident run actor.
type runActivation struct {
	pid *actor.PID
	// done is closed once the actor has stopped. A command still in its
	// mailbox then is dropped unanswered (protoactor drops user messages
	// to a stopped actor), so a request that sees done without a reply
	// retries on a new activation.
	done chan struct{}
}

// request sends msg to the activation of the tenant's run id, activating
// it when needed, and waits for the answer. A command that reaches an
// actor as it stops is retried on a new activation.
func (a *Agents) request(ctx context.Context, tenant, id string, msg any) (runReply, error) {
	if err := events.ValidateStream(events.AgentRunStream(tenant, id)); err != nil || !agent.ValidID(id) {
		return runReply{}, fmt.Errorf("agent run %q: %w", id, ErrNotFound)
	}
	key := events.Scoped(tenant, id)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.sys.opts.RequestTimeout)
		defer cancel()
	}
	for attempt := 0; attempt < 5; attempt++ {
		act, err := a.activate(key)
		if err != nil {
			return runReply{}, err
		}
		reply := make(chan runReply, 1)
		a.sys.as.Root.Send(act.pid, &runCmd{reply: reply, msg: msg})
		select {
		case r := <-reply:
			return r, r.err
		case <-act.done:
			select {
			case r := <-reply:
				return r, r.err
			default:
			}
			a.deactivate(key, act.pid)
		case <-ctx.Done():
			return runReply{}, fmt.Errorf("agent run %s: %w", key, ctx.Err())
		}
	}
	return runReply{}, fmt.Errorf("agent run %s: activation kept stopping: %w", key, ErrBusy)
}

func (a *Agents) activate(key string) (*runActivation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return nil, ErrStopped
	}
	if act, ok := a.active[key]; ok {
		return act, nil
	}
	a.gen++
	act := &runActivation{done: make(chan struct{})}
	name := "agentrun/" + key + nameSep + strconv.FormatUint(a.gen, 36)
	a.dones[name] = act.done
	pid, err := a.sys.as.Root.SpawnNamed(a.props, name)
	if err != nil {
		delete(a.dones, name)
		return nil, fmt.Errorf("activate agent run %s: %w", key, err)
	}
	act.pid = pid
	a.active[key] = act
	return act, nil
}

// actorStopped closes the done channel of the actor named name.
func (a *Agents) actorStopped(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if done, ok := a.dones[name]; ok {
		close(done)
		delete(a.dones, name)
	}
}

// deactivate forgets pid as the activation of key (if it still is).
func (a *Agents) deactivate(key string, pid *actor.PID) {
	a.mu.Lock()
	if cur, ok := a.active[key]; ok && cur.pid.Equal(pid) {
		delete(a.active, key)
	}
	a.mu.Unlock()
}

// Active reports how many run actors are resident.
func (a *Agents) Active() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.active)
}

// stop stops every run actor (their in-flight calls are cancelled, and
// nothing more is journaled) and waits for their goroutines and watchers.
func (a *Agents) stop(ctx context.Context) error {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return nil
	}
	a.stopped = true
	close(a.quit)
	pids := make([]*actor.PID, 0, len(a.active))
	for _, act := range a.active {
		pids = append(pids, act.pid)
	}
	clear(a.active)
	a.mu.Unlock()
	for _, pid := range pids {
		_ = a.sys.as.Root.StopFuture(pid).Wait()
	}
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goroutine runs f on a goroutine that stop waits for; after stop it
// runs nothing and returns false.
func (a *Agents) goroutine(f func()) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return false
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
	return true
}
