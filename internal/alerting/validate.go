package alerting

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/notify"
)

// checker validates drafts against the configured channels and, in the
// API, the live budgets.
type checker struct {
	channels map[string]bool
	// spend is nil where budgets cannot be looked up (the collector
	// config is validated before the store is reachable).
	spend SpendReader
	// render runs the message template's trial.
	render *renderer
}

// check validates d and fills its defaults. Field names are the API's;
// configField translates them for the collector config. The error is a
// failed budget lookup, not a refusal.
func (c checker) check(ctx context.Context, d *draft) ([]FieldError, error) {
	var details []FieldError
	bad := func(field, msg string) { details = append(details, FieldError{Field: field, Message: msg}) }
	r := &d.Rule

	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || !validText(r.Name, maxRuleName) {
		bad("name", "required, 1 to 100 printable characters")
	}
	k := kindOf(r.Kind)
	if k == nil {
		if r.Kind == "" {
			bad("kind", "required: one of "+strings.Join(KindNames(), ", "))
		} else {
			bad("kind", "must be one of "+strings.Join(KindNames(), ", "))
		}
	}

	for _, name := range scopeFields {
		if !validText(*r.Scope.field(name), maxScopeValue) {
			bad("scope."+name, "at most 200 printable characters")
		}
	}
	if d.badTag != "" {
		bad("scope.tag", d.badTag)
	}

	switch r.Severity {
	case "":
		r.Severity = notify.SeverityWarning
	case notify.SeverityInfo, notify.SeverityWarning, notify.SeverityCritical:
	default:
		bad("severity", "must be one of "+strings.Join(severities, ", "))
	}

	if len(r.Channels) > maxRuleChannels {
		bad("channels", "at most 20 channels")
	}
	var chans []string
	for i, ch := range r.Channels {
		if !c.channels[ch] {
			bad("channels["+strconv.Itoa(i)+"]", fmt.Sprintf("unknown channel %q; configured: %s", ch, strings.Join(sortedKeys(c.channels), ", ")))
			continue
		}
		if !slices.Contains(chans, ch) {
			chans = append(chans, ch)
		}
	}
	r.Channels = chans

	if d.badFor != "" {
		bad("for", d.badFor)
	} else if r.For < 0 || r.For > maxRuleFor {
		bad("for", "must be a duration from 0s to 168h, e.g. \"5m\"")
	}

	if len(r.Message) > maxRuleMessage {
		bad("message", "at most 4000 characters")
	} else if r.Message != "" {
		tmpl, err := c.render.compile(r.Message)
		if err != nil {
			bad("message", err.Error())
		}
		r.tmpl = tmpl
	}

	if k == nil {
		return details, nil
	}
	s := checkKind(k, d, bad)
	if s.budget && r.BudgetID != "" && c.spend != nil && validText(r.BudgetID, 64) {
		ok, err := c.spend.BudgetExists(ctx, r.tenant(), r.BudgetID)
		if err != nil {
			return nil, fmt.Errorf("look up budget %s: %w", r.BudgetID, err)
		}
		if !ok {
			bad("budgetId", "no budget "+strconv.Quote(r.BudgetID))
		}
	}
	return details, nil
}

