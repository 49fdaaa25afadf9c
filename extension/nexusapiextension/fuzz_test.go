package nexusapiextension

import (
	"bytes"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/alertingtest"
	"github.com/nexus-otel/nexus/internal/spend"
)

// The request bodies of the write endpoints go through decodeBody and then
// validation. For any bytes at all: no panic, and a refusal is a domain
// error (400 or 413) whose details each name a field; what is accepted
// holds the invariants the store and the evaluator rely on. The seeds run
// with go test; `go test -fuzz FuzzRuleBody` explores further.

// checkRefusal fails unless e is a well-formed refusal.
func checkRefusal(t *testing.T, e *APIError) {
	t.Helper()
	switch e.Status {
	case 413:
		return
	case 400:
		if e.Code != "VALIDATION_ERROR" || len(e.Details) == 0 {
			t.Fatalf("400 without details: %+v", e)
		}
		checkDetails(t, e.Details)
	default:
		t.Fatalf("refusal with status %d: %+v", e.Status, e)
	}
}

func checkDetails(t *testing.T, details []FieldError) {
	t.Helper()
	for _, d := range details {
		if d.Field == "" || d.Message == "" {
			t.Fatalf("detail without field or message: %+v", details)
		}
	}
}

// decodeAs decodes body as a POST would.
func decodeAs(body []byte, v any) *APIError {
	r := httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(body))
	return decodeBody(r, 1<<16, v)
}

func FuzzBudgetBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"OpenAI monthly","scope":{"provider":"openai"},"period":"monthly","amountUsd":"250.50"}`,
		`{"name":"x","period":"weekly","amountUsd":12.5,"thresholds":[50,80,100,80],"timezone":"Europe/Paris"}`,
		`{"name":"x","period":"daily","amountUsd":"1e10000"}`,
		`{"name":"x","period":"daily","amountUsd":"-1e-10000","thresholds":[]}`,
		`{"name":"x","period":"daily","amountUsd":0.0000001}`,
		`{"name":"x","period":"daily","amountUsd":"999999999999.999999"}`,
		`{"name":"x","period":"daily","amountUsd":"1","timezone":"../../etc/passwd"}`,
		`{"name":"x","period":"daily","amountUsd":"1","timezone":"Local"}`,
		`{"name":"\u0000","period":"yearly","amountUsd":true,"thresholds":[0,-1,1001]}`,
		`{"name":"x","scope":{"operation":"chat"}}`,
		`{"amountUsd":{"a":1}}`, `{"thresholds":[1.5]}`, `{"thresholds":[99999999999999999999]}`,
		`{"name":"x"} {"name":"y"}`, `[]`, `null`, `""`, ``, `{`, `{"name":"x","name":"y"}`, `{"":""}`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, full bool) {
		var in spend.BudgetInput
		if e := decodeAs(body, &in); e != nil {
			checkRefusal(t, e)
			return
		}
		var b spend.Budget
		if !full {
			// PATCH applies over a stored budget.
			name, period, tz, th := "stored", "monthly", "UTC", []int{50, 100}
			stored, err := spend.ApplyBudgetInput(spend.Budget{ID: "bud_x"}, spend.BudgetInput{Name: &name, Period: &period,
				Timezone: &tz, AmountUSD: []byte(`"10"`), Thresholds: &th}, true, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			b = stored
		}
		b, err := spend.ApplyBudgetInput(b, in, full, time.UTC)
		if err != nil {
			checkRefusal(t, (&api{}).domainError(nil, "validate budget", err))
			return
		}
		if b.Name == "" || !slices.Contains(spend.BudgetPeriods, b.Period) || b.Amount().Sign() <= 0 ||
			b.Amount().Cmp(spend.MaxAmount) >= 0 || len(b.Thresholds) == 0 || len(b.Thresholds) > spend.MaxThresholds {
			t.Fatalf("accepted an invalid budget: %+v from %s", b, body)
		}
		if _, err := time.LoadLocation(b.Timezone); err != nil {
			t.Fatalf("accepted time zone %q", b.Timezone)
		}
		for i, th := range b.Thresholds {
			if th < 1 || th > 1000 || (i > 0 && th <= b.Thresholds[i-1]) {
				t.Fatalf("accepted thresholds %v", b.Thresholds)
			}
		}
	})
}

func FuzzRuleBody(f *testing.F) {
	for _, s := range alertingtest.RuleBodies() {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	// What is accepted is validated by the alert engine: its own
	// FuzzRuleBody (internal/alerting) checks what it accepts.
	f.Fuzz(func(t *testing.T, body []byte, _ bool) {
		var in alerting.RuleInput
		if e := decodeAs(body, &in); e != nil {
			checkRefusal(t, e)
		}
	})
}

func FuzzKeyBody(f *testing.F) {
	for _, s := range []string{`{"name":"ci","role":"viewer"}`, `{"name":"","role":"root"}`, `{"name":1}`,
		`{"name":"x","role":"admin","extra":1}`, `{}`, `[`, `{"":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createKeyRequest
		if e := decodeAs(body, &req); e != nil {
			checkRefusal(t, e)
			return
		}
		if details := req.validate(); details != nil {
			checkDetails(t, details)
			return
		}
		if req.Name == "" || roleRank[req.Role] == 0 {
			t.Fatalf("accepted %+v", req)
		}
	})
}
