package openai

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

type embedRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	Dimensions     int      `json:"dimensions,omitempty"`
	EncodingFormat string   `json:"encoding_format,omitempty"`
	User           string   `json:"user,omitempty"`
}

type embedResponse struct {
	Object string          `json:"object"`
	Data   []embedding     `json:"data"`
	Model  string          `json:"model"`
	Usage  *usage          `json:"usage,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

type embedding struct {
	Object string `json:"object"`
	Index  int    `json:"index"`
	// Embedding is an array of numbers, or a base64 string of
	// little-endian float32s.
	Embedding json.RawMessage `json:"embedding"`
}

// Embed returns one vector per input.
func (c *Client) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	body, err := json.Marshal(embedRequest{Model: req.Model, Input: req.Input, Dimensions: req.Dimensions,
		EncodingFormat: "float", User: req.User})
	if err != nil {
		e := llm.Errorf(llm.KindInvalidRequest, "encoding the request: %v", err)
		e.Provider, e.Err = c.name, err
		return nil, e
	}
	resp, err := c.post(ctx, "embeddings", req.Model, body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, err)
	}
	if len(b) > maxResponseBody {
		return nil, badUpstream(c.name, "response larger than %d bytes", maxResponseBody)
	}
	var r embedResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, badUpstream(c.name, "unreadable embeddings response: %v", err)
	}
	if o, ok := errorFrom(r.Error); ok {
		return nil, c.upstreamError(o)
	}
	out := &llm.EmbedResponse{Model: r.Model, Vectors: make([][]float32, len(req.Input))}
	if r.Usage != nil {
		out.Usage.Input = r.Usage.PromptTokens
	}
	if len(r.Data) != len(req.Input) {
		return nil, badUpstream(c.name, "embeddings response has %d vectors for %d inputs", len(r.Data), len(req.Input))
	}
	for i, d := range r.Data {
		if d.Index < 0 || d.Index >= len(out.Vectors) || out.Vectors[d.Index] != nil {
			return nil, badUpstream(c.name, "embeddings response: data[%d].index %d is out of range or repeated", i, d.Index)
		}
		v, err := vector(d.Embedding)
		if err != nil {
			return nil, badUpstream(c.name, "embeddings response: data[%d].embedding: %v", i, err)
		}
		out.Vectors[d.Index] = v
	}
	return out, nil
}

// vector reads an embedding given as numbers or as base64 float32s.
func vector(raw json.RawMessage) ([]float32, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		if len(b)%4 != 0 {
			return nil, errBase64Length
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v, nil
	}
	v := []float32{}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errBase64Length = constError("base64 embedding is not a whole number of float32s")
