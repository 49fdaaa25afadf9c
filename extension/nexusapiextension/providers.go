package nexusapiextension

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	provider "github.com/nexus-otel/nexus/internal/providers"
	providerclient "github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/store"
)

// providerTestTimeout bounds a manual key check: a caller is waiting on the
// answer, and a provider that has not answered in 10 s is reported as a
// timeout rather than left hanging.
const providerTestTimeout = 10 * time.Second

// Gauge names as the nexus exporter stores them in provider_gauges: the
// rate-limit pair is named by the exporter (exporter/nexusexporter/
// metrics.go), the money figures by the provider clients (OpenRouter's /key
// and /credits, Twilio's Balance.json in internal/providerclient).
const (
	gaugeRateLimitLimit     = "ratelimit_limit"
	gaugeRateLimitRemaining = "ratelimit_remaining"
)

// balanceGauges are the money figures a provider reports about what is
// left to spend; usage_usd is spend, not balance, and is left out.
var balanceGauges = []string{"balance_usd", "credits_total_usd", "credits_used_usd", "limit_usd", "remaining_usd"}

// classOK is what provider_health stores for a passed check (the receiver
// writes the same), so that class is never empty in the history.
const classOK = "ok"

func (a *api) providerRoutes() {
	a.route("GET /api/v1/providers", roleViewer, a.listProviders)
	a.route("POST /api/v1/providers/{name}/test", roleEditor, a.testProvider)
}

// providerHealth is a provider's latest key check.
type providerHealth struct {
	LastCheck string `json:"lastCheck"`
	Up        bool   `json:"up"`
	Class     string `json:"class"`
	// HTTPStatus is null when the check got no answer at all.
	HTTPStatus *int    `json:"httpStatus"`
	LatencyMs  float64 `json:"latencyMs"`
	Message    string  `json:"message"`
}

// providerRateLimit is the headroom of one rate-limit window.
type providerRateLimit struct {
	Scope    string `json:"scope"`
	Endpoint string `json:"endpoint"`
	// Limit and Remaining are null when the provider did not announce them.
	Limit     *int64 `json:"limit"`
	Remaining *int64 `json:"remaining"`
	// Headroom is remaining/limit (0–1); null unless both are known.
	Headroom *float64 `json:"headroom"`
	At       string   `json:"at"`
}

// providerGauge is a money figure the provider reported.
type providerGauge struct {
	Name    string `json:"name"`
	Window  string `json:"window"`
	Account string `json:"account"`
	Value   string `json:"value"`
	At      string `json:"at"`
}

// providerSpend is money spent on the provider in the API's time zone.
type providerSpend struct {
	// TodayUSD and MonthToDateUSD are the cost Nexus computed from calls;
	// unpriced calls are not in them and are counted instead.
	TodayUSD                 string `json:"todayUsd"`
	MonthToDateUSD           string `json:"monthToDateUsd"`
	UnpricedCallsToday       uint64 `json:"unpricedCallsToday"`
	UnpricedCallsMonthToDate uint64 `json:"unpricedCallsMonthToDate"`
	// BilledMonthToDateUSD is what the provider itself reports billing;
	// null when it reports no cost.
	BilledMonthToDateUSD *string `json:"billedMonthToDateUsd"`
}

type providerStatus struct {
	Name       string              `json:"name"`
	Configured bool                `json:"configured"`
	Health     *providerHealth     `json:"health"`
	RateLimits []providerRateLimit `json:"rateLimits"`
	Balances   []providerGauge     `json:"balances"`
	Spend      providerSpend       `json:"spend"`
}

func (a *api) listProviders(w http.ResponseWriter, r *http.Request) *APIError {
	out := make([]*providerStatus, 0, len(provider.All))
	byName := map[string]*providerStatus{}
	for _, p := range provider.All {
		s := &providerStatus{Name: p.Name, Configured: a.cfg.Providers.Configured(p.Name),
			RateLimits: []providerRateLimit{}, Balances: []providerGauge{},
			Spend: providerSpend{TodayUSD: "0", MonthToDateUSD: "0"}}
		out = append(out, s)
		byName[p.Name] = s
	}
	ctx := r.Context()
	if err := a.readHealth(ctx, byName); err != nil {
		return a.storeError(r, "read provider health", err)
	}
	if err := a.readGauges(ctx, byName); err != nil {
		return a.storeError(r, "read provider gauges", err)
	}
	today, tomorrow, month := a.calendar(time.Now())
	if err := a.readSpend(ctx, byName, today, tomorrow, month); err != nil {
		return a.storeError(r, "read provider spend", err)
	}
	if err := a.readBilled(ctx, byName, today, month); err != nil {
		return a.storeError(r, "read provider billed cost", err)
	}
	writeData(w, http.StatusOK, out, nil)
	return nil
}

