package openrouter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/provider/clienttest"
)

// modelsTestEffective is the date the tests give the entries, which the
// caller of FetchModelPrices does.
const modelsTestEffective = "2026-11-01"

func modelsTestSample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/models.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// modelsTestLines renders entries one a line, units in catalog order, with
// the prices' exact text.
func modelsTestLines(t *testing.T, entries []pricing.Entry) []string {
	t.Helper()
	var out []string
	for _, e := range entries {
		if e.Provider != Name || e.Effective != "" || e.Operation != "" || e.Country != "" || e.Credits != "" {
			t.Errorf("entry %+v: want provider %s and only model and prices", e, Name)
		}
		line := e.Model
		for u := pricing.Unit(0); u < pricing.NumUnits; u++ {
			if p, ok := e.Prices[u.String()]; ok {
				line += " " + u.String() + "=" + p
			}
		}
		if len(e.Prices) != strings.Count(line, "=") {
			t.Errorf("entry %s: unknown units in %v", e.Model, e.Prices)
		}
		out = append(out, line)
	}
	return out
}

func modelsTestSkipped(s []SkippedModel) []string {
	var out []string
	for _, m := range s {
		out = append(out, m.Model+" | "+m.Reason)
	}
	return out
}

// modelsTestCatalog adds the entries to the built-in catalog, as the caller
// does, and fails unless the catalog's own validation takes them all.
func modelsTestCatalog(t *testing.T, entries []pricing.Entry) *pricing.Catalog {
	t.Helper()
	base, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	dated := slices.Clone(entries)
	for i := range dated {
		dated[i].Effective = modelsTestEffective
	}
	c, err := base.With(pricing.Overrides{Models: dated})
	if err != nil {
		t.Fatalf("catalog refuses the entries: %v", err)
	}
	return c
}

// modelsTestSampleLines are the documented sample's prices per 1,000,000
// tokens (per request for request), to the last digit.
var modelsTestSampleLines = []string{
	"openai/gpt-4o input_tokens=2.5 cached_input_tokens=1.25 cache_write_tokens=0 output_tokens=10",
	"openai/gpt-4o-mini input_tokens=0.15 cached_input_tokens=0.075 output_tokens=0.6",
	"anthropic/claude-sonnet-4 input_tokens=3 cached_input_tokens=0.3 cache_write_tokens=3.75 output_tokens=15",
	"meta-llama/llama-3.3-70b-instruct:free input_tokens=0 output_tokens=0",
	"deepseek/deepseek-r1 input_tokens=0.4 output_tokens=2",
	"google/gemini-2.5-pro input_tokens=1.25 cached_input_tokens=0.31 cache_write_tokens=1.625 output_tokens=10",
	"google/gemini-2.5-flash-preview-05-20:thinking input_tokens=0.15 cached_input_tokens=0.0375 cache_write_tokens=0.2333 output_tokens=3.5 reasoning_tokens=3.5",
	"perplexity/sonar input_tokens=1 output_tokens=1 request=0.005",
	"x-ai/grok-3-mini input_tokens=0.3 cached_input_tokens=0.075 output_tokens=0.5",
}

func TestParseModelPricesSample(t *testing.T) {
	got, err := ParseModelPrices(strings.NewReader(string(modelsTestSample(t))))
	if err != nil {
		t.Fatal(err)
	}
	// internal_reasoning and request "0" are left out (reasoning is then
	// priced as output); image and web_search have no unit.
	clienttest.SameLines(t, "entries", modelsTestLines(t, got.Entries), modelsTestSampleLines)
	clienttest.SameLines(t, "skipped", modelsTestSkipped(got.Skipped), []string{
		"openrouter/auto | variable price (prompt is -1)",
	})
	modelsTestCatalog(t, got.Entries)
}

