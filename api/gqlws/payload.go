package gqlws

import (
	"encoding/json"
	"sync/atomic"

	graphql "github.com/graph-gophers/graphql-go"
)

// payloadCache remembers the encoded payloads of the last few results. A
// result shared by many operations (the schema runs identical live
// subscriptions once and hands every subscriber the same *Response) is then
// encoded once, not once per subscriber. A cached entry holds its response,
// so the response's address cannot be reused while the entry lives.
type payloadCache struct {
	next  atomic.Uint32
	slots [8]atomic.Pointer[cachedPayload]
}

type cachedPayload struct {
	resp *graphql.Response
	b    []byte
}

// encode returns resp as JSON.
func (c *payloadCache) encode(resp *graphql.Response) []byte {
	for i := range c.slots {
		if p := c.slots[i].Load(); p != nil && p.resp == resp {
			return p.b
		}
	}
	b, err := json.Marshal(resp)
	if err != nil {
		panic("gqlws: encode result: " + err.Error())
	}
	c.slots[c.next.Add(1)%uint32(len(c.slots))].Store(&cachedPayload{resp: resp, b: b})
	return b
}

// resultPrefix is a next (or legacy data) message of operation id up to
// its payload: `{"id":…,"type":"next","payload":`.
func resultPrefix(typ, id string) []byte {
	qid, err := json.Marshal(id)
	if err != nil {
		panic("gqlws: encode id: " + err.Error())
	}
	b := make([]byte, 0, len(qid)+len(typ)+32)
	if id != "" {
		b = append(b, `{"id":`...)
		b = append(b, qid...)
		b = append(b, `,"type":"`...)
	} else {
		b = append(b, `{"type":"`...)
	}
	b = append(b, typ...)
	return append(b, `","payload":`...)
}

// frame builds a result message from its prefix and a cached payload: the
// same bytes encode(typ, id, resp) would produce.
func (c *payloadCache) frame(prefix []byte, resp *graphql.Response) []byte {
	payload := c.encode(resp)
	b := make([]byte, 0, len(prefix)+len(payload)+1)
	b = append(b, prefix...)
	b = append(b, payload...)
	return append(b, '}')
}

// encodeResult builds a next (or legacy data) message around a cached
// payload.
func (c *payloadCache) encodeResult(typ, id string, resp *graphql.Response) []byte {
	return c.frame(resultPrefix(typ, id), resp)
}