// readHealth fills each provider's latest check. LIMIT 1 BY rather than
// argMax per column: every field then comes from the same row even when two
// checks share a timestamp.
func (a *api) readHealth(ctx context.Context, byName map[string]*providerStatus) error {
	rows, err := a.store.Query(ctx, "SELECT provider, ts, up, class, http_status, latency_ms, message FROM "+
		a.store.Database()+".provider_health ORDER BY provider, ts DESC LIMIT 1 BY provider", nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var ts time.Time
		var status uint16
		h := &providerHealth{}
		if err := rows.Scan(&name, &ts, &h.Up, &h.Class, &status, &h.LatencyMs, &h.Message); err != nil {
			return err
		}
		if s, ok := byName[name]; ok {
			h.LastCheck = ts.UTC().Format(time.RFC3339Nano)
			h.HTTPStatus = optionalStatus(int(status))
			h.Message = a.cfg.Providers.Redact(h.Message)
			s.Health = h
		}
	}
	return rows.Err()
}

// readGauges fills the latest rate limits and money figures. Rate limits
// pair the latest limit with the latest remaining of the same window.
func (a *api) readGauges(ctx context.Context, byName map[string]*providerStatus) error {
	names := append([]string{gaugeRateLimitLimit, gaugeRateLimitRemaining}, balanceGauges...)
	params := store.Params{"names": stringArrayParam(names)}
	rows, err := a.store.Query(ctx, "SELECT provider, account, name, `window`, scope, endpoint, argMax(value, ts), max(ts) FROM "+
		a.store.Database()+".provider_gauges WHERE name IN {names:Array(String)}"+
		" GROUP BY provider, account, name, `window`, scope, endpoint"+
		" ORDER BY provider, scope, endpoint, name, `window`, account", params)
	if err != nil {
		return err
	}
	defer rows.Close()
	type window struct{ provider, scope, endpoint string }
	type pair struct {
		rl providerRateLimit
		at time.Time
	}
	var order []window
	limits := map[window]*pair{}
	for rows.Next() {
		var prov, account, name, win, scope, endpoint string
		var value decimal.Decimal
		var ts time.Time
		if err := rows.Scan(&prov, &account, &name, &win, &scope, &endpoint, &value, &ts); err != nil {
			return err
		}
		s, ok := byName[prov]
		if !ok {
			continue
		}
		if name != gaugeRateLimitLimit && name != gaugeRateLimitRemaining {
			s.Balances = append(s.Balances, providerGauge{Name: name, Window: win, Account: account,
				Value: value.String(), At: ts.UTC().Format(time.RFC3339Nano)})
			continue
		}
		k := window{prov, scope, endpoint}
		p, ok := limits[k]
		if !ok {
			p = &pair{rl: providerRateLimit{Scope: scope, Endpoint: endpoint}}
			limits[k] = p
			order = append(order, k)
		}
		n := value.IntPart()
		if name == gaugeRateLimitLimit {
			p.rl.Limit = &n
		} else {
			p.rl.Remaining = &n
		}
		if ts.After(p.at) {
			p.at = ts
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range order {
		p := limits[k]
		p.rl.Headroom = rateHeadroom(p.rl.Limit, p.rl.Remaining)
		p.rl.At = p.at.UTC().Format(time.RFC3339Nano)
		byName[k.provider].RateLimits = append(byName[k.provider].RateLimits, p.rl)
	}
	return nil
}

// calendar is the start of now's day, of the next day and of its month in
// the API's time zone.
func (a *api) calendar(now time.Time) (today, tomorrow, month time.Time) {
	now = now.In(a.loc)
	today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, a.loc)
	return today, today.AddDate(0, 0, 1), time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, a.loc)
}