// TestModelPricesPriceCalls prices calls with the entries: what the
// catalog computes is what OpenRouter's list says.
func TestModelPricesPriceCalls(t *testing.T) {
	got, err := ParseModelPrices(strings.NewReader(string(modelsTestSample(t))))
	if err != nil {
		t.Fatal(err)
	}
	c := modelsTestCatalog(t, got.Entries)
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		model string
		usage pricing.Usage
		want  string // USD
	}{
		// 800k uncached × 2.5 + 200k cached × 1.25 + 1000 × 10, per million
		{"openai/gpt-4o", pricing.Usage{pricing.InputTokens: 1_000_000, pricing.CachedInputTokens: 200_000, pricing.OutputTokens: 1000}, "2.26"},
		// 1000 × 1 + 500 × 1 per million, plus the request fee
		{"perplexity/sonar", pricing.Usage{pricing.InputTokens: 1000, pricing.OutputTokens: 500, pricing.Requests: 1}, "0.0065"},
		{"meta-llama/llama-3.3-70b-instruct:free", pricing.Usage{pricing.InputTokens: 5000, pricing.OutputTokens: 5000}, "0.00"},
		// 100 plain output × 3.5 + 300 reasoning × 3.5 + 1000 input × 0.15
		{"google/gemini-2.5-flash-preview-05-20:thinking", pricing.Usage{pricing.InputTokens: 1000, pricing.OutputTokens: 400, pricing.ReasoningTokens: 300}, "0.00155"},
	} {
		r := c.Price(Name, tc.model, "", "", at, &tc.usage)
		if r.Status != pricing.Computed || r.Cost.String() != tc.want || r.Provider != Name || r.Effective != modelsTestEffective {
			t.Errorf("%s: %s %s (%s %s %s), want computed %s from openrouter's list", tc.model, r.Status, r.Cost, r.Provider, r.Effective, r.Detail(), tc.want)
		}
	}
}

func TestFetchModelPrices(t *testing.T) {
	sample := modelsTestSample(t)
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, _ *http.Request) {
		clienttest.JSON(w, 200, string(sample))
	})
	// a trailing slash on the base URL is tolerated
	got, err := FetchModelPrices(context.Background(), srv.Client(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	clienttest.SameLines(t, "entries", modelsTestLines(t, got.Entries), modelsTestSampleLines)
	if len(got.Skipped) != 1 || got.Skipped[0].Model != "openrouter/auto" {
		t.Errorf("skipped %+v", got.Skipped)
	}
	// the public list needs no key: none is sent
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].URI != "/models" || reqs[0].Auth != "" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestFetchModelPricesFaults(t *testing.T) {
	big := strings.Repeat("x", maxModelsBody)
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		header  string // Retry-After
		class   string
		message string // in the error
	}{
		{"server error", 500, `{"error":{"code":500,"message":"Internal Server Error"}}`, "", provider.ClassServerError, "(HTTP 500): Internal Server Error"},
		{"rate limited", 429, `{"error":{"code":429,"message":"Rate limit exceeded"}}`, "7", provider.ClassRateLimited, "(HTTP 429)"},
		{"not found", 404, `<html>Not Found</html>`, "", provider.ClassClientError, "(HTTP 404)"},
		{"other 2xx", 203, `{"data":[]}`, "", provider.ClassBadResponse, "unexpected status 203"},
		{"truncated", 200, `{"data":[{"id":"openai/gpt-4o","pricing":{"prompt":"0.0000025","comp`, "", provider.ClassBadResponse, "unexpected EOF"},
		{"html", 200, `<!DOCTYPE html><html><body>Cloudflare: checking your browser</body></html>`, "", provider.ClassBadResponse, "invalid character"},
		{"empty", 200, ``, "", provider.ClassBadResponse, "EOF"},
		{"null", 200, `null`, "", provider.ClassBadResponse, "answer is null, not a JSON object"},
		{"oversize", 200, `{"data":[],"pad":"` + big + `"}`, "", provider.ClassBadResponse, "larger than"},
		{"no data", 200, `{"models":[]}`, "", provider.ClassBadResponse, "no data array"},
		{"data null", 200, `{"data":null}`, "", provider.ClassBadResponse, "data is null, not an array"},
		{"data object", 200, `{"data":{"openai/gpt-4o":{"prompt":"0.0000025"}}}`, "", provider.ClassBadResponse, "data is an object, not an array"},
		{"data number", 200, `{"data":3}`, "", provider.ClassBadResponse, "data is a number, not an array"},
		{"array answer", 200, `[{"id":"openai/gpt-4o"}]`, "", provider.ClassBadResponse, "answer is an array, not a JSON object"},
		{"error in 200", 200, `{"error":{"code":503,"message":"busy"}}`, "", provider.ClassBadResponse, "no data array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := clienttest.NewServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				clienttest.JSON(w, tc.status, tc.body)
			})
			got, err := FetchModelPrices(context.Background(), srv.Client(), srv.URL)
			clienttest.AssertClass(t, err, tc.class)
			if !strings.Contains(err.Error(), tc.message) || !strings.Contains(err.Error(), "GET /models") {
				t.Errorf("error %q, want it to name GET /models and %q", err, tc.message)
			}
			if len(got.Entries) != 0 || len(got.Skipped) != 0 {
				t.Errorf("a failed fetch returned prices: %+v", got)
			}
			var pe *provider.Error
			if errors.As(err, &pe) && tc.header != "" && pe.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter %v, want 7s", pe.RetryAfter)
			}
		})
	}
}

