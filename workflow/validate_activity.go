package workflow

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// paths names an activity's fields in the document, so that a problem of
// an activity expanded from an agent transition names the transition's
// field ("agentTransitions[0].from"), not a field the author never wrote.
type paths struct {
	base       string
	id         string
	fromStates string           // the list as a whole
	from       func(int) string // one entry of the list
	toState    string
	agentID    string
	outputKey  string
	transition bool
}

func activityPaths(p string) paths {
	return paths{
		base: p, id: p + ".id", fromStates: p + ".fromStates",
		from:    func(j int) string { return index(p+".fromStates", j) },
		toState: p + ".toState", agentID: p + ".agentConfig.agentId", outputKey: p + ".agentConfig.outputKey",
	}
}

func transitionPaths(p string) paths {
	return paths{
		base: p, id: p + ".id", fromStates: p + ".from",
		from:    func(int) string { return p + ".from" },
		toState: p + ".to", agentID: p + ".agentId", outputKey: p + ".outputKey", transition: true,
	}
}

// activity checks one activity, recording its id in ids, and returns its
// compiled conditions (nil when it has none or they are wrong).
func (c *checker) activity(a *Activity, ps paths, states, terminal, ids map[string]bool) *rules.Rule {
	if a.ID == "" {
		c.add(ps.id, "required")
	} else if c.length(ps.id, a.ID) {
		if ids[a.ID] {
			c.add(ps.id, "duplicate activity id "+strconv.Quote(a.ID))
		}
		ids[a.ID] = true
	}
	switch {
	case len(a.FromStates) == 0:
		c.add(ps.fromStates, "at least one state required")
	case ps.transition && a.FromStates[0] == "":
		c.add(ps.fromStates, "required")
	default:
		from := make(map[string]bool, len(a.FromStates))
		for j, s := range a.FromStates {
			fp := ps.from(j)
			if c.stateRef(fp, s, states, from) && terminal[s] {
				c.add(fp, "terminal state "+strconv.Quote(s)+" cannot have outgoing activities")
			}
		}
	}
	switch {
	case a.ToState == "":
		c.add(ps.toState, "required")
	case !states[a.ToState]:
		c.add(ps.toState, "unknown state "+strconv.Quote(a.ToState))
	}
	compiled := c.conditions(ps.base, a.Conditions)
	if ps.transition {
		if a.AgentConfig.AgentID == "" {
			c.add(ps.agentID, "required")
		}
		c.length(ps.agentID, a.AgentConfig.AgentID)
		c.outputKey(ps.outputKey, a.AgentConfig.OutputKey)
		return compiled
	}
	c.agent(ps.base+".agentConfig", a.AgentConfig)
	c.retry(ps.base+".retry", a.Retry)
	if a.TimeoutSeconds < 0 {
		c.add(ps.base+".timeoutSeconds", "must be ≥ 0")
	}
	return compiled
}

func (c *checker) agent(path string, a *AgentConfig) {
	if a == nil {
		return
	}
	if a.AgentID == "" && a.Model == "" {
		c.add(path, "model or agentId required")
	}
	c.length(path+".agentId", a.AgentID)
	if t := a.Temperature; t != nil && !(*t >= 0 && *t <= 2) {
		c.add(path+".temperature", "must be between 0 and 2")
	}
	if n := a.MaxTokens; n != nil && *n < 1 {
		c.add(path+".maxTokens", "must be ≥ 1")
	}
	c.outputKey(path+".outputKey", a.OutputKey)
}

// outputKey checks a key of the resource data: conditions address data by
// dotted paths, so a key with a dot could never be read by one.
func (c *checker) outputKey(path, key string) {
	if c.length(path, key) && strings.Contains(key, ".") {
		c.add(path, `must not contain "."`)
	}
}

// wait checks an activity's waitForHuman against the whole definition
// (its timeout activity may come later in the document).
func (c *checker) wait(d *Definition, a *Activity, path string) {
	h := a.WaitForHuman
	if h == nil {
		return
	}
	if a.AgentConfig != nil {
		c.add(path, "cannot be combined with agentConfig (an agent asks a human through its escalate_to_human tool)")
	}
	if utf8.RuneCountInString(h.Prompt) > MaxPromptLength {
		c.add(path+".prompt", fmt.Sprintf("must be at most %d characters", MaxPromptLength))
	}
	switch {
	case h.TimeoutSeconds < 0:
		c.add(path+".timeoutSeconds", "must be ≥ 0")
	case h.TimeoutSeconds > MaxWaitSeconds:
		c.add(path+".timeoutSeconds", fmt.Sprintf("must be at most %d (366 days)", MaxWaitSeconds))
	case h.TimeoutSeconds == 0 && h.TimeoutActivity != "":
		c.add(path+".timeoutSeconds", "must be > 0 with a timeoutActivity")
	case h.TimeoutSeconds > 0 && h.TimeoutActivity == "":
		c.add(path+".timeoutActivity", "required with a timeout")
	}
	if h.TimeoutActivity == "" {
		return
	}
	tp := path + ".timeoutActivity"
	if h.TimeoutActivity == a.ID {
		c.add(tp, "must name another activity")
		return
	}
	var to *Activity
	for i := range d.Activities {
		if d.Activities[i].ID == h.TimeoutActivity {
			to = &d.Activities[i]
			break
		}
	}
	if to == nil {
		c.add(tp, "unknown activity "+strconv.Quote(h.TimeoutActivity))
		return
	}
	for _, s := range a.FromStates {
		leaves := false
		for _, f := range to.FromStates {
			leaves = leaves || f == s
		}
		if !leaves && s != "" {
			c.add(tp, fmt.Sprintf("activity %q cannot fire from state %q", to.ID, s))
		}
	}
}
