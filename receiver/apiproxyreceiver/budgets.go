package apiproxyreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/budgetevents"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/spend"
	"github.com/nexus-otel/nexus/internal/spendguard"
	"github.com/nexus-otel/nexus/internal/store"
)

// BudgetsConfig has the proxy enforce the budgets whose action is warn or
// block (internal/spendguard): a call in a blocking budget's scope that
// would take its spend past the amount is refused before it reaches the
// provider; a call in a warning budget's scope passes with headers telling
// what is left.
type BudgetsConfig struct {
	// Enforce turns enforcement on.
	Enforce bool `mapstructure:"enforce"`
	// Store is the chstore extension the budgets and their spend are read
	// from.
	Store component.ID `mapstructure:"store"`
	// Refresh is how often the budgets and their spend are read again:
	// other collectors' and instrumented apps' spend reaches this proxy's
	// counters at this pace.
	Refresh time.Duration `mapstructure:"refresh"`
	// IngestLag is the longest a call takes from its answer to the store
	// (exporter batching and queue): settlements that recent stay counted
	// on top of the store's figure.
	IngestLag time.Duration `mapstructure:"ingest_lag"`
	// DefaultMaxOutputTokens is the output a call is assumed to be able to
	// produce when its request sets no max_tokens (or its kin).
	DefaultMaxOutputTokens int64 `mapstructure:"default_max_output_tokens"`
	// LiveFeed names the extension (nexusapi) whose live stream shows
	// each refusal and warning as it happens; nil for none.
	LiveFeed *component.ID `mapstructure:"live_feed"`
	// UnpricedWorstCaseUSD is the worst case reserved for a call the
	// catalog cannot price before it is made (an unknown model, a provider
	// priced per operation).
	UnpricedWorstCaseUSD string `mapstructure:"unpriced_worst_case_usd"`
}

func defaultBudgetsConfig() BudgetsConfig {
	return BudgetsConfig{Store: component.MustNewID("chstore"), Refresh: 5 * time.Second, IngestLag: 30 * time.Second,
		DefaultMaxOutputTokens: 4096, UnpricedWorstCaseUSD: "0.05"}
}

// Validate checks the enforcement settings.
func (c *BudgetsConfig) Validate() error {
	var errs []error
	if c.Refresh < 100*time.Millisecond || c.Refresh > time.Hour {
		errs = append(errs, fmt.Errorf("budgets.refresh: %s is outside 100ms–1h", c.Refresh))
	}
	if c.IngestLag < 0 || c.IngestLag > time.Hour {
		errs = append(errs, fmt.Errorf("budgets.ingest_lag: %s is outside 0–1h", c.IngestLag))
	}
	if c.DefaultMaxOutputTokens < 1 || c.DefaultMaxOutputTokens > 10_000_000 {
		errs = append(errs, fmt.Errorf("budgets.default_max_output_tokens: %d is outside 1–10,000,000", c.DefaultMaxOutputTokens))
	}
	if d, err := decimal.NewFromString(c.UnpricedWorstCaseUSD); err != nil || d.IsNegative() || d.Exponent() < -pricing.Scale {
		errs = append(errs, fmt.Errorf("budgets.unpriced_worst_case_usd: %q is not an amount of dollars ≥ 0 with at most %d decimals",
			c.UnpricedWorstCaseUSD, pricing.Scale))
	}
	return errors.Join(errs...)
}

// enforcer is the proxy's side of the guard: it keeps the guard's budgets
// and spend current, and decides each call.
type enforcer struct {
	cfg      BudgetsConfig
	guard    *spendguard.Guard
	spend    *spend.Service
	catalog  *pricing.Catalog
	unpriced decimal.Decimal
	logger   *zap.Logger
	// tenants with warn or block budgets: a call of another tenant is
	// not held up reading its body.
	mu      sync.RWMutex
	tenants map[string]bool
	stop    context.CancelFunc
	done    chan struct{}
	// events stores each block and warn (internal/budgetevents); feed,
	// when set, shows them live.
	events *budgetevents.Writer
	feed   *livefeed.Hub
}

