package router

import (
	"sort"
	"sync"
	"time"
)

const (
	// ewmaWeight is the weight of a new sample in the moving averages.
	ewmaWeight = 0.2
	// maxTrackedModels bounds the models a deployment keeps estimates for,
	// so that callers naming endless models cannot grow memory.
	maxTrackedModels = 1024
)

// latencies estimates one deployment's latency per upstream model from
// completed calls: moving averages of the time to first token, the output
// rate and the output length.
//
// The expected latency of a call is TTFT + expected output tokens / rate,
// the expected output being the average seen, capped at the request's
// MaxTokens. A model with no samples expects 0 — an optimistic prior, so a
// new deployment is tried before it is judged. Non-streamed calls only show
// their total time: it counts as TTFT less the expected generation time
// when the rate is known, else entirely as TTFT. A timeout counts its
// elapsed time as a TTFT sample.
type latencies struct {
	mu sync.RWMutex
	m  map[string]*modelStats
}

type modelStats struct {
	mu                 sync.Mutex
	ttft, rate, out    float64 // seconds, tokens per second, tokens
	nTTFT, nRate, nOut int
}

func ewma(avg float64, n int, sample float64) float64 {
	if n == 0 {
		return sample
	}
	return avg + ewmaWeight*(sample-avg)
}

// get returns a model's stats; nil when there are none and create is
// false, or when the deployment tracks too many models.
func (l *latencies) get(model string, create bool) *modelStats {
	l.mu.RLock()
	s := l.m[model]
	l.mu.RUnlock()
	if s != nil || !create {
		return s
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s = l.m[model]; s != nil {
		return s
	}
	if len(l.m) >= maxTrackedModels {
		return nil
	}
	if l.m == nil {
		l.m = map[string]*modelStats{}
	}
	s = &modelStats{}
	l.m[model] = s
	return s
}

// expected is the expected latency of a call for up to maxTokens output
// tokens (0: no cap).
func (l *latencies) expected(model string, maxTokens int) time.Duration {
	s := l.get(model, false)
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.ttft
	if s.nRate > 0 && s.rate > 0 {
		out := s.out
		if maxTokens > 0 {
			out = min(out, float64(maxTokens))
		}
		sec += out / s.rate
	}
	return time.Duration(sec * float64(time.Second))
}

// chat records a non-streamed call that took total and generated
// completion tokens.
func (l *latencies) chat(model string, total time.Duration, completion int) {
	s := l.get(model, true)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ttft := total.Seconds()
	if s.nRate > 0 && s.rate > 0 {
		ttft = max(0, ttft-float64(completion)/s.rate)
	}
	s.ttft = ewma(s.ttft, s.nTTFT, ttft)
	s.nTTFT++
	s.out = ewma(s.out, s.nOut, float64(completion))
	s.nOut++
}

// stream records a streamed call: its time to first token, and when it
// completed, the time from the first token to the end and the tokens
// generated.
func (l *latencies) stream(model string, ttft, gen time.Duration, completion int, complete bool) {
	s := l.get(model, true)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttft = ewma(s.ttft, s.nTTFT, ttft.Seconds())
	s.nTTFT++
	if !complete {
		return
	}
	if gen > 0 && completion > 0 {
		s.rate = ewma(s.rate, s.nRate, float64(completion)/gen.Seconds())
		s.nRate++
	}
	s.out = ewma(s.out, s.nOut, float64(completion))
	s.nOut++
}

// timeout records a call that timed out after elapsed.
func (l *latencies) timeout(model string, elapsed time.Duration) {
	s := l.get(model, true)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttft = ewma(s.ttft, s.nTTFT, elapsed.Seconds())
	s.nTTFT++
}

// LatencyInfo is a deployment's latency estimate for one model.
type LatencyInfo struct {
	Model string `json:"model"`
	// TTFTMs is the moving average of the time to first token.
	TTFTMs float64 `json:"ttftMs"`
	// TokensPerSecond is the moving average of the output rate; 0 when
	// not yet measured.
	TokensPerSecond float64 `json:"tokensPerSecond"`
	// OutputTokens is the moving average of output tokens per call.
	OutputTokens float64 `json:"outputTokens"`
	// Samples is the number of calls measured.
	Samples int `json:"samples"`
}

func (l *latencies) info() []LatencyInfo {
	l.mu.RLock()
	out := make([]LatencyInfo, 0, len(l.m))
	for model, s := range l.m {
		s.mu.Lock()
		out = append(out, LatencyInfo{Model: model, TTFTMs: s.ttft * 1000, TokensPerSecond: s.rate, OutputTokens: s.out, Samples: s.nTTFT})
		s.mu.Unlock()
	}
	l.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out
}