// readSpend fills today's and the month's spend as computed from calls.
func (a *api) readSpend(ctx context.Context, byName map[string]*providerStatus, today, tomorrow, month time.Time) error {
	// The hour rollup is exact when the zone's midnights fall on UTC hours
	// (every whole-hour offset); a zone such as UTC+5:30 needs the minute
	// rollup, or a boundary would cut through an hour bucket.
	table := "api_calls_1h"
	for _, t := range []time.Time{today, tomorrow, month} {
		if !t.Truncate(time.Hour).Equal(t) {
			table = "api_calls_1m"
		}
	}
	const layout = "2006-01-02 15:04:05"
	params := store.Params{
		"month":    month.UTC().Format(layout),
		"today":    today.UTC().Format(layout),
		"tomorrow": tomorrow.UTC().Format(layout),
	}
	rows, err := a.store.Query(ctx, "SELECT provider,"+
		" sumIf(cost_usd, ts >= {today:DateTime('UTC')}), sum(cost_usd),"+
		" sumIf(unpriced, ts >= {today:DateTime('UTC')}), sum(unpriced)"+
		" FROM "+a.store.Database()+"."+table+
		" WHERE ts >= {month:DateTime('UTC')} AND ts < {tomorrow:DateTime('UTC')} GROUP BY provider", params)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var day, mtd decimal.Decimal
		var unpricedDay, unpricedMonth uint64
		if err := rows.Scan(&name, &day, &mtd, &unpricedDay, &unpricedMonth); err != nil {
			return err
		}
		if s, ok := byName[name]; ok {
			s.Spend.TodayUSD, s.Spend.MonthToDateUSD = day.String(), mtd.String()
			s.Spend.UnpricedCallsToday, s.Spend.UnpricedCallsMonthToDate = unpricedDay, unpricedMonth
		}
	}
	return rows.Err()
}

// readBilled fills the month's cost as the providers bill it. Providers bill
// by their own (UTC) days, so a billed bucket belongs to the month of its
// date label, not to the instant it starts in this zone: otherwise west of
// UTC the month's first day would never count.
func (a *api) readBilled(ctx context.Context, byName map[string]*providerStatus, today, month time.Time) error {
	rows, err := a.store.Query(ctx, "SELECT provider, sum(value) FROM "+a.store.Database()+".provider_usage FINAL"+
		" WHERE kind = 'cost_usd' AND toDate(bucket_start) >= {month:Date} AND toDate(bucket_start) <= {today:Date}"+
		" GROUP BY provider", store.Params{"month": month.Format("2006-01-02"), "today": today.Format("2006-01-02")})
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var billed decimal.Decimal
		if err := rows.Scan(&name, &billed); err != nil {
			return err
		}
		if s, ok := byName[name]; ok {
			v := billed.String()
			s.Spend.BilledMonthToDateUSD = &v
		}
	}
	return rows.Err()
}

// providerTest is the outcome of a manual key check.
type providerTest struct {
	Provider   string              `json:"provider"`
	Up         bool                `json:"up"`
	Class      string              `json:"class"`
	HTTPStatus *int                `json:"httpStatus"`
	LatencyMs  float64             `json:"latencyMs"`
	Message    string              `json:"message"`
	RateLimits []providerRateLimit `json:"rateLimits"`
	CheckedAt  string              `json:"checkedAt"`
}

