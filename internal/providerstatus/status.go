// Package providerstatus is what Nexus knows about each provider from the
// store — its latest key check, rate-limit headroom, reported balances and
// today's and the month's spend, computed and billed — and the recording of
// a key check run on request, stored as the apiusage receiver stores its
// own. It returns domain errors (internal/domainerr), never transport ones.
package providerstatus

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/pricebook"
	provider "github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Gauge names as the nexus exporter stores them in provider_gauges: the
// rate-limit pair is named by the exporter (exporter/nexusexporter/
// metrics.go), the money figures by the provider clients (OpenRouter's /key
// and /credits, Twilio's Balance.json in internal/providerclient).
const (
	gaugeRateLimitLimit     = schema.GaugeRateLimitLimit
	gaugeRateLimitRemaining = schema.GaugeRateLimitRemaining
)

// balanceGauges are the money figures a provider reports about what is
// left to spend; usage_usd is spend, not balance, and is left out.
var balanceGauges = []string{"balance_usd", "credits_total_usd", "credits_used_usd", "limit_usd", "remaining_usd"}

// Service reads and records provider status over one store.
type Service struct {
	store store.Store
	// loc is the zone of "today" and "this month".
	loc *time.Location
	// redact removes configured secrets from provider messages.
	redact func(string) string
	// configured tells whether a provider has credentials here.
	configured func(name string) bool
}

// New is a Service over s; redact and configured are the providers
// configuration's.
func New(s store.Store, loc *time.Location, redact func(string) string, configured func(name string) bool) *Service {
	return &Service{store: s, loc: loc, redact: redact, configured: configured}
}

// Health is a provider's latest key check.
type Health struct {
	LastCheck string `json:"lastCheck"`
	Up        bool   `json:"up"`
	Class     string `json:"class"`
	// HTTPStatus is null when the check got no answer at all.
	HTTPStatus *int    `json:"httpStatus"`
	LatencyMs  float64 `json:"latencyMs"`
	Message    string  `json:"message"`
}

// RateLimit is the headroom of one rate-limit window.
type RateLimit struct {
	Scope    string `json:"scope"`
	Endpoint string `json:"endpoint"`
	// Limit and Remaining are null when the provider did not announce them.
	Limit     *int64 `json:"limit"`
	Remaining *int64 `json:"remaining"`
	// Headroom is remaining/limit (0–1); null unless both are known.
	Headroom *float64 `json:"headroom"`
	At       string   `json:"at"`
}

// Gauge is a money figure the provider reported.
type Gauge struct {
	Name    string `json:"name"`
	Window  string `json:"window"`
	Account string `json:"account"`
	Value   string `json:"value"`
	At      string `json:"at"`
}

// Spend is money spent on the provider in the API's time zone.
type Spend struct {
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

type Status struct {
	Name       string `json:"name"`
	Configured bool   `json:"configured"`
	// CredentialFields are the keys of the credential a tenant may store
	// for the provider (write-only), so that a client asks for them.
	CredentialFields []string    `json:"credentialFields"`
	Health           *Health     `json:"health"`
	RateLimits       []RateLimit `json:"rateLimits"`
	Balances         []Gauge     `json:"balances"`
	Spend            Spend       `json:"spend"`
	// PriceSync is how the sync of the provider's published prices is
	// doing (OpenRouter's model list), when it has run.
	PriceSync *pricebook.SyncHealth `json:"priceSync,omitempty"`
}

// List is every known provider's status at now, as tenant's rows tell it
// ("" for every tenant's): its checks, gauges, spend and billing.
func (s *Service) List(ctx context.Context, tenant string, now time.Time) ([]*Status, error) {
	out := make([]*Status, 0, len(provider.All))
	byName := map[string]*Status{}
	for _, p := range provider.All {
		fields, _ := provider.CredentialFields(p.Name)
		st := &Status{Name: p.Name, Configured: s.configured(p.Name), CredentialFields: fields,
			RateLimits: []RateLimit{}, Balances: []Gauge{},
			Spend: Spend{TodayUSD: "0", MonthToDateUSD: "0"}}
		out = append(out, st)
		byName[p.Name] = st
	}
	if err := s.readHealth(ctx, tenant, byName); err != nil {
		return nil, fmt.Errorf("read provider health: %w", err)
	}
	if err := s.readGauges(ctx, tenant, byName); err != nil {
		return nil, fmt.Errorf("read provider gauges: %w", err)
	}
	today, tomorrow, month := s.calendar(now)
	if err := s.readSpend(ctx, tenant, byName, today, tomorrow, month); err != nil {
		return nil, fmt.Errorf("read provider spend: %w", err)
	}
	if err := s.readBilled(ctx, tenant, byName, today, month); err != nil {
		return nil, fmt.Errorf("read provider billed cost: %w", err)
	}
	if st := byName[pricebook.SourceOpenRouter]; st != nil {
		h, ok, err := pricebook.Health(ctx, s.store, pricebook.SourceOpenRouter)
		if err != nil {
			return nil, err
		}
		if ok {
			st.PriceSync = &h
		}
	}
	return out, nil
}

// readHealth fills each provider's latest check. LIMIT 1 BY rather than
// argMax per column: every field then comes from the same row even when two
// checks share a timestamp.
func (s *Service) readHealth(ctx context.Context, tenant string, byName map[string]*Status) error {
	rows, err := s.store.Query(ctx, schema.SQL(s.store, "provider_health_latest"), store.Params{"tenant": tenant})
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var ts time.Time
		var status uint16
		h := &Health{}
		if err := rows.Scan(&name, &ts, &h.Up, &h.Class, &status, &h.LatencyMs, &h.Message); err != nil {
			return err
		}
		if st, ok := byName[name]; ok {
			h.LastCheck = ts.UTC().Format(time.RFC3339Nano)
			h.HTTPStatus = optionalStatus(int(status))
			h.Message = s.redact(h.Message)
			st.Health = h
		}
	}
	return rows.Err()
}

