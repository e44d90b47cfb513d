package ollama

import (
	"context"
	"encoding/json"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

type embedRequest struct {
	Model      string   `json:"model"`
	Input      []string `json:"input"`
	Dimensions int      `json:"dimensions,omitempty"`
}

type embedResponse struct {
	Model           string      `json:"model"`
	Embeddings      [][]float32 `json:"embeddings"`
	PromptEvalCount int         `json:"prompt_eval_count"`
}

// Embed sends one /api/embed call for all inputs.
func (c *Client) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	if req.Model == "" {
		return nil, invalid("model: a model is required")
	}
	if len(req.Input) == 0 {
		return nil, invalid("input: at least one input is required")
	}
	if req.Dimensions < 0 {
		return nil, invalid("dimensions: must not be negative")
	}
	body, err := json.Marshal(&embedRequest{Model: req.Model, Input: req.Input, Dimensions: req.Dimensions})
	if err != nil {
		return nil, invalid("the request cannot be encoded: %v", err)
	}
	resp, err := c.post(ctx, "/api/embed", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := readAll(resp.Body)
	if err != nil {
		return nil, c.readError(ctx, err)
	}
	var out embedResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, c.badResponse("the response is not an embed response: %v", err)
	}
	if len(out.Embeddings) != len(req.Input) {
		return nil, c.badResponse("embeddings: got %d vectors for %d inputs", len(out.Embeddings), len(req.Input))
	}
	model := out.Model
	if model == "" {
		model = req.Model
	}
	return &llm.EmbedResponse{Model: model, Vectors: out.Embeddings, Usage: llm.Usage{Input: max(out.PromptEvalCount, 0)}}, nil
}
