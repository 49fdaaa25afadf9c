package apiproxyreceiver

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/shopspring/decimal"
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

// respDoc is the union of the response shapes of the five APIs: chat and
// text completions, embeddings, the Responses API and its stream events,
// Exa results, Twilio messages, and their error bodies.
type respDoc struct {
	ID       string          `json:"id"`
	Model    string          `json:"model"`
	Type     string          `json:"type"`
	Usage    *usageDoc       `json:"usage"`
	Choices  []choiceDoc     `json:"choices"`
	Error    json.RawMessage `json:"error"`
	Code     json.RawMessage `json:"code"`
	Response *respDoc        `json:"response"`

	CostDollars *struct {
		Total json.RawMessage `json:"total"`
	} `json:"costDollars"`
	Results *[]struct{} `json:"results"`
	Tag     string      `json:"tag"`

	Price       json.RawMessage `json:"price"`
	NumSegments json.RawMessage `json:"num_segments"`
	To          string          `json:"to"`
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

type tokenDetails struct {
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	ReasoningTokens  int64 `json:"reasoning_tokens"`
}

// result is what a call's bodies said.
type result struct {
	requestModel string
	model, id    string
	finish       []string

	hasTokens                                       bool
	input, output, cacheRead, cacheWrite, reasoning int64
	cost                                            string // OpenRouter usage.cost, exact decimal
	exaCost                                         string
	exaResults                                      int64 // -1: unknown
	twilioPrice                                     string
	twilioSegments                                  int64 // -1: unknown
	twilioTo                                        string
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
	res := result{exaResults: -1, twilioSegments: -1}
	if c.req != nil && c.req.capture.max > 0 {
		res.requestModel = requestModel(&c.req.capture)
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
	case res.hasTokens || res.cost != "" || res.exaCost != "" || res.twilioSegments >= 0 || res.twilioPrice != "":
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
		if err := json.Unmarshal(c.head, &doc); err != nil && !isTypeError(err) {
			res.malformed = true
			return
		}
		apply(&doc, res)
		return
	}
	res.truncated = true
	tail := c.tailBytes()
	valueAfter(c.head, `"id"`, false, &doc.ID)
	valueAfter(c.head, `"model"`, false, &doc.Model)
	if !valueAfter(tail, `"usage"`, true, &doc.Usage) {
		valueAfter(c.head, `"usage"`, true, &doc.Usage)
	}
	if !valueAfter(tail, `"costDollars"`, true, &doc.CostDollars) {
		valueAfter(c.head, `"costDollars"`, true, &doc.CostDollars)
	}
	valueAfter(c.head, `"error"`, false, &doc.Error)
	apply(&doc, res)
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// maxValueTries bounds the occurrences of a key valueAfter tries: each try
// may decode to the end of buf, so trying every occurrence of a key repeated
// throughout a hostile body ("usage":{"usage":{…) would be quadratic.
const maxValueTries = 16

// valueAfter decodes into dst the JSON value that follows key in buf — the
// first occurrence or the last — trying the next few occurrences when one
// cannot be decoded (cut by the window's edge). It reports whether one could.
func valueAfter(buf []byte, key string, last bool, dst any) bool {
	k := []byte(key)
	for tries := 0; len(buf) > 0 && tries < maxValueTries; tries++ {
		var i int
		if last {
			i = bytes.LastIndex(buf, k)
		} else {
			i = bytes.Index(buf, k)
		}
		if i < 0 {
			return false
		}
		rest := bytes.TrimLeft(buf[i+len(k):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			if err := json.NewDecoder(bytes.NewReader(rest[1:])).Decode(dst); err == nil {
				return true
			}
		}
		if last {
			buf = buf[:i]
		} else {
			buf = buf[i+len(k):]
		}
	}
	return false
}

// readStream reads the events the scanner kept.
func readStream(s *sseScanner, res *result) {
	decode := func(data []byte) (respDoc, bool) {
		var doc respDoc
		if err := json.Unmarshal(data, &doc); err != nil && !isTypeError(err) {
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
		apply(&doc, res)
	}
	for _, ev := range s.finish {
		if doc, ok := decode(ev); ok {
			apply(&doc, res)
		}
	}
	if s.usage != nil {
		if doc, ok := decode(s.usage); ok {
			apply(&doc, res)
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
		}
		if d := firstDetails(u.CompletionTokensDetails, u.OutputTokensDetails); d != nil {
			res.reasoning = max(d.ReasoningTokens, 0)
		}
		if s, ok := decimalText(u.Cost); ok {
			res.cost = s
		}
	}
	if doc.CostDollars != nil {
		if s, ok := decimalText(doc.CostDollars.Total); ok {
			res.exaCost = s
		}
	}
	if doc.Results != nil {
		res.exaResults = int64(len(*doc.Results))
	}
	if s, ok := decimalText(doc.Price); ok {
		res.twilioPrice = s
	}
	if n, ok := countText(doc.NumSegments); ok {
		res.twilioSegments = n
	}
	if doc.To != "" {
		res.twilioTo = doc.To
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
			if err := json.Unmarshal(doc.Error, &e); err == nil || isTypeError(err) {
				code := scalarText(e.Code)
				if code != "" && !isNumber(code) {
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
		return scalarText(doc.Code)
	}
	return ""
}

// scalarText is a JSON string's or number's text, "" for anything else.
func scalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	if isNumber(string(raw)) {
		return string(raw)
	}
	return ""
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// decimalText reads a money amount given as a JSON number or string into
// exact decimal text ("1e-7" becomes "0.0000001"): the cost processor reads
// it as money, never through a float.
func decimalText(raw json.RawMessage) (string, bool) {
	s := scalarText(raw)
	if s == "" {
		return "", false
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "", false
	}
	return d.String(), true
}

// countText reads a count given as a JSON number or a string (Twilio's
// num_segments is "1").
func countText(raw json.RawMessage) (int64, bool) {
	s := scalarText(raw)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// requestModel reads the model a request asked for.
func requestModel(c *capture) string {
	var req struct {
		Model string `json:"model"`
	}
	if c.complete() {
		if err := json.Unmarshal(c.head, &req); err != nil && !isTypeError(err) {
			return ""
		}
		return req.Model
	}
	var m string
	if valueAfter(c.head, `"model"`, false, &m) || valueAfter(c.tailBytes(), `"model"`, true, &m) {
		return m
	}
	return ""
}
