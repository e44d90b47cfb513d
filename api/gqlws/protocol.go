package gqlws

import (
	"encoding/json"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// Subprotocols, in order of preference.
const (
	// ProtocolTransportWS is the current protocol (npm graphql-ws).
	ProtocolTransportWS = "graphql-transport-ws"
	// ProtocolLegacy is the deprecated Apollo subscriptions-transport-ws
	// protocol, confusingly named "graphql-ws".
	ProtocolLegacy = "graphql-ws"
)

// Close codes sent by the server. The 44xx codes are those of the
// graphql-transport-ws protocol; the others are standard WebSocket codes.
const (
	CloseNormal            = 1000 // client ended (legacy connection_terminate)
	CloseGoingAway         = 1001 // server shutting down
	ClosePolicyViolation   = 1008 // slow consumer
	CloseMessageTooBig     = 1009 // message larger than Options.ReadLimit
	CloseBadRequest        = 4400 // malformed or unknown message
	CloseUnauthorized      = 4401 // operation before ack, or InitFunc: ErrUnauthenticated
	CloseForbidden         = 4403 // InitFunc refused the connection
	CloseSubprotocol       = 4406 // no supported subprotocol offered
	CloseInitTimeout       = 4408 // no connection_init within Options.InitTimeout
	CloseSubscriberExists  = 4409 // subscribe with an id already in use
	CloseTooManyInitialise = 4429 // second connection_init
	CloseInternal          = 4500 // executor failure
)

// Message types of both protocols.
const (
	msgConnectionInit = "connection_init"
	msgConnectionAck  = "connection_ack"
	msgPing           = "ping"
	msgPong           = "pong"
	msgSubscribe      = "subscribe"
	msgNext           = "next"
	msgError          = "error"
	msgComplete       = "complete"

	// legacy only
	msgConnectionError     = "connection_error"
	msgConnectionTerminate = "connection_terminate"
	msgStart               = "start"
	msgData                = "data"
	msgStop                = "stop"
	msgKeepAlive           = "ka"
)

// message is the envelope of both protocols.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// encode marshals a server message. Payloads are values the package built
// itself, so a failure is a programming error and panics.
func encode(typ, id string, payload any) []byte {
	m := struct {
		ID      string `json:"id,omitempty"`
		Type    string `json:"type"`
		Payload any    `json:"payload,omitempty"`
	}{id, typ, payload}
	b, err := json.Marshal(m)
	if err != nil {
		panic("gqlws: encode " + typ + ": " + err.Error())
	}
	return b
}

// errorList is the payload of an "error" message.
func errorList(msg string) []*gqlerrors.QueryError {
	return []*gqlerrors.QueryError{{Message: msg}}
}

// decodeObject decodes an optional JSON object payload; null and absence
// give an empty map.
func decodeObject(raw json.RawMessage) (map[string]any, bool) {
	m := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return m, true
	}
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// closeReason fits a close reason in a control frame (123 bytes).
func closeReason(s string) string {
	const max = 123
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}
