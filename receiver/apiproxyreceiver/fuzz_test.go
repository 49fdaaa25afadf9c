package apiproxyreceiver

import (
	"bytes"
	"compress/gzip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// fuzzMedia, fuzzEncodings and fuzzProviders are what FuzzExtract's kind
// byte picks from: kind%3 the media, kind/3%6 the encoding, kind/18%5 the
// provider whose route the span is built for, kind/90%3 the status.
var (
	fuzzMedia     = []int{mediaJSON, mediaSSE, mediaOther}
	fuzzEncodings = []string{"", "", "gzip", "deflate", "br", "zstd"}
	fuzzProviders = []struct{ name, path string }{
		{providers.OpenAI, "/v1/chat/completions"},
		{providers.OpenRouter, "/api/v1/chat/completions"},
		{providers.Exa, "/search"},
		{providers.Twilio, "/2010-04-01/Accounts/AC123/Messages.json"},
		{providers.Apollo, "/api/v1/people/match"},
	}
	fuzzStatus = []int{200, 200, 429}
)

// fuzzKind is the kind byte for a media, encoding and provider (status 200).
func fuzzKind(media, enc, prov int) uint8 { return uint8(media + 3*enc + 18*prov) }

// FuzzExtract reads usage and reported cost from arbitrary response bodies
// and streams, as the emitter does, and builds the span. The kind byte picks
// the media type (JSON, event stream, other), the content encoding, the
// provider and the status; limit is max_parsed_body_size (small, so that the
// head-and-tail reading of large bodies is exercised); chunk is the size of
// the reads the body arrives in (high bit: the body did not end).
//
// Invariants: no panic; token counts, Exa results and Twilio segments are
// never negative (-1 = unknown for the last two); costs and prices are exact
// decimal text, canonical; the outcome is one of the documented ones; the
// span carries no negative count; and an uncompressed event stream gives
// the same result however it is cut into reads.
func FuzzExtract(f *testing.F) {
	stream := func(events []string) []byte { return []byte(strings.Join(events, "")) }
	req := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`)
	for p := range fuzzProviders {
		f.Add(fuzzKind(0, 0, p), uint16(1<<12), uint8(0x7f), req, []byte(openAIChat))
	}
	f.Add(fuzzKind(0, 0, 1), uint16(300), uint8(7), req, []byte(openRouterChat))
	f.Add(fuzzKind(0, 0, 2), uint16(0), uint8(3), []byte(`{"query":"x"}`), []byte(exaSearch))
	f.Add(fuzzKind(0, 0, 3), uint16(100), uint8(0x7f), []byte(`To=%2B15558675310&Body=hi`), []byte(twilioMessage))
	f.Add(fuzzKind(0, 0, 4), uint16(4096), uint8(0x7f), []byte(`{}`), []byte(apolloMatch))
	f.Add(fuzzKind(1, 0, 0), uint16(1<<12), uint8(5), req, stream(openAIStream("gpt-4o-mini-2024-07-18")))
	f.Add(fuzzKind(1, 0, 1), uint16(200), uint8(1), req, stream(openRouterStream()))
	f.Add(fuzzKind(1, 0, 0), uint16(1<<12), uint8(0x80|9), req, []byte("data: {\"id\":\"a\"}\r\n\r\nevent: error\r\ndata: {\"message\":\"boom\",\"code\":\"server_error\"}\r\n\r\n"))
	f.Add(fuzzKind(1, 0, 0), uint16(64), uint8(2), req,
		[]byte("data: {\"type\":\"response.completed\",\"response\":{\"model\":\"o3\",\"usage\":{\"input_tokens\":5,\"output_tokens\":7,\"output_tokens_details\":{\"reasoning_tokens\":3}}}}\n\n"))
	// Hostile: negative and huge counts, costs as text, numbers and junk,
	// nested responses, truncated documents, keys repeated.
	f.Add(fuzzKind(0, 0, 1), uint16(4096), uint8(0x7f), req,
		[]byte(`{"usage":{"prompt_tokens":-5,"completion_tokens":-1,"cost":"-1e-9999","prompt_tokens_details":{"cached_tokens":-3,"cache_write_tokens":-9},"completion_tokens_details":{"reasoning_tokens":-2}}}`))
	f.Add(fuzzKind(0, 0, 0), uint16(4096), uint8(0x7f), req,
		[]byte(`{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":1e3,"cost":1e9999},"response":{"response":{"usage":{"input_tokens":1}}}}`))
	f.Add(fuzzKind(0, 0, 2), uint16(4096), uint8(0x7f), req, []byte(`{"costDollars":{"total":"0.0050000"},"results":[{},{},{}]}`))
	f.Add(fuzzKind(0, 0, 3), uint16(4096), uint8(0x7f), req, []byte(`{"price":"-0.00790","num_segments":"-2","to":"+4477009\xff00123"}`))
	f.Add(fuzzKind(0, 0, 3), uint16(4096), uint8(0x7f), req, []byte(`{"price":-7.9e-3,"num_segments":99999999999999999999}`))
	f.Add(fuzzKind(0, 0, 0), uint16(64), uint8(0x7f), req, []byte(`{"id":"x","model":"m",`+strings.Repeat(`"usage":{"usage":{`, 40)))
	f.Add(fuzzKind(0, 0, 0), uint16(0), uint8(0x7f), []byte(`{"model":`+strings.Repeat(`"model":[`, 30)), []byte(`{"error":{"code":429,"type":"rate_limit"}}`))
	f.Add(fuzzKind(0, 0, 0)+90*2, uint16(4096), uint8(0x7f), req, []byte(`{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}`))
	f.Add(fuzzKind(1, 0, 0), uint16(16), uint8(0), req, []byte("data: "+strings.Repeat("x", 200)+"\ndata: {\"usage\":{\"prompt_tokens\":1}}\n\n"))
	f.Add(fuzzKind(1, 0, 0), uint16(4096), uint8(0x7f), req, []byte("data: [DONE]\n\ndata: {\"error\":null,\"usage\":null}\n\n: comment\nevent: x\ndata: {\"choices\":[{\"finish_reason\":\"error\"}]}"))
	// Compressed bodies, whole and cut.
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	_, _ = gw.Write([]byte(openAIChat))
	_ = gw.Close()
	f.Add(fuzzKind(0, 2, 0), uint16(4096), uint8(0x7f), req, gz.Bytes())
	f.Add(fuzzKind(0, 2, 0), uint16(4096), uint8(0x7f), req, gz.Bytes()[:gz.Len()/2])
	var br bytes.Buffer
	bw := brotli.NewWriter(&br)
	_, _ = bw.Write(stream(openRouterStream()))
	_ = bw.Close()
	f.Add(fuzzKind(1, 4, 1), uint16(4096), uint8(0x7f), req, br.Bytes())
	enc, _ := zstd.NewWriter(nil)
	f.Add(fuzzKind(0, 5, 2), uint16(4096), uint8(0x7f), req, enc.EncodeAll([]byte(exaSearch), nil))
	f.Add(fuzzKind(0, 3, 0), uint16(4096), uint8(0x7f), req, []byte("x\x9c\x03\x00\x00\x00\x00\x01"))

	f.Fuzz(func(t *testing.T, kind uint8, limit uint16, chunk uint8, reqBody, body []byte) {
		maxParsed := 64 + int(limit)%8192
		size, ended := int(chunk&0x7f)+1, chunk&0x80 == 0
		c := fuzzCall(kind, maxParsed, reqBody)
		feed(c, body, size, ended)
		res := extract(c, maxParsed)
		checkResult(t, &res)

		if c.media == mediaSSE && c.encoding == "" {
			whole := fuzzCall(kind, maxParsed, reqBody)
			feed(whole, body, max(len(body), 1), ended)
			if want := extract(whole, maxParsed); !reflect.DeepEqual(res, want) {
				t.Fatalf("reads of %d bytes give\n%+v\nthe whole stream at once\n%+v", size, res, want)
			}
		}

		span := ptrace.NewSpan()
		buildSpan(span, c, &res)
		attrs := span.Attributes()
		for _, k := range []string{semconv.AttrInputTokens, semconv.AttrOutputTokens, semconv.AttrCacheReadToken, semconv.AttrCacheWriteTok,
			semconv.AttrReasoningTok, semconv.AttrExaResults, semconv.AttrExaPages, semconv.AttrTwilioSegments} {
			if v, ok := attrs.Get(k); ok && (v.Type() != pcommon.ValueTypeInt || v.Int() < 0) {
				t.Errorf("span attribute %s = %v", k, v.AsRaw())
			}
		}
		for _, k := range []string{semconv.AttrReportedCost, semconv.AttrExaCost, semconv.AttrTwilioPrice} {
			if v, ok := attrs.Get(k); ok {
				if _, err := decimal.NewFromString(v.Str()); err != nil {
					t.Errorf("span attribute %s = %q is no decimal", k, v.Str())
				}
			}
		}
		// The providers' own costs and prices are canonical decimal text.
		for _, k := range []string{semconv.AttrExaCost, semconv.AttrTwilioPrice} {
			if v, ok := attrs.Get(k); ok {
				if d, err := decimal.NewFromString(v.Str()); err != nil || d.String() != v.Str() {
					t.Errorf("span attribute %s = %q is not canonical decimal text", k, v.Str())
				}
			}
		}
	})
}

func fuzzCall(kind uint8, maxParsed int, request []byte) *call {
	p := fuzzProviders[int(kind)/18%len(fuzzProviders)]
	c := &call{
		rt:    fuzzRoute(p.name),
		start: time.Unix(1764000000, 0), end: time.Unix(1764000001, 0),
		method: "POST", scheme: "https", host: "api.example", path: p.path,
		status:   fuzzStatus[int(kind)/90%len(fuzzStatus)],
		media:    fuzzMedia[int(kind)%3],
		encoding: fuzzEncodings[int(kind)/3%len(fuzzEncodings)],
		req:      &reqBody{capture: capture{max: maxParsed}},
	}
	c.streamed = c.media == mediaSSE
	c.req.capture.write(request)
	c.resp.max = maxParsed
	c.resp.headOnly = c.encoding != ""
	c.sse.maxEvent = min(maxParsed, 256<<10)
	return c
}

// feed hands body to c as the proxy's response tap does, in reads of size
// bytes.
func feed(c *call, body []byte, size int, ended bool) {
	for len(body) > 0 {
		n := min(size, len(body))
		switch {
		case c.media == mediaOther:
		case c.encoding != "" || c.media == mediaJSON:
			c.resp.write(body[:n])
		default:
			c.sse.write(body[:n])
		}
		body = body[n:]
	}
	c.eof = ended
	if c.media == mediaSSE && c.encoding == "" {
		c.sse.flush()
	}
}

// fuzzRoute is a route of provider name as newRoute builds it.
func fuzzRoute(name string) *route {
	p, _ := providers.Lookup(name)
	return &route{name: name, genAI: p.GenAI, newResponse: p.NewResponse, serverAddr: "api.example", serverPort: 443}
}

func checkResult(t *testing.T, res *result) {
	t.Helper()
	for name, n := range map[string]int64{"input": res.input, "output": res.output, "cache read": res.cacheRead,
		"cache write": res.cacheWrite, "reasoning": res.reasoning} {
		if n < 0 {
			t.Errorf("%s tokens %d", name, n)
		}
	}
	// Exa's and Twilio's counts, costs and prices are checked on the span:
	// they are read by the provider's own reader.
	for name, s := range map[string]string{"cost": res.cost} {
		if s == "" {
			continue
		}
		d, err := decimal.NewFromString(s)
		if err != nil || d.String() != s {
			t.Errorf("%s %q is not canonical decimal text", name, s)
		}
	}
	switch res.usage {
	case usageParsed, usageNone, usageMalformed, usageTruncated, usageIncomplete, usageSkipped:
	default:
		t.Errorf("usage outcome %q", res.usage)
	}
}

// TestValueAfterBounded: a large body's head full of a key that opens values
// cut by the window's edge ("usage":{"usage":{…) is tried a bounded number
// of times, not once per occurrence with each decode running to the end
// (quadratic: minutes of emitter CPU for one 1 MiB body).
func TestValueAfterBounded(t *testing.T) {
	head := []byte(strings.Repeat(`"usage":{`, (1<<20)/9))
	var doc respDoc
	began := time.Now()
	if provider.ValueAfter(head, `"usage"`, false, &doc.Usage) {
		t.Fatal("decoded a value from an unterminated document")
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("valueAfter took %s on a 1 MiB head", d)
	}
}
