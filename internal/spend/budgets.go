package spend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/ids"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Budgets are read from the table (FINAL) on every request rather than
// cached: budgets are few, and with several collectors behind a load
// balancer a per-process cache would serve another instance's stale copy.

// Budget periods; calendar-aligned in the budget's time zone, weeks start
// on Monday.
var BudgetPeriods = []string{"daily", "weekly", "monthly"}

// BudgetActions are what a budget does about spend in its scope: notify
// only alerts (its thresholds); warn lets the proxy's calls pass telling
// what is left; block has the proxy refuse calls that would take spend
// past the amount (internal/spendguard).
var BudgetActions = []string{"notify", "warn", "block"}

var defaultThresholds = []int{50, 80, 100}

const (
	maxBudgetName = 100
	MaxThresholds = 20 // the most thresholds a budget takes
	// MaxScopeValue is the longest scope value (provider, model…) a budget takes.
	MaxScopeValue  = 200
	amountDecimals = 6 // the column is Decimal(18, 6)
)

// MaxAmount is the first amount Decimal(18, 6) cannot hold.
var MaxAmount = decimal.New(1, 12)

// BudgetScope is what a budget counts: calls matching every value set.
// Customer, User, Team, Feature and Tag are the attribution dimensions
// ("customer acme may spend $50 a month").
type BudgetScope struct {
	Provider    string `json:"provider,omitempty"`
	Model       string `json:"model,omitempty"`
	Service     string `json:"service,omitempty"`
	Environment string `json:"environment,omitempty"`
	Customer    string `json:"customer,omitempty"`
	User        string `json:"user,omitempty"`
	Team        string `json:"team,omitempty"`
	Feature     string `json:"feature,omitempty"`
	Tag         *Tag   `json:"tag,omitempty"`
}

// Tag is one tag a scope requires: the calls whose tag Key is Value.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// tagKV is t's key and value, "" for no tag.
func (t *Tag) tagKV() (string, string) {
	if t == nil {
		return "", ""
	}
	return t.Key, t.Value
}

// Budget is a spending limit over a calendar period.
//
// Tenant is whose the budget is: it counts only that tenant's calls, and
// only that tenant's keys see it.
type Budget struct {
	ID         string      `json:"id"`
	Tenant     string      `json:"-"`
	Name       string      `json:"name"`
	Scope      BudgetScope `json:"scope"`
	Period     string      `json:"period"`
	Timezone   string      `json:"timezone"`
	AmountUSD  string      `json:"amountUsd"`
	Thresholds []int       `json:"thresholds"`
	Action     string      `json:"action"`
	CreatedAt  time.Time   `json:"createdAt"`
	UpdatedAt  time.Time   `json:"updatedAt"`
	amount     decimal.Decimal
	deleted    bool
	version    time.Time
}

// scope is the budget's scope as a read's, within its tenant (a budget
// has no operation).
func (b Budget) scope() schema.Scope {
	tk, tv := b.Scope.Tag.tagKV()
	return schema.Scope{Tenant: b.Tenant, Provider: b.Scope.Provider, Model: b.Scope.Model, Service: b.Scope.Service,
		Environment: b.Scope.Environment, Customer: b.Scope.Customer, User: b.Scope.User, Team: b.Scope.Team,
		Feature: b.Scope.Feature, TagKey: tk, TagValue: tv}
}

// Amount is the budget's amount in dollars, exact.
func (b Budget) Amount() decimal.Decimal { return b.amount }

// BudgetInput is a budget as a client sends it. Pointers and the raw amount tell a field
// sent from one left out, which PATCH needs.
type BudgetInput struct {
	Name       *string           `json:"name"`
	Scope      *BudgetScopeInput `json:"scope"`
	Period     *string           `json:"period"`
	Timezone   *string           `json:"timezone"`
	AmountUSD  json.RawMessage   `json:"amountUsd"`
	Thresholds *[]int            `json:"thresholds"`
	Action     *string           `json:"action"`
}

type BudgetScopeInput struct {
	Provider    *string `json:"provider"`
	Model       *string `json:"model"`
	Service     *string `json:"service"`
	Environment *string `json:"environment"`
	Customer    *string `json:"customer"`
	User        *string `json:"user"`
	Team        *string `json:"team"`
	Feature     *string `json:"feature"`
	// Tag is {"key": …, "value": …}; null removes it.
	Tag *json.RawMessage `json:"tag"`
}

// CheckBudgets checks that the budgets table answers, so that a broken
// schema fails the collector's start rather than the first request.
// Budgets themselves are read per call (see above).
func (s *Service) CheckBudgets(ctx context.Context) error {
	if _, err := s.readBudgets(ctx, "", ""); err != nil {
		return fmt.Errorf("load budgets: %w", err)
	}
	return nil
}

