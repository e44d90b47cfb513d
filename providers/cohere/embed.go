package cohere

import (
	"context"
	"encoding/json"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// embedRequest is the body of POST /v2/embed.
type embedRequest struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension int      `json:"output_dimension,omitempty"`
}

// embedResponse is a /v2/embed answer with float embeddings.
type embedResponse struct {
	Embeddings struct {
		Float [][]float32 `json:"float"`
	} `json:"embeddings"`
	Meta struct {
		BilledUnits *tokenCounts `json:"billed_units"`
	} `json:"meta"`
}

// Embed sends a /v2/embed call for float embeddings of documents
// (input_type "search_document"). Dimensions becomes output_dimension, which
// only embed-v4 and later models accept.
func (c *Client) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	if len(req.Input) == 0 {
		return nil, c.label(invalid("input: no texts to embed"))
	}
	wire := embedRequest{Model: req.Model, Texts: req.Input, InputType: "search_document", EmbeddingTypes: []string{"float"}, OutputDimension: req.Dimensions}
	body, err := c.call(ctx, "/v2/embed", req.Model, wire)
	if err != nil {
		return nil, err
	}
	out, err := parseEmbed(body, req)
	if err != nil {
		return nil, c.label(err)
	}
	return out, nil
}

func parseEmbed(body []byte, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	var wr embedResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, llm.Errorf(llm.KindServer, "cohere: unreadable embed response: %v", err)
	}
	if n := len(wr.Embeddings.Float); n != len(req.Input) {
		return nil, llm.Errorf(llm.KindServer, "cohere: embeddings.float holds %d vectors for %d texts", n, len(req.Input))
	}
	out := &llm.EmbedResponse{Model: req.Model, Vectors: wr.Embeddings.Float}
	if bu := wr.Meta.BilledUnits; bu != nil {
		out.Usage.Input = int(bu.InputTokens)
	}
	return out, nil
}
