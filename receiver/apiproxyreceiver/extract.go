package apiproxyreceiver

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// What became of reading usage from a response, in the nexus.proxy.usage
// span attribute.
const (
	usageParsed     = "parsed"     // usage or cost read
	usageNone       = "none"       // read, and the response reports none (errors, Apollo, a stream without include_usage)
	usageMalformed  = "malformed"  // the body is not the JSON or event stream it claims to be
	usageTruncated  = "truncated"  // the body outgrew max_parsed_body_size and the usage was not where it should be
	usageIncomplete = "incomplete" // the response ended (cut, timed out, caller left) before its usage came
	usageSkipped    = "skipped"    // a body the proxy does not read (audio, binary, unknown encoding)
)

// respDoc is what the proxy reads from every API's responses: chat and
// text completions, embeddings, the Responses API and its stream events,
// and error bodies. A provider's own fields (Exa's cost, Twilio's price)
// are read by the provider's Response.
type respDoc struct {
	ID       string          `json:"id"`
	Model    string          `json:"model"`
	Type     string          `json:"type"`
	Usage    *usageDoc       `json:"usage"`
	Choices  []choiceDoc     `json:"choices"`
	Error    json.RawMessage `json:"error"`
	Code     json.RawMessage `json:"code"`
	Response *respDoc        `json:"response"`
	// ServiceTier is the tier OpenAI served the call at (default, flex,
	// priority); Chat Completions and the Responses API both state it.
	ServiceTier string `json:"service_tier"`
	// Tag names the error of an error body whose error is a message (Exa:
	// {"error":"…","tag":"NO_MORE_CREDITS"}).
	Tag string `json:"tag"`
}

type choiceDoc struct {
	FinishReason *string `json:"finish_reason"`
}

// usageDoc reads both token vocabularies: Chat Completions
// (prompt/completion) and the Responses API (input/output).
type usageDoc struct {
	PromptTokens            *int64          `json:"prompt_tokens"`
	CompletionTokens        *int64          `json:"completion_tokens"`
	InputTokens             *int64          `json:"input_tokens"`
	OutputTokens            *int64          `json:"output_tokens"`
	PromptTokensDetails     *tokenDetails   `json:"prompt_tokens_details"`
	InputTokensDetails      *tokenDetails   `json:"input_tokens_details"`
	CompletionTokensDetails *tokenDetails   `json:"completion_tokens_details"`
	OutputTokensDetails     *tokenDetails   `json:"output_tokens_details"`
	Cost                    json.RawMessage `json:"cost"`
}

// tokenDetails are the parts of the input or output tokens: cached,
// cache-write and reasoning tokens, and the audio (Chat Completions audio
// models) and image (gpt-image-1) tokens priced on their own.
type tokenDetails struct {
	CachedTokens     int64  `json:"cached_tokens"`
	CacheWriteTokens int64  `json:"cache_write_tokens"`
	ReasoningTokens  int64  `json:"reasoning_tokens"`
	AudioTokens      int64  `json:"audio_tokens"`
	ImageTokens      *int64 `json:"image_tokens"`
}

// result is what a call's bodies said.
type result struct {
	requestModel string
	model, id    string
	finish       []string

	hasTokens                                       bool
	input, output, cacheRead, cacheWrite, reasoning int64
	audioIn, audioOut, imageIn, imageOut            int64
	imageOutStated                                  bool                    // the output tokens were split by modality
	tier, requestTier                               string                  // service tier served and asked for
	cost                                            string                  // OpenRouter usage.cost, exact decimal
	extra                                           provider.ResponseReader // the provider's own fields; nil when it has none
	bodyErrType                                     string
	streamErr                                       bool
	usage                                           string
	malformed, truncated                            bool
}

// maxInflated bounds the decompressed size read from a compressed body: a
// small body that inflates without end must not cost unbounded CPU.
const maxInflated = 64 << 20

// extract reads a finished call's bodies. It runs on the emitter, off the
// request path.
func extract(c *call, maxParsed int) result {
	res := extractBodies(c, maxParsed)
	if isImagesAPI(c.path) && res.hasTokens && !res.imageOutStated {
		// The images API's output tokens are the images it made.
		res.imageOut = res.output
	}
	res.tier, res.requestTier = apicall.BoundServiceTier(res.tier), apicall.BoundServiceTier(res.requestTier)
	return res
}

