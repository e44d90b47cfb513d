package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaReaders reads every connection with a gorilla/websocket reader
// goroutine of its own.
type gorillaReaders struct {
	mu      sync.Mutex
	clients []*gorillaClient
}

type gorillaClient struct {
	samples
	c    *websocket.Conn
	done chan struct{}
}

func (g *gorillaReaders) connect(ctx context.Context, addr, query string) (subscriber, error) {
	d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, Subprotocols: []string{"graphql-transport-ws"},
		ReadBufferSize: 1024, WriteBufferSize: 1024}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, _, err := d.DialContext(cctx, "ws://"+addr+"/graphql", nil)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (subscriber, error) { c.Close(); return nil, err }
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init","payload":{}}`)); err != nil {
		return fail(err)
	}
	_, m, err := c.ReadMessage()
	if err != nil {
		return fail(err)
	}
	if !bytes.Contains(m, []byte(`"connection_ack"`)) {
		return fail(fmt.Errorf("expected connection_ack, got %s", m))
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	if err := c.WriteMessage(websocket.TextMessage, sub); err != nil {
		return fail(err)
	}
	_ = c.SetReadDeadline(time.Time{})
	_ = c.SetWriteDeadline(time.Time{})
	cl := &gorillaClient{c: c, done: make(chan struct{})}
	cl.list = make([]sample, 0, 512)
	g.mu.Lock()
	g.clients = append(g.clients, cl)
	g.mu.Unlock()
	go cl.read()
	return cl, nil
}

// read receives until the connection ends, answering pings and recording
// every "next".
func (cl *gorillaClient) read() {
	defer close(cl.done)
	for {
		_, m, err := cl.c.ReadMessage()
		now := time.Now().UnixNano()
		if err != nil {
			code := int64(-1)
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = int64(ce.Code)
			}
			cl.closed.Store(code)
			return
		}
		switch {
		case bytes.Contains(m, keyNext):
			pos, evt, ok := parseNext(m)
			if !ok {
				if nextErrors.Add(1) <= 3 {
					fmt.Fprintf(os.Stderr, "next without an event: %s\n", m)
				}
				continue
			}
			cl.add(sample{pos: pos, recv: now, evt: evt})
		case bytes.Contains(m, keyPing):
			_ = cl.c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
		}
	}
}

// closeAll sends a close frame on every connection, then closes them,
// bounded in time.
func (g *gorillaReaders) closeAll() {
	g.mu.Lock()
	clients := g.clients
	g.mu.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 512)
	for _, cl := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bench done")
			_ = cl.c.WriteControl(websocket.CloseMessage, msg, deadline)
			select {
			case <-cl.done:
			case <-time.After(time.Until(deadline)):
			}
			_ = cl.c.Close()
		})
	}
	wg.Wait()
	for _, cl := range clients {
		<-cl.done // the reader ends once the conn is closed
	}
	fmt.Printf("closed %d connections\n", len(clients))
}
