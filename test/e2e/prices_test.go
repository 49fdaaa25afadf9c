package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// houseSpan is the README's span for a model no catalog knows.
func houseSpan(t *testing.T, spanID string) []byte {
	body := strings.NewReplacer(`"gpt-4o-mini-2024-07-18"`, `"house-model-9"`, `"gpt-4o-mini"`, `"house-model-9"`,
		`"eee19b7ec3c1b174"`, `"`+spanID+`"`).Replace(string(readmeSpan(t)))
	return []byte(body)
}

// TestPricesAtRunTime runs configs/local.yaml: a call to a model without a
// price is stored unpriced; a price added through the API prices the next
// call within seconds, without a restart; re-pricing the first moves the
// cost summary to exactly both calls' cost; OpenRouter's model list (a
// local stand-in) is synced, listed and healthy on /providers.
func TestPricesAtRunTime(t *testing.T) {
	const key = "nxs_e2e_admin_key_prices_0123456789abcdefghij"
	col := newCollector(t, t.TempDir())
	col.env = []string{"NEXUS_ADMIN_KEY=" + key, "NEXUS_PRICES_REFRESH=200ms"}
	col.start()
	from := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)

	type call struct {
		Model      string  `json:"model"`
		CostUSD    *string `json:"costUsd"`
		CostStatus string  `json:"costStatus"`
	}
	costs := func() []call {
		var calls []call
		if code := apiGet(t, col, key, "/api/v1/calls?model=house-model-9", &calls); code != 200 {
			t.Fatalf("/calls: HTTP %d", code)
		}
		return calls
	}
	if code := postJSON(t, col, houseSpan(t, "0000000000000001")); code != http.StatusOK {
		t.Fatalf("span: HTTP %d", code)
	}
	for deadline := time.Now().Add(10 * time.Second); len(costs()) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the first call never landed\n%s", col.out)
		}
	}
	if c := costs()[0]; c.CostStatus != "unpriced" || c.CostUSD != nil {
		t.Fatalf("a call without a price: %+v", c)
	}

	// 176 input × $2/M + 1,024 cached × $1/M + 80 output × $8/M.
	const one = "0.002016"
	price := map[string]any{"provider": "openai", "model": "house-model-9", "effective": "2026-01-01",
		"prices": map[string]string{"input_tokens": "2", "cached_input_tokens": "1", "output_tokens": "8"}}
	if code := apiData(t, col, "POST", key, "/api/v1/prices", price, nil); code != 201 {
		t.Fatalf("add price: HTTP %d", code)
	}
	added := time.Now()
	for i := 2; ; i++ {
		if code := postJSON(t, col, houseSpan(t, fmt.Sprintf("%016x", i))); code != http.StatusOK {
			t.Fatalf("span: HTTP %d", code)
		}
		time.Sleep(300 * time.Millisecond)
		priced := false
		for _, c := range costs() {
			priced = priced || (c.CostUSD != nil && *c.CostUSD == one)
		}
		if priced {
			t.Logf("a call sent %s after the price was added is priced", time.Since(added))
			break
		}
		if time.Since(added) > 10*time.Second {
			t.Fatalf("no call priced 10 s after the price was added: %+v\n%s", costs(), col.out)
		}
	}
	unpricedLeft := 0
	for _, c := range costs() {
		if c.CostUSD == nil {
			unpricedLeft++
		}
	}

	var res struct {
		Repriced int    `json:"repriced"`
		Moved    string `json:"movedUsd"`
	}
	to := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
	if code := apiData(t, col, "POST", key, "/api/v1/prices/reprice", map[string]string{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339),
		"model": "house-model-9"}, &res); code != 200 || res.Repriced != unpricedLeft {
		t.Fatalf("reprice: HTTP %d %+v (%d unpriced)", code, res, unpricedLeft)
	}
	var summary []struct {
		Cost     string `json:"cost"`
		Calls    int    `json:"calls"`
		Unpriced int    `json:"unpriced"`
	}
	if code := apiGet(t, col, key, "/api/v1/costs/summary?model=house-model-9&from="+from.Format(time.RFC3339)+"&to="+to.Format(time.RFC3339), &summary); code != 200 ||
		len(summary) != 1 || summary[0].Unpriced != 0 {
		t.Fatalf("summary after re-pricing: HTTP %d %+v", code, summary)
	}
	want := decimal.RequireFromString(one).Mul(decimal.NewFromInt(int64(summary[0].Calls)))
	if got, err := decimal.NewFromString(summary[0].Cost); err != nil || !got.Equal(want) {
		t.Fatalf("summary %s for %d calls, want %s", summary[0].Cost, summary[0].Calls, want)
	}

	var providers []struct {
		Name      string `json:"name"`
		PriceSync *struct {
			Last struct {
				OK     bool `json:"ok"`
				Models int  `json:"models"`
			} `json:"last"`
		} `json:"priceSync"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		apiGet(t, col, key, "/api/v1/providers", &providers)
		var sync bool
		for _, p := range providers {
			sync = sync || (p.Name == "openrouter" && p.PriceSync != nil && p.PriceSync.Last.OK && p.PriceSync.Last.Models == 2)
		}
		if sync {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OpenRouter's price sync: %+v\n%s", providers, col.out)
		}
	}
	var listed struct {
		Lists []struct {
			Model  string `json:"model"`
			Source string `json:"source"`
		} `json:"lists"`
	}
	if code := apiGet(t, col, key, "/api/v1/prices?provider=openrouter&model=deepseek/deepseek-r1", &listed); code != 200 ||
		len(listed.Lists) != 1 || listed.Lists[0].Source != "openrouter" {
		t.Fatalf("synced list: HTTP %d %+v", code, listed)
	}
}