func extractBodies(c *call, maxParsed int) result {
	res := result{}
	if c.rt.newResponse != nil {
		res.extra = c.rt.newResponse()
	}
	switch {
	case c.reqDoc != nil && c.rt.genAI:
		res.requestModel, res.requestTier = c.reqDoc.model, c.reqDoc.tier
	case c.req != nil && c.req.capture.max > 0:
		res.requestModel, res.requestTier = requestFields(&c.req.capture)
	}
	if c.status == 0 || c.upgraded {
		res.usage = usageIncomplete
		if c.upgraded {
			res.usage = usageSkipped
		}
		return res
	}

	sse, body := &c.sse, &c.resp
	rawTruncated := false
	if c.encoding != "" && c.media != mediaOther {
		dec, ok := decompressor(c.encoding, c.resp.head)
		if !ok {
			res.usage = usageSkipped
			return res
		}
		rawTruncated = !c.resp.complete()
		sse = &sseScanner{maxEvent: c.sse.maxEvent}
		body = &capture{max: maxParsed}
		var sink interface{ write([]byte) } = body
		if c.media == mediaSSE {
			sink = sse
		}
		buf := make([]byte, 32<<10)
		r := io.LimitReader(dec, maxInflated)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				sink.write(buf[:n])
			}
			if err != nil {
				// A cut compressed stream still gave what came before.
				if err != io.EOF {
					rawTruncated = true
				}
				break
			}
		}
		if c.media == mediaSSE {
			sse.flush()
		}
		defer body.release()
	}

	switch c.media {
	case mediaOther:
		res.usage = usageSkipped
	case mediaJSON:
		readJSONBody(body, &res)
	case mediaSSE:
		readStream(sse, &res)
		res.truncated = res.truncated || sse.truncated
	}
	res.truncated = res.truncated || rawTruncated

	switch {
	case res.usage != "":
	case res.malformed:
		res.usage = usageMalformed
	case res.hasTokens || res.cost != "" || (res.extra != nil && res.extra.Parsed()):
		res.usage = usageParsed
	case c.gone || c.failed || (c.media == mediaSSE && !c.eof):
		res.usage = usageIncomplete
	case res.truncated:
		res.usage = usageTruncated
	default:
		res.usage = usageNone
	}
	return res
}

func decompressor(enc string, raw []byte) (io.Reader, bool) {
	br := bytes.NewReader(raw)
	switch enc {
	case "gzip", "x-gzip":
		r, err := gzip.NewReader(br)
		if err != nil {
			return nil, false
		}
		return r, true
	case "deflate":
		// HTTP's deflate is zlib-wrapped, though some servers send it raw.
		if r, err := zlib.NewReader(br); err == nil {
			return r, true
		}
		return flate.NewReader(bytes.NewReader(raw)), true
	case "br":
		return brotli.NewReader(br), true
	case "zstd":
		r, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxInflated))
		if err != nil {
			return nil, false
		}
		return r.IOReadCloser(), true
	}
	return nil, false
}

// readJSONBody reads a whole body, or the head and tail of a large one.
func readJSONBody(c *capture, res *result) {
	var doc respDoc
	if c.complete() {
		if err := json.Unmarshal(c.head, &doc); err != nil && !provider.IsTypeError(err) {
			res.malformed = true
			return
		}
		applyDoc(&doc, c.head, res)
		return
	}
	res.truncated = true
	tail := c.tailBytes()
	provider.ValueAfter(c.head, `"id"`, false, &doc.ID)
	provider.ValueAfter(c.head, `"model"`, false, &doc.Model)
	if !provider.ValueAfter(tail, `"usage"`, true, &doc.Usage) {
		provider.ValueAfter(c.head, `"usage"`, true, &doc.Usage)
	}
	provider.ValueAfter(c.head, `"error"`, false, &doc.Error)
	if !provider.ValueAfter(tail, `"service_tier"`, true, &doc.ServiceTier) {
		provider.ValueAfter(c.head, `"service_tier"`, false, &doc.ServiceTier)
	}
	apply(&doc, res)
	if res.extra != nil {
		res.extra.ReadPartial(c.head, tail)
	}
}

// readStream reads the events the scanner kept.
func readStream(s *sseScanner, res *result) {
	decode := func(data []byte) (respDoc, bool) {
		var doc respDoc
		if err := json.Unmarshal(data, &doc); err != nil && !provider.IsTypeError(err) {
			return doc, false
		}
		return doc, true
	}
	if s.first != nil {
		doc, ok := decode(s.first)
		if !ok {
			res.malformed = true
			return
		}
		applyDoc(&doc, s.first, res)
	}
	for _, ev := range s.finish {
		if doc, ok := decode(ev); ok {
			applyDoc(&doc, ev, res)
		}
	}
	if s.usage != nil {
		if doc, ok := decode(s.usage); ok {
			applyDoc(&doc, s.usage, res)
		} else {
			res.malformed = true
		}
	}
	if s.errEv != nil {
		doc, ok := decode(s.errEv)
		switch {
		case !ok:
			res.streamErr, res.bodyErrType = true, "stream_error"
		case s.errName == "error" || streamFailed(&doc):
			res.streamErr = true
			res.bodyErrType = docErrorType(&doc)
			if res.bodyErrType == "" {
				res.bodyErrType = "stream_error"
			}
		}
	}
}

// streamFailed reports whether a stream event says the call failed: an
// error object (OpenRouter's mid-stream errors, OpenAI's), an error finish
// reason, or the Responses API's error and response.failed events.
func streamFailed(doc *respDoc) bool {
	if isPresent(doc.Error) || doc.Type == "error" || doc.Type == "response.failed" {
		return true
	}
	for _, ch := range doc.Choices {
		if ch.FinishReason != nil && *ch.FinishReason == "error" {
			return true
		}
	}
	return false
}

