package nexusapiextension

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/notify"
)

// Rule kinds.
const (
	kindCostOverWindow  = "cost_over_window"
	kindBudgetThreshold = "budget_threshold"
	kindBudgetForecast  = "budget_forecast"
	kindErrorRate       = "error_rate"
	kindLatencyP95      = "latency_p95"
	kindProviderDown    = "provider_down"
	kindKeyInvalid      = "key_invalid"
	kindQuota           = "quota"
	kindAnomaly         = "anomaly"
	kindUnpriced        = "unpriced"
)

var ruleKinds = []string{kindCostOverWindow, kindBudgetThreshold, kindBudgetForecast, kindErrorRate,
	kindLatencyP95, kindProviderDown, kindKeyInvalid, kindQuota, kindAnomaly, kindUnpriced}

// Sources of a quota rule and modes of an anomaly rule.
const (
	quotaHeadroom = "headroom"
	quotaErrors   = "errors"
	anomalyShare  = "share"
	anomalyCount  = "count"
	anomalySpend  = "spend"
)

var (
	quotaSources = []string{quotaHeadroom, quotaErrors}
	anomalyModes = []string{anomalyShare, anomalyCount, anomalySpend}
	severities   = []string{notify.SeverityInfo, notify.SeverityWarning, notify.SeverityCritical}
)

// Where a rule is defined: config rules are read-only through the API.
const (
	originAPI    = "api"
	originConfig = "config"
)

const (
	maxRuleName     = 100
	maxRuleChannels = 20
	maxRuleMessage  = 4000
	// minRuleWindow is the rollups' grain: a shorter window would read
	// a fraction of one minute bucket as if it were the whole of it.
	minRuleWindow = time.Minute
	// maxRuleWindow bounds what one evaluation reads from the minute
	// rollup, which is all the evaluator reads windows from.
	maxRuleWindow = 7 * 24 * time.Hour
	// maxBaselineWindow keeps the seven baseline windows of an anomaly
	// spend rule from overlapping each other.
	maxBaselineWindow = 24 * time.Hour
	// maxRawWindow bounds the windows read from raw calls (the rollups
	// have no error class), read again on every evaluation.
	maxRawWindow = 24 * time.Hour
	maxRuleFor   = 7 * 24 * time.Hour
	maxMinCalls  = 1_000_000_000
	// thresholdDecimals is the scale of the threshold columns.
	thresholdDecimals = 12
	// defaultHeadroomWindow is how old a rate-limit reading may be and
	// still count: remaining requests reset with the limit's window.
	defaultHeadroomWindow = 15 * time.Minute
	defaultMinCalls       = 10
)

// inAppChannel is always available: every event is stored and streamed.
const inAppChannel = notify.TypeInApp

// configRuleID is what a config rule's id may be; "alr_" is the prefix
// of ids the API generates, kept apart so the two never collide.
var configRuleID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ruleScope narrows what a rule watches; empty fields match anything.
type ruleScope struct {
	Provider    string `json:"provider,omitempty"`
	Model       string `json:"model,omitempty"`
	Operation   string `json:"operation,omitempty"`
	Service     string `json:"service,omitempty"`
	Environment string `json:"environment,omitempty"`
}

func (s ruleScope) filters() filters {
	return filters{Provider: s.Provider, Model: s.Model, Operation: s.Operation, Service: s.Service, Environment: s.Environment}
}

// alertRule is a validated rule with every default filled in.
type alertRule struct {
	ID      string
	Name    string
	Kind    string
	Origin  string
	Scope   ruleScope
	GroupBy []string
	// Threshold is zero where the kind takes none, or for budget_threshold
	// when the budget's own thresholds apply.
	Threshold decimal.Decimal
	Window    time.Duration
	For       time.Duration
	Severity  string
	Channels  []string
	Message   string
	Enabled   bool
	BudgetID  string
	MinCalls  int
	Source    string
	Mode      string
	CreatedAt time.Time
	UpdatedAt time.Time

	tmpl    *template.Template
	deleted bool
	version time.Time
}

