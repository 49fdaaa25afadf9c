// Package apicall reads an API call out of a span: which provider, what
// operation and model, how it ended and what it used. It understands the
// OpenTelemetry GenAI and HTTP semantic conventions in their current and
// deprecated spellings, so every component that looks at calls (the cost
// processor, the nexus exporter, the proxy's tests) agrees on what a call is.
// The attribute names themselves are in internal/semconv, with the rest of
// the vocabulary the components share.
package apicall

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// reportedCostAttrs are where a provider-reported cost may stand, in order.
var reportedCostAttrs = [...]string{semconv.AttrReportedCost, semconv.AttrUsageCost, semconv.AttrExaCost, semconv.AttrTwilioPrice}

// Call is what Nexus knows of one API call. Strings point into the span's
// attributes: reading a call allocates nothing.
type Call struct {
	Provider      string
	Operation     string
	Model         string
	RequestModel  string
	ServerAddress string
	HTTPMethod    string
	HTTPStatus    int64
	ErrorType     string
	Failed        bool // the span's status is Error or the HTTP status is >= 400
	ErrorClass    string
	// Answer says whether the provider performed the call, from the HTTP
	// status or, without one, what error.type implies; AnswerStatus is that
	// status (HTTPStatus, or the one error.type names: 429 for
	// RateLimitError). The cost processor bills nothing for a refusal.
	Answer       provider.Answer
	AnswerStatus int64

	InputTokens       int64 // includes cached and cache-write input tokens
	OutputTokens      int64 // includes reasoning tokens
	CachedInputTokens int64
	CacheWriteTokens  int64
	ReasoningTokens   int64
	// Audio and image tokens are parts of InputTokens and OutputTokens,
	// priced on their own.
	InputAudioTokens  int64
	OutputAudioTokens int64
	InputImageTokens  int64
	OutputImageTokens int64
	Results           int64 // Exa
	Pages             int64 // Exa
	SMSSegments       int64 // Twilio
	VoiceSeconds      int64 // Twilio
	Credits           int64 // Apollo
	Country           string
	// ServiceTier is the tier the call was served at (else asked for), as
	// sent, at most MaxServiceTierBytes: "" and default are the standard
	// prices.
	ServiceTier string

	// ReportedCost is the cost the provider reported, as the span carries it
	// (a double or a decimal string), when HasReportedCost.
	ReportedCost    pcommon.Value
	HasReportedCost bool
}

// Reader reads calls with the built-in provider knowledge plus a
// deployment's own hosts (a gateway, a regional endpoint) and routes.
type Reader struct {
	// Hosts maps extra host names to provider names.
	Hosts map[string]string
	// Routes are tried before the built-in ones.
	Routes []provider.Route
}

// FromSpan reads the call a span describes. ok is false when the span is not
// a call to an external API Nexus can name: neither a GenAI span nor an HTTP
// client span to a known provider host.
func FromSpan(span ptrace.Span) (Call, bool) {
	var r Reader
	return r.FromSpan(span)
}

// FromSpan reads the call a span describes; see the package function.
func (r *Reader) FromSpan(span ptrace.Span) (Call, bool) {
	return r.FromAttributes(span.Attributes(), span.Status().Code() == ptrace.StatusCodeError)
}

