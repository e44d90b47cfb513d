package gqlws

import (
	"context"

	graphql "github.com/graph-gophers/graphql-go"
)

// Sink is the direct delivery path of one operation. An executor that
// computes a result once and hands it to many operations (identical live
// subscriptions) calls Push instead of sending on each operation's channel:
// no goroutine of the transport has to wake up to move the result on.
//
// The transport puts a Sink in the context it passes to
// [Executor.Subscribe]; [SinkFrom] finds it. An executor that uses it
// delivers every result of the operation through Push, in order, from one
// goroutine at a time, and still closes the operation's channel when the
// stream ends (after its last Push). An executor that ignores it sends on
// the channel as usual.
type Sink interface {
	// Push delivers the operation's next results, in order. It never
	// blocks: it writes or queues the messages (several of them in one
	// write) and returns. It reports false once the operation takes no
	// more results (the client completed it, or its connection is closing
	// or too far behind): the executor then stops pushing and ends the
	// stream.
	Push(resps ...*graphql.Response) bool
}

type sinkKey struct{}

// WithSink returns a copy of ctx carrying s.
func WithSink(ctx context.Context, s Sink) context.Context {
	return context.WithValue(ctx, sinkKey{}, s)
}

// SinkFrom returns the Sink in ctx, if any.
func SinkFrom(ctx context.Context) (Sink, bool) {
	s, ok := ctx.Value(sinkKey{}).(Sink)
	return s, ok && s != nil
}
