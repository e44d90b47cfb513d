// Package catalog is the router's knowledge of LLM providers and models:
// who serves what, where, in which wire format, and at what price.
//
// The data is models.dev's catalogue (MIT licence, in models-dev.LICENSE
// beside the data), embedded in the binary and parsed once, on first use, by
// [Default]. It is read-only after that and safe for concurrent use.
//
// # Providers and wire formats
//
// Each catalogue provider names the npm package that speaks its API; the
// package decides the wire format the router uses ([Provider.Format]):
//
//   - "openai": @ai-sdk/openai-compatible, @ai-sdk/openai and the vendor
//     packages of OpenAI-compatible APIs (groq, togetherai, mistral, xai,
//     deepinfra, cerebras, perplexity, vercel, gateway, openrouter, venice,
//     aihubmix).
//   - "anthropic", "gemini" (@ai-sdk/google), "bedrock", "cohere", "azure".
//   - "" (unsupported): Google Vertex AI (OAuth service accounts), SAP AI
//     Core (OAuth service keys), GitLab and GitHub Copilot (OAuth token
//     exchanges), the Cloudflare AI Gateway (per-provider paths under an
//     account and gateway id), Merge Gateway (its own SDK) and any package
//     not listed above. Unsupported providers stay in the catalogue for
//     their prices but [Catalog.FromEnv] skips them.
//
// Base URLs missing from the data come from a built-in table of the
// well-known APIs. Base URLs never end in a slash. An Anthropic-format base
// URL is the API root without "/v1" (the adapter adds "/v1/messages"), so the
// data's ".../anthropic/v1" becomes ".../anthropic"; an OpenAI-format one
// stops before "/chat/completions". A base URL may hold
// ${VAR} placeholders (Azure's resource name, Cloudflare's account id);
// [Provider.ResolveBaseURL] fills them from the environment.
//
// Four self-hosted servers that models.dev does not list are built in, with
// no models and no prices: "ollama" (format "ollama", http://localhost:11434),
// "vllm" (http://localhost:8000/v1), "lmstudio" (http://localhost:1234/v1;
// models.dev's own entry wins when present) and "tgi" (Hugging Face
// text-generation-inference, http://localhost:8080/v1), all but ollama in
// the "openai" format.
//
// # Prices
//
// Prices are USD per 1M tokens. A model's [Price] knows some of input,
// output, cache read, cache write and reasoning; the data's key variants
// cached_input and cache_input mean cache read, cached_write means cache
// write. Context-size tiers ("tiers"), per-request, per-image, per-citation
// and audio prices are ignored: the router bills tokens at the base tier.
// Negative prices in the data are treated as unknown.
//
// [Price.Cost] bills disjoint token buckets ([llm.Usage]): reasoning tokens
// at the reasoning price when known, else at the output price; cache reads
// and writes at their prices when known, else at the input price. A usage
// that needs a price nobody knows is unpriced (priced == false), never $0.
//
// A [Table] layers per-deployment overrides from configuration over the
// catalogue's prices; the router prices every call through one.
package catalog
