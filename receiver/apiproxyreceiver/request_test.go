package apiproxyreceiver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/pricing"
)

func TestParseRequest(t *testing.T) {
	for _, c := range []struct {
		body string
		want requestDoc
		ok   bool
	}{
		{`{"model":"gpt-4o","service_tier":"flex","max_tokens":10,"n":2,"messages":[{"role":"user","content":"hi"}]}`,
			requestDoc{model: "gpt-4o", tier: "flex", maxTokens: 10, n: 2}, true},
		// Keys match exactly; the last of duplicates wins, as in the
		// providers' parsers.
		{`{"model":"a","Model":"b","MAX_TOKENS":5}`, requestDoc{model: "a"}, true},
		{`{"model":"a","model":"b","max_tokens":1,"max_tokens":9}`, requestDoc{model: "b", maxTokens: 9}, true},
		{`{"mod\u0065l":"escaped key"}`, requestDoc{model: "escaped key"}, true},
		// Values of the wrong type leave what came before; null clears.
		{`{"model":"a","model":5,"max_tokens":7,"max_tokens":"8"}`, requestDoc{model: "a", maxTokens: 7}, true},
		{`{"max_tokens":7,"max_tokens":null,"max_output_tokens":1.5,"n":1e3}`, requestDoc{}, true},
		// Nested fields are not the request's.
		{`{"messages":[{"model":"x","max_tokens":1}],"metadata":{"n":4}}`, requestDoc{}, true},
		// Invalid UTF-8 is replaced, as encoding/json does.
		{"{\"model\":\"bad\xffutf8\"}", requestDoc{model: "bad\uFFFDutf8"}, true},
		{`{"model":"gpt-4o"`, requestDoc{}, false},
		{`[{"model":"gpt-4o"}]`, requestDoc{}, false},
		{`model=gpt-4o&max_tokens=5`, requestDoc{}, false},
		{``, requestDoc{}, false},
	} {
		got, ok := parseRequest([]byte(c.body))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %+v %v, want %+v %v", c.body, got, ok, c.want, c.ok)
		}
	}
}

// A body nested past maxDepth is not read — the defaults hold — and does
// not overflow the stack: before the bound, 8 MiB of "[" ended the process.
func TestParseRequestBoundsDepth(t *testing.T) {
	if _, ok := parseRequest([]byte(`{"model":"gpt-4o","max_tokens":5,"x":` + strings.Repeat("[", 8<<20))); ok {
		t.Fatal("read a body nested 8 million deep")
	}
	nested := func(depth int) []byte { // the object is one level
		return []byte(`{"model":"gpt-4o","x":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`)
	}
	if _, ok := parseRequest(nested(maxDepth + 1)); ok {
		t.Fatal("read a body nested one past the bound")
	}
	if d, ok := parseRequest(nested(maxDepth)); !ok || d.model != "gpt-4o" {
		t.Fatalf("a body nested to the bound: %+v %v", d, ok)
	}
	// Brackets in strings, escaped quotes among them, are text.
	text := `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat(`[{\"`, maxDepth) + `"}]}`
	if d, ok := parseRequest([]byte(text)); !ok || d.model != "gpt-4o" {
		t.Fatalf("brackets in a string: %+v %v", d, ok)
	}
}

// The reservation is priced from the limits the provider will read: a key
// only encoding/json's case folding takes ("Max_Tokens") cannot shrink a
// caller's own reservation.
func TestWorstCaseReadsLimitsAsTheProviderDoes(t *testing.T) {
	cfg := defaultBudgetsConfig()
	e, err := newEnforcer(cfg, nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	price := func(body string, out int64) decimal.Decimal {
		var u pricing.Usage
		u[pricing.InputTokens], u[pricing.OutputTokens] = int64(len(body)), out
		return decimal.New(int64(cat.Price("openai", "gpt-4o-mini", "", "", time.Now(), &u).Cost), -pricing.Scale)
	}
	for _, c := range []struct {
		body string
		out  int64 // output tokens reserved; 0: unpriced
	}{
		{`{"model":"gpt-4o-mini","max_tokens":100000,"Max_Tokens":1}`, 100000},
		{`{"model":"gpt-4o-mini","max_tokens":1,"max_tokens":100000}`, 100000},
		{`{"model":"gpt-4o-mini","max_completion_tokens":50,"max_tokens":9000}`, 50},
		{`{"model":"gpt-4o-mini","max_output_tokens":0,"max_tokens":40}`, 40},
		{`{"model":"gpt-4o-mini","max_tokens":10,"n":3}`, 30},
		{`{"model":"gpt-4o-mini","max_tokens":10,"n":500}`, 10},
		{`{"model":"gpt-4o-mini","max_tok\u0065ns":70}`, 70},
		{`{"model":"gpt-4o-mini","max_tokens":1.5}`, cfg.DefaultMaxOutputTokens},
		{`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi","max_tokens":1}]}`, cfg.DefaultMaxOutputTokens},
		{`{"model":"gpt-4o-mini","max_tokens":5`, 0},
	} {
		req, _ := parseRequest([]byte(c.body))
		got := e.worstCase("openai", &req, []byte(c.body))
		want := e.unpriced
		if c.out > 0 {
			want = price(c.body, c.out)
		}
		if !got.Equal(want) || got.IsZero() {
			t.Errorf("%s: worst case $%s, want $%s", c.body, got, want)
		}
	}
}

// BenchmarkParseRequest reads a chat request's limits, the request-path
// part of a budget check, against encoding/json on the same body.
func BenchmarkParseRequest(b *testing.B) {
	for _, size := range []int{200, 100 << 10} {
		var sb strings.Builder
		sb.WriteString(`{"model":"gpt-4o-mini","messages":[`)
		for i := 0; sb.Len() < size; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(`{"role":"user","content":"Summarise the quarter's numbers, \"quoted\", caf\u00e9."}`)
		}
		sb.WriteString(`],"max_tokens":512}`)
		body := []byte(sb.String())
		b.Run(fmt.Sprintf("%dB", len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if req, ok := parseRequest(body); !ok || req.maxTokens != 512 {
					b.Fatal(req, ok)
				}
			}
		})
		// The same run's baseline: what the proxy did before.
		b.Run(fmt.Sprintf("%dB/encoding-json", len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var req struct {
					Model       string `json:"model"`
					ServiceTier string `json:"service_tier"`
					MaxTokens   *int64 `json:"max_tokens"`
					MaxCT       *int64 `json:"max_completion_tokens"`
					MaxOT       *int64 `json:"max_output_tokens"`
					N           *int64 `json:"n"`
				}
				if err := json.Unmarshal(body, &req); err != nil || *req.MaxTokens != 512 {
					b.Fatal(err)
				}
			}
		})
	}
}