// readBudgets reads the latest version of every budget of tenant ("" for
// every tenant), or of the one with id, deleted ones included (see
// sql/budgets.sql).
func (s *Service) readBudgets(ctx context.Context, tenant, id string) ([]Budget, error) {
	rows, err := s.store.Query(ctx, schema.SQL(s.store, "budgets"), store.Params{"id": id, "tenant": tenant})
	if err != nil {
		return nil, fmt.Errorf("read budgets: %w", err)
	}
	defer rows.Close()
	var out []Budget
	for rows.Next() {
		var b Budget
		var th []uint64
		var tag Tag
		if err := rows.Scan(&b.ID, &b.Name, &b.Scope.Provider, &b.Scope.Model, &b.Scope.Service, &b.Scope.Environment,
			&b.Period, &b.Timezone, &b.amount, &th, &b.CreatedAt, &b.UpdatedAt, &b.deleted, &b.version,
			&b.Tenant, &b.Scope.Customer, &b.Scope.User, &b.Scope.Team, &b.Scope.Feature, &tag.Key, &tag.Value, &b.Action); err != nil {
			return nil, fmt.Errorf("read budgets: %w", err)
		}
		if tag.Key != "" {
			b.Scope.Tag = &tag
		}
		b.AmountUSD = Money(b.amount)
		b.Thresholds = make([]int, len(th))
		for i, t := range th {
			b.Thresholds[i] = int(t)
		}
		b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read budgets: %w", err)
	}
	return out, nil
}

// Budgets are the budgets of tenant ("" for every tenant: the
// evaluator's) not deleted, oldest first (then by id, so that pages are
// stable).
func (s *Service) Budgets(ctx context.Context, tenant string) ([]Budget, error) {
	all, err := s.readBudgets(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, b := range all {
		if !b.deleted {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreatedAt.Before(out[j].CreatedAt) || (out[i].CreatedAt.Equal(out[j].CreatedAt) && out[i].ID < out[j].ID)
	})
	return out, nil
}

// Budget is the live budget id of tenant ("" for any tenant); a
// *domainerr.NotFoundError when there is none, it was deleted, or it is
// another tenant's (the same answer: a tenant learns nothing of others).
func (s *Service) Budget(ctx context.Context, tenant, id string) (Budget, error) {
	found, err := s.readBudgets(ctx, tenant, id)
	if err != nil {
		return Budget{}, err
	}
	if len(found) == 0 || found[0].deleted {
		return Budget{}, domainerr.NotFound("no budget " + id)
	}
	return found[0], nil
}

func (s *Service) writeBudget(ctx context.Context, b Budget) error {
	batch, err := s.store.PrepareBatch(ctx, schema.TableBudgets, schema.BudgetColumns)
	if err != nil {
		return fmt.Errorf("write budget %s: %w", b.ID, err)
	}
	th := make([]uint16, len(b.Thresholds))
	for i, t := range b.Thresholds {
		th[i] = uint16(t)
	}
	// Versions only grow, even within one clock tick: FINAL keeps the
	// highest, and a tie would make the winner arbitrary.
	v := time.Now().UTC().Truncate(time.Microsecond)
	if !v.After(b.version) {
		v = b.version.Add(time.Microsecond)
	}
	tk, tv := b.Scope.Tag.tagKV()
	if err := batch.Append(b.ID, b.Name, b.Scope.Provider, b.Scope.Model, b.Scope.Service, b.Scope.Environment,
		b.Period, b.Timezone, b.amount, th, b.CreatedAt, b.UpdatedAt, b.deleted, v,
		b.Tenant, b.Scope.Customer, b.Scope.User, b.Scope.Team, b.Scope.Feature, tk, tv, b.Action); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("write budget %s: %w", b.ID, err)
	}
	if err := batch.Send(ctx); err != nil {
		return fmt.Errorf("write budget %s: %w", b.ID, err)
	}
	return nil
}

// --- validation ---

// ValidText tells whether v is at most limit bytes without control
// characters: names and scope values end up in logs, messages and headers.
func ValidText(v string, limit int) bool {
	return len(v) <= limit && !strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f })
}

