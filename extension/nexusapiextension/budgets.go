package nexusapiextension

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

func (a *api) budgetRoutes() {
	a.route("GET /api/v1/budgets", roleViewer, a.listBudgets)
	a.route("POST /api/v1/budgets", roleEditor, a.createBudget)
	a.route("GET /api/v1/budgets/{id}", roleViewer, a.getBudget)
	a.route("PUT /api/v1/budgets/{id}", roleEditor, a.replaceBudget)
	a.route("PATCH /api/v1/budgets/{id}", roleEditor, a.patchBudget)
	a.route("DELETE /api/v1/budgets/{id}", roleEditor, a.deleteBudget)
	a.route("GET /api/v1/budgets/{id}/status", roleViewer, a.getBudgetStatus)
}

// Budgets are read from the table (FINAL) on every request rather than
// cached: budgets are few, and with several collectors behind a load
// balancer a per-process cache would serve another instance's stale copy.

// Budget periods; calendar-aligned in the budget's time zone, weeks start
// on Monday.
var budgetPeriods = []string{"daily", "weekly", "monthly"}

var defaultThresholds = []int{50, 80, 100}

const (
	maxBudgetName  = 100
	maxThresholds  = 20
	maxScopeValue  = 200
	amountDecimals = 6 // the column is Decimal(18, 6)
)

// maxAmount is the first amount Decimal(18, 6) cannot hold.
var maxAmount = decimal.New(1, 12)

type budgetScope struct {
	Provider    string `json:"provider,omitempty"`
	Model       string `json:"model,omitempty"`
	Service     string `json:"service,omitempty"`
	Environment string `json:"environment,omitempty"`
}

type budget struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Scope      budgetScope `json:"scope"`
	Period     string      `json:"period"`
	Timezone   string      `json:"timezone"`
	AmountUSD  string      `json:"amountUsd"`
	Thresholds []int       `json:"thresholds"`
	CreatedAt  time.Time   `json:"createdAt"`
	UpdatedAt  time.Time   `json:"updatedAt"`
	amount     decimal.Decimal
	deleted    bool
	version    time.Time
}

// filters is the budget's scope as cost filters (a budget has no
// operation).
func (b budget) filters() filters {
	return filters{Provider: b.Scope.Provider, Model: b.Scope.Model, Service: b.Scope.Service, Environment: b.Scope.Environment}
}

// budgetInput is a request body. Pointers and the raw amount tell a field
// sent from one left out, which PATCH needs.
type budgetInput struct {
	Name       *string           `json:"name"`
	Scope      *budgetScopeInput `json:"scope"`
	Period     *string           `json:"period"`
	Timezone   *string           `json:"timezone"`
	AmountUSD  json.RawMessage   `json:"amountUsd"`
	Thresholds *[]int            `json:"thresholds"`
}

type budgetScopeInput struct {
	Provider    *string `json:"provider"`
	Model       *string `json:"model"`
	Service     *string `json:"service"`
	Environment *string `json:"environment"`
}

// loadBudgets checks at start that the budgets table answers, so that a
// broken schema fails the collector's start rather than the first request.
// Budgets themselves are read per request (see above).
func (a *api) loadBudgets(ctx context.Context) error {
	if _, err := a.readBudgets(ctx, ""); err != nil {
		return fmt.Errorf("load budgets: %w", err)
	}
	return nil
}

