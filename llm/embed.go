package llm

// EmbedRequest asks for embeddings of one or more inputs.
type EmbedRequest struct {
	Model string
	Input []string
	// Dimensions asks for shorter vectors where the model supports it; 0
	// leaves the model's size.
	Dimensions int
	User       string
}

// EmbedResponse holds one vector per input, in input order.
type EmbedResponse struct {
	Model   string
	Vectors [][]float32
	// Usage counts the input tokens (Usage.Input).
	Usage Usage
}
