package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// eventsPage is how many events one read of the log returns.
const eventsPage = 512

// events streams the tenant's events as NDJSON, one envelope per line,
// flushed as they are written. Without follow=1 it stops at the end of the
// log as it was when the request arrived; with it, it follows new events
// until the client goes away or the server shuts down.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	from := uint64(1)
	if v := q.Get("from"); v != "" {
		from, err = strconv.ParseUint(v, 10, 64)
		if err != nil {
			h.writeError(w, r, badRequest("from must be a non-negative integer position", Problem{Path: "from", Msg: "must be a non-negative integer"}))
			return
		}
		from = max(from, 1)
	}
	stream := q.Get("stream")
	if stream != "" {
		if err := events.ValidateStream(stream); err != nil {
			h.writeError(w, r, badRequest(err.Error(), Problem{Path: "stream", Msg: err.Error()}))
			return
		}
		stream = events.TenantStream(c.Tenant, stream)
	}
	follow := false
	if v := q.Get("follow"); v != "" {
		follow, err = strconv.ParseBool(v)
		if err != nil {
			h.writeError(w, r, badRequest("follow must be 1/true or 0/false", Problem{Path: "follow", Msg: "must be a boolean"}))
			return
		}
	}
	ctx := r.Context()
	keep := func(e events.Envelope) bool {
		return e.Tenant == c.Tenant && (stream == "" || e.Stream == stream)
	}
	var end uint64
	var sub events.Subscription
	if follow {
		if sub, err = h.feed.Subscribe(ctx, from); err != nil {
			h.writeError(w, r, err)
			return
		}
		defer sub.Close()
	} else if end, err = h.store.LastPosition(ctx); err != nil {
		h.writeError(w, r, err)
		return
	}

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	write := func(e events.Envelope) bool {
		if !keep(e) {
			return true
		}
		if err := enc.Encode(e); err != nil {
			return false
		}
		return rc.Flush() == nil
	}

	if !follow {
		for from <= end {
			page, err := h.store.ReadAll(ctx, from, eventsPage)
			if err != nil {
				h.log.Warn("event feed ended", "err", err)
				return
			}
			if len(page) == 0 {
				return
			}
			for _, e := range page {
				if e.Position > end {
					return
				}
				if !write(e) {
					return
				}
			}
			from = page[len(page)-1].Position + 1
		}
		return
	}
	for {
		e, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("event feed ended", "err", err)
			}
			return
		}
		if !write(e) {
			return
		}
	}
}