// readBudgets reads the latest version of every budget, or of the one
// with id, deleted ones included. Deleted rows are filtered here rather
// than in SQL: a WHERE on a non-key column is not guaranteed to apply
// after FINAL's replacement.
func (a *api) readBudgets(ctx context.Context, id string) ([]budget, error) {
	q := "SELECT id, name, provider, model, service, environment, period, timezone, amount_usd, " +
		"CAST(thresholds AS Array(UInt64)), created_at, updated_at, deleted, version FROM " + a.store.Database() + ".budgets FINAL"
	params := map[string]string{}
	if id != "" {
		q += " WHERE id = {id:String}"
		params["id"] = id
	}
	rows, err := a.store.Query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []budget
	for rows.Next() {
		var b budget
		var th []uint64
		if err := rows.Scan(&b.ID, &b.Name, &b.Scope.Provider, &b.Scope.Model, &b.Scope.Service, &b.Scope.Environment,
			&b.Period, &b.Timezone, &b.amount, &th, &b.CreatedAt, &b.UpdatedAt, &b.deleted, &b.version); err != nil {
			return nil, err
		}
		b.AmountUSD = money(b.amount)
		b.Thresholds = make([]int, len(th))
		for i, t := range th {
			b.Thresholds[i] = int(t)
		}
		b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// liveBudgets are the budgets not deleted, oldest first.
func (a *api) liveBudgets(ctx context.Context) ([]budget, error) {
	all, err := a.readBudgets(ctx, "")
	if err != nil {
		return nil, err
	}
	return live(all, func(b budget) bool { return b.deleted },
		func(b budget) (time.Time, string) { return b.CreatedAt, b.ID }), nil
}

// findBudget is the live budget of the request's {id}.
func (a *api) findBudget(r *http.Request) (budget, *APIError) {
	id := r.PathValue("id")
	found, err := a.readBudgets(r.Context(), id)
	if err != nil {
		return budget{}, a.storeError(r, "read budget", err)
	}
	if len(found) == 0 || found[0].deleted {
		return budget{}, notFound("no budget " + id)
	}
	return found[0], nil
}

func (a *api) writeBudget(ctx context.Context, b budget) error {
	batch, err := a.store.PrepareBatch(ctx, "budgets", []string{"id", "name", "provider", "model", "service", "environment",
		"period", "timezone", "amount_usd", "thresholds", "created_at", "updated_at", "deleted", "version"})
	if err != nil {
		return err
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
	if err := batch.Append(b.ID, b.Name, b.Scope.Provider, b.Scope.Model, b.Scope.Service, b.Scope.Environment,
		b.Period, b.Timezone, b.amount, th, b.CreatedAt, b.UpdatedAt, b.deleted, v); err != nil {
		_ = batch.Abort()
		return err
	}
	return batch.Send(ctx)
}

// --- validation ---

func validText(v string, limit int) bool {
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
	case d.Cmp(maxAmount) >= 0:
		return decimal.Zero, "must be less than 1000000000000"
	}
	return d, ""
}

// apply validates in and applies it to b. With full (POST, PUT), b starts
// empty and the required fields must be present; otherwise (PATCH) the
// fields present replace b's. Every bad field is named.
func (a *api) applyBudget(b *budget, in budgetInput, full bool) []FieldError {
	var details []FieldError
	bad := func(field, msg string) { details = append(details, FieldError{Field: field, Message: msg}) }

	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || !validText(name, maxBudgetName) {
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
		} {
			if f.in == nil {
				continue
			}
			if !validText(*f.in, maxScopeValue) {
				bad(f.name, "at most 200 printable characters")
			}
			*f.out = *f.in
		}
	}

	if in.Period != nil {
		if oneOf("period", *in.Period, budgetPeriods) != nil {
			bad("period", "must be one of "+strings.Join(budgetPeriods, ", "))
		}
		b.Period = *in.Period
	} else if full {
		bad("period", "required: one of "+strings.Join(budgetPeriods, ", "))
	}

	switch {
	case in.Timezone != nil && *in.Timezone != "":
		// "Local" would mean whatever zone the collector's host has.
		if _, err := time.LoadLocation(*in.Timezone); err != nil || *in.Timezone == "Local" {
			bad("timezone", "must be an IANA time zone name, e.g. Europe/Paris")
		}
		b.Timezone = *in.Timezone
	case in.Timezone != nil || full:
		b.Timezone = a.loc.String()
	}

	if in.AmountUSD != nil {
		d, msg := parseAmount(in.AmountUSD)
		if msg != "" {
			bad("amountUsd", msg)
		}
		b.amount, b.AmountUSD = d, money(d)
	} else if full {
		bad("amountUsd", "required: a decimal amount in dollars greater than 0")
	}

	switch {
	case in.Thresholds != nil:
		th := append([]int(nil), *in.Thresholds...)
		if len(th) == 0 || len(th) > maxThresholds {
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

// nameTaken tells whether a live budget other than id has name (names
// compare without case: "OpenAI monthly" and "openai monthly" are the
// same budget to a reader).
func (a *api) nameTaken(ctx context.Context, name, id string) (bool, error) {
	live, err := a.liveBudgets(ctx)
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

// --- handlers ---

func (a *api) listBudgets(w http.ResponseWriter, r *http.Request) *APIError {
	pg, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	live, err := a.liveBudgets(r.Context())
	if err != nil {
		return a.storeError(r, "list budgets", err)
	}
	if live == nil {
		live = []budget{}
	}
	writeData(w, http.StatusOK, paginate(live, pg), pg.of(int64(len(live))))
	return nil
}

func (a *api) getBudget(w http.ResponseWriter, r *http.Request) *APIError {
	b, apiErr := a.findBudget(r)
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, b, nil)
	return nil
}

func (a *api) createBudget(w http.ResponseWriter, r *http.Request) *APIError {
	var in budgetInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	var b budget
	if details := a.applyBudget(&b, in, true); details != nil {
		return badRequest("invalid budget", details...)
	}
	b.ID = newID("bud_")
	b.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	b.UpdatedAt = b.CreatedAt
	return a.saveBudget(w, r, b, http.StatusCreated)
}

func (a *api) replaceBudget(w http.ResponseWriter, r *http.Request) *APIError {
	return a.updateBudget(w, r, true)
}

func (a *api) patchBudget(w http.ResponseWriter, r *http.Request) *APIError {
	return a.updateBudget(w, r, false)
}

// updateBudget is PUT (full: the body replaces every field) and PATCH
// (the fields present replace the stored ones).
func (a *api) updateBudget(w http.ResponseWriter, r *http.Request, full bool) *APIError {
	var in budgetInput
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	a.budgetWrites.Lock()
	defer a.budgetWrites.Unlock()
	old, apiErr := a.findBudget(r)
	if apiErr != nil {
		return apiErr
	}
	b := old
	if full {
		b = budget{ID: old.ID, CreatedAt: old.CreatedAt, version: old.version}
	}
	if details := a.applyBudget(&b, in, full); details != nil {
		return badRequest("invalid budget", details...)
	}
	b.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	return a.saveBudgetLocked(w, r, b, http.StatusOK)
}

func (a *api) saveBudget(w http.ResponseWriter, r *http.Request, b budget, status int) *APIError {
	a.budgetWrites.Lock()
	defer a.budgetWrites.Unlock()
	return a.saveBudgetLocked(w, r, b, status)
}

// saveBudgetLocked refuses a name another live budget has, then writes b;
// the caller holds a.budgetWrites.
func (a *api) saveBudgetLocked(w http.ResponseWriter, r *http.Request, b budget, status int) *APIError {
	taken, err := a.nameTaken(r.Context(), b.Name, b.ID)
	if err != nil {
		return a.storeError(r, "check budget name", err)
	}
	if taken {
		return conflict("a budget named " + strconv.Quote(b.Name) + " already exists")
	}
	if err := a.writeBudget(r.Context(), b); err != nil {
		return a.storeError(r, "write budget", err)
	}
	writeData(w, status, b, nil)
	return nil
}

func (a *api) deleteBudget(w http.ResponseWriter, r *http.Request) *APIError {
	a.budgetWrites.Lock()
	defer a.budgetWrites.Unlock()
	b, apiErr := a.findBudget(r)
	if apiErr != nil {
		return apiErr
	}
	b.deleted = true
	b.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := a.writeBudget(r.Context(), b); err != nil {
		return a.storeError(r, "delete budget", err)
	}
	writeData(w, http.StatusOK, b, nil)
	return nil
}

// --- status ---

// periodBounds is the calendar period of now in loc: today, this week
// (from Monday) or this month, from local midnight to local midnight.
func periodBounds(period string, now time.Time, loc *time.Location) (start, end time.Time) {
	local := now.In(loc)
	y, m, d := local.Date()
	switch period {
	case "daily":
		return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	case "weekly":
		back := (int(local.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc), time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
	}
	return time.Date(y, m, 1, 0, 0, 0, 0, loc), time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
}

type budgetStatus struct {
	BudgetID    string `json:"budgetId"`
	Name        string `json:"name"`
	Period      string `json:"period"`
	Timezone    string `json:"timezone"`
	PeriodStart string `json:"periodStart"`
	PeriodEnd   string `json:"periodEnd"`
	AsOf        string `json:"asOf"`
	AmountUSD   string `json:"amountUsd"`
	Spent       string `json:"spent"`
	Remaining   string `json:"remaining"`
	// PercentUsed is rounded to 2 decimals for display; thresholdsCrossed
	// compares exactly.
	PercentUsed           float64    `json:"percentUsed"`
	ElapsedDays           string     `json:"elapsedDays"`
	BurnRatePerDay        string     `json:"burnRatePerDay"`
	Forecast              string     `json:"forecast"`
	ForecastExceedsAmount bool       `json:"forecastExceedsAmount"`
	Thresholds            []int      `json:"thresholds"`
	ThresholdsCrossed     []int      `json:"thresholdsCrossed"`
	ForecastDetail        projection `json:"forecastDetail"`
}

// budgetStatusAt is where b stands at now: spend of its current period,
// burn rate, and the forecast at the period's end (project over the
// period's complete days, falling back to the burn rate). Days are
// calendar days in the budget's zone: elapsed + remaining days is the
// period's length in days.
func (a *api) budgetStatusAt(ctx context.Context, b budget, now time.Time) (budgetStatus, error) {
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return budgetStatus{}, fmt.Errorf("budget %s: time zone: %w", b.ID, err)
	}
	start, end := periodBounds(b.Period, now, loc)
	c := newCalendar(now, loc)
	by, err := a.dailyCosts(ctx, b.filters(), start, now, loc)
	if err != nil {
		return budgetStatus{}, err
	}
	spent := decimal.Zero
	for _, agg := range by {
		spent = spent.Add(agg.Cost)
	}
	elapsed := new(big.Rat).Sub(big.NewRat(int64(daysBetween(start, c.todayStart, loc)+1), 1), c.todayLeft)
	burn := new(big.Rat)
	if elapsed.Sign() > 0 {
		burn.Quo(spent.Rat(), elapsed)
	}
	proj := project(trimLeading(dailySeries(by, start, c.todayStart, loc)), c, end, methodBurnRate, burn)
	proj.Formula = ""
	forecast := new(big.Rat).Add(spent.Rat(), proj.remaining)

	hundred := decimal.NewFromInt(100)
	pct, _ := spent.Mul(hundred).Div(b.amount).Float64()
	crossed := []int{}
	for _, t := range b.Thresholds {
		if spent.Mul(hundred).Cmp(b.amount.Mul(decimal.NewFromInt(int64(t)))) >= 0 {
			crossed = append(crossed, t)
		}
	}
	return budgetStatus{
		BudgetID: b.ID, Name: b.Name, Period: b.Period, Timezone: b.Timezone,
		PeriodStart: start.Format(time.RFC3339), PeriodEnd: end.Format(time.RFC3339), AsOf: now.In(loc).Format(time.RFC3339Nano),
		AmountUSD: b.AmountUSD, Spent: money(spent), Remaining: money(b.amount.Sub(spent)),
		PercentUsed:           math.Round(pct*100) / 100,
		ElapsedDays:           elapsed.FloatString(6),
		BurnRatePerDay:        burn.FloatString(6),
		Forecast:              forecast.FloatString(6),
		ForecastExceedsAmount: forecast.Cmp(b.amount.Rat()) > 0,
		Thresholds:            b.Thresholds, ThresholdsCrossed: crossed,
		ForecastDetail: proj,
	}, nil
}

func (a *api) getBudgetStatus(w http.ResponseWriter, r *http.Request) *APIError {
	b, apiErr := a.findBudget(r)
	if apiErr != nil {
		return apiErr
	}
	st, err := a.budgetStatusAt(r.Context(), b, time.Now())
	if err != nil {
		return a.costError(r, "budget status", "period", err)
	}
	writeData(w, http.StatusOK, st, nil)
	return nil
}
