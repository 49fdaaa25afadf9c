package alerting

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// A rule grouped by model splits into one instance per model, and model
// names come from whatever any OTLP sender writes: a rule can breach for
// thousands of instances at once, each an event, each a notification (an
// SMS costs money). Beyond alerting.max_instances_per_rule, the excess is
// one instance, overflowInstance, that says how many were left out: an
// alert rather than silence, announced once rather than per instance.

// OverflowInstance is the instance key of a capped rule's excess. Group
// instance keys are "field=value,…" and an ungrouped rule's is "", so it
// cannot collide with one.
const OverflowInstance = "overflow"

const overflowInstance = OverflowInstance

// capInstances admits the observations rule r may track: every instance
// already tracked (so that each can resolve), then breaching new ones in
// key order up to limit. Breaching instances beyond it are counted into
// one overflow observation, which stops breaching (and so resolves) when
// none are left out.
func capInstances(r *Rule, obs []observation, tracked map[string]*instState, limit int) []observation {
	n := 0
	for key := range tracked {
		if key != overflowInstance {
			n++
		}
	}
	// Key order: the same instances are admitted on every collector and
	// evaluation, not whichever the query happened to return first.
	obs = slices.Clone(obs)
	slices.SortStableFunc(obs, func(a, b observation) int { return strings.Compare(a.key, b.key) })
	out := obs[:0]
	suppressed := 0
	for _, o := range obs {
		_, known := tracked[o.key]
		switch {
		case known || !o.breach:
			out = append(out, o)
		case n < limit:
			n++
			out = append(out, o)
		default:
			suppressed++
		}
	}
	_, overflowing := tracked[overflowInstance]
	if suppressed > 0 || overflowing {
		labels := r.Scope.labels()
		labels["overflow"] = "true"
		o := observation{key: overflowInstance, labels: labels, breach: suppressed > 0,
			value: decimal.NewFromInt(int64(suppressed)), threshold: decimal.NewFromInt(int64(limit)),
			summary: fmt.Sprintf("%d more instances breach this rule and are not alerted on one by one: "+
				"at most %d instances per rule (alerting.max_instances_per_rule); narrow the rule's scope or groupBy",
				suppressed, limit)}
		if suppressed == 0 {
			o.summary = "no breaching instance is left out any more"
		}
		out = append(out, o)
	}
	return out
}

// eventValue is an event's value or threshold as a notification shows it:
// in the kind's unit, or for the overflow instance, a count of instances.
func eventValue(r *Rule, instance string, v decimal.Decimal) string {
	if instance == overflowInstance {
		return v.String()
	}
	return formatValue(r, v)
}
