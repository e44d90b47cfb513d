package sim

import (
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets the simulator's timing, failure injection and credentials.
// The zero value answers at once, never fails and accepts any key. Its JSON
// form (PUT /_sim/config) uses snake_case names and durations as Go
// duration strings or milliseconds.
type Config struct {
	// Latency is waited before the response headers of every chat and
	// embedding reply, scripted and injected errors included (refusals of a
	// bad key or body come at once).
	Latency time.Duration
	// TTFT is waited after the headers, before the first content token
	// (a client sees Latency + TTFT as its time to first token).
	TTFT time.Duration
	// TokensPerSecond paces output tokens; 0 sends them as fast as possible.
	TokensPerSecond float64
	// ErrorRate is the fraction (0..1) of chat and embedding requests that
	// fail with a 500 in the format's error shape.
	ErrorRate float64
	// RateLimitRate is the fraction (0..1) of requests that fail with a 429
	// and a Retry-After header of RetryAfter.
	RateLimitRate float64
	// RetryAfter is the Retry-After of injected 429s; 0 means one second.
	RetryAfter time.Duration
	// Seed makes the injected failures and the generated replies
	// reproducible.
	Seed int64
	// APIKey, when set, is the only key accepted (bearer token, x-api-key,
	// api-key, x-goog-api-key or ?key=, by format). When empty, any key is
	// accepted, but formats that require one still require one.
	APIKey string
	// AWSAccessKeyID and AWSSecretAccessKey, when both set, make Bedrock
	// requests signed with SigV4 be verified; AWSRegion, when set, is the
	// region their credential scope must name.
	AWSAccessKeyID     string
	AWSSecretAccessKey string
	AWSRegion          string
	// LogLimit bounds the request log to its most recent entries; 0 means
	// 10,000 and a negative value keeps no log.
	LogLimit int
}

const defaultLogLimit = 10000

func (c *Config) logLimit() int {
	if c.LogLimit == 0 {
		return defaultLogLimit
	}
	return c.LogLimit
}

// Request is one request the simulator received, as logged.
type Request struct {
	// Format is the wire format: "openai", "azure", "anthropic", "gemini",
	// "bedrock", "cohere" or "ollama"; "" for an unknown path.
	Format string
	Method string
	Path   string
	Query  string `json:"query,omitempty"`
	// Model is the model the request named (in its body or path), "" when
	// it could not be read.
	Model  string `json:"model,omitempty"`
	Stream bool   `json:"stream,omitempty"`
	Header http.Header
	// Body is the raw request body.
	Body []byte `json:"-"`
	Time time.Time
}

// Server is the simulator. Create it with [New]; serve [Server.Handler].
type Server struct {
	cfg atomic.Pointer[Config]
	mux *http.ServeMux
	seq atomic.Uint64 // ids

	rngMu sync.Mutex
	rng   *rand.Rand

	mu      sync.Mutex
	scripts map[string][]Step
	log     []Request // ring when full
	logNext int       // next slot to overwrite once len(log) == limit
}

// New returns a simulator with the given configuration.
func New(cfg Config) *Server {
	s := &Server{scripts: map[string][]Step{}}
	s.SetConfig(cfg)
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// Handler returns the simulator's HTTP handler (the Server itself).
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP serves every format and the control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Config returns the current configuration.
func (s *Server) Config() Config { return *s.cfg.Load() }

// SetConfig replaces the configuration; requests already being served keep
// the one they started with. A changed seed restarts the failure sequence.
func (s *Server) SetConfig(cfg Config) {
	old := s.cfg.Swap(&cfg)
	if old == nil || old.Seed != cfg.Seed {
		s.reseed(cfg.Seed)
	}
}

func (s *Server) reseed(seed int64) {
	s.rngMu.Lock()
	s.rng = rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	s.rngMu.Unlock()
}

// Script queues replies for model, to be consumed in order by the model's
// next requests. Steps for the model "*" serve any model with an empty
// queue.
func (s *Server) Script(model string, steps ...Step) {
	s.mu.Lock()
	s.scripts[model] = append(s.scripts[model], steps...)
	s.mu.Unlock()
}

// Pending returns how many scripted steps are left for model.
func (s *Server) Pending(model string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.scripts[model])
}

// next pops the next scripted step for model.
func (s *Server) next(model string) (Step, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range [2]string{model, "*"} {
		if q := s.scripts[m]; len(q) > 0 {
			st := q[0]
			q[0] = Step{}
			if len(q) == 1 {
				delete(s.scripts, m)
			} else {
				s.scripts[m] = q[1:]
			}
			return st, true
		}
	}
	return Step{}, false
}

// Requests returns the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestsLocked()
}

// Reset forgets the scripts and the request log and restarts the failure
// sequence; the configuration stays.
func (s *Server) Reset() {
	s.mu.Lock()
	s.scripts = map[string][]Step{}
	s.log, s.logNext = nil, 0
	s.mu.Unlock()
	s.reseed(s.cfg.Load().Seed)
}

func (s *Server) record(req Request, limit int) {
	if limit < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if (s.logNext != 0 && len(s.log) != limit) || len(s.log) > limit { // the limit changed
		all := s.requestsLocked()
		if len(all) > limit {
			all = all[len(all)-limit:]
		}
		s.log, s.logNext = all, 0
	}
	if len(s.log) < limit {
		s.log = append(s.log, req)
		return
	}
	s.log[s.logNext] = req
	s.logNext = (s.logNext + 1) % limit
}

// requestsLocked is Requests with s.mu held.
func (s *Server) requestsLocked() []Request {
	out := make([]Request, 0, len(s.log))
	out = append(out, s.log[s.logNext:]...)
	return append(out, s.log[:s.logNext]...)
}

// roll decides an injected failure: 0, 500 or 429.
func (s *Server) roll(cfg *Config) int {
	if cfg.ErrorRate <= 0 && cfg.RateLimitRate <= 0 {
		return 0
	}
	s.rngMu.Lock()
	f := s.rng.Float64()
	s.rngMu.Unlock()
	switch {
	case f < cfg.RateLimitRate:
		return http.StatusTooManyRequests
	case f < cfg.RateLimitRate+cfg.ErrorRate:
		return http.StatusInternalServerError
	}
	return 0
}

// maxBody bounds a request body.
const maxBody = 32 << 20

// readBody reads the whole body into a fresh slice (it is kept in the log).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	n := r.ContentLength
	if n < 0 || n > maxBody {
		n = 512
	}
	buf := make([]byte, 0, n+1)
	body := http.MaxBytesReader(w, r.Body, maxBody)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