// readGauges fills the latest rate limits and money figures. Rate limits
// pair the latest limit with the latest remaining of the same window.
func (s *Service) readGauges(ctx context.Context, tenant string, byName map[string]*Status) error {
	names := append([]string{gaugeRateLimitLimit, gaugeRateLimitRemaining}, balanceGauges...)
	params := store.Params{"names": schema.StringArrayParam(names), "tenant": tenant}
	rows, err := s.store.Query(ctx, schema.SQL(s.store, "provider_gauges_latest"), params)
	if err != nil {
		return err
	}
	defer rows.Close()
	type window struct{ provider, scope, endpoint string }
	type pair struct {
		rl RateLimit
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
		st, ok := byName[prov]
		if !ok {
			continue
		}
		if name != gaugeRateLimitLimit && name != gaugeRateLimitRemaining {
			st.Balances = append(st.Balances, Gauge{Name: name, Window: win, Account: account,
				Value: value.String(), At: ts.UTC().Format(time.RFC3339Nano)})
			continue
		}
		k := window{prov, scope, endpoint}
		p, ok := limits[k]
		if !ok {
			p = &pair{rl: RateLimit{Scope: scope, Endpoint: endpoint}}
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
func (s *Service) calendar(now time.Time) (today, tomorrow, month time.Time) {
	now = now.In(s.loc)
	today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.loc)
	return today, today.AddDate(0, 0, 1), time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.loc)
}

// readSpend fills today's and the month's spend as computed from calls.
func (s *Service) readSpend(ctx context.Context, tenant string, byName map[string]*Status, today, tomorrow, month time.Time) error {
	// The hour rollup is exact when the zone's midnights fall on UTC hours
	// (every whole-hour offset); a zone such as UTC+5:30 needs the minute
	// rollup, or a boundary would cut through an hour bucket.
	table := schema.TableCalls1h
	for _, t := range []time.Time{today, tomorrow, month} {
		if !t.Truncate(time.Hour).Equal(t) {
			table = schema.TableCalls1m
		}
	}
	const layout = "2006-01-02 15:04:05"
	params := store.Params{
		"month":    month.UTC().Format(layout),
		"today":    today.UTC().Format(layout),
		"tomorrow": tomorrow.UTC().Format(layout),
		"tenant":   tenant,
	}
	rows, err := s.store.Query(ctx, "SELECT provider,"+
		" sumIf(cost_usd, ts >= {today:DateTime('UTC')}), sum(cost_usd),"+
		" sumIf(unpriced, ts >= {today:DateTime('UTC')}), sum(unpriced)"+
		" FROM "+schema.Table(s.store, table)+
		" WHERE ts >= {month:DateTime('UTC')} AND ts < {tomorrow:DateTime('UTC')}"+
		" AND ({tenant:String} = '' OR tenant = {tenant:String}) GROUP BY provider", params)
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
		if st, ok := byName[name]; ok {
			st.Spend.TodayUSD, st.Spend.MonthToDateUSD = day.String(), mtd.String()
			st.Spend.UnpricedCallsToday, st.Spend.UnpricedCallsMonthToDate = unpricedDay, unpricedMonth
		}
	}
	return rows.Err()
}

// readBilled fills the month's cost as the providers bill it. Providers bill
// by their own (UTC) days, so a billed bucket belongs to the month of its
// date label, not to the instant it starts in this zone: otherwise west of
// UTC the month's first day would never count.
func (s *Service) readBilled(ctx context.Context, tenant string, byName map[string]*Status, today, month time.Time) error {
	rows, err := s.store.Query(ctx, schema.SQL(s.store, "provider_billed"), store.Params{"month": month.Format("2006-01-02"),
		"today": today.Format("2006-01-02"), "tenant": tenant})
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
		if st, ok := byName[name]; ok {
			v := billed.String()
			st.Spend.BilledMonthToDateUSD = &v
		}
	}
	return rows.Err()
}
