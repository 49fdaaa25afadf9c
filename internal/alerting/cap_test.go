package alerting

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// The cap admits every tracked instance and breaching new ones in key
// order up to the limit; the rest is one overflow observation that says
// how many, and stops breaching (so resolves) when none are left out.
func TestCapInstances(t *testing.T) {
	r := &Rule{Kind: KindCostOverWindow, Scope: Scope{Provider: "openai"}, GroupBy: []string{"model"}}
	var obs []observation
	for i := 11; i >= 0; i-- { // reverse order: admission must not depend on it
		obs = append(obs, observation{key: fmt.Sprintf("model=m%02d", i), breach: true, value: decimal.NewFromInt(1)})
	}
	obs = append(obs, observation{key: "model=zz", breach: false})
	got := capInstances(r, obs, map[string]*instState{}, 5)
	var keys []string
	var overflow *observation
	for i, o := range got {
		keys = append(keys, o.key)
		if o.key == OverflowInstance {
			overflow = &got[i]
		}
	}
	if want := "model=m00,model=m01,model=m02,model=m03,model=m04,model=zz,overflow"; strings.Join(keys, ",") != want {
		t.Fatalf("admitted %s, want %s", strings.Join(keys, ","), want)
	}
	if overflow == nil || !overflow.breach || overflow.value.String() != "7" || overflow.threshold.String() != "5" ||
		overflow.labels["overflow"] != "true" || overflow.labels["provider"] != "openai" ||
		!strings.Contains(overflow.summary, "7 more instances") {
		t.Fatalf("overflow: %+v", overflow)
	}

	// Tracked instances are always admitted, and a tracked overflow
	// resolves once nothing is left out.
	tracked := map[string]*instState{"model=m09": {}, OverflowInstance: {}}
	got = capInstances(r, []observation{{key: "model=m09", breach: true}, {key: "model=m10", breach: true}}, tracked, 5)
	if len(got) != 3 || got[0].key != "model=m09" || got[1].key != "model=m10" || got[2].key != OverflowInstance ||
		got[2].breach || got[2].summary != "no breaching instance is left out any more" {
		t.Fatalf("with tracked instances: %+v", got)
	}
	if eventValue(r, OverflowInstance, decimal.NewFromInt(7)) != "7" || eventValue(r, "model=m00", decimal.NewFromInt(7)) != "$7.00" {
		t.Fatal("event values")
	}
}
