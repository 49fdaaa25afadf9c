package costprocessor

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestSpendByDimensionIsExact seeds calls through the real processor →
// nexus exporter → embedded store, their dimensions set on spans and on
// resources under the default keys, and checks that the stored spend per
// customer, user, team, feature and tag equals, to the last digit, the sum
// computed here from the reported costs; calls without attribution group
// under the empty value.
func TestSpendByDimensionIsExact(t *testing.T) {
	s, host := storetest.Start(t, "attr_spend")
	proc, stop := startPipeline(t, host)
	ctx := context.Background()

	customers := []string{"acme", "globex", "initech", ""}
	users := []string{"u1", "u2", "u3", "u4", "u5", ""}
	teams := []string{"search", "growth", ""}
	features := []string{"chat", "summary", "autocomplete", "", "export"}
	envs := []string{"prod", "staging", ""}

	// want[dimension][value] is the exact spend, in USD.
	want := map[string]map[string]*big.Rat{}
	add := func(dim, value string, usd *big.Rat) {
		if want[dim] == nil {
			want[dim] = map[string]*big.Rat{}
		}
		if want[dim][value] == nil {
			want[dim][value] = new(big.Rat)
		}
		want[dim][value].Add(want[dim][value], usd)
	}
	at := time.Now().UTC().Truncate(24 * time.Hour).Add(-12 * time.Hour)
	const n = 3000
	td := ptrace.NewTraces()
	for i := range n {
		// Every 10th call carries its customer and team on its resource
		// (one resource per such call), the others on the span.
		onResource := i%10 == 0
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "attr")
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID([16]byte{byte(i >> 8), byte(i), 7}))
		sp.SetSpanID(pcommon.SpanID([8]byte{byte(i >> 8), byte(i), 9}))
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(i) * time.Millisecond)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(i)*time.Millisecond + 200*time.Millisecond)))
		a := sp.Attributes()
		a.PutStr("gen_ai.provider.name", "openrouter")
		a.PutStr("gen_ai.request.model", "openai/gpt-4o-mini")
		// A reported cost with 12 decimals: the sum must keep them all.
		cost := fmt.Sprintf("0.%06d%06d", 1+i*7919%999983, i*104729%999983)
		a.PutStr("nexus.reported_cost.usd", cost)
		usd, _ := new(big.Rat).SetString(cost)

		c, u, tm, f, env := customers[i%len(customers)], users[i%len(users)], teams[i%len(teams)], features[i%len(features)], envs[i%len(envs)]
		where := a
		if onResource {
			where = rs.Resource().Attributes()
		}
		if c != "" {
			// The three default customer keys in turn.
			where.PutStr([]string{"nexus.customer", "customer.id", "app.customer.id"}[i%3], c)
		}
		if tm != "" {
			where.PutStr("team", tm)
		}
		if u != "" {
			a.PutStr([]string{"nexus.user", "enduser.id", "user.id"}[i%3], u)
		}
		if f != "" {
			a.PutStr("nexus.feature", f)
		}
		if env != "" {
			a.PutStr("nexus.tag.env", env)
		}
		add("customer", c, usd)
		add("user", u, usd)
		add("team", tm, usd)
		add("feature", f, usd)
		add("tags['env']", env, usd)
		if td.SpanCount() == 500 {
			if err := proc.ConsumeTraces(ctx, td); err != nil {
				t.Fatal(err)
			}
			td = ptrace.NewTraces()
		}
	}
	if err := proc.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	stop()

	for _, dim := range []string{"customer", "user", "team", "feature", "tags['env']"} {
		var lines []string
		for v, usd := range want[dim] {
			lines = append(lines, v+"="+trimZeros(usd.FloatString(12)))
		}
		sort.Strings(lines)
		got := storetest.Scalar(t, s, "SELECT arrayStringConcat(groupArray(concat(v, '=', toString(usd))), ' ') FROM "+
			"(SELECT "+dim+" AS v, sum(cost_usd) AS usd FROM attr_spend.api_calls GROUP BY v ORDER BY v)")
		if w := strings.Join(lines, " "); got != w {
			t.Errorf("spend by %s:\n got  %s\n want %s", dim, got, w)
		}
	}
	if got := storetest.Scalar(t, s, "SELECT toString(count()) FROM attr_spend.api_calls"); got != fmt.Sprint(n) {
		t.Fatalf("%s calls stored, want %d", got, n)
	}
}
