package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// controlRoutes serves /_sim/: scripts, the request log, reset and the
// configuration, for tests in other processes.
func (s *Server) controlRoutes() {
	m := s.mux
	m.HandleFunc("POST /_sim/script", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			controlError(w, http.StatusBadRequest, fmt.Errorf("sim: script: read body: %w", err))
			return
		}
		sr, err := DecodeScript(body)
		if err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
		s.Script(sr.Model, sr.Steps...)
		writeJSON(w, http.StatusOK, map[string]any{"model": sr.Model, "queued": len(sr.Steps), "pending": s.Pending(sr.Model)})
	})
	m.HandleFunc("GET /_sim/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	m.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /_sim/config", func(w http.ResponseWriter, r *http.Request) {
		cfg := s.Config()
		cfg.AWSSecretAccessKey = "" // a secret, never echoed
		writeJSON(w, http.StatusOK, cfg)
	})
	m.HandleFunc("PUT /_sim/config", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			controlError(w, http.StatusBadRequest, fmt.Errorf("sim: config: read body: %w", err))
			return
		}
		cfg := s.Config()
		if err := json.Unmarshal(body, &cfg); err != nil {
			controlError(w, http.StatusBadRequest, fmt.Errorf("sim: config: %w", err))
			return
		}
		s.SetConfig(cfg)
		cfg.AWSSecretAccessKey = ""
		writeJSON(w, http.StatusOK, cfg)
	})
}

func controlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// configJSON is the JSON form of a Config; durations are Go duration
// strings or milliseconds.
type configJSON struct {
	Latency            duration `json:"latency"`
	TTFT               duration `json:"ttft"`
	TokensPerSecond    float64  `json:"tokens_per_second"`
	ErrorRate          float64  `json:"error_rate"`
	RateLimitRate      float64  `json:"rate_limit_rate"`
	RetryAfter         duration `json:"retry_after"`
	Seed               int64    `json:"seed"`
	APIKey             string   `json:"api_key"`
	AWSAccessKeyID     string   `json:"aws_access_key_id"`
	AWSSecretAccessKey string   `json:"aws_secret_access_key,omitempty"`
	AWSRegion          string   `json:"aws_region"`
	LogLimit           int      `json:"log_limit"`
}

// MarshalJSON encodes the configuration with durations as strings.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{Latency: duration(c.Latency), TTFT: duration(c.TTFT),
		TokensPerSecond: c.TokensPerSecond, ErrorRate: c.ErrorRate, RateLimitRate: c.RateLimitRate,
		RetryAfter: duration(c.RetryAfter), Seed: c.Seed, APIKey: c.APIKey, AWSAccessKeyID: c.AWSAccessKeyID,
		AWSSecretAccessKey: c.AWSSecretAccessKey, AWSRegion: c.AWSRegion, LogLimit: c.LogLimit})
}

// UnmarshalJSON changes the fields the JSON names and keeps the others, so
// decoding into the current configuration updates it. Unknown fields and
// out-of-range values are errors.
func (c *Config) UnmarshalJSON(b []byte) error {
	j := configJSON{Latency: duration(c.Latency), TTFT: duration(c.TTFT),
		TokensPerSecond: c.TokensPerSecond, ErrorRate: c.ErrorRate, RateLimitRate: c.RateLimitRate,
		RetryAfter: duration(c.RetryAfter), Seed: c.Seed, APIKey: c.APIKey, AWSAccessKeyID: c.AWSAccessKeyID,
		AWSSecretAccessKey: c.AWSSecretAccessKey, AWSRegion: c.AWSRegion, LogLimit: c.LogLimit}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	switch {
	case j.TokensPerSecond < 0:
		return fmt.Errorf("tokens_per_second %v is negative", j.TokensPerSecond)
	case j.ErrorRate < 0 || j.ErrorRate > 1:
		return fmt.Errorf("error_rate %v is not in 0..1", j.ErrorRate)
	case j.RateLimitRate < 0 || j.RateLimitRate > 1:
		return fmt.Errorf("rate_limit_rate %v is not in 0..1", j.RateLimitRate)
	}
	*c = Config{Latency: time.Duration(j.Latency), TTFT: time.Duration(j.TTFT), TokensPerSecond: j.TokensPerSecond,
		ErrorRate: j.ErrorRate, RateLimitRate: j.RateLimitRate, RetryAfter: time.Duration(j.RetryAfter), Seed: j.Seed,
		APIKey: j.APIKey, AWSAccessKeyID: j.AWSAccessKeyID, AWSSecretAccessKey: j.AWSSecretAccessKey,
		AWSRegion: j.AWSRegion, LogLimit: j.LogLimit}
	return nil
}

// requestJSON is the JSON form of a logged Request: the body as text.
type requestJSON struct {
	Format string      `json:"format"`
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Query  string      `json:"query,omitempty"`
	Model  string      `json:"model,omitempty"`
	Stream bool        `json:"stream,omitempty"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
	Time   time.Time   `json:"time"`
}

// MarshalJSON encodes the request with its body as a string.
func (r Request) MarshalJSON() ([]byte, error) {
	return json.Marshal(requestJSON{Format: r.Format, Method: r.Method, Path: r.Path, Query: r.Query,
		Model: r.Model, Stream: r.Stream, Header: r.Header, Body: string(r.Body), Time: r.Time})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (r *Request) UnmarshalJSON(b []byte) error {
	var j requestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Request{Format: j.Format, Method: j.Method, Path: j.Path, Query: j.Query, Model: j.Model,
		Stream: j.Stream, Header: j.Header, Body: []byte(j.Body), Time: j.Time}
	return nil
}
