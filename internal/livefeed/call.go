package livefeed

// Call is the summary of one priced call on the live stream; its fields
// are named as in the API's /calls resource.
type Call struct {
	// Tenant is whose call it is; a stream shows a reader its own only.
	Tenant      string  `json:"tenant,omitempty"`
	Timestamp   string  `json:"timestamp"`
	DurationMs  float64 `json:"durationMs"`
	Provider    string  `json:"provider"`
	Model       string  `json:"model,omitempty"`
	Operation   string  `json:"operation,omitempty"`
	Service     string  `json:"service,omitempty"`
	Environment string  `json:"environment,omitempty"`
	// Attribution, as the call was stored (after the cost processor
	// cleaned it).
	Customer   string `json:"customer,omitempty"`
	User       string `json:"user,omitempty"`
	Team       string `json:"team,omitempty"`
	Feature    string `json:"feature,omitempty"`
	HTTPStatus int64  `json:"httpStatus,omitempty"`
	Status     string `json:"status"`
	ErrorClass string `json:"errorClass,omitempty"`
	Tokens     Tokens `json:"tokens"`
	// CostUSD is an exact decimal string; nil when the call is unpriced.
	CostUSD      *string `json:"costUsd"`
	CostStatus   string  `json:"costStatus"`
	Anomaly      bool    `json:"anomaly"`
	AnomalyScore float64 `json:"anomalyScore"`
	TraceID      string  `json:"traceId,omitempty"`
	SpanID       string  `json:"spanId,omitempty"`
}

// Tokens are a call's token counts by kind.
type Tokens struct {
	Input       int64 `json:"input"`
	Output      int64 `json:"output"`
	CachedInput int64 `json:"cachedInput,omitempty"`
	Reasoning   int64 `json:"reasoning,omitempty"`
}

// CallEvent makes c a call event. It is encoded at publish, and only if
// a subscriber takes it (watchers read Call): c must not change after.
func CallEvent(c *Call) Event {
	return Event{Kind: KindCall, call: c, Labels: Labels{Tenant: c.Tenant, Provider: c.Provider, Model: c.Model,
		Operation: c.Operation, Service: c.Service, Environment: c.Environment,
		Customer: c.Customer, User: c.User, Team: c.Team, Feature: c.Feature}}
}