// checkKind checks what depends on the kind: the kind's own options
// first (what else is valid depends on them), then which scope, group,
// window and threshold the kind says it takes, and in what range.
func checkKind(k kind, d *draft, bad func(field, msg string)) spec {
	r := &d.Rule
	notUsed := func(field string) { bad(field, "not used by "+r.Kind+" rules") }
	s := k.validate(r, bad)

	for _, name := range scopeFields {
		switch v := *r.Scope.field(name); {
		case v == "":
		case s.scope == scopeBudget:
			bad("scope."+name, "budget rules take their scope from the budget")
		case s.scope == scopeProvider && name != "provider":
			bad("scope."+name, r.Kind+" rules watch provider health checks, which have only a provider")
		}
	}
	switch {
	case r.Scope.Tag == nil:
	case s.scope == scopeBudget:
		bad("scope.tag", "budget rules take their scope from the budget")
	case s.scope == scopeProvider:
		bad("scope.tag", r.Kind+" rules watch provider health checks, which have only a provider")
	}

	// Grouping: only kinds that read calls split into instances.
	if len(r.GroupBy) > 0 && !s.groupable {
		notUsed("groupBy")
	} else if len(r.GroupBy) > 0 {
		var group, tags []string
		for i, g := range r.GroupBy {
			tag, isTag := strings.CutPrefix(g, tagGroupPrefix)
			switch {
			case isTag && tag != "" && validText(tag, maxScopeValue):
				if !slices.Contains(tags, g) {
					tags = append(tags, g)
				}
			case !slices.Contains(scopeFields, g):
				bad("groupBy["+strconv.Itoa(i)+"]", "must be one of "+strings.Join(scopeFields, ", ")+", or tag.<name>")
			}
		}
		// Scope-field order, then tags by name, so that equal groupings
		// name instances alike.
		for _, f := range scopeFields {
			if slices.Contains(r.GroupBy, f) {
				group = append(group, f)
			}
		}
		slices.Sort(tags)
		r.GroupBy = append(group, tags...)
	}

	if s.budget {
		if r.BudgetID != "" && !validText(r.BudgetID, 64) {
			bad("budgetId", "at most 64 printable characters")
		}
	} else if r.BudgetID != "" {
		notUsed("budgetId")
	}

	// Minimum calls, where a rate or a quantile over few calls would be noise.
	switch {
	case !s.minCalls:
		if d.sentMinCalls {
			notUsed("minCalls")
		}
		r.MinCalls = 0
	case !d.hasMinCalls:
		r.MinCalls = defaultMinCalls
	case r.MinCalls < 1 || r.MinCalls > maxMinCalls:
		bad("minCalls", "must be a whole number from 1 to 1000000000")
	}

	checkWindow(s, d, bad, notUsed)
	checkThreshold(s.threshold, d, bad, notUsed)
	return s
}

func checkWindow(s spec, d *draft, bad func(field, msg string), notUsed func(field string)) {
	r := &d.Rule
	maxWindow := s.maxWindow
	if maxWindow == 0 {
		maxWindow = maxRuleWindow
	}
	switch {
	case d.badWindow != "":
		bad("window", d.badWindow)
	case s.window == windowNone:
		if d.sentWindow {
			notUsed("window")
		}
		r.Window = 0
	case !d.hasWindow && s.window == windowOptional:
		r.Window = s.defaultWindow
	case !d.hasWindow:
		bad("window", "required: a duration from 1m to "+FormatDuration(maxWindow)+", e.g. \"5m\"")
	case r.Window < minRuleWindow || r.Window > maxWindow:
		bad("window", "must be a duration from 1m to "+FormatDuration(maxWindow)+", e.g. \"5m\"")
	}
}

// checkThreshold checks the threshold against the kind's unit and range.
func checkThreshold(t thresholdSpec, d *draft, bad func(field, msg string), notUsed func(field string)) {
	r := &d.Rule
	th := r.Threshold
	switch {
	case d.badThreshold != "":
		bad("threshold", d.badThreshold)
	case t.none:
		if d.sentThreshold {
			notUsed("threshold")
		}
		r.Threshold = decimal.Zero
	case !d.hasThreshold && t.unsetIsOK:
		r.Threshold = decimal.Zero
	case !d.hasThreshold && t.def != "":
		r.Threshold = decimal.RequireFromString(t.def)
	case !d.hasThreshold:
		bad("threshold", "required: "+t.what)
	default:
		lo, hi := decimal.RequireFromString(t.lo), decimal.RequireFromString(t.hi)
		below := th.LessThan(lo) || (t.loOpen && th.Equal(lo))
		above := th.GreaterThan(hi) || (t.hiOpen && th.Equal(hi))
		switch {
		case below || above:
			bad("threshold", "out of range: "+t.what)
		case t.whole && !th.Equal(th.Truncate(0)):
			bad("threshold", "must be a whole number: "+t.what)
		case !th.Equal(th.Truncate(thresholdDecimals)):
			bad("threshold", "at most 12 decimal places")
		}
	}
}

// configField is the collector config's key for an API field name.
func configField(field string) string {
	for api, cfg := range map[string]string{"groupBy": "group_by", "budgetId": "budget_id", "minCalls": "min_calls"} {
		if field == api || strings.HasPrefix(field, api+"[") {
			return cfg + strings.TrimPrefix(field, api)
		}
	}
	return field
}