func isPresent(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// applyDoc applies doc, decoded from raw, and has the provider read raw.
func applyDoc(doc *respDoc, raw []byte, res *result) {
	apply(doc, res)
	if res.extra != nil {
		res.extra.Read(raw)
	}
}

// apply merges what one document says into res; later documents (the
// stream's last events) override earlier ones.
func apply(doc *respDoc, res *result) {
	if doc.Response != nil {
		// Responses API stream events wrap the response object.
		apply(doc.Response, res)
	}
	if doc.Model != "" {
		res.model = doc.Model
	}
	if doc.ID != "" && res.id == "" {
		res.id = doc.ID
	}
	if doc.ServiceTier != "" {
		res.tier = doc.ServiceTier
	}
	for _, ch := range doc.Choices {
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			res.addFinish(*ch.FinishReason)
		}
	}
	if u := doc.Usage; u != nil {
		// A negative count is a corrupt body, not usage: it reads as absent
		// (and details as 0) rather than subtracting from the totals.
		if v := firstOf(u.PromptTokens, u.InputTokens); v != nil && *v >= 0 {
			res.input, res.hasTokens = *v, true
		}
		if v := firstOf(u.CompletionTokens, u.OutputTokens); v != nil && *v >= 0 {
			res.output, res.hasTokens = *v, true
		}
		if d := firstDetails(u.PromptTokensDetails, u.InputTokensDetails); d != nil {
			res.cacheRead, res.cacheWrite = max(d.CachedTokens, 0), max(d.CacheWriteTokens, 0)
			res.audioIn = max(d.AudioTokens, 0)
			if d.ImageTokens != nil {
				res.imageIn = max(*d.ImageTokens, 0)
			}
		}
		if d := firstDetails(u.CompletionTokensDetails, u.OutputTokensDetails); d != nil {
			res.reasoning = max(d.ReasoningTokens, 0)
			res.audioOut = max(d.AudioTokens, 0)
			if d.ImageTokens != nil {
				res.imageOut, res.imageOutStated = max(*d.ImageTokens, 0), true
			}
		}
		if s, ok := provider.DecimalText(u.Cost); ok {
			res.cost = s
		}
	}
	if t := docErrorType(doc); t != "" && res.bodyErrType == "" {
		res.bodyErrType = t
	}
}

func (res *result) addFinish(r string) {
	for _, f := range res.finish {
		if f == r {
			return
		}
	}
	res.finish = append(res.finish, r)
}

func firstOf(vs ...*int64) *int64 {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func firstDetails(ds ...*tokenDetails) *tokenDetails {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return nil
}

// docErrorType names the provider's error code from an error body: OpenAI's
// error.code or error.type (insufficient_quota, rate_limit_exceeded),
// OpenRouter's error.code, Exa's tag (NO_MORE_CREDITS), the Responses API's
// error events. "" when the body names none.
func docErrorType(doc *respDoc) string {
	if isPresent(doc.Error) {
		switch doc.Error[0] {
		case '{':
			var e struct {
				Code json.RawMessage `json:"code"`
				Type string          `json:"type"`
			}
			if err := json.Unmarshal(doc.Error, &e); err == nil || provider.IsTypeError(err) {
				code := provider.ScalarText(e.Code)
				if code != "" && !provider.IsNumber(code) {
					return code
				}
				if e.Type != "" {
					return e.Type
				}
				return code
			}
		case '"':
			if doc.Tag != "" {
				return doc.Tag
			}
		}
	}
	if doc.Type == "error" {
		return provider.ScalarText(doc.Code)
	}
	return ""
}

// requestFields reads the model and the service tier a request asked for.
func requestFields(c *capture) (model, tier string) {
	if c.complete() {
		req, _ := parseRequest(c.head)
		return req.model, req.tier
	}
	if !provider.ValueAfter(c.head, `"model"`, false, &model) {
		provider.ValueAfter(c.tailBytes(), `"model"`, true, &model)
	}
	if !provider.ValueAfter(c.head, `"service_tier"`, false, &tier) {
		provider.ValueAfter(c.tailBytes(), `"service_tier"`, true, &tier)
	}
	return model, tier
}

// isImagesAPI: OpenAI's images endpoints (generations, edits), whose
// output tokens are image tokens.
func isImagesAPI(path string) bool {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	return strings.Contains(path, "/images/")
}

// putMediaTokens writes the audio and image parts of a GenAI call's
// tokens, priced on their own.
func putMediaTokens(attrs pcommon.Map, res *result) {
	for _, kv := range [...]struct {
		key string
		n   int64
	}{
		{semconv.AttrInputAudioTokens, res.audioIn}, {semconv.AttrOutputAudioTokens, res.audioOut},
		{semconv.AttrInputImageTokens, res.imageIn}, {semconv.AttrOutputImageTokens, res.imageOut},
	} {
		if kv.n > 0 {
			attrs.PutInt(kv.key, kv.n)
		}
	}
}