// parseAmount reads a dollar amount sent as a decimal string or a JSON
// number, exactly: a number's digits are read as text, never as a float.
func parseAmount(raw json.RawMessage) (decimal.Decimal, string) {
	const msg = "must be a decimal amount in dollars greater than 0, as a string or a number, e.g. \"250.50\""
	text := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(raw, &text); err != nil {
			return decimal.Zero, msg
		}
	} else if text == "" || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9')) {
		return decimal.Zero, msg
	}
	d, err := decimal.NewFromString(text)
	switch {
	case err != nil || text != strings.TrimSpace(text):
		return decimal.Zero, msg
	case d.Sign() <= 0:
		return decimal.Zero, "must be greater than 0"
	case !d.Equal(d.Truncate(amountDecimals)):
		return decimal.Zero, "at most 6 decimal places"
	case d.Cmp(MaxAmount) >= 0:
		return decimal.Zero, "must be less than 1000000000000"
	}
	return d, ""
}

// ApplyBudgetInput validates in and applies it to b, as CreateBudget (full)
// and UpdateBudget do before storing; a zone left out is loc. Refused input
// is a *domainerr.InvalidError naming every bad field.
func ApplyBudgetInput(b Budget, in BudgetInput, full bool, loc *time.Location) (Budget, error) {
	details := applyBudget(&b, in, full, loc)
	return b, domainerr.Invalid("invalid budget", details...)
}

// applyBudget validates in and applies it to b. With full (POST, PUT), b starts
// empty and the required fields must be present; otherwise (PATCH) the
// fields present replace b's. Every bad field is named.
func applyBudget(b *Budget, in BudgetInput, full bool, loc *time.Location) []domainerr.Field {
	var details []domainerr.Field
	bad := func(field, msg string) { details = append(details, domainerr.Field{Field: field, Message: msg}) }

	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || !ValidText(name, maxBudgetName) {
			bad("name", "required, 1 to 100 printable characters")
		}
		b.Name = name
	} else if full {
		bad("name", "required")
	}

	if in.Scope != nil {
		for _, f := range []struct {
			name string
			in   *string
			out  *string
		}{
			{"scope.provider", in.Scope.Provider, &b.Scope.Provider},
			{"scope.model", in.Scope.Model, &b.Scope.Model},
			{"scope.service", in.Scope.Service, &b.Scope.Service},
			{"scope.environment", in.Scope.Environment, &b.Scope.Environment},
			{"scope.customer", in.Scope.Customer, &b.Scope.Customer},
			{"scope.user", in.Scope.User, &b.Scope.User},
			{"scope.team", in.Scope.Team, &b.Scope.Team},
			{"scope.feature", in.Scope.Feature, &b.Scope.Feature},
		} {
			if f.in == nil {
				continue
			}
			if !ValidText(*f.in, MaxScopeValue) {
				bad(f.name, "at most 200 printable characters")
			}
			*f.out = *f.in
		}
		if in.Scope.Tag != nil {
			tag, msg := parseTag(*in.Scope.Tag)
			if msg != "" {
				bad("scope.tag", msg)
			}
			b.Scope.Tag = tag
		}
	}

	if in.Period != nil {
		if !slices.Contains(BudgetPeriods, *in.Period) {
			bad("period", "must be one of "+strings.Join(BudgetPeriods, ", "))
		}
		b.Period = *in.Period
	} else if full {
		bad("period", "required: one of "+strings.Join(BudgetPeriods, ", "))
	}

	switch {
	case in.Timezone != nil && *in.Timezone != "":
		// "Local" would mean whatever zone the collector's host has.
		if _, err := time.LoadLocation(*in.Timezone); err != nil || *in.Timezone == "Local" {
			bad("timezone", "must be an IANA time zone name, e.g. Europe/Paris")
		}
		b.Timezone = *in.Timezone
	case in.Timezone != nil || full:
		b.Timezone = loc.String()
	}

	if in.AmountUSD != nil {
		d, msg := parseAmount(in.AmountUSD)
		if msg != "" {
			bad("amountUsd", msg)
		}
		b.amount, b.AmountUSD = d, Money(d)
	} else if full {
		bad("amountUsd", "required: a decimal amount in dollars greater than 0")
	}

	switch {
	case in.Action != nil:
		if !slices.Contains(BudgetActions, *in.Action) {
			bad("action", "must be one of "+strings.Join(BudgetActions, ", "))
		}
		b.Action = *in.Action
	case full:
		b.Action = BudgetActions[0]
	}

	switch {
	case in.Thresholds != nil:
		th := append([]int(nil), *in.Thresholds...)
		if len(th) == 0 || len(th) > MaxThresholds {
			bad("thresholds", "must list 1 to 20 percentages")
		}
		for i, t := range th {
			if t < 1 || t > 1000 {
				bad("thresholds["+strconv.Itoa(i)+"]", "must be a whole percentage from 1 to 1000")
			}
		}
		sort.Ints(th)
		uniq := th[:0]
		for i, t := range th {
			if i == 0 || t != th[i-1] {
				uniq = append(uniq, t)
			}
		}
		b.Thresholds = uniq
	case full:
		b.Thresholds = append([]int(nil), defaultThresholds...)
	}
	return details
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
	if err := dec.Decode(&t); err != nil || t.Key == "" || !ValidText(t.Key, MaxScopeValue) || !ValidText(t.Value, MaxScopeValue) {
		return nil, msg
	}
	return &t, ""
}

