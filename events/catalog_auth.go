package events

import "time"

// APIKeyStreamPrefix prefixes the stream of an API key.
const APIKeyStreamPrefix = "apikey-"

// APIKeyStream names the stream of the API key id.
func APIKeyStream(id string) string { return APIKeyStreamPrefix + id }

// Event types of API keys, with their current schema versions. Each key owns
// one stream: APIKeyCreated at revision 1, then at most one APIKeyRevoked.
const (
	// TypeAPIKeyCreated records a new API key. The secret itself is never
	// stored; only its SHA-256 hash.
	TypeAPIKeyCreated = "APIKeyCreated"
	// TypeAPIKeyRevoked records that a key no longer authenticates.
	TypeAPIKeyRevoked = "APIKeyRevoked"

	APIKeyCreatedVersion = 1
	APIKeyRevokedVersion = 1
)

// APIKeyCreated is the data of TypeAPIKeyCreated. Prefix is the first
// characters of the secret, kept for display and lookup; Hash is the
// hex-encoded SHA-256 of the whole secret.
type APIKeyCreated struct {
	KeyID     string    `json:"keyId"`
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	Hash      string    `json:"hash"`
	Scopes    []string  `json:"scopes,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// APIKeyRevoked is the data of TypeAPIKeyRevoked.
type APIKeyRevoked struct {
	KeyID     string    `json:"keyId"`
	RevokedAt time.Time `json:"revokedAt"`
}
