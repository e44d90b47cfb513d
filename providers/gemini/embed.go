package gemini

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

type embedRequest struct {
	Requests []embedContent `json:"requests"`
}

type embedContent struct {
	Model                string  `json:"model"`
	Content              content `json:"content"`
	OutputDimensionality int     `json:"outputDimensionality,omitempty"`
}

type embedResponse struct {
	Embeddings []struct {
		Values []float32 `json:"values"`
	} `json:"embeddings"`
}

// Embed sends one batchEmbedContents call with a request per input.
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
	model := "models/" + strings.TrimPrefix(req.Model, "models/")
	w := embedRequest{Requests: make([]embedContent, len(req.Input))}
	for i, in := range req.Input {
		w.Requests[i] = embedContent{Model: model, Content: content{Parts: []part{{Text: &in}}}, OutputDimensionality: req.Dimensions}
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, invalid("the request cannot be encoded: %v", err)
	}
	resp, err := c.post(ctx, c.modelURL(req.Model, "batchEmbedContents"), body)
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
		return nil, c.badResponse("the response is not a BatchEmbedContentsResponse: %v", err)
	}
	if len(out.Embeddings) != len(req.Input) {
		return nil, c.badResponse("embeddings: got %d vectors for %d inputs", len(out.Embeddings), len(req.Input))
	}
	vecs := make([][]float32, len(out.Embeddings))
	for i, e := range out.Embeddings {
		vecs[i] = e.Values
	}
	return &llm.EmbedResponse{Model: req.Model, Vectors: vecs}, nil
}