// nameTaken tells whether a live budget of tenant other than id has name
// (names compare without case: "OpenAI monthly" and "openai monthly" are
// the same budget to a reader). Another tenant's names are its own.
func (s *Service) nameTaken(ctx context.Context, tenant, name, id string) (bool, error) {
	live, err := s.Budgets(ctx, tenant)
	if err != nil {
		return false, err
	}
	for _, b := range live {
		if b.ID != id && strings.EqualFold(b.Name, name) {
			return true, nil
		}
	}
	return false, nil
}

// --- changes ---

// CreateBudget validates in (every field required but scope, timezone and
// thresholds) and stores it as a new budget. Refused input is a
// *domainerr.InvalidError naming every bad field; a name another live
// budget has, a *domainerr.ConflictError.
//
// The budget is tenant's ("" is the default tenant).
func (s *Service) CreateBudget(ctx context.Context, tenant string, in BudgetInput) (Budget, error) {
	if tenant == "" {
		tenant = schema.DefaultTenant
	}
	b := Budget{Tenant: tenant}
	if details := applyBudget(&b, in, true, s.loc); details != nil {
		return Budget{}, domainerr.Invalid("invalid budget", details...)
	}
	b.ID = ids.New("bud_")
	b.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	b.UpdatedAt = b.CreatedAt
	s.budgetWrites.Lock()
	defer s.budgetWrites.Unlock()
	return b, s.saveLocked(ctx, b)
}

// UpdateBudget changes budget id: with full (PUT) in replaces every field,
// otherwise (PATCH) the fields present replace the stored ones. Errors as
// CreateBudget's, and a *domainerr.NotFoundError for no such budget.
func (s *Service) UpdateBudget(ctx context.Context, tenant, id string, in BudgetInput, full bool) (Budget, error) {
	s.budgetWrites.Lock()
	defer s.budgetWrites.Unlock()
	old, err := s.Budget(ctx, tenant, id)
	if err != nil {
		return Budget{}, err
	}
	b := old
	if full {
		b = Budget{ID: old.ID, Tenant: old.Tenant, CreatedAt: old.CreatedAt, version: old.version}
	}
	if details := applyBudget(&b, in, full, s.loc); details != nil {
		return Budget{}, domainerr.Invalid("invalid budget", details...)
	}
	b.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	return b, s.saveLocked(ctx, b)
}

// saveLocked refuses a name another live budget has, then writes b; the
// caller holds s.budgetWrites.
func (s *Service) saveLocked(ctx context.Context, b Budget) error {
	taken, err := s.nameTaken(ctx, b.Tenant, b.Name, b.ID)
	if err != nil {
		return fmt.Errorf("check budget name: %w", err)
	}
	if taken {
		return domainerr.Conflict("a budget named " + strconv.Quote(b.Name) + " already exists")
	}
	return s.writeBudget(ctx, b)
}

// DeleteBudget deletes budget id of tenant and returns it as it was; a
// *domainerr.NotFoundError for no such budget.
func (s *Service) DeleteBudget(ctx context.Context, tenant, id string) (Budget, error) {
	s.budgetWrites.Lock()
	defer s.budgetWrites.Unlock()
	b, err := s.Budget(ctx, tenant, id)
	if err != nil {
		return Budget{}, err
	}
	b.deleted = true
	b.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	return b, s.writeBudget(ctx, b)
}

// BudgetWarnings are what a person setting b should know although it is
// accepted: a blocking or warning budget whose scope no call of the last
// 30 days matches (a misspelt customer, a model name as the provider
// spells it otherwise) would never act.
func (s *Service) BudgetWarnings(ctx context.Context, b Budget) ([]string, error) {
	if b.Action != "block" && b.Action != "warn" {
		return nil, nil
	}
	now := time.Now()
	f := schema.Filter{Scope: b.scope(), From: now.Add(-30 * 24 * time.Hour), To: now}
	rows, err := s.costsBy(ctx, f, nil, "", schema.GrainDay, s.loc.String())
	if err != nil {
		return nil, fmt.Errorf("check the budget's scope: %w", err)
	}
	for _, r := range rows {
		if r.Calls > 0 {
			return nil, nil
		}
	}
	return []string{"no call of the last 30 days matches this budget's scope: check its values, or it will " + b.Action + " nothing"}, nil
}