func newEnforcer(cfg BudgetsConfig, s store.Store, logger *zap.Logger) (*enforcer, error) {
	cat, err := pricing.Default()
	if err != nil {
		return nil, fmt.Errorf("load the pricing catalog: %w", err)
	}
	return &enforcer{cfg: cfg, guard: spendguard.New(cfg.IngestLag), spend: spend.New(s, time.UTC, 30*time.Second),
		catalog: cat, unpriced: decimal.RequireFromString(cfg.UnpricedWorstCaseUSD), logger: logger, tenants: map[string]bool{},
		events: budgetevents.NewWriter(s, logger)}, nil
}

// start reads the budgets once, then again every Refresh until stopped.
// A failed read keeps the last budgets: enforcement goes on with spend
// that much older.
func (e *enforcer) start(ctx context.Context) {
	if err := e.refresh(ctx); err != nil {
		e.logger.Warn("budgets could not be read at start: none is enforced until they are", zap.Error(err))
	}
	bg, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		t := time.NewTicker(e.cfg.Refresh)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				// Bounded: a store that hangs must not hold shutdown.
				rctx, cancel := context.WithTimeout(bg, max(10*time.Second, e.cfg.Refresh))
				err := e.refresh(rctx)
				cancel()
				if err != nil && bg.Err() == nil {
					e.logger.Warn("budgets could not be read: enforcing the last ones read", zap.Error(err))
				}
			}
		}
	}()
}

func (e *enforcer) shutdown(ctx context.Context) {
	if e.stop != nil {
		e.stop()
		<-e.done
	}
	e.events.Close(ctx)
}

// refresh reads every tenant's warn and block budgets and their spend in
// the current period.
func (e *enforcer) refresh(ctx context.Context) error {
	all, err := e.spend.Budgets(ctx, "")
	if err != nil {
		return fmt.Errorf("read budgets: %w", err)
	}
	type read struct {
		b      spendguard.Budget
		spent  decimal.Decimal
		readAt time.Time
	}
	var reads []read
	tenants := map[string]bool{}
	for _, b := range all {
		if b.Action != string(spendguard.Warn) && b.Action != string(spendguard.Block) {
			continue
		}
		readAt := time.Now()
		st, err := e.spend.BudgetStatusAt(ctx, b, readAt)
		if err != nil {
			return fmt.Errorf("read the spend of budget %s: %w", b.ID, err)
		}
		start, err1 := time.Parse(time.RFC3339, st.PeriodStart)
		end, err2 := time.Parse(time.RFC3339, st.PeriodEnd)
		spent, err3 := decimal.NewFromString(st.Spent)
		if err := errors.Join(err1, err2, err3); err != nil {
			return fmt.Errorf("read the status of budget %s: %w", b.ID, err)
		}
		tk, tv := "", ""
		if b.Scope.Tag != nil {
			tk, tv = b.Scope.Tag.Key, b.Scope.Tag.Value
		}
		reads = append(reads, read{b: spendguard.Budget{ID: b.ID, Tenant: b.Tenant, Name: b.Name, Action: spendguard.Action(b.Action),
			Amount: b.Amount(), Start: start, End: end, Scope: spendguard.Scope{Provider: b.Scope.Provider, Model: b.Scope.Model,
				Service: b.Scope.Service, Environment: b.Scope.Environment, Customer: b.Scope.Customer, User: b.Scope.User,
				Team: b.Scope.Team, Feature: b.Scope.Feature, TagKey: tk, TagValue: tv}}, spent: spent, readAt: readAt})
		tenants[b.Tenant] = true
	}
	bs := make([]spendguard.Budget, len(reads))
	for i, r := range reads {
		bs[i] = r.b
	}
	e.guard.SetBudgets(bs)
	for _, r := range reads {
		e.guard.Reconcile(r.b.Tenant, r.b.ID, r.spent, r.readAt)
	}
	e.mu.Lock()
	e.tenants = tenants
	e.mu.Unlock()
	return nil
}

// guarded tells whether a call of tenant may meet a warn or block budget.
func (e *enforcer) guarded(tenant string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.tenants[tenant]
}

// tenantOf is the tenant the caller's ingest key proved, else the default.
func tenantOf(info client.Info) string {
	if info.Auth != nil {
		if t, ok := info.Auth.GetAttribute(semconv.AuthTenant).(string); ok && t != "" {
			return t
		}
	}
	return schema.DefaultTenant
}

