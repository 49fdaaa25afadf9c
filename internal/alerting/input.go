package alerting

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// RuleInput is a rule as the API receives it. Pointers and the raw
// threshold tell a field sent from one left out, which PATCH needs.
type RuleInput struct {
	Name      *string         `json:"name"`
	Kind      *string         `json:"kind"`
	Scope     *RuleScopeInput `json:"scope"`
	GroupBy   *[]string       `json:"groupBy"`
	Threshold json.RawMessage `json:"threshold"`
	Window    *string         `json:"window"`
	For       *string         `json:"for"`
	Severity  *string         `json:"severity"`
	Channels  *[]string       `json:"channels"`
	Message   *string         `json:"message"`
	Enabled   *bool           `json:"enabled"`
	BudgetID  *string         `json:"budgetId"`
	MinCalls  *int            `json:"minCalls"`
	Source    *string         `json:"source"`
	Mode      *string         `json:"mode"`
}

// RuleScopeInput is the scope of a RuleInput.
type RuleScopeInput struct {
	Provider    *string `json:"provider"`
	Model       *string `json:"model"`
	Operation   *string `json:"operation"`
	Service     *string `json:"service"`
	Environment *string `json:"environment"`
	Team        *string `json:"team"`
	Feature     *string `json:"feature"`
	Customer    *string `json:"customer"`
	User        *string `json:"user"`
	// Tag is {"key": …, "value": …}; null removes it.
	Tag *json.RawMessage `json:"tag"`
}

// parseTag reads a scope's tag, {"key": …, "value": …} (null for none),
// naming what is wrong with it.
func parseTag(raw json.RawMessage) (*Tag, string) {
	const msg = `must be {"key": "...", "value": "..."} with a key of 1 to 200 printable characters, or null`
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, ""
	}
	var t Tag
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || t.Key == "" || !validText(t.Key, maxScopeValue) || !validText(t.Value, maxScopeValue) {
		return nil, msg
	}
	return &t, ""
}

// parseThreshold reads a threshold sent as a JSON number or a decimal
// string, exactly (a number's digits are read as text, never as a float).
// null clears it (the kind's default applies).
func parseThreshold(raw json.RawMessage) (d decimal.Decimal, set bool, msg string) {
	const bad = "must be a number, as a JSON number or a decimal string, e.g. 0.05"
	text := string(bytes.TrimSpace(raw))
	if text == "null" {
		return decimal.Zero, false, ""
	}
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(raw, &text); err != nil {
			return decimal.Zero, true, bad
		}
	} else if text == "" || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) {
		return decimal.Zero, true, bad
	}
	if len(text) > 64 || text != strings.TrimSpace(text) {
		return decimal.Zero, true, bad
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return decimal.Zero, true, bad
	}
	return d, true, ""
}

// parseRuleDuration reads "5m"-style text; "" is no duration.
func parseRuleDuration(s string) (time.Duration, string) {
	if s == "" {
		return 0, ""
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, "must be a duration such as \"30s\", \"5m\" or \"1h30m\""
	}
	return d, ""
}

// draftFrom builds the rule a request describes: from nothing (full: POST,
// PUT) or over the stored rule (PATCH). A PATCH that changes the kind
// drops the old kind's own fields it does not resend: they meant
// something else there.
func draftFrom(in RuleInput, base *Rule, full bool) *draft {
	d := &draft{}
	if full {
		d.Rule = Rule{ID: base.ID, Tenant: base.Tenant, Origin: OriginAPI, Enabled: true, CreatedAt: base.CreatedAt, version: base.version}
	} else {
		d.Rule = *base
		d.GroupBy = append([]string(nil), base.GroupBy...)
		d.Channels = append([]string(nil), base.Channels...)
		d.hasThreshold, d.hasWindow, d.hasMinCalls = !base.Threshold.IsZero(), base.Window > 0, base.MinCalls > 0
		if in.Kind != nil && *in.Kind != base.Kind {
			d.Threshold, d.Window, d.MinCalls = decimal.Zero, 0, 0
			d.hasThreshold, d.hasWindow, d.hasMinCalls = false, false, false
			d.Source, d.Mode, d.BudgetID, d.GroupBy = "", "", "", nil
		}
	}
	d.tmpl = nil
	if in.Name != nil {
		d.Name = *in.Name
	}
	if in.Kind != nil {
		d.Kind = *in.Kind
	}
	if in.Scope != nil {
		for _, f := range []struct {
			in  *string
			out *string
		}{
			{in.Scope.Provider, &d.Scope.Provider}, {in.Scope.Model, &d.Scope.Model}, {in.Scope.Operation, &d.Scope.Operation},
			{in.Scope.Service, &d.Scope.Service}, {in.Scope.Environment, &d.Scope.Environment},
			{in.Scope.Team, &d.Scope.Team}, {in.Scope.Feature, &d.Scope.Feature},
			{in.Scope.Customer, &d.Scope.Customer}, {in.Scope.User, &d.Scope.User},
		} {
			if f.in != nil {
				*f.out = *f.in
			}
		}
		if in.Scope.Tag != nil {
			d.Scope.Tag, d.badTag = parseTag(*in.Scope.Tag)
		}
	}
	if in.GroupBy != nil {
		d.GroupBy = append([]string(nil), *in.GroupBy...)
	}
	if in.Threshold != nil {
		t, set, msg := parseThreshold(in.Threshold)
		d.Threshold, d.hasThreshold, d.sentThreshold, d.badThreshold = t, set, set, msg
	}
	if in.Window != nil {
		w, msg := parseRuleDuration(*in.Window)
		d.Window, d.hasWindow, d.sentWindow, d.badWindow = w, *in.Window != "", *in.Window != "", msg
	}
	if in.For != nil {
		f, msg := parseRuleDuration(*in.For)
		d.For, d.badFor = f, msg
	}
	if in.Severity != nil {
		d.Severity = *in.Severity
	}
	if in.Channels != nil {
		d.Channels = append([]string(nil), *in.Channels...)
	}
	if in.Message != nil {
		d.Message = *in.Message
	}
	if in.Enabled != nil {
		d.Enabled = *in.Enabled
	}
	if in.BudgetID != nil {
		d.BudgetID = *in.BudgetID
	}
	if in.MinCalls != nil {
		d.MinCalls, d.hasMinCalls, d.sentMinCalls = *in.MinCalls, true, true
	}
	if in.Source != nil {
		d.Source = *in.Source
	}
	if in.Mode != nil {
		d.Mode = *in.Mode
	}
	return d
}
