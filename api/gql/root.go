package gql

import (
	"context"
	"log/slog"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// core is what every resolver reads and writes through.
type core struct {
	sys    *actors.System
	runner *projections.Runner
	views  *projections.Views
	store  events.Store
	feed   Feed
	rules  *actors.Rules
	keys   *auth.Keys
	llm    LLM
	log    *slog.Logger
	ryw    time.Duration
}

// root is graphql-go's root resolver; each operation type has its own.
type root struct{ c *core }

func (r *root) Query() *query               { return &query{r.c} }
func (r *root) Mutation() *mutation         { return &mutation{r.c} }
func (r *root) Subscription() *subscription { return &subscription{r.c} }

type query struct{ c *core }
type mutation struct{ c *core }
type subscription struct{ c *core }

// waitFor lets the projections catch up to pos, so that a query following a
// mutation sees it. Lagging is not an error: the mutation is durable.
func (c *core) waitFor(ctx context.Context, pos uint64) {
	ctx, cancel := context.WithTimeout(ctx, c.ryw)
	defer cancel()
	if err := c.runner.WaitFor(ctx, pos); err != nil && ctx.Err() == nil {
		c.log.Warn("projections lag behind a mutation", "position", pos, "err", err)
	}
}

// waitLatest waits for the projections to reach the end of the log as it
// is now, for commands that do not report their position.
func (c *core) waitLatest(ctx context.Context) {
	pos, err := c.store.LastPosition(ctx)
	if err != nil {
		return
	}
	c.waitFor(ctx, pos)
}

func gtime(t time.Time) *graphql.Time {
	if t.IsZero() {
		return nil
	}
	return &graphql.Time{Time: t}
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
