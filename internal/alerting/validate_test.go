package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/alertingtest"
)

// Rule changes as the API receives them, validated: for any bytes at all,
// no panic, a refusal names a field for each complaint, and what is
// accepted holds the invariants the store and the evaluator rely on. The
// API's own FuzzRuleBody checks its refusals of bodies that do not decode.
// The seeds run with go test; `go test -fuzz FuzzRuleBody` explores
// further.

// decodeAs decodes body as the API does: one JSON value, no unknown
// fields.
func decodeAs(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func checkDetails(t *testing.T, details []FieldError) {
	t.Helper()
	for _, d := range details {
		if d.Field == "" || d.Message == "" {
			t.Fatalf("detail without field or message: %+v", details)
		}
	}
}

func FuzzRuleBody(f *testing.F) {
	for _, s := range alertingtest.RuleBodies() {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	chk := checker{channels: map[string]bool{InAppChannel: true, "hook": true}, render: newRenderer()}
	f.Fuzz(func(t *testing.T, body []byte, full bool) {
		var in RuleInput
		if decodeAs(body, &in) != nil {
			return // the API refuses it before it reaches the engine
		}
		now := time.Unix(1_800_000_000, 0).UTC()
		base := &Rule{ID: "alr_x", CreatedAt: now}
		if !full {
			base = &Rule{ID: "alr_x", Name: "stored", Kind: KindErrorRate, Origin: OriginAPI, Threshold: decimal.RequireFromString("0.1"),
				Window: 5 * time.Minute, Severity: "warning", Enabled: true, MinCalls: 10, CreatedAt: now}
		}
		d := draftFrom(in, base, full)
		began := time.Now()
		details, err := chk.check(context.Background(), d)
		if took := time.Since(began); took > 3*time.Second {
			t.Fatalf("checking took %s: %s", took, body)
		}
		if err != nil {
			t.Fatalf("check without budgets to look up failed: %v", err)
		}
		if details != nil {
			checkDetails(t, details)
			return
		}
		r := d.Rule
		if !slices.Contains(KindNames(), r.Kind) || !slices.Contains(severities, r.Severity) || r.Name == "" ||
			r.For < 0 || r.For > maxRuleFor || r.Window < 0 || r.Window > maxRuleWindow || len(r.Message) > maxRuleMessage {
			t.Fatalf("accepted an invalid rule: %+v from %s", r, body)
		}
		if r.Message != "" {
			if r.tmpl == nil {
				t.Fatalf("accepted message without a template: %q", r.Message)
			}
			// An accepted template runs quickly on any instance.
			data := sampleData()
			data.Labels = map[string]string{"provider": "p", "model": "m", "operation": "o", "service": "s", "environment": "e"}
			out, err := newRenderer().run(context.Background(), r.tmpl, data)
			if errors.Is(err, errRenderTimeout) || len(out) > maxRuleMessage {
				t.Fatalf("accepted template overran (%v, %d bytes): %q", err, len(out), r.Message)
			}
		}
	})
}
