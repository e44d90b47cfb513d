package natsjs

import "sync"

// head is where a stream ends: its last revision, the JetStream sequence
// and the ID of that event (zero values for an empty stream).
type head struct {
	rev, seq uint64
	id       string
}

// headCache remembers stream heads so that an append needs no lookup. It is
// bounded: when full, it forgets everything (a miss costs one direct get).
// A stale entry is caught by JetStream's expected-sequence check.
type headCache struct {
	mu  sync.Mutex
	max int
	m   map[string]head
}

func newHeadCache(max int) headCache {
	return headCache{max: max, m: make(map[string]head)}
}

func (c *headCache) get(stream string) (head, bool) {
	c.mu.Lock()
	h, ok := c.m[stream]
	c.mu.Unlock()
	return h, ok
}

func (c *headCache) put(stream string, h head) {
	c.mu.Lock()
	if old, ok := c.m[stream]; !ok || h.seq >= old.seq {
		if !ok && len(c.m) >= c.max {
			clear(c.m)
		}
		c.m[stream] = h
	}
	c.mu.Unlock()
}

func (c *headCache) forget(stream string) {
	c.mu.Lock()
	delete(c.m, stream)
	c.mu.Unlock()
}
