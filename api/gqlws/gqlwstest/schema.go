// Package gqlwstest provides a small GraphQL schema and a goroutine leak
// check for testing the GraphQL transports (gqlws, gqlsse) without the
// application schema.
package gqlwstest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
)

// SDL is the test schema.
const SDL = `
schema {
	query: Query
	subscription: Subscription
}

type Query {
	hello: String!
	fail: String
	"whoami returns the PrincipalKey value of the context, if any."
	whoami: String
}

type Subscription {
	"ticks emits 1..count, then ends."
	ticks(count: Int!): Int!
	"big emits count strings of size bytes as fast as the client takes them."
	big(count: Int!, size: Int!): String!
	"feed emits what the test sends to the Feed it gets from Root.NextFeed."
	feed: String!
}
`

// Root is the resolver of [SDL].
type Root struct {
	feeds chan *Feed
}

// NewSchema returns the test schema and its resolver.
func NewSchema() (*graphql.Schema, *Root) {
	root := &Root{feeds: make(chan *Feed, 16)}
	return graphql.MustParseSchema(SDL, root), root
}

// Hello resolves Query.hello.
func (*Root) Hello() string { return "world" }

// PrincipalKey is the context key read by Query.whoami.
type PrincipalKey struct{}

// Whoami resolves Query.whoami.
func (*Root) Whoami(ctx context.Context) *string {
	if p, ok := ctx.Value(PrincipalKey{}).(string); ok {
		return &p
	}
	return nil
}

// Fail resolves Query.fail with an execution error.
func (*Root) Fail() (*string, error) { return nil, errors.New("boom") }

// Ticks resolves Subscription.ticks.
func (*Root) Ticks(ctx context.Context, args struct{ Count int32 }) (<-chan int32, error) {
	out := make(chan int32)
	go func() {
		defer close(out)
		for i := int32(1); i <= args.Count; i++ {
			select {
			case out <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Big resolves Subscription.big.
func (*Root) Big(ctx context.Context, args struct{ Count, Size int32 }) (<-chan string, error) {
	s := strings.Repeat("x", int(args.Size))
	out := make(chan string)
	go func() {
		defer close(out)
		for range args.Count {
			select {
			case out <- s:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Feed is one subscriber of Subscription.feed, controlled by the test.
type Feed struct {
	in    chan string
	ended chan struct{}
}

// Send emits v to the subscriber; it fails the test if the subscription
// ended or v is not taken within 5 s.
func (f *Feed) Send(t testing.TB, v string) {
	t.Helper()
	select {
	case f.in <- v:
	case <-f.ended:
		t.Fatalf("feed: send %q after the subscription ended", v)
	case <-time.After(5 * time.Second):
		t.Fatalf("feed: send %q: not taken", v)
	}
}

// Close ends the subscription from the server side.
func (f *Feed) Close() { close(f.in) }

// Ended is closed once the resolver's context is done or the feed closed.
func (f *Feed) Ended() <-chan struct{} { return f.ended }

// Feed resolves Subscription.feed.
func (r *Root) Feed(ctx context.Context) (<-chan string, error) {
	f := &Feed{in: make(chan string), ended: make(chan struct{})}
	out := make(chan string)
	go func() {
		defer close(f.ended)
		defer close(out)
		for {
			select {
			case v, ok := <-f.in:
				if !ok {
					return
				}
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	select {
	case r.feeds <- f:
	default:
		return nil, errors.New("gqlwstest: too many feeds not taken by the test")
	}
	return out, nil
}

// NextFeed returns the next feed subscriber, waiting up to 5 s for it.
func (r *Root) NextFeed(t testing.TB) *Feed {
	t.Helper()
	select {
	case f := <-r.feeds:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no feed subscription started")
		return nil
	}
}
