package provider

import "go.opentelemetry.io/collector/pdata/pcommon"

// ResponseReader reads what a provider's responses say beyond the fields the
// proxy reads for every API (the OpenAI-style usage, ids, models, error
// codes): Exa's cost, Twilio's price and segments. The proxy makes one per
// call, off the request path, and puts what it read on the call's span.
type ResponseReader interface {
	// Read merges one JSON document (the body, or a stream event) into
	// what was read; later documents override earlier ones.
	Read(doc []byte)
	// ReadPartial reads a body too large to keep whole from its first and
	// last bytes, where the fields that matter sit.
	ReadPartial(head, tail []byte)
	// Parsed reports whether the response stated usage or cost.
	Parsed() bool
	// Annotate puts what was read on the span of a call of operation.
	Annotate(operation string, attrs pcommon.Map)
}