// ruleView is a rule as the API shows it.
type ruleView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	Origin    string     `json:"origin"`
	Scope     ruleScope  `json:"scope"`
	GroupBy   []string   `json:"groupBy"`
	Threshold *string    `json:"threshold"`
	Window    *string    `json:"window"`
	For       string     `json:"for"`
	Severity  string     `json:"severity"`
	Channels  []string   `json:"channels"`
	Message   string     `json:"message"`
	Enabled   bool       `json:"enabled"`
	BudgetID  string     `json:"budgetId,omitempty"`
	MinCalls  int        `json:"minCalls,omitempty"`
	Source    string     `json:"source,omitempty"`
	Mode      string     `json:"mode,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

func (r *alertRule) MarshalJSON() ([]byte, error) {
	v := ruleView{ID: r.ID, Name: r.Name, Kind: r.Kind, Origin: r.Origin, Scope: r.Scope,
		GroupBy: r.GroupBy, For: fmtDuration(r.For), Severity: r.Severity, Channels: r.Channels,
		Message: r.Message, Enabled: r.Enabled, BudgetID: r.BudgetID, MinCalls: r.MinCalls,
		Source: r.Source, Mode: r.Mode}
	if v.GroupBy == nil {
		v.GroupBy = []string{}
	}
	if v.Channels == nil {
		v.Channels = []string{}
	}
	if !r.Threshold.IsZero() {
		s := r.Threshold.String()
		v.Threshold = &s
	}
	if r.Window > 0 {
		s := fmtDuration(r.Window)
		v.Window = &s
	}
	if r.Origin == originAPI {
		v.CreatedAt, v.UpdatedAt = &r.CreatedAt, &r.UpdatedAt
	}
	return json.Marshal(v)
}

// fmtDuration is d as a Go duration without the zero tails: "5m", "1h30m".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// ruleDraft is a rule being built from a request or a config block: the
// values, and which of the optional ones were given (an absent one takes
// the kind's default).
type ruleDraft struct {
	alertRule
	hasThreshold, hasWindow, hasMinCalls bool
	// sent* say the caller gave the value in this request; a value only
	// carried over from the stored rule (PATCH) is dropped without
	// complaint where the rule no longer uses it.
	sentThreshold, sentWindow, sentMinCalls bool
	// bad* hold the parse error of a value sent as text.
	badThreshold, badWindow, badFor string
}

// ruleChecker validates drafts against the configured channels and, in
// the API, the live budgets.
type ruleChecker struct {
	channels map[string]bool
	// budgetExists is nil where budgets cannot be looked up (the
	// collector config is validated before the store is reachable).
	budgetExists func(id string) (bool, error)
	// render runs the message template's trial; nil makes one.
	render *renderer
}

// check validates d and fills its defaults. Field names are the API's;
// configField translates them for the collector config.
func (c ruleChecker) check(d *ruleDraft) ([]FieldError, error) {
	var details []FieldError
	bad := func(field, msg string) { details = append(details, FieldError{Field: field, Message: msg}) }
	r := &d.alertRule

	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || !validText(r.Name, maxRuleName) {
		bad("name", "required, 1 to 100 printable characters")
	}
	kindOK := slices.Contains(ruleKinds, r.Kind)
	if !kindOK {
		if r.Kind == "" {
			bad("kind", "required: one of "+strings.Join(ruleKinds, ", "))
		} else {
			bad("kind", "must be one of "+strings.Join(ruleKinds, ", "))
		}
	}

	scope := filters{Provider: r.Scope.Provider, Model: r.Scope.Model, Operation: r.Scope.Operation,
		Service: r.Scope.Service, Environment: r.Scope.Environment}
	for _, name := range scopeFields {
		if !validText(*scope.field(name), maxScopeValue) {
			bad("scope."+name, "at most 200 printable characters")
		}
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

	if kindOK {
		details = append(details, c.checkKind(d)...)
	}
	if r.BudgetID != "" && c.budgetExists != nil && (r.Kind == kindBudgetThreshold || r.Kind == kindBudgetForecast) && validText(r.BudgetID, 64) {
		ok, err := c.budgetExists(r.BudgetID)
		if err != nil {
			return nil, err
		}
		if !ok {
			bad("budgetId", "no budget "+strconv.Quote(r.BudgetID))
		}
	}
	return details, nil
}

// checkKind checks what depends on the kind: which scope, group, window
// and threshold it takes, and in what range.
func (c ruleChecker) checkKind(d *ruleDraft) []FieldError {
	var details []FieldError
	bad := func(field, msg string) { details = append(details, FieldError{Field: field, Message: msg}) }
	r := &d.alertRule
	notUsed := func(field string) { bad(field, "not used by "+r.Kind+" rules") }

	// Sub-kind first: what else is valid depends on it.
	switch r.Kind {
	case kindQuota:
		if r.Source == "" {
			r.Source = quotaHeadroom
		} else if !slices.Contains(quotaSources, r.Source) {
			bad("source", "must be one of "+strings.Join(quotaSources, ", "))
		}
	default:
		if r.Source != "" {
			notUsed("source")
		}
	}
	switch r.Kind {
	case kindAnomaly:
		if r.Mode == "" {
			r.Mode = anomalyShare
		} else if !slices.Contains(anomalyModes, r.Mode) {
			bad("mode", "must be one of "+strings.Join(anomalyModes, ", "))
		}
	default:
		if r.Mode != "" {
			notUsed("mode")
		}
	}

	// Scope: budget rules take the budget's; provider checks know only
	// the provider.
	providerOnly := r.Kind == kindProviderDown || r.Kind == kindKeyInvalid || (r.Kind == kindQuota && r.Source == quotaHeadroom)
	budgetKind := r.Kind == kindBudgetThreshold || r.Kind == kindBudgetForecast
	for _, f := range []struct{ name, v string }{
		{"provider", r.Scope.Provider}, {"model", r.Scope.Model}, {"operation", r.Scope.Operation},
		{"service", r.Scope.Service}, {"environment", r.Scope.Environment},
	} {
		switch {
		case f.v == "":
		case budgetKind:
			bad("scope."+f.name, "budget rules take their scope from the budget")
		case providerOnly && f.name != "provider":
			bad("scope."+f.name, r.Kind+" rules watch provider health checks, which have only a provider")
		}
	}

	// Grouping: only kinds that read calls split into instances.
	groupable := r.Kind == kindCostOverWindow || r.Kind == kindErrorRate || r.Kind == kindLatencyP95 ||
		r.Kind == kindAnomaly || r.Kind == kindUnpriced || (r.Kind == kindQuota && r.Source == quotaErrors)
	if len(r.GroupBy) > 0 && !groupable {
		notUsed("groupBy")
	} else if len(r.GroupBy) > 0 {
		var group []string
		for i, g := range r.GroupBy {
			if !slices.Contains(scopeFields, g) {
				bad("groupBy["+strconv.Itoa(i)+"]", "must be one of "+strings.Join(scopeFields, ", "))
			}
		}
		// Scope-field order, so that equal groupings name instances alike.
		for _, f := range scopeFields {
			if slices.Contains(r.GroupBy, f) {
				group = append(group, f)
			}
		}
		r.GroupBy = group
	}

	// Budget.
	if budgetKind {
		if r.BudgetID != "" && !validText(r.BudgetID, 64) {
			bad("budgetId", "at most 64 printable characters")
		}
	} else if r.BudgetID != "" {
		notUsed("budgetId")
	}

	// Minimum calls, where a rate or a quantile over few calls would be noise.
	takesMinCalls := r.Kind == kindErrorRate || r.Kind == kindLatencyP95 || (r.Kind == kindAnomaly && r.Mode == anomalyShare)
	switch {
	case !takesMinCalls:
		if d.sentMinCalls {
			notUsed("minCalls")
		}
		r.MinCalls = 0
	case !d.hasMinCalls:
		r.MinCalls = defaultMinCalls
	case r.MinCalls < 1 || r.MinCalls > maxMinCalls:
		bad("minCalls", "must be a whole number from 1 to 1000000000")
	}

	// Window.
	windowNeed := "required"
	maxWindow := maxRuleWindow
	switch {
	case budgetKind, r.Kind == kindProviderDown, r.Kind == kindKeyInvalid:
		windowNeed = "none"
	case r.Kind == kindQuota && r.Source == quotaHeadroom:
		windowNeed = "optional"
	case r.Kind == kindAnomaly && r.Mode == anomalySpend:
		maxWindow = maxBaselineWindow
	case r.Kind == kindQuota && r.Source == quotaErrors:
		maxWindow = maxRawWindow
	}
	switch {
	case d.badWindow != "":
		bad("window", d.badWindow)
	case windowNeed == "none":
		if d.sentWindow {
			notUsed("window")
		}
		r.Window = 0
	case !d.hasWindow && windowNeed == "optional":
		r.Window = defaultHeadroomWindow
	case !d.hasWindow:
		bad("window", "required: a duration from 1m to "+fmtDuration(maxWindow)+", e.g. \"5m\"")
	case r.Window < minRuleWindow || r.Window > maxWindow:
		bad("window", "must be a duration from 1m to "+fmtDuration(maxWindow)+", e.g. \"5m\"")
	}

	// Threshold: its unit and range are the kind's.
	type rng struct {
		def       string // default; "" when required
		lo, hi    string
		loOpen    bool
		hiOpen    bool
		whole     bool
		none      bool
		unsetIsOK bool // zero stays zero (budget_threshold: the budget's own)
		what      string
	}
	var t rng
	switch r.Kind {
	case kindCostOverWindow:
		t = rng{lo: "0", hi: "1000000000000", loOpen: true, what: "spend in USD over the window above which the rule fires, greater than 0"}
	case kindBudgetThreshold:
		t = rng{lo: "1", hi: "1000", whole: true, unsetIsOK: true, what: "a whole percentage of the budget from 1 to 1000 (default: the budget's thresholds)"}
	case kindBudgetForecast:
		t = rng{def: "100", lo: "1", hi: "1000", whole: true, what: "a whole percentage of the budget from 1 to 1000 the forecast must exceed"}
	case kindErrorRate:
		t = rng{lo: "0", hi: "1", loOpen: true, hiOpen: true, what: "an error rate between 0 and 1 (0.05 = 5%), exclusive"}
	case kindLatencyP95:
		t = rng{lo: "0", hi: "86400000", loOpen: true, what: "a latency in milliseconds greater than 0"}
	case kindProviderDown:
		t = rng{def: "3", lo: "1", hi: "100", whole: true, what: "a whole number of consecutive failed checks from 1 to 100"}
	case kindKeyInvalid:
		t = rng{none: true}
	case kindQuota:
		if r.Source == quotaErrors {
			t = rng{def: "1", lo: "1", hi: "1000000000", whole: true, what: "a whole number of rate-limited or quota-exhausted calls from 1"}
		} else {
			t = rng{def: "0.1", lo: "0", hi: "1", loOpen: true, hiOpen: true, what: "a headroom (remaining ÷ limit) between 0 and 1, exclusive"}
		}
	case kindUnpriced:
		t = rng{def: "1", lo: "1", hi: "1000000000", whole: true, what: "a whole number of unpriced calls from 1"}
	case kindAnomaly:
		switch r.Mode {
		case anomalyCount:
			t = rng{def: "10", lo: "1", hi: "1000000000", whole: true, what: "a whole number of anomalous calls from 1"}
		case anomalySpend:
			t = rng{def: "3", lo: "1", hi: "1000", loOpen: true, what: "a factor over the 7-day baseline, greater than 1 and at most 1000"}
		default:
			t = rng{def: "0.1", lo: "0", hi: "1", loOpen: true, hiOpen: true, what: "a share of calls between 0 and 1, exclusive"}
		}
	}
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
	return details
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

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
