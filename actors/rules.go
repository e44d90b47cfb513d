package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/rules"
)

// RuleActive is the status of a rule that can be evaluated.
const RuleActive = "active"

// Rule is a stored rule as of its last event.
type Rule struct {
	ID          string           `json:"id"`
	Tenant      string           `json:"tenant,omitempty"`
	Name        string           `json:"name"`
	Type        string           `json:"type,omitempty"`
	Description string           `json:"description,omitempty"`
	Status      string           `json:"status"`
	Definition  rules.Definition `json:"definition"`
	// Version is the revision of the rule's last event (1 when created).
	Version int `json:"version"`
	// Position is the global position of the rule's last event.
	Position  uint64    `json:"position"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// RuleSpec is what a caller writes when creating or updating a rule.
type RuleSpec struct {
	// ID is optional on create; a ULID is generated when empty.
	ID          string
	Name        string
	Type        string
	Description string
	Definition  rules.Definition
}

// Rules stores rules as events, one stream per rule (events.RuleStream):
// RuleCreated, then RuleUpdated for every change, then RuleDeleted. Every
// write is compiled first (rules.Compile), so a stored rule always compiles,
// and appended with the revision it was decided on, so concurrent writers
// conflict instead of overwriting each other. Compiled rules are cached by
// id and version; versions are immutable, so the cache needs no
// invalidation.
//
// Rules is safe for concurrent use.
type Rules struct {
	store events.Store

	mu       sync.RWMutex
	compiled map[ruleKey]*rules.Rule
}

type ruleKey struct {
	id      string
	version int
}

// NewRules returns the rules stored in store.
func NewRules(store events.Store) *Rules {
	return &Rules{store: store, compiled: make(map[ruleKey]*rules.Rule)}
}

// Create checks spec and stores it as a new rule.
func (r *Rules) Create(ctx context.Context, c Caller, spec RuleSpec) (Rule, error) {
	if spec.ID == "" {
		spec.ID = ulid.Make().String()
	}
	if err := events.ValidateStream(events.RuleStream(c.Tenant, spec.ID)); err != nil {
		return Rule{}, fmt.Errorf("id: %w", err)
	}
	return r.write(ctx, c, spec, events.TypeRuleCreated, events.NoStream)
}

// Update replaces rule id's name, type, description and definition.
func (r *Rules) Update(ctx context.Context, c Caller, id string, spec RuleSpec) (Rule, error) {
	prev, err := r.Get(ctx, c, id)
	if err != nil {
		return Rule{}, err
	}
	spec.ID = id
	return r.write(ctx, c, spec, events.TypeRuleUpdated, events.Exact(uint64(prev.Version)))
}

// Delete deletes rule id and returns it as it was.
func (r *Rules) Delete(ctx context.Context, c Caller, id string) (Rule, error) {
	prev, err := r.Get(ctx, c, id)
	if err != nil {
		return Rule{}, err
	}
	ev, err := events.NewEvent(events.TypeRuleDeleted, events.RuleDeletedVersion, events.RuleDeleted{RuleID: id})
	if err != nil {
		return Rule{}, err
	}
	ev.Tenant, ev.Actor = c.Tenant, c.Actor
	if _, err := r.store.Append(ctx, events.RuleStream(c.Tenant, id), events.Exact(uint64(prev.Version)), ev); err != nil {
		return Rule{}, fmt.Errorf("delete rule %q: %w", id, err)
	}
	return prev, nil
}

func (r *Rules) write(ctx context.Context, c Caller, spec RuleSpec, typ string, expected events.Revision) (Rule, error) {
	var problems rules.Errors
	if strings.TrimSpace(spec.Name) == "" {
		problems = append(problems, &rules.Error{Path: "name", Msg: "is required"})
	}
	compiled, err := rules.Compile(spec.Definition)
	if err != nil {
		var es rules.Errors
		if !errors.As(err, &es) {
			return Rule{}, err
		}
		problems = append(problems, es.WithPrefix("definition")...)
	}
	if len(problems) > 0 {
		return Rule{}, problems
	}
	def, err := json.Marshal(spec.Definition)
	if err != nil {
		return Rule{}, fmt.Errorf("encode rule: %w", err)
	}
	version := events.RuleCreatedVersion
	if typ == events.TypeRuleUpdated {
		version = events.RuleUpdatedVersion
	}
	ev, err := events.NewEvent(typ, version, events.RuleDefined{
		RuleID: spec.ID, Name: spec.Name, Type: spec.Type, Description: spec.Description, Definition: def,
	})
	if err != nil {
		return Rule{}, err
	}
	ev.Tenant, ev.Actor = c.Tenant, c.Actor
	if _, err := r.store.Append(ctx, events.RuleStream(c.Tenant, spec.ID), expected, ev); err != nil {
		if errors.Is(err, events.ErrConflict) && expected == events.NoStream {
			return Rule{}, fmt.Errorf("rule %q: %w", spec.ID, ErrAlreadyExists)
		}
		return Rule{}, fmt.Errorf("rule %q: %w", spec.ID, err)
	}
	// Read back rather than guess: times and positions are the store's.
	rule, err := r.Get(ctx, c, spec.ID)
	if err != nil {
		return Rule{}, err
	}
	r.mu.Lock()
	r.compiled[ruleKey{events.Scoped(c.Tenant, rule.ID), rule.Version}] = compiled
	r.mu.Unlock()
	return rule, nil
}

// Get returns rule id. A deleted rule, or another tenant's, is ErrNotFound.
func (r *Rules) Get(ctx context.Context, c Caller, id string) (Rule, error) {
	rule, deleted, err := r.load(ctx, c, id)
	if err != nil {
		return Rule{}, err
	}
	if rule.Version == 0 || deleted || rule.Tenant != c.Tenant {
		return Rule{}, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	return rule, nil
}

// Compiled returns rule id and its compiled form, ready to evaluate.
func (r *Rules) Compiled(ctx context.Context, c Caller, id string) (Rule, *rules.Rule, error) {
	rule, err := r.Get(ctx, c, id)
	if err != nil {
		return Rule{}, nil, err
	}
	k := ruleKey{events.Scoped(c.Tenant, rule.ID), rule.Version}
	r.mu.RLock()
	cr, ok := r.compiled[k]
	r.mu.RUnlock()
	if ok {
		return rule, cr, nil
	}
	cr, err = rules.Compile(rule.Definition)
	if err != nil {
		return Rule{}, nil, fmt.Errorf("stored rule %q v%d: %w", id, rule.Version, err)
	}
	r.mu.Lock()
	r.compiled[k] = cr
	r.mu.Unlock()
	return rule, cr, nil
}

// load folds rule id's stream.
func (r *Rules) load(ctx context.Context, c Caller, id string) (Rule, bool, error) {
	if events.ValidateStream(events.RuleStream(c.Tenant, id)) != nil {
		return Rule{}, false, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	evs, err := r.store.ReadStream(ctx, events.RuleStream(c.Tenant, id), 0, 0)
	if err != nil {
		return Rule{}, false, err
	}
	var rule Rule
	deleted := false
	for _, e := range evs {
		switch e.Type {
		case events.TypeRuleCreated, events.TypeRuleUpdated:
			var d events.RuleDefined
			if err := e.Decode(&d); err != nil {
				return Rule{}, false, err
			}
			var def rules.Definition
			if err := json.Unmarshal(d.Definition, &def); err != nil {
				return Rule{}, false, fmt.Errorf("stored rule %q: %w", id, err)
			}
			if e.Type == events.TypeRuleCreated {
				rule = Rule{ID: d.RuleID, Tenant: e.Tenant, CreatedAt: e.Time}
			}
			rule.Name, rule.Type, rule.Description, rule.Definition = d.Name, d.Type, d.Description, def
			rule.Status = RuleActive
		case events.TypeRuleDeleted:
			deleted = true
			rule.Status = "deleted"
		default:
			continue
		}
		rule.Version, rule.Position, rule.UpdatedAt = int(e.Revision), e.Position, e.Time
	}
	return rule, deleted, nil
}
