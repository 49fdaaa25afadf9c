package nexusapiextension

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

var ruleColumns = []string{"id", "name", "kind", "provider", "model", "operation", "service", "environment", "group_by",
	"threshold", "window_ms", "for_ms", "severity", "channels", "message", "enabled", "budget_id", "min_calls", "source",
	"mode", "created_at", "updated_at", "deleted", "version"}

// readRules reads the latest version of every API rule, or of the one
// with id, deleted ones included (filtered by the caller: a WHERE on a
// non-key column is not guaranteed to apply after FINAL's replacement).
func (al *alerting) readRules(ctx context.Context, id string) ([]*alertRule, error) {
	q := "SELECT " + strings.Join(ruleColumns, ", ") + " FROM " + al.table("alert_rules") + " FINAL"
	params := store.Params{}
	if id != "" {
		q += " WHERE id = {id:String}"
		params["id"] = id
	}
	rows, err := al.a.store.Query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*alertRule
	for rows.Next() {
		r := &alertRule{Origin: originAPI}
		var windowMs, forMs uint64
		var minCalls uint32
		if err := rows.Scan(&r.ID, &r.Name, &r.Kind, &r.Scope.Provider, &r.Scope.Model, &r.Scope.Operation, &r.Scope.Service,
			&r.Scope.Environment, &r.GroupBy, &r.Threshold, &windowMs, &forMs, &r.Severity, &r.Channels, &r.Message,
			&r.Enabled, &r.BudgetID, &minCalls, &r.Source, &r.Mode, &r.CreatedAt, &r.UpdatedAt, &r.deleted, &r.version); err != nil {
			return nil, err
		}
		r.Window, r.For = time.Duration(windowMs)*time.Millisecond, time.Duration(forMs)*time.Millisecond
		r.MinCalls = int(minCalls)
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		if len(r.GroupBy) == 0 {
			r.GroupBy = nil
		}
		if r.Message != "" && !r.deleted {
			if r.tmpl, err = al.render.compile(r.Message); err != nil {
				// Validated when written; a rule stored before templates
				// were restricted (or one written around the API) gets
				// here. The default message stands in: the rule still
				// alerts, and its template never runs.
				al.warnTemplate(r.ID, r.Message, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// warnTemplate logs a stored rule's refused template once per rule and
// text, not on every evaluation that reads it.
func (al *alerting) warnTemplate(id, text string, err error) {
	al.badTmplMu.Lock()
	defer al.badTmplMu.Unlock()
	if al.badTemplates[id] == text {
		return
	}
	al.badTemplates[id] = text
	al.a.logger.Error("stored alert rule has a refused message template; its events use the default message until the rule is fixed",
		zap.String("rule_id", id), zap.Error(err))
}

// liveRules are the API rules not deleted, oldest first.
func (al *alerting) liveRules(ctx context.Context) ([]*alertRule, error) {
	all, err := al.readRules(ctx, "")
	if err != nil {
		return nil, err
	}
	return live(all, func(r *alertRule) bool { return r.deleted },
		func(r *alertRule) (time.Time, string) { return r.CreatedAt, r.ID }), nil
}

// allRules are the config rules, in config order, then the API rules.
func (al *alerting) allRules(ctx context.Context) ([]*alertRule, error) {
	live, err := al.liveRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	return append(append([]*alertRule(nil), al.rules...), live...), nil
}

func (al *alerting) configRule(id string) *alertRule {
	for _, r := range al.rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (al *alerting) writeRule(ctx context.Context, r *alertRule) error {
	batch, err := al.a.store.PrepareBatch(ctx, "alert_rules", ruleColumns)
	if err != nil {
		return fmt.Errorf("prepare alert_rules insert: %w", err)
	}
	v := time.Now().UTC().Truncate(time.Microsecond)
	if !v.After(r.version) {
		v = r.version.Add(time.Microsecond)
	}
	group, channels := r.GroupBy, r.Channels
	if group == nil {
		group = []string{}
	}
	if channels == nil {
		channels = []string{}
	}
	if err := batch.Append(r.ID, r.Name, r.Kind, r.Scope.Provider, r.Scope.Model, r.Scope.Operation, r.Scope.Service,
		r.Scope.Environment, group, r.Threshold, uint64(r.Window/time.Millisecond), uint64(r.For/time.Millisecond),
		r.Severity, channels, r.Message, r.Enabled, r.BudgetID, uint32(r.MinCalls), r.Source, r.Mode,
		r.CreatedAt, r.UpdatedAt, r.deleted, v); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("append alert_rules row: %w", err)
	}
	if err := batch.Send(ctx); err != nil {
		return fmt.Errorf("insert alert_rules row: %w", err)
	}
	r.version = v
	return nil
}

// --- requests ---

// ruleInput is a request body. Pointers and the raw threshold tell a
// field sent from one left out, which PATCH needs.
type ruleInput struct {
	Name      *string         `json:"name"`
	Kind      *string         `json:"kind"`
	Scope     *ruleScopeInput `json:"scope"`
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

type ruleScopeInput struct {
	Provider    *string `json:"provider"`
	Model       *string `json:"model"`
	Operation   *string `json:"operation"`
	Service     *string `json:"service"`
	Environment *string `json:"environment"`
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

// draft builds the rule a request describes: from nothing (full: POST,
// PUT) or over the stored rule (PATCH). A PATCH that changes the kind
// drops the old kind's own fields it does not resend: they meant
// something else there.
func draftFrom(in ruleInput, base *alertRule, full bool) *ruleDraft {
	d := &ruleDraft{}
	if full {
		d.alertRule = alertRule{ID: base.ID, Origin: originAPI, Enabled: true, CreatedAt: base.CreatedAt, version: base.version}
	} else {
		d.alertRule = *base
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
		} {
			if f.in != nil {
				*f.out = *f.in
			}
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

// checker is the API's rule checker: configured channels and live budgets.
func (al *alerting) checker(ctx context.Context) ruleChecker {
	return ruleChecker{channels: al.channels, render: al.render, budgetExists: func(id string) (bool, error) {
		budgets, err := al.a.readBudgets(ctx, id)
		if err != nil {
			return false, err
		}
		return len(budgets) > 0 && !budgets[0].deleted, nil
	}}
}

// --- handlers ---

func (al *alerting) listRules(w http.ResponseWriter, r *http.Request) *APIError {
	pg, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	all, err := al.allRules(r.Context())
	if err != nil {
		return al.a.storeError(r, "list alert rules", err)
	}
	writeData(w, http.StatusOK, paginate(all, pg), pg.of(int64(len(all))))
	return nil
}

// findRule is the rule of the request's {id}: a config rule, or a live
// API rule.
func (al *alerting) findRule(r *http.Request) (*alertRule, *APIError) {
	id := r.PathValue("id")
	if cr := al.configRule(id); cr != nil {
		return cr, nil
	}
	found, err := al.readRules(r.Context(), id)
	if err != nil {
		return nil, al.a.storeError(r, "read alert rule", err)
	}
	if len(found) == 0 || found[0].deleted {
		return nil, notFound("no alert rule " + id)
	}
	return found[0], nil
}

// writable refuses changes to a config rule: the config would put it back
// at the next start, and other collectors read the same config.
func writable(rule *alertRule) *APIError {
	if rule.Origin == originConfig {
		return conflict("alert rule " + rule.ID + " comes from the collector config (nexusapi alerting.rules); it is read-only here: change it in the config")
	}
	return nil
}

func (al *alerting) getRule(w http.ResponseWriter, r *http.Request) *APIError {
	rule, apiErr := al.findRule(r)
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, rule, nil)
	return nil
}

func (al *alerting) createRule(w http.ResponseWriter, r *http.Request) *APIError {
	var in ruleInput
	if err := decodeBody(r, al.a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := draftFrom(in, &alertRule{ID: newID("alr_"), CreatedAt: now}, true)
	return al.saveRule(w, r, d, now, http.StatusCreated)
}

func (al *alerting) replaceRule(w http.ResponseWriter, r *http.Request) *APIError {
	return al.updateRule(w, r, true)
}

func (al *alerting) patchRule(w http.ResponseWriter, r *http.Request) *APIError {
	return al.updateRule(w, r, false)
}

func (al *alerting) updateRule(w http.ResponseWriter, r *http.Request, full bool) *APIError {
	al.ruleWrites.Lock()
	defer al.ruleWrites.Unlock()
	old, apiErr := al.findRule(r)
	if apiErr != nil {
		return apiErr
	}
	if apiErr := writable(old); apiErr != nil {
		return apiErr
	}
	var in ruleInput
	if err := decodeBody(r, al.a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	return al.saveRule(w, r, draftFrom(in, old, full), time.Now().UTC().Truncate(time.Millisecond), http.StatusOK)
}

// saveRule validates d and writes it.
func (al *alerting) saveRule(w http.ResponseWriter, r *http.Request, d *ruleDraft, now time.Time, status int) *APIError {
	details, err := al.checker(r.Context()).check(d)
	if err != nil {
		return al.a.storeError(r, "check alert rule budget", err)
	}
	if details != nil {
		return badRequest("invalid alert rule", details...)
	}
	rule := &d.alertRule
	rule.Origin, rule.UpdatedAt = originAPI, now
	if err := al.writeRule(r.Context(), rule); err != nil {
		return al.a.storeError(r, "write alert rule", err)
	}
	writeData(w, status, rule, nil)
	return nil
}

func (al *alerting) deleteRule(w http.ResponseWriter, r *http.Request) *APIError {
	al.ruleWrites.Lock()
	defer al.ruleWrites.Unlock()
	rule, apiErr := al.findRule(r)
	if apiErr != nil {
		return apiErr
	}
	if apiErr := writable(rule); apiErr != nil {
		return apiErr
	}
	rule.deleted = true
	rule.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := al.writeRule(r.Context(), rule); err != nil {
		return al.a.storeError(r, "delete alert rule", err)
	}
	// Its firing alerts are resolved at the next evaluation.
	writeData(w, http.StatusOK, rule, nil)
	return nil
}
