// Package gqlws serves GraphQL operations over WebSocket, speaking the
// current graphql-transport-ws protocol (npm graphql-ws) and, on the same
// endpoint, the deprecated Apollo subscriptions-transport-ws protocol
// (subprotocol "graphql-ws"). The server prefers graphql-transport-ws when a
// client offers both; a client offering neither is closed with 4406.
//
// The package knows nothing of the application schema: it runs operations
// on an [Executor], which [FromSchema] builds from a graph-gophers schema.
// Authorization is an [InitFunc] given the connection_init payload; the
// context it returns is the parent of every operation of the connection.
// Package gqlsse reuses Executor, InitFunc and ErrUnauthenticated.
//
// # Lifecycle
//
// The handshake checks the Origin (Options.CheckOrigin; by default no
// Origin or the same host) and negotiates the subprotocol. The client must
// send connection_init within Options.InitTimeout (else 4408); Init decides
// (refusal: 4401 when the error wraps ErrUnauthenticated, else 4403; the
// legacy protocol gets a connection_error first), then connection_ack (and
// "ka" on the legacy protocol). Operations sent before the ack close the
// socket with 4401; a second connection_init with 4429.
//
// Each subscribe (legacy: start) runs in its own goroutine. A pre-execution
// failure (*RequestError: parse, validation, variables) is answered with one
// "error" message carrying the GraphQL errors and no "complete". Otherwise
// every result is a "next" (legacy: "data") in the executor's order, then
// "complete" once the stream ends. A client "complete" (legacy: "stop")
// cancels the operation's context, which stops its resolvers; the current
// protocol sends nothing more for that id, the legacy one answers
// "complete". An id still active is a duplicate: 4409 (the legacy protocol
// replaces the old operation instead). Ids are free again as soon as their
// "complete" is sent. Over Options.MaxOperations active operations, a
// subscribe gets an "error" message.
//
// Malformed or unknown messages close with 4400 (legacy: a connection_error
// or error message, the socket stays open); messages over Options.ReadLimit
// with 1009; an executor failure other than a RequestError with 4500.
//
// # Ordering, buffering and backpressure
//
// Messages of one operation reach the client in the order the executor
// produced them; messages of different operations interleave. A message is
// written to the socket by the goroutine that produces it (the reader, an
// operation goroutine, or the executor through the operation's [Sink])
// when nothing is queued and the socket takes it without waiting, which is
// the common case: no goroutine hand-off and no timer per message.
// Otherwise it joins a bounded queue of Options.SendQueue messages that the
// connection's writer goroutine writes in one go. Producers never block:
// when the queue is full the client is a slow consumer and the connection
// is closed with 1008 "slow consumer: N messages behind"; its operations
// are cancelled and nothing it does can delay other connections, the
// executor or the server. Each write of the queue has Options.WriteTimeout;
// a client whose socket stays full that long is cut off without a close
// frame (it sees 1006). The close reason is always logged. Backpressure
// toward the executor therefore stops at the queue: an executor must not
// rely on the transport to slow down its source.
//
// # Keep-alive
//
// Every Options.KeepAlive the connection sends a WebSocket ping frame and, once
// acknowledged, a "ping" message (current protocol; the client answers
// "pong") or "ka" (legacy). A connection that sends nothing, not even a pong
// frame, for two intervals is dropped. Client pings are answered with pongs
// (with the ping's payload); unsolicited pongs are ignored.
//
// # Close codes
//
//	1000 legacy connection_terminate        4403 Init refused the connection
//	1001 server shutting down               4406 no supported subprotocol
//	1008 slow consumer: N messages behind   4408 connection_init timeout
//	1009 message larger than ReadLimit      4409 duplicate operation id
//	4400 malformed or unknown message       4429 second connection_init
//	4401 unauthenticated / before the ack   4500 internal (executor) error
//
// # Shutdown
//
// http.Server.Shutdown does not see hijacked connections: call
// [Handler.Shutdown] first. It refuses new connections (503), cancels every
// operation, sends "complete" for each, flushes, closes with 1001 and waits
// for all goroutines of the handler to end.
package gqlws
