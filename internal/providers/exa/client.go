package exa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// ClientConfig configures the Exa poller.
type ClientConfig struct {
	BaseURL      string // default https://api.exa.ai
	AdminBaseURL string // default https://admin-api.exa.ai
	APIKey       string // an ordinary key: used for the key check only
	// ServiceKey unlocks the Team Management API (per-key usage). Without
	// it Poll returns nothing: per-call costs come from spans.
	ServiceKey string
}

const (
	exaKindCost          = "cost_usd"
	exaKindBreakdownCost = "breakdown_cost_usd"
	exaKindQuantity      = "quantity"
	exaKeysPath          = "/team-management/api-keys"
	exaMaxLookbackDays   = 100
	exaDay               = 24 * time.Hour
	exaTimeFmt           = "2006-01-02T15:04:05.000Z07:00"
)

// Client polls Exa's Team Management API with a service key: the key list, then
// each key's usage for every UTC day from `from` to now (at most 100 days
// back, Exa's lookback limit).
//
// Usage is asked for one UTC day at a time so that every poll reports the
// same buckets ([day 00:00, day+1d); the open day is asked up to now but
// kept as the whole day) and storage can replace them; one query over
// [from, now] would make a new, overlapping bucket at every poll.
//
// Emitted per key and day (Account = team_id, APIKey = api_key_name, or the
// key id when unnamed):
//   - Kind "cost_usd", LineItem "" = total_cost_usd: what the key cost.
//   - Kind "breakdown_cost_usd", LineItem = price_name (or price_id) =
//     amount_usd of one price line. These lines split the total: sum
//     either cost_usd or breakdown_cost_usd, never both (provider_usage and
//     cost_reconciliation sum cost_usd only).
//   - Kind "quantity", LineItem = price_name = the line's quantity.
//
// A null figure is skipped, never recorded as 0.
type Client struct {
	api, admin *provider.Client
	hasAPI     bool
	hasService bool
}

// NewClient returns an Exa poller.
func NewClient(cfg ClientConfig, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = BaseURL
	}
	admin := strings.TrimRight(strings.TrimSpace(cfg.AdminBaseURL), "/")
	if admin == "" {
		admin = AdminBaseURL
	}
	apiKey, serviceKey := cfg.APIKey, cfg.ServiceKey
	return &Client{
		api: &provider.Client{Provider: Name, BaseURL: base, HTTP: httpClient,
			Auth: func(r *http.Request) { r.Header.Set("x-api-key", apiKey) }, Secrets: []string{apiKey, serviceKey}},
		admin: &provider.Client{Provider: Name, BaseURL: admin, HTTP: httpClient,
			Auth: func(r *http.Request) { r.Header.Set("x-api-key", serviceKey) }, Secrets: []string{apiKey, serviceKey}},
		hasAPI:     apiKey != "",
		hasService: serviceKey != "",
	}
}

// Provider implements Poller.
func (e *Client) Provider() string { return Name }

type exaKey struct {
	ID   string
	Name string
}

type exaUsage struct {
	APIKeyID      any    `json:"api_key_id"`
	APIKeyName    string `json:"api_key_name"`
	TeamID        any    `json:"team_id"`
	TotalCostUSD  any    `json:"total_cost_usd"`
	CostBreakdown []struct {
		PriceID   any    `json:"price_id"`
		PriceName string `json:"price_name"`
		Quantity  any    `json:"quantity"`
		AmountUSD any    `json:"amount_usd"`
	} `json:"cost_breakdown"`
}

// exaFatal says whether an error ends the poll: everything but a refused or
// unreadable answer for one key (a key deleted between list and usage).
func exaFatal(err error) bool {
	switch provider.ClassOf(err) {
	case provider.ClassClientError, provider.ClassBadResponse:
		return false
	}
	return true
}

// Poll implements Poller. Without a service key it returns an empty Poll
// and makes no request.
func (e *Client) Poll(ctx context.Context, from, now time.Time) (provider.Poll, error) {
	var p provider.Poll
	if !e.hasService {
		return p, nil
	}
	keys, err := e.keys(ctx)
	if err != nil {
		return p, exaReclassify(err)
	}
	days := exaDays(from, now)
	var firstErr error
	for _, k := range keys {
		for _, day := range days {
			us, err := e.usage(ctx, k, day, now)
			p.Usage = append(p.Usage, us...)
			if err != nil {
				err = exaReclassify(err)
				if firstErr == nil {
					firstErr = err
				}
				if exaFatal(err) {
					return p, err
				}
				break // the next key; this one will fail again
			}
		}
	}
	return p, firstErr
}

// exaDays lists the UTC days whose usage a poll asks for: from the day of
// from (not more than 100 days back, today included) to the day of now.
func exaDays(from, now time.Time) []time.Time {
	now = now.UTC()
	today := now.Truncate(exaDay)
	first := from.UTC().Truncate(exaDay)
	if earliest := today.Add(-(exaMaxLookbackDays - 1) * exaDay); first.Before(earliest) {
		first = earliest
	}
	var out []time.Time
	for d := first; !d.After(today); d = d.Add(exaDay) {
		if d.Equal(now) {
			break // the day has not begun
		}
		out = append(out, d)
	}
	return out
}

