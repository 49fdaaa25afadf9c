package providers

import "github.com/nexus-otel/nexus/internal/providers/provider"

// Names and classes for code that imports this package under its old name,
// provider (the nexusapi extension, until its rewrite lands). New code asks
// a provider's descriptor instead of comparing names, and takes the error
// classes from the provider package.
const (
	OpenAI     = "openai"
	OpenRouter = "openrouter"
	Exa        = "exa"
	Twilio     = "twilio"
	Apollo     = "apollo"

	ClassNone           = provider.ClassNone
	ClassAuthFailed     = provider.ClassAuthFailed
	ClassQuotaExhausted = provider.ClassQuotaExhausted
	ClassRateLimited    = provider.ClassRateLimited
	ClassClientError    = provider.ClassClientError
	ClassServerError    = provider.ClassServerError
	ClassTimeout        = provider.ClassTimeout
	ClassNetwork        = provider.ClassNetwork
	ClassBadResponse    = provider.ClassBadResponse
	ClassError          = provider.ClassError
)