func TestFetchModelPricesDeadline(t *testing.T) {
	srv := clienttest.NewServer(t, clienttest.Slow)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := FetchModelPrices(ctx, srv.Client(), srv.URL)
	clienttest.AssertClass(t, err, provider.ClassTimeout)
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("gave up after %v, want at the deadline", d)
	}
}

// TestFetchModelPricesSlowBody: a server that sends headers and then
// trickles the body is cut at the deadline too.
func TestFetchModelPricesSlowBody(t *testing.T) {
	srv := clienttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"data":[`)
		w.(http.Flusher).Flush()
		clienttest.Slow(w, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := FetchModelPrices(ctx, srv.Client(), srv.URL)
	clienttest.AssertClass(t, err, provider.ClassTimeout)
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("gave up after %v, want at the deadline", d)
	}
}

// endlessReader is an answer that never ends: head, then fill forever.
type endlessReader struct {
	head string
	fill byte
}

func (e *endlessReader) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	for i := n; i < len(p); i++ {
		p[i] = e.fill
	}
	return len(p), nil
}

func TestParseModelPricesRefusesList(t *testing.T) {
	model := func(i int) string {
		return fmt.Sprintf(`{"id":"vendor/m%d","pricing":{"prompt":"0.000001","completion":"0.000002"}},`, i)
	}
	var full strings.Builder
	full.WriteString(`{"data":[`)
	for i := range maxModels {
		full.WriteString(model(i))
	}
	atBound := strings.TrimSuffix(full.String(), ",") + "]}"
	got, err := ParseModelPrices(strings.NewReader(atBound))
	if err != nil || len(got.Entries) != maxModels || len(got.Skipped) != 0 {
		t.Fatalf("%d models: %d entries, %d skipped, %v", maxModels, len(got.Entries), len(got.Skipped), err)
	}

	for _, tc := range []struct {
		name string
		r    io.Reader
		want string
	}{
		{"too many models", strings.NewReader(full.String() + model(maxModels) + `{}]}`), "more than 20000 models"},
		{"too many tiny models", strings.NewReader(`{"data":[` + strings.Repeat(`{},`, maxModels) + `{}]}`), "more than 20000 models"},
		{"endless string", &endlessReader{head: `{"data":[],"pad":"`, fill: 'a'}, "larger than 33554432 bytes"},
		{"endless space", &endlessReader{head: `{"data":[`, fill: ' '}, "larger than 33554432 bytes"},
		{"trailing data", strings.NewReader(`{"data":[]} {"data":[]}`), "data after the answer"},
		{"trailing garbage", strings.NewReader(`{"data":[]}]`), "invalid character"},
		{"two data members", strings.NewReader(`{"data":[],"data":[]}`), "two data members"},
		{"bad member", strings.NewReader(`{"data":[],"x":tru}`), "invalid character"},
		{"string answer", strings.NewReader(`"data"`), "answer is a string, not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseModelPrices(tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "models list: ") {
				t.Fatalf("error %v, want models list: …%s", err, tc.want)
			}
			if len(got.Entries) != 0 || len(got.Skipped) != 0 {
				t.Errorf("a refused list returned prices: %d entries", len(got.Entries))
			}
		})
	}
	if _, err := ParseModelPrices(&endlessReader{head: `{"data":[],"pad":"`, fill: 'a'}); !errors.Is(err, errModelsTooLarge) {
		t.Errorf("error %v, want errModelsTooLarge", err)
	}
}