// FromAttributes reads a call from attributes alone (a log record that
// describes a call); failed says whether the record marks it as failed.
func (r *Reader) FromAttributes(attrs pcommon.Map, failed bool) (c Call, ok bool) {
	c.ServerAddress = str(attrs, semconv.AttrServerAddress, semconv.AttrNetPeerName)
	fullURL := str(attrs, semconv.AttrURLFull, semconv.AttrHTTPURL)

	c.Provider = str(attrs, semconv.AttrNexusProvider)
	genAIName := str(attrs, semconv.AttrProviderName, semconv.AttrSystem)
	if c.Provider == "" && genAIName != "" {
		c.Provider = providers.FromGenAIName(genAIName)
	}
	if c.Provider == "" {
		c.Provider = r.fromHost(c.ServerAddress)
	}
	if c.Provider == "" && fullURL != "" {
		c.Provider = r.fromHost(hostOf(fullURL))
	}
	if c.Provider == "" {
		// A GenAI call to a provider Nexus has no table for is still a call:
		// keep its own name rather than dropping it.
		if genAIName == "" {
			return Call{}, false
		}
		c.Provider = strings.ToLower(genAIName)
	}
	if c.ServerAddress == "" && fullURL != "" {
		c.ServerAddress = hostOf(fullURL)
	}

	c.HTTPMethod = str(attrs, semconv.AttrMethod, semconv.AttrMethodOld)
	c.Operation = str(attrs, semconv.AttrNexusOperation, semconv.AttrOperationName)
	if c.Operation == "" {
		path := fullURL
		if path == "" {
			path = str(attrs, semconv.AttrURLPath, semconv.AttrHTTPRoute)
		}
		c.Operation = providers.Operation(c.Provider, c.HTTPMethod, path, r.Routes)
		if c.Operation == "" {
			c.Operation = str(attrs, semconv.AttrHTTPRoute, semconv.AttrURLPath)
		}
	}
	c.RequestModel = str(attrs, semconv.AttrRequestModel)
	c.Model = str(attrs, semconv.AttrNexusModel, semconv.AttrResponseModel)
	if c.Model == "" {
		c.Model = c.RequestModel
	}
	c.HTTPStatus = Count(attrs, semconv.AttrStatusCode, semconv.AttrStatusCodeOld)
	c.ErrorType = str(attrs, semconv.AttrErrorType)

	c.InputTokens = Count(attrs, semconv.AttrInputTokens, semconv.AttrPromptTokens)
	c.OutputTokens = Count(attrs, semconv.AttrOutputTokens, semconv.AttrCompletionTok)
	c.CachedInputTokens = Count(attrs, semconv.AttrCacheReadToken)
	c.CacheWriteTokens = Count(attrs, semconv.AttrCacheWriteTok)
	c.ReasoningTokens = Count(attrs, semconv.AttrReasoningTok, semconv.AttrReasoningTok1)
	c.InputAudioTokens = Count(attrs, semconv.AttrInputAudioTokens)
	c.OutputAudioTokens = Count(attrs, semconv.AttrOutputAudioTokens)
	c.InputImageTokens = Count(attrs, semconv.AttrInputImageTokens)
	c.OutputImageTokens = Count(attrs, semconv.AttrOutputImageTokens)
	c.ServiceTier = BoundServiceTier(str(attrs, semconv.AttrOpenAIResponseServiceTier, semconv.AttrOpenAIRequestServiceTier))
	c.Results = Count(attrs, semconv.AttrExaResults)
	c.Pages = Count(attrs, semconv.AttrExaPages)
	c.SMSSegments = Count(attrs, semconv.AttrTwilioSegments)
	c.VoiceSeconds = Count(attrs, semconv.AttrTwilioSeconds)
	c.Credits = Count(attrs, semconv.AttrApolloCredits)
	c.Country = str(attrs, semconv.AttrTwilioCountry)
	for _, k := range reportedCostAttrs {
		if v, ok := attrs.Get(k); ok && (v.Type() == pcommon.ValueTypeDouble || v.Type() == pcommon.ValueTypeInt ||
			(v.Type() == pcommon.ValueTypeStr && v.Str() != "")) {
			c.ReportedCost, c.HasReportedCost = v, true
			break
		}
	}

	c.Failed = failed || c.HTTPStatus >= 400 || c.ErrorType != ""
	answer, status := providers.AnswerOf(int(c.HTTPStatus), c.ErrorType, c.Failed)
	c.Answer, c.AnswerStatus = answer, int64(status)
	if c.Failed {
		// Classified by the status error.type implies when the span has
		// none, so that an SDK's RateLimitError is rate_limited too.
		c.ErrorClass = provider.ClassifyHTTP(status, c.ErrorType)
		if c.ErrorClass == provider.ClassNone {
			c.ErrorClass = provider.ClassError
		}
	}
	return c, true
}

func (r *Reader) fromHost(host string) string {
	if p := providers.FromHost(host); p != "" {
		return p
	}
	if len(r.Hosts) > 0 {
		if h, _, ok := strings.Cut(host, ":"); ok {
			host = h
		}
		return r.Hosts[host]
	}
	return ""
}

// hostOf returns the host of a URL as a substring (no allocation).
func hostOf(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return ""
	}
	h := raw[i+3:]
	if j := strings.IndexAny(h, "/?#"); j >= 0 {
		h = h[:j]
	}
	if j := strings.LastIndexByte(h, '@'); j >= 0 {
		h = h[j+1:]
	}
	if j := strings.LastIndexByte(h, ':'); j >= 0 && !strings.Contains(h[j:], "]") {
		h = h[:j]
	}
	return h
}

// Resource reads the service and environment of a resource.
func Resource(res pcommon.Resource) (service, environment string) {
	attrs := res.Attributes()
	return str(attrs, semconv.AttrServiceName), str(attrs, semconv.AttrDeploymentEnv, semconv.AttrDeploymentEnv0)
}

// MaxServiceTierBytes bounds a service tier: tier names are short words, and
// the value is stored per call, so a sender's long text must not be.
const MaxServiceTierBytes = 32

// BoundServiceTier trims a tier and cuts it to MaxServiceTierBytes at a
// character boundary. A cut name is no known tier, so the call stays
// unpriced.
func BoundServiceTier(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= MaxServiceTierBytes {
		return s
	}
	n := MaxServiceTierBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// str returns the first of keys present, as a string.
func str(attrs pcommon.Map, keys ...string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if v.Type() == pcommon.ValueTypeStr {
				if s := v.Str(); s != "" {
					return s
				}
				continue
			}
			return v.AsString()
		}
	}
	return ""
}

// MaxCount bounds any count read from a span: larger values are bad input
// (a corrupt attribute), not usage, and would overflow sums downstream.
const MaxCount = 1 << 40

// Count reads the first of keys present as a non-negative count. Counts
// arrive as ints, doubles or strings depending on the instrumentation;
// negative, non-numeric or absurd values read as 0.
func Count(attrs pcommon.Map, keys ...string) int64 {
	for _, k := range keys {
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		var n int64
		switch v.Type() {
		case pcommon.ValueTypeInt:
			n = v.Int()
		case pcommon.ValueTypeDouble:
			d := v.Double()
			if math.IsNaN(d) || d < 0 || d > MaxCount {
				return 0
			}
			n = int64(d)
		case pcommon.ValueTypeStr:
			parsed, err := strconv.ParseInt(strings.TrimSpace(v.Str()), 10, 64)
			if err != nil {
				return 0
			}
			n = parsed
		default:
			return 0
		}
		if n < 0 || n > MaxCount {
			return 0
		}
		return n
	}
	return 0
}
