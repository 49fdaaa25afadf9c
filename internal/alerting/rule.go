package alerting

import (
	"regexp"
	"text/template"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/schema"
)

// Where a rule is defined: config rules are read-only through the API.
const (
	OriginAPI    = "api"
	OriginConfig = "config"
)

const (
	maxRuleName     = 100
	maxRuleChannels = 20
	maxRuleMessage  = 4000
	// maxScopeValue bounds a scope value, as the API's filters do.
	maxScopeValue = 200
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

// InAppChannel is always available: every event is stored and streamed.
const InAppChannel = notify.TypeInApp

var severities = []string{notify.SeverityInfo, notify.SeverityWarning, notify.SeverityCritical}

// Severities are the severities a rule may have, mildest first.
func Severities() []string { return append([]string(nil), severities...) }

// configRuleID is what a config rule's id may be; "alr_" is the prefix
// of ids the API generates, kept apart so the two never collide.
var configRuleID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// scopeFields are the scope's columns, in the order they are applied
// (the API's filter order, then the attribution dimensions); a rule may
// group by any of them.
var scopeFields = []string{"provider", "model", "operation", "service", "environment", "team", "feature", "customer", "user"}

// tagGroupPrefix starts a group by a tag's value: "tag.release".
const tagGroupPrefix = "tag."

// rawFields are the scope columns the minute rollup does not carry: a rule
// naming one reads raw calls (minuteSource).
var rawFields = []string{"customer", "user"}

// Scope narrows what a rule watches; empty fields match anything. Team,
// Feature, Customer, User and Tag are the attribution dimensions.
type Scope struct {
	Provider    string `json:"provider,omitempty"`
	Model       string `json:"model,omitempty"`
	Operation   string `json:"operation,omitempty"`
	Service     string `json:"service,omitempty"`
	Environment string `json:"environment,omitempty"`
	Team        string `json:"team,omitempty"`
	Feature     string `json:"feature,omitempty"`
	Customer    string `json:"customer,omitempty"`
	User        string `json:"user,omitempty"`
	Tag         *Tag   `json:"tag,omitempty"`
}

// Tag is one tag a scope requires: the calls whose tag Key is Value.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// field is the scope field called name (one of scopeFields), nil for
// another name.
func (s *Scope) field(name string) *string {
	switch name {
	case "provider":
		return &s.Provider
	case "model":
		return &s.Model
	case "operation":
		return &s.Operation
	case "service":
		return &s.Service
	case "environment":
		return &s.Environment
	case "team":
		return &s.Team
	case "feature":
		return &s.Feature
	case "customer":
		return &s.Customer
	case "user":
		return &s.User
	}
	return nil
}

// labels are the scope's set fields, by name.
func (s Scope) labels() map[string]string {
	labels := map[string]string{}
	for _, name := range scopeFields {
		if v := *s.field(name); v != "" {
			labels[name] = v
		}
	}
	if s.Tag != nil {
		labels["tag."+s.Tag.Key] = s.Tag.Value
	}
	return labels
}

// Rule is a validated rule with every default filled in.
type Rule struct {
	ID string
	// Tenant is whose the rule is: it measures that tenant's calls, its
	// events are that tenant's, and only that tenant's keys see it.
	// Config rules are the default tenant's.
	Tenant  string
	Name    string
	Kind    string
	Origin  string
	Scope   Scope
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

// tenant is the rule's tenant, the default one for rules stored before
// tenants existed.
func (r *Rule) tenant() string {
	if r.Tenant == "" {
		return schema.DefaultTenant
	}
	return r.Tenant
}

// HasTemplate tells whether the rule's message compiled into the template
// its events are rendered with.
func (r *Rule) HasTemplate() bool { return r.tmpl != nil }

// FormatDuration is d as the API writes durations (schema.FormatDuration).
func FormatDuration(d time.Duration) string { return schema.FormatDuration(d) }

// draft is a rule being built from a request or a config block: the
// values, and which of the optional ones were given (an absent one takes
// the kind's default).
type draft struct {
	Rule
	hasThreshold, hasWindow, hasMinCalls bool
	// sent* say the caller gave the value in this request; a value only
	// carried over from the stored rule (PATCH) is dropped without
	// complaint where the rule no longer uses it.
	sentThreshold, sentWindow, sentMinCalls bool
	// bad* hold the parse error of a value sent as text.
	badThreshold, badWindow, badFor, badTag string
}