// TestParseModelPricesModels: each model that cannot be priced is skipped
// with why, and the others of the list are still priced.
func TestParseModelPricesModels(t *testing.T) {
	long := "vendor/" + strings.Repeat("m", maxModelIDLen-len("vendor/"))
	models := []string{
		`{"id":"a/variable-completion","pricing":{"prompt":"0.000001","completion":"-1"}}`,
		`{"id":"a/variable-reasoning","pricing":{"prompt":"0.000001","completion":"0.000001","internal_reasoning":"-1.0"}}`,
		`{"id":"a/negative","pricing":{"prompt":"-0.000001","completion":"0"}}`,
		`{"id":"a/cache-negative","pricing":{"prompt":"0.000001","completion":"0.000001","input_cache_read":"-0.5"}}`,
		`{"id":"a/not-decimal","pricing":{"prompt":"abc","completion":"0"}}`,
		`{"id":"a/nan","pricing":{"prompt":"0","completion":"NaN"}}`,
		`{"id":"a/hex","pricing":{"prompt":"0x10","completion":"0"}}`,
		`{"id":"a/over-max","pricing":{"prompt":"1","completion":"0"}}`,
		`{"id":"a/huge","pricing":{"prompt":"1e30","completion":"0"}}`,
		`{"id":"a/huge-exponent","pricing":{"prompt":"1e99999999","completion":"0"}}`,
		`{"id":"a/too-fine","pricing":{"prompt":"0.0000000000000000001","completion":"0"}}`,
		`{"id":"a/request-too-fine","pricing":{"prompt":"0","completion":"0","request":"0.0000000000001"}}`,
		`{"id":"a/no-prompt","pricing":{"completion":"0.000001"}}`,
		`{"id":"a/null-completion","pricing":{"prompt":"0.000001","completion":null}}`,
		`{"id":"a/no-pricing","name":"A"}`,
		`{"id":"a/pricing-string","pricing":"free"}`,
		`{"id":"a/pricing-array","pricing":[]}`,
		`{"id":"a/bool-price","pricing":{"prompt":true,"completion":"0"}}`,
		`{"id":"a/object-price","pricing":{"prompt":"0","completion":{"usd":"0.00001"}}}`,
		`{"id":"a/image-only","pricing":{"prompt":"0","completion":"0","image":"0.04"}}`,
		`{"id":"a/search-only","pricing":{"prompt":"0","completion":"0","request":"0","web_search":"0.004","image":"-1"}}`,
		`{"id":"a/audio-only","pricing":{"prompt":"0","completion":"0","audio":"0.00004","discount":0.2}}`,
		`"openai/gpt-4o"`,
		`null`,
		`{"pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"","pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":null,"pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":42,"pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"openai/gpt 4o","pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"a/tab\tx","pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"a/bell\u0007","pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"a/nbsp\u00a0x","pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"a/bidi\u202egpt","pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"a/bad-utf8` + "\xff" + `","pricing":{"prompt":"0","completion":"0"}}`,
		`{"id":"` + long + `x","pricing":{"prompt":"0","completion":"0"}}`,
		// priced
		`{"id":"a/dup","pricing":{"prompt":"0.000001","completion":"0.000002"}}`,
		`{"id":"A/DUP","pricing":{"prompt":"0.000009","completion":"0.000009"}}`,
		`{"id":"a/dup","pricing":{"prompt":"-1","completion":"-1"}}`,
		`{"id":"a/number-prices","pricing":{"prompt":0.0000025,"completion":1e-5,"request":0.02}}`,
		`{"id":"a/exponent","pricing":{"prompt":"2.5e-6","completion":"1E-5","input_cache_read":" 1.25E-06 "}}`,
		`{"id":"a/extremes","pricing":{"prompt":"0.999999999999999999","completion":"0.0000000000000000010","internal_reasoning":"+.000001"}}`,
		`{"id":"a/image-and-tokens","pricing":{"prompt":"0.000001","completion":"0","image":"0.04","web_search":"garbage"}}`,
		`{"id":"Mistral/Ünïcode-Model","pricing":{"prompt":"0.0000001","completion":"0.0000003","input_cache_write":"0"}}`,
		`{"id":"` + long + `","pricing":{"prompt":"0","completion":"0"}}`,
	}
	got, err := ParseModelPrices(strings.NewReader(`{"object":"list","data":[` + strings.Join(models, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	clienttest.SameLines(t, "skipped", modelsTestSkipped(got.Skipped), []string{
		"a/variable-completion | variable price (completion is -1)",
		"a/variable-reasoning | variable price (internal_reasoning is -1)",
		`a/negative | prompt price "-0.000001" is negative`,
		`a/cache-negative | input_cache_read price "-0.5" is negative`,
		`a/not-decimal | prompt price "abc" is not a decimal amount`,
		`a/nan | completion price "NaN" is not a decimal amount`,
		`a/hex | prompt price "0x10" is not a decimal amount`,
		`a/over-max | prompt price "1" is over the catalog's maximum of 999999.999999999999 USD`,
		`a/huge | prompt price "1e30" is out of range`,
		`a/huge-exponent | prompt price "1e99999999" is not a decimal amount`,
		`a/too-fine | prompt price "0.0000000000000000001" is finer than the catalog's pico-USD per 1,000,000 tokens`,
		`a/request-too-fine | request price "0.0000000000001" is finer than the catalog's pico-USD`,
		"a/no-prompt | no prompt price",
		"a/null-completion | no completion price",
		"a/no-pricing | no pricing",
		"a/pricing-string | pricing is not an object",
		"a/pricing-array | pricing is not an object",
		"a/bool-price | prompt price is not a string",
		"a/object-price | completion price is not a string",
		"a/image-only | only image priced, which the catalog has no unit for",
		"a/search-only | only image, web_search priced, which the catalog has no unit for",
		"a/audio-only | only audio priced, which the catalog has no unit for",
		" | data[22] is not an object",
		" | data[23] is not an object",
		" | data[24] has no id",
		" | data[25] has no id",
		" | data[26] has no id",
		" | data[27]: id is not a string",
		` | data[28]: id "openai/gpt 4o" holds a space, control or invalid character`,
		` | data[29]: id "a/tab\tx" holds a space, control or invalid character`,
		` | data[30]: id "a/bell\a" holds a space, control or invalid character`,
		` | data[31]: id "a/nbsp\u00a0x" holds a space, control or invalid character`,
		` | data[32]: id "a/bidi\u202egpt" holds a space, control or invalid character`,
		` | data[33]: id "a/bad-utf8\ufffd" holds a space, control or invalid character`,
		` | data[34]: id "vendor/mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"… is 257 bytes long, over 256`,
		"a/dup | duplicate id: data[35], the first with it, is the one used",
		"a/dup | duplicate id: data[35], the first with it, is the one used",
	})
	clienttest.SameLines(t, "entries", modelsTestLines(t, got.Entries), []string{
		"a/dup input_tokens=1 output_tokens=2",
		"a/number-prices input_tokens=2.5 output_tokens=10 request=0.02",
		"a/exponent input_tokens=2.5 cached_input_tokens=1.25 output_tokens=10",
		"a/extremes input_tokens=999999.999999999999 output_tokens=0.000000000001 reasoning_tokens=1",
		"a/image-and-tokens input_tokens=1 output_tokens=0",
		"mistral/Ünïcode-model input_tokens=0.1 cache_write_tokens=0 output_tokens=0.3",
		long + " input_tokens=0 output_tokens=0",
	})
	modelsTestCatalog(t, got.Entries)
}

// TestReadPriceExact: the shift to per 1,000,000 tokens is exact to the
// last of the catalog's 12 fractional digits.
func TestReadPriceExact(t *testing.T) {
	for _, tc := range []struct {
		in       string
		perToken bool
		want     string
	}{
		{"0.0000025", true, "2.5"},
		{"0.00000125", true, "1.25"},
		{"0.000000075", true, "0.075"},
		{"0.0000002333", true, "0.2333"},
		{"0.000000000000000001", true, "0.000000000001"},
		{"0.123456789012345678", true, "123456.789012345678"},
		{"1e-6", true, "1"},
		{"12.5E-9", true, "0.0125"},
		{"0", true, "0"},
		{"-0", true, "0"},
		{"0.005", false, "0.005"},
		{"0.000000000001", false, "0.000000000001"},
	} {
		m, err := readPrice(tc.in, tc.perToken)
		if err != nil || m.Decimal().String() != tc.want {
			t.Errorf("readPrice(%q, %v) = %s, %v; want %s", tc.in, tc.perToken, m.Decimal(), err, tc.want)
		}
	}
	for _, in := range []string{"-1", "-1.00", "-1e0"} {
		if _, err := readPrice(in, true); !errors.Is(err, errVariablePrice) {
			t.Errorf("readPrice(%q) = %v, want a variable price", in, err)
		}
	}
}
