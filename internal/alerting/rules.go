package alerting

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

var ruleColumns = []string{"id", "name", "kind", "provider", "model", "operation", "service", "environment", "group_by",
	"threshold", "window_ms", "for_ms", "severity", "channels", "message", "enabled", "budget_id", "min_calls", "source",
	"mode", "created_at", "updated_at", "deleted", "version", "tenant",
	"customer", "user", "team", "feature", "tag_key", "tag_value"}

// readRules reads the latest version of every API rule of tenant ("" for
// every tenant), or of the one with id, deleted ones included (filtered by
// the caller: a WHERE on a non-key column is not guaranteed to apply after
// FINAL's replacement; a rule's tenant never changes, so filtering on it
// keeps whole histories).
func (en *Engine) readRules(ctx context.Context, tenant, id string) ([]*Rule, error) {
	q := "SELECT " + strings.Join(ruleColumns, ", ") + " FROM " + en.src.table("alert_rules") + " FINAL" +
		" WHERE ({id:String} = '' OR id = {id:String}) AND ({tenant:String} = '' OR tenant = {tenant:String})"
	params := store.Params{"id": id, "tenant": tenant}
	rows, err := en.store.Query(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	defer rows.Close()
	var out []*Rule
	for rows.Next() {
		r := &Rule{Origin: OriginAPI}
		var tag Tag
		var windowMs, forMs uint64
		var minCalls uint32
		if err := rows.Scan(&r.ID, &r.Name, &r.Kind, &r.Scope.Provider, &r.Scope.Model, &r.Scope.Operation, &r.Scope.Service,
			&r.Scope.Environment, &r.GroupBy, &r.Threshold, &windowMs, &forMs, &r.Severity, &r.Channels, &r.Message,
			&r.Enabled, &r.BudgetID, &minCalls, &r.Source, &r.Mode, &r.CreatedAt, &r.UpdatedAt, &r.deleted, &r.version, &r.Tenant,
			&r.Scope.Customer, &r.Scope.User, &r.Scope.Team, &r.Scope.Feature, &tag.Key, &tag.Value); err != nil {
			return nil, fmt.Errorf("read alert rules: %w", err)
		}
		if tag.Key != "" {
			r.Scope.Tag = &tag
		}
		r.Window, r.For = time.Duration(windowMs)*time.Millisecond, time.Duration(forMs)*time.Millisecond
		r.MinCalls = int(minCalls)
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		if len(r.GroupBy) == 0 {
			r.GroupBy = nil
		}
		if r.Message != "" && !r.deleted {
			if r.tmpl, err = en.render.compile(r.Message); err != nil {
				// Validated when written; a rule stored before templates
				// were restricted (or one written around the API) gets
				// here. The default message stands in: the rule still
				// alerts, and its template never runs.
				en.warnTemplate(r.ID, r.Message, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// warnTemplate logs a stored rule's refused template once per rule and
// text, not on every evaluation that reads it.
func (en *Engine) warnTemplate(id, text string, err error) {
	en.badTmplMu.Lock()
	defer en.badTmplMu.Unlock()
	if en.badTemplates[id] == text {
		return
	}
	en.badTemplates[id] = text
	en.logger.Error("stored alert rule has a refused message template; its events use the default message until the rule is fixed",
		zap.String("rule_id", id), zap.Error(err))
}

// liveRules are the API rules of tenant ("" for every tenant) not
// deleted, oldest first.
func (en *Engine) liveRules(ctx context.Context, tenant string) ([]*Rule, error) {
	all, err := en.readRules(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if !r.deleted {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b *Rule) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// allRules are the config rules, in config order, then the API rules, of
// tenant ("" for every tenant: the evaluator's). The config rules are the
// default tenant's.
func (en *Engine) allRules(ctx context.Context, tenant string) ([]*Rule, error) {
	live, err := en.liveRules(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("read alert rules: %w", err)
	}
	var out []*Rule
	if tenant == "" || tenant == schema.DefaultTenant {
		out = append(out, en.rules...)
	}
	return append(out, live...), nil
}

// configRule is config rule id when tenant may see it (the default
// tenant, or "" for any).
func (en *Engine) configRule(tenant, id string) *Rule {
	if tenant != "" && tenant != schema.DefaultTenant {
		return nil
	}
	for _, r := range en.rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (en *Engine) writeRule(ctx context.Context, r *Rule) error {
	batch, err := en.store.PrepareBatch(ctx, "alert_rules", ruleColumns)
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
	var tag Tag
	if r.Scope.Tag != nil {
		tag = *r.Scope.Tag
	}
	if err := batch.Append(r.ID, r.Name, r.Kind, r.Scope.Provider, r.Scope.Model, r.Scope.Operation, r.Scope.Service,
		r.Scope.Environment, group, r.Threshold, uint64(r.Window/time.Millisecond), uint64(r.For/time.Millisecond),
		r.Severity, channels, r.Message, r.Enabled, r.BudgetID, uint32(r.MinCalls), r.Source, r.Mode,
		r.CreatedAt, r.UpdatedAt, r.deleted, v, r.tenant(),
		r.Scope.Customer, r.Scope.User, r.Scope.Team, r.Scope.Feature, tag.Key, tag.Value); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("append alert_rules row: %w", err)
	}
	if err := batch.Send(ctx); err != nil {
		return fmt.Errorf("insert alert_rules row: %w", err)
	}
	r.version = v
	if en.eval != nil {
		en.eval.ruleWritten()
	}
	return nil
}

// --- the rules API ---

// Rules are every rule of tenant: the config rules (the default
// tenant's), in config order, then the API rules, oldest first.
func (en *Engine) Rules(ctx context.Context, tenant string) ([]*Rule, error) {
	return en.allRules(ctx, tenant)
}

// Rule is the rule with id of tenant: a config rule, or a live API rule;
// ErrNotFound when there is none, or it is another tenant's (the same
// answer: a tenant learns nothing of others).
func (en *Engine) Rule(ctx context.Context, tenant, id string) (*Rule, error) {
	if cr := en.configRule(tenant, id); cr != nil {
		return cr, nil
	}
	found, err := en.readRules(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 || found[0].deleted {
		return nil, notFound("no alert rule " + id)
	}
	return found[0], nil
}

// writable refuses changes to a config rule: the config would put it back
// at the next start, and other collectors read the same config.
func writable(rule *Rule) error {
	if rule.Origin == OriginConfig {
		return conflict("alert rule " + rule.ID + " comes from the collector config (nexusapi alerting.rules); it is read-only here: change it in the config")
	}
	return nil
}

// CreateRule validates the rule in and stores it under a new id, as
// tenant's ("" is the default tenant).
func (en *Engine) CreateRule(ctx context.Context, tenant string, in RuleInput) (*Rule, error) {
	if tenant == "" {
		tenant = schema.DefaultTenant
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	return en.saveRule(ctx, draftFrom(in, &Rule{ID: newID("alr_"), Tenant: tenant, CreatedAt: now}, true), now)
}

// ReplaceRule replaces API rule id of tenant with in (PUT): what in leaves
// out takes the kind's default.
func (en *Engine) ReplaceRule(ctx context.Context, tenant, id string, in RuleInput) (*Rule, error) {
	return en.updateRule(ctx, tenant, id, in, true)
}

// PatchRule changes the fields in sends of API rule id of tenant (PATCH).
func (en *Engine) PatchRule(ctx context.Context, tenant, id string, in RuleInput) (*Rule, error) {
	return en.updateRule(ctx, tenant, id, in, false)
}

func (en *Engine) updateRule(ctx context.Context, tenant, id string, in RuleInput, full bool) (*Rule, error) {
	// The table cannot enforce anything: the read-check-write of one
	// change must not interleave with another's.
	en.ruleWrites.Lock()
	defer en.ruleWrites.Unlock()
	old, err := en.Rule(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if err := writable(old); err != nil {
		return nil, err
	}
	return en.saveRule(ctx, draftFrom(in, old, full), time.Now().UTC().Truncate(time.Millisecond))
}

// saveRule validates d and writes it.
func (en *Engine) saveRule(ctx context.Context, d *draft, now time.Time) (*Rule, error) {
	details, err := en.checker().check(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("check alert rule budget: %w", err)
	}
	if details != nil {
		return nil, &ValidationError{Message: "invalid alert rule", Fields: details}
	}
	rule := &d.Rule
	rule.Origin, rule.UpdatedAt = OriginAPI, now
	if err := en.writeRule(ctx, rule); err != nil {
		return nil, fmt.Errorf("write alert rule: %w", err)
	}
	return rule, nil
}

// DeleteRule deletes API rule id of tenant; its firing alerts are
// resolved at the next evaluation.
func (en *Engine) DeleteRule(ctx context.Context, tenant, id string) (*Rule, error) {
	en.ruleWrites.Lock()
	defer en.ruleWrites.Unlock()
	rule, err := en.Rule(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if err := writable(rule); err != nil {
		return nil, err
	}
	rule.deleted = true
	rule.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := en.writeRule(ctx, rule); err != nil {
		return nil, fmt.Errorf("delete alert rule: %w", err)
	}
	return rule, nil
}

// checker is the API's rule checker: configured channels and live budgets.
func (en *Engine) checker() checker {
	return checker{channels: en.channels, render: en.render, spend: en.spend}
}

// CheckWritable is nil when API rule id exists and may be changed:
// ErrNotFound or ErrConflict otherwise. The API checks it before reading a
// change, so that a missing or read-only rule is said whatever the change.
func (en *Engine) CheckWritable(ctx context.Context, tenant, id string) error {
	rule, err := en.Rule(ctx, tenant, id)
	if err != nil {
		return err
	}
	return writable(rule)
}
