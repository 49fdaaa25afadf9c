package openai

import "github.com/nexus-otel/nexus/internal/providers/provider"

// Refusals are the error.type values that mean OpenAI refused a call: the
// OpenAI SDKs' (Python, Node) error classes, which every OpenAI-compatible
// API's clients share, and OpenAI's documented error types and codes.
func Refusals() provider.Refusals {
	return provider.Refusals{Names: []provider.RefusalName{
		{Name: "BadRequestError", Status: 400},
		{Name: "AuthenticationError", Status: 401},
		{Name: "PermissionDeniedError", Status: 403},
		{Name: "NotFoundError", Status: 404},
		{Name: "ConflictError", Status: 409},
		{Name: "UnprocessableEntityError", Status: 422},
		{Name: "RateLimitError", Status: 429},
		{Name: "InternalServerError", Status: 500},
		{Name: "APIStatusError", Status: 0}, // a status error whose class names no status

		{Name: "invalid_request_error", Status: 400}, // error types and codes
		{Name: "context_length_exceeded", Status: 400},
		{Name: "invalid_api_key", Status: 401},
		{Name: "model_not_found", Status: 404},
		{Name: "rate_limit_exceeded", Status: 429},
		{Name: "insufficient_quota", Status: 429},
	}}
}
