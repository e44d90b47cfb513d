package natsjs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// FuzzEnvelope feeds arbitrary stored bodies and subjects to the event
// decoder: it must return an event or an error, never panic, and what it
// encodes it must decode to the same event.
func FuzzEnvelope(f *testing.F) {
	f.Add("cb.ev.resource-1", []byte(`{"id":"01J","type":"StateChanged","v":1,"rev":3,"t":"2026-01-01T00:00:00Z","data":{"to":"b"}}`))
	f.Add("cb.ev.x", []byte(`{"data":null}`))
	f.Add("cb", []byte(`{`))
	f.Add("cb.ev.s", []byte(`{"rev":-1}`))
	s := &Store{pfx: "cb.ev."}
	f.Fuzz(func(t *testing.T, subject string, body []byte) {
		e, err := s.envelope(subject, 7, body)
		if err != nil {
			return
		}
		if e.Position != 7 || e.Stream != subject[len(s.pfx):] {
			t.Fatalf("decoded %+v from %q", e, subject)
		}
	})
}

func TestRecordRoundTrip(t *testing.T) {
	s := &Store{pfx: "cb.ev."}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := events.Event{ID: "01J", Type: "T", Version: 2, Tenant: "acme", Actor: "bob", CorrelationID: "c", CausationID: "k", Data: []byte(`{"a":1}`)}
	r := newRecord(ev, 9, now)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.envelope("cb.ev.s-1", 42, b)
	if err != nil {
		t.Fatal(err)
	}
	want := events.Envelope{ID: "01J", Stream: "s-1", Type: "T", Version: 2, Revision: 9, Position: 42, Time: now,
		Tenant: "acme", CorrelationID: "c", CausationID: "k", Actor: "bob", Data: []byte(`{"a":1}`)}
	if e.ID != want.ID || e.Stream != want.Stream || e.Revision != 9 || e.Position != 42 || !e.Time.Equal(now) ||
		e.Tenant != "acme" || e.Actor != "bob" || e.CorrelationID != "c" || e.CausationID != "k" || string(e.Data) != `{"a":1}` || e.Version != 2 {
		t.Fatalf("round trip = %+v, want %+v", e, want)
	}
}
