package insights

import (
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/pricing"
)

// TestRightSizingPairsResolve: a pair configured under a snapshot's name
// applies to the model, and two names of one model must agree.
func TestRightSizingPairsResolve(t *testing.T) {
	cat, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	pairs := rightSizingPairs(cat, map[string]string{"gpt-4.1-2025-04-14": "gpt-4.1-nano", "openai/gpt-4o-2024-08-06": "openai/gpt-4o-mini", "o3": ""})
	if pairs[providerModel{"openai", "gpt-4.1"}] != "gpt-4.1-nano" || pairs[providerModel{"openrouter", "openai/gpt-4o"}] != "openai/gpt-4o-mini" || len(pairs) != 2 {
		t.Fatalf("pairs %v", pairs)
	}
	// The canonical key wins a clash, whatever the order.
	pairs = rightSizingPairs(cat, map[string]string{"gpt-4o": "gpt-4o-mini", "gpt-4o-2024-08-06": "gpt-4.1-nano"})
	if pairs[providerModel{"openai", "gpt-4o"}] != "gpt-4o-mini" {
		t.Fatalf("clash: %v", pairs)
	}
	c := DefaultConfig()
	c.RightSizing.Models = map[string]string{"gpt-4o": "gpt-4o-mini", "gpt-4o-2024-08-06": "gpt-4.1-nano", "gpt-4.1-2025-04-14": "gpt-4.1", "gpt-4o-2024-11-20": "gpt-4o-mini"}
	err = c.ValidateUnder("insights.")
	for _, want := range []string{
		"insights.right_sizing.models.gpt-4o-2024-08-06: gpt-4o-2024-08-06 is the same model as gpt-4o (gpt-4o), paired with gpt-4o-mini",
		"insights.right_sizing.models.gpt-4.1-2025-04-14: a model cannot replace itself",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "gpt-4o-2024-11-20") {
		t.Errorf("a snapshot key agreeing with its alias is fine: %v", err)
	}
}