// keys reads the key list. Its shape is not pinned down: {"apiKeys":[…]},
// {"api_keys":[…]}, {"data":[…]}, {"keys":[…]} or a bare array are
// accepted; entries without an id are skipped.
func (e *Client) keys(ctx context.Context) ([]exaKey, error) {
	var raw json.RawMessage
	resp, err := e.admin.Do(ctx, http.MethodGet, exaKeysPath, nil, nil, &raw)
	if err != nil {
		return nil, err
	}
	bad := func(msg string) error {
		return &provider.Error{Provider: Name, Op: "GET " + exaKeysPath, Status: resp.Status,
			Class: provider.ClassBadResponse, Message: msg}
	}
	list := json.RawMessage(bytes.TrimSpace(raw))
	if len(list) == 0 || list[0] != '[' {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil, bad("key list is neither an object nor an array")
		}
		list = nil
		for _, f := range []string{"apiKeys", "api_keys", "data", "keys"} {
			if v, ok := obj[f]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '[' {
				list = v
				break
			}
		}
		if list == nil {
			return nil, bad("key list has no apiKeys, data or keys array")
		}
	}
	var items []struct {
		ID   any    `json:"id"`
		Name string `json:"name"`
	}
	dec := json.NewDecoder(bytes.NewReader(list))
	dec.UseNumber()
	if err := dec.Decode(&items); err != nil {
		return nil, bad("unreadable key list: " + provider.Clip(err.Error()))
	}
	var out []exaKey
	for _, it := range items {
		if id := exaString(it.ID); id != "" {
			out = append(out, exaKey{ID: id, Name: it.Name})
		}
	}
	return out, nil
}

// usage reads one key's usage for one UTC day and turns it into Usage.
// The end sent is the day's last millisecond (or now for the open day), so
// that an API reading dates inclusively does not count the next day too.
func (e *Client) usage(ctx context.Context, k exaKey, day, now time.Time) ([]provider.Usage, error) {
	dayEnd := day.Add(exaDay)
	end := dayEnd.Add(-time.Millisecond)
	if end.After(now) {
		end = now.UTC()
	}
	q := url.Values{"start_date": {day.Format(exaTimeFmt)}, "end_date": {end.Format(exaTimeFmt)}}
	var u exaUsage
	if _, err := e.admin.Do(ctx, http.MethodGet, exaKeysPath+"/"+url.PathEscape(k.ID)+"/usage", q, nil, &u); err != nil {
		return nil, err
	}
	base := provider.Usage{Start: day, End: dayEnd, Account: exaString(u.TeamID), APIKey: u.APIKeyName}
	if base.APIKey == "" {
		base.APIKey = k.Name
	}
	if base.APIKey == "" {
		base.APIKey = k.ID
	}
	var out []provider.Usage
	if v, ok := provider.Decimal(u.TotalCostUSD); ok {
		x := base
		x.Kind, x.Value = exaKindCost, v
		out = append(out, x)
	}
	for _, line := range u.CostBreakdown {
		item := line.PriceName
		if item == "" {
			item = exaString(line.PriceID)
		}
		if v, ok := provider.Decimal(line.AmountUSD); ok {
			x := base
			x.Kind, x.Value, x.LineItem = exaKindBreakdownCost, v, item
			out = append(out, x)
		}
		if v, ok := provider.Quantity(line.Quantity); ok {
			x := base
			x.Kind, x.Value, x.LineItem = exaKindQuantity, v, item
			out = append(out, x)
		}
	}
	return out, nil
}

func exaString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	}
	return "" // null, objects, arrays, booleans: no usable id
}

// exaReclassify makes an exhausted budget quota_exhausted whatever the
// status it came with (Exa's 402 tags are NO_MORE_CREDITS and
// API_KEY_BUDGET_EXCEEDED; the shared classifier already maps 402 and any
// "credit" tag).
func exaReclassify(err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Class != provider.ClassQuotaExhausted {
		m := strings.ToLower(pe.Message)
		if strings.Contains(m, "budget") || strings.Contains(m, "no more credits") {
			pe.Class = provider.ClassQuotaExhausted
		}
	}
	return err
}

// Check implements Poller.
//
// With a service key: the key list (free).
//
// With only an API key there is no documented free authenticated call
// [guess]: POST /search with an empty body, which Exa refuses with 400
// ("query required") before doing — or billing — any work. A 400 or 422 is
// taken as "key accepted" (Up, class ""), unless its message speaks of the
// key or authentication; 401/403 are auth_failed, 402 quota_exhausted, 429
// up but rate_limited; anything else is down with its class. A 2xx (the API
// ran the empty search) is up too.
func (e *Client) Check(ctx context.Context) provider.Check {
	if e.hasService {
		resp, err := e.admin.Do(ctx, http.MethodGet, exaKeysPath, nil, nil, nil)
		return provider.CheckOf(resp, exaReclassify(err))
	}
	if !e.hasAPI {
		return provider.Check{Class: provider.ClassAuthFailed, Message: "no api key or service key configured"}
	}
	resp, err := e.api.Do(ctx, http.MethodPost, "/search", nil, struct{}{}, nil)
	err = exaReclassify(err)
	var pe *provider.Error
	if errors.As(err, &pe) && (pe.Status == http.StatusBadRequest || pe.Status == http.StatusUnprocessableEntity) {
		m := strings.ToLower(pe.Message)
		authish := false
		for _, w := range []string{"api key", "api-key", "apikey", "unauthori", "authenticat", "credential"} {
			if strings.Contains(m, w) {
				authish = true
			}
		}
		if !authish {
			ch := provider.CheckOf(resp, nil)
			ch.Message = "key accepted"
			return ch
		}
		ch := provider.CheckOf(resp, err)
		ch.Class = provider.ClassAuthFailed
		return ch
	}
	ch := provider.CheckOf(resp, err)
	if err == nil {
		ch.Message = "key accepted"
	}
	return ch
}
