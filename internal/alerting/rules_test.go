package alerting

import (
	"context"
	"errors"
	"testing"
)

// The rules API answers in domain errors: a refused rule names every
// field, a missing rule is ErrNotFound, a config rule is read-only
// (ErrConflict); none of them is a store failure.
func TestRuleDomainErrors(t *testing.T) {
	te := startEngine(t, freshDB("alerting_rule_errors"), func(c *Config) {
		c.Rules = []RuleConfig{{ID: "cfg-down", Name: "down", Kind: KindProviderDown}}
	})
	ctx := context.Background()
	kind, window := "quota", "30m"
	_, err := te.en.CreateRule(ctx, "", RuleInput{Kind: &kind, Window: &window, Mode: &kind, Threshold: []byte("2")})
	var invalid *ValidationError
	if !errors.As(err, &invalid) || invalid.Message != "invalid alert rule" {
		t.Fatalf("invalid rule: %v", err)
	}
	var fields []string
	for _, f := range invalid.Fields {
		fields = append(fields, f.Field)
	}
	// The kind's own options first, then what they decide.
	if got := fields; len(got) != 3 || got[0] != "name" || got[1] != "mode" || got[2] != "threshold" {
		t.Fatalf("fields: %v (%v)", got, err)
	}
	if _, err := te.en.Rule(ctx, "", "alr_missing"); !errors.Is(err, ErrNotFound) || err.Error() != "no alert rule alr_missing" {
		t.Fatalf("missing rule: %v", err)
	}
	if _, err := te.en.DeleteRule(ctx, "", "cfg-down"); !errors.Is(err, ErrConflict) {
		t.Fatalf("deleting a config rule: %v", err)
	}
	if err := te.en.CheckWritable(ctx, "", "cfg-down"); !errors.Is(err, ErrConflict) {
		t.Fatalf("config rule writable: %v", err)
	}
	if _, err := te.en.Acknowledge(ctx, "", "alev_missing", "me"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("acknowledging a missing event: %v", err)
	}
	if _, _, err := te.en.ListEvents(ctx, EventQuery{Kind: "storms", States: []string{"up"}}); !errors.As(err, &invalid) ||
		len(invalid.Fields) != 2 || invalid.Fields[0].Field != "kind" || invalid.Fields[1].Field != "state" {
		t.Fatalf("invalid event query: %v", err)
	}
}
