package gql_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/auth"
)

func as(tenant string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Tenant: tenant, Subject: "test", Method: "apikey"})
}

type wfEvent struct {
	Type       string  `json:"type"`
	ResourceID *string `json:"resourceId"`
	NewState   *string `json:"newState"`
	Position   int     `json:"position"`
}

// next receives one response and decodes the subscription's field.
func next(t *testing.T, ch <-chan *graphql.Response, field string) wfEvent {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("subscription ended")
		}
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %v", r.Errors)
		}
		var data map[string]wfEvent
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		return data[field]
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return wfEvent{}
}

func TestSubscriptions(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "a", pingPong, map[string]any{"id": "wa"})
	e.ok(t, "b", pingPong, map[string]any{"id": "wb"})

	ctx, cancel := context.WithCancel(as("a"))
	defer cancel()
	const wq = `subscription($id: ID!, $from: Int) { workflowEvents(workflowId: $id, from: $from) { type resourceId newState position } }`
	live, err := e.schema.Subscribe(ctx, wq, "", map[string]any{"id": "wa"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := e.schema.Subscribe(ctx, `subscription { events(streamPrefix: "resource-") { type position stream } }`, "", nil)
	if err != nil {
		t.Fatal(err)
	}

	// Tenant b's activity must not reach a's subscribers.
	e.ok(t, "b", `mutation { createResource(workflowId: "wb", resourceId: "rb", input: {score: 9}) { id } }`, nil)
	e.ok(t, "a", `mutation { createResource(workflowId: "wa", resourceId: "ra", input: {score: 9}) { id } }`, nil)
	e.ok(t, "a", `mutation { executeActivity(resourceId: "ra", activityId: "hit") { toState } }`, nil)
	e.ok(t, "a", `mutation { executeActivity(resourceId: "ra", activityId: "finish") { toState } }`, nil)

	var got []wfEvent
	for range 3 {
		got = append(got, next(t, live, "workflowEvents"))
	}
	want := []string{"RESOURCE_CREATED:ping", "STATE_CHANGED:pong", "STATE_CHANGED:done"}
	for i, ev := range got {
		if ev.Type+":"+*ev.NewState != want[i] || *ev.ResourceID != "ra" {
			t.Fatalf("event %d = %+v, want %s", i, ev, want[i])
		}
		if i > 0 && ev.Position <= got[i-1].Position {
			t.Fatalf("out of order: %+v", got)
		}
	}
	for i := range 3 {
		if ev := next(t, all, "events"); ev.Position != got[i].Position {
			t.Fatalf("events[%d] at %d, want %d", i, ev.Position, got[i].Position)
		}
	}

	// A client that saw only the first event resumes from the next position
	// and gets the rest, without gaps or duplicates.
	resumed, err := e.schema.Subscribe(ctx, wq, "", map[string]any{"id": "wa", "from": got[0].Position + 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 3; i++ {
		if ev := next(t, resumed, "workflowEvents"); ev.Position != got[i].Position {
			t.Fatalf("resumed %d at %d, want %d", i, ev.Position, got[i].Position)
		}
	}
	res, err := e.schema.Subscribe(ctx, `subscription { resourceUpdates(resourceId: "ra", from: 1) { type newState } }`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, res, "resourceUpdates"); ev.Type != "RESOURCE_CREATED" {
		t.Fatalf("resourceUpdates = %+v", ev)
	}

	// Ending ctx closes the channels.
	cancel()
	for _, ch := range []<-chan *graphql.Response{live, all, resumed, res} {
		for range ch {
		}
	}
}

func TestSubscribeErrors(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "a", pingPong, map[string]any{"id": "wa"})
	ctx, cancel := context.WithCancel(as("b"))
	defer cancel()

	// Validation errors come back before subscribing, as a *RequestError.
	for _, q := range []string{
		`subscription { workflowEvents(workflowId: "wa") { nope } }`,
		`subscription { workflowEvents { type } }`,
		`subscription {`,
	} {
		_, err := e.schema.Subscribe(ctx, q, "", nil)
		var re *gql.RequestError
		if !errors.As(err, &re) || len(re.Errors) == 0 || re.Errors[0].Extensions["code"] == nil {
			t.Errorf("%s: err = %v", q, err)
		}
		if e.schema.Validate(q, "", nil) == nil {
			t.Errorf("%s: Validate accepted it", q)
		}
	}
	if err := e.schema.Validate(`subscription { events { position } }`, "", nil); err != nil {
		t.Errorf("Validate: %v", err)
	}

	// Another tenant's workflow is NOT_FOUND: one response with the error.
	ch, err := e.schema.Subscribe(ctx, `subscription { workflowEvents(workflowId: "wa") { type } }`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
		t.Fatalf("cross-tenant subscription: %+v", r)
	}
	for range ch {
	}

	// A query runs through Subscribe too: one response, then the end.
	ch, err = e.schema.Subscribe(ctx, `{ workflows { id } }`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := <-ch; len(r.Errors) > 0 || string(r.Data) != `{"workflows":[]}` {
		t.Fatalf("query: %s %v", r.Data, r.Errors)
	}
	if _, open := <-ch; open {
		t.Fatal("query channel not closed")
	}
}

// TestSlowSubscriberLosesNothing: a subscriber that does not take its
// events for longer than graphql-go's default per-event timeout (1 s) must
// still get every one of them, in order.
func TestSlowSubscriberLosesNothing(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	e.ok(t, "a", pingPong, map[string]any{"id": "wa"})
	ctx, cancel := context.WithCancel(as("a"))
	defer cancel()
	ch, err := e.schema.Subscribe(ctx, `subscription { workflowEvents(workflowId: "wa") { type newState position } }`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.ok(t, "a", `mutation { createResource(workflowId: "wa", resourceId: "slow", input: {score: 9}) { id } }`, nil)
	e.ok(t, "a", `mutation { executeActivity(resourceId: "slow", activityId: "hit") { toState } }`, nil)
	e.ok(t, "a", `mutation { executeActivity(resourceId: "slow", activityId: "finish") { toState } }`, nil)
	time.Sleep(1500 * time.Millisecond) // the consumer is busy elsewhere
	for i, want := range []string{"ping", "pong", "done"} {
		if ev := next(t, ch, "workflowEvents"); ev.NewState == nil || *ev.NewState != want {
			t.Fatalf("event %d = %+v, want state %s", i, ev, want)
		}
	}
}
