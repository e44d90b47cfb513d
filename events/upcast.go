package events

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Upcaster turns the data of one version of an event type into the data of
// the next version (from → from+1).
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

// Upcasters is a registry of upcasters by event type and source version.
// The zero value is empty and ready to use; it is safe for concurrent use.
type Upcasters struct {
	mu sync.RWMutex
	m  map[upcastKey]Upcaster
}

type upcastKey struct {
	typ  string
	from int
}

// Register adds fn as the upcaster of typ from version from to from+1.
// Registering the same (typ, from) twice panics: it is a programming error.
func (u *Upcasters) Register(typ string, from int, fn Upcaster) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = make(map[upcastKey]Upcaster)
	}
	k := upcastKey{typ, from}
	if _, dup := u.m[k]; dup {
		panic(fmt.Sprintf("events: upcaster for %s v%d registered twice", typ, from))
	}
	u.m[k] = fn
}

// Apply upcasts e step by step to the newest version that has an upcaster
// chain. An envelope with no upcaster is returned as it is.
func (u *Upcasters) Apply(e Envelope) (Envelope, error) {
	if u == nil {
		return e, nil
	}
	u.mu.RLock()
	defer u.mu.RUnlock()
	for len(u.m) > 0 {
		fn, ok := u.m[upcastKey{e.Type, e.Version}]
		if !ok {
			return e, nil
		}
		data, err := fn(e.Data)
		if err != nil {
			return e, fmt.Errorf("upcast %s v%d at %s@%d: %w", e.Type, e.Version, e.Stream, e.Revision, err)
		}
		e.Data = data
		e.Version++
	}
	return e, nil
}