func (a *api) testProvider(w http.ResponseWriter, r *http.Request) *APIError {
	name := r.PathValue("name")
	if _, ok := provider.Lookup(name); !ok {
		known := make([]string, 0, len(provider.All))
		for _, p := range provider.All {
			known = append(known, p.Name)
		}
		return notFound(fmt.Sprintf("no provider %q; known providers: %s", name, strings.Join(known, ", ")))
	}
	if !a.cfg.Providers.Configured(name) {
		return conflict(name + " is not configured: set its credentials under providers." + name +
			" in the nexusapi extension's config to test it")
	}
	spec, err := a.cfg.Providers.Poller(r.Context(), a.host, a.set.TelemetrySettings, name)
	if err != nil {
		a.logger.Error("cannot build the provider client for a key check", zap.String("request_id", requestID(r)),
			zap.String("provider", name), zap.Error(err))
		return internal()
	}
	// Built for this one call: its idle connections would otherwise linger.
	defer spec.HTTP.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(r.Context(), providerTestTimeout)
	defer cancel()
	checkedAt := time.Now().UTC().Truncate(time.Millisecond)
	ch := spec.Poller.Check(ctx)
	ch.Message = a.cfg.Providers.Redact(ch.Message)
	if ch.Class == "" {
		ch.Class = classOK
	}

	// The caller may hang up once the check is done; the record must
	// still be written, or the history would miss a check that ran.
	if err := a.recordCheck(context.WithoutCancel(r.Context()), name, checkedAt, ch); err != nil {
		return a.storeError(r, "record provider check", err)
	}
	a.logger.Info("provider key checked on request", zap.String("request_id", requestID(r)), zap.String("provider", name),
		zap.Bool("up", ch.Up), zap.String("class", ch.Class), zap.Any("api_key_id", r.Context().Value(ctxKeyID)))

	at := checkedAt.Format(time.RFC3339Nano)
	rls := make([]providerRateLimit, 0, len(ch.RateLimits))
	for _, rl := range ch.RateLimits {
		v := providerRateLimit{Scope: rl.Scope, Endpoint: rl.Endpoint, At: at}
		if rl.Limit >= 0 {
			v.Limit = &rl.Limit
		}
		if rl.Remaining >= 0 {
			v.Remaining = &rl.Remaining
		}
		v.Headroom = rateHeadroom(v.Limit, v.Remaining)
		rls = append(rls, v)
	}
	writeData(w, http.StatusOK, providerTest{Provider: name, Up: ch.Up, Class: ch.Class, HTTPStatus: optionalStatus(ch.HTTPStatus),
		LatencyMs: durationMs(ch.Latency), Message: ch.Message, RateLimits: rls, CheckedAt: at}, nil)
	return nil
}

// recordCheck stores a check as the receiver's checks are stored: a
// provider_health row, and its rate limits in provider_gauges.
func (a *api) recordCheck(ctx context.Context, name string, at time.Time, ch providerclient.Check) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hb, err := a.store.PrepareBatch(ctx, "provider_health", store.ProviderHealthColumns)
	if err != nil {
		return fmt.Errorf("prepare provider_health insert: %w", err)
	}
	if err := hb.Append(at, name, ch.Up, ch.Class, uint16(min(max(ch.HTTPStatus, 0), 65535)), durationMs(ch.Latency), ch.Message); err != nil {
		_ = hb.Abort()
		return fmt.Errorf("append provider_health row: %w", err)
	}
	if err := hb.Send(ctx); err != nil {
		return fmt.Errorf("insert provider_health: %w", err)
	}
	if len(ch.RateLimits) == 0 {
		return nil
	}
	gb, err := a.store.PrepareBatch(ctx, "provider_gauges", store.ProviderGaugeColumns)
	if err != nil {
		return fmt.Errorf("prepare provider_gauges insert: %w", err)
	}
	for _, rl := range ch.RateLimits {
		for _, p := range []struct {
			name  string
			value int64
		}{{gaugeRateLimitLimit, rl.Limit}, {gaugeRateLimitRemaining, rl.Remaining}} {
			if p.value < 0 { // not announced
				continue
			}
			if err := gb.Append(at, name, "", p.name, "", rl.Scope, rl.Endpoint, decimal.NewFromInt(p.value)); err != nil {
				_ = gb.Abort()
				return fmt.Errorf("append provider_gauges row: %w", err)
			}
		}
	}
	if gb.Rows() == 0 {
		return gb.Abort()
	}
	if err := gb.Send(ctx); err != nil {
		return fmt.Errorf("insert provider_gauges: %w", err)
	}
	return nil
}

func rateHeadroom(limit, remaining *int64) *float64 {
	if limit == nil || remaining == nil || *limit <= 0 {
		return nil
	}
	h := float64(*remaining) / float64(*limit)
	return &h
}

// optionalStatus is nil for 0: no answer, not a status.
func optionalStatus(s int) *int {
	if s == 0 {
		return nil
	}
	return &s
}

func durationMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// stringArrayParam renders strings as an Array(String) query parameter. Quotes
// and backslashes are escaped, so a value can never end its string early.
func stringArrayParam(vs []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v))
		b.WriteByte('\'')
	}
	b.WriteByte(']')
	return b.String()
}