// worstCase is the most a call with this body can cost: every byte of the
// body an input token (a token is at least one byte of its text, and the
// JSON around it only adds bytes), and its output limit (or the default)
// for each choice it asks for, at the catalog's price now. What the
// catalog cannot price reserves UnpricedWorstCaseUSD. A body that is not
// JSON has no limits: the defaults hold.
func (e *enforcer) worstCase(provider string, req *requestDoc, body []byte) decimal.Decimal {
	out := e.cfg.DefaultMaxOutputTokens
	for _, v := range [...]int64{req.maxCompletionTokens, req.maxOutputTokens, req.maxTokens} {
		if v > 0 {
			out = v
			break
		}
	}
	if req.n > 1 && req.n <= 128 {
		out *= req.n
	}
	var u pricing.Usage
	u[pricing.InputTokens], u[pricing.OutputTokens] = int64(len(body)), out
	r := e.catalog.Price(provider, req.model, "", "", time.Now(), &u)
	if r.Status != pricing.Computed {
		return e.unpriced
	}
	return decimal.New(int64(r.Cost), -pricing.Scale)
}

// actualCost is what a finished call cost as far as the proxy can tell:
// the provider's reported cost, else the catalog's price of its usage;
// ok false when neither is known.
func (e *enforcer) actualCost(provider, model string, res *result) (decimal.Decimal, bool) {
	if res.cost != "" {
		if d, err := decimal.NewFromString(res.cost); err == nil && !d.IsNegative() {
			return d, true
		}
	}
	if !res.hasTokens {
		return decimal.Zero, false
	}
	if res.model != "" {
		model = res.model
	}
	var u pricing.Usage
	u[pricing.InputTokens], u[pricing.OutputTokens], u[pricing.CachedInputTokens] = res.input, res.output, res.cacheRead
	r := e.catalog.Price(provider, model, "", "", time.Now(), &u)
	if r.Status != pricing.Computed {
		return decimal.Zero, false
	}
	return decimal.New(int64(r.Cost), -pricing.Scale), true
}

// budgetExceeded answers a refused call in OpenAI's error shape with a
// status the SDKs do not retry (402), naming the budget.
func budgetExceeded(w http.ResponseWriter, st *spendguard.Status) {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": fmt.Sprintf("budget %q (%s) has $%s left of $%s: this call could cost more, so Nexus refused it before it reached the provider",
			st.Name, st.BudgetID, st.Remaining.String(), st.Amount.String()),
		"type": "budget_exceeded", "code": "budget_exceeded", "param": nil,
	}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(headerProxyError, "budget_exceeded")
	h.Set("X-Should-Retry", "false")
	h.Set(headerBudget, st.BudgetID)
	w.WriteHeader(http.StatusPaymentRequired)
	_, _ = w.Write(body)
}

// Headers a guarded call's answer carries.
const (
	headerBudget          = "X-Nexus-Budget"
	headerBudgetRemaining = "X-Nexus-Budget-Remaining"
)

// warnHeaders tell a passing call what its warning budgets have left
// (the tightest first is enough for a client to act on).
func warnHeaders(h http.Header, ws []spendguard.Status) {
	if len(ws) == 0 {
		return
	}
	tight := ws[0]
	for _, s := range ws[1:] {
		if s.Remaining.LessThan(tight.Remaining) {
			tight = s
		}
	}
	h.Set(headerBudget, tight.BudgetID)
	h.Set(headerBudgetRemaining, tight.Remaining.String())
}

// guardCall is a call's view for the guard.
func guardCall(tenant, provider, model, service string, w *who) spendguard.Call {
	c := spendguard.Call{Tenant: tenant, Provider: provider, Model: strings.ToLower(model), Service: service,
		Customer: w.dims[0], User: w.dims[1], Team: w.dims[2], Feature: w.dims[3]}
	if len(w.tags) > 0 {
		c.Tags = make(map[string]string, len(w.tags))
		for _, t := range w.tags {
			c.Tags[t.name] = t.value
		}
	}
	return c
}
