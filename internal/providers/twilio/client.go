package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// ClientConfig configures the Twilio poller.
type ClientConfig struct {
	BaseURL    string // default https://api.twilio.com
	AccountSID string
	AuthToken  string
	// APIKeySID and APIKeySecret are the alternative Basic-auth pair, used
	// when AuthToken is empty.
	APIKeySID, APIKeySecret string
	// Categories are the Usage Records categories polled, one request each
	// (default TwilioDefaultCategories).
	Categories []string
}

// TwilioDefaultCategories are the Usage Records categories polled when none
// are configured. "totalprice" is the account's whole bill; the others are
// overlapping breakdowns of it (sms = sms-inbound + sms-outbound + …).
var TwilioDefaultCategories = []string{"totalprice", "sms", "sms-outbound", "sms-inbound", "calls", "calls-inbound", "calls-outbound"}

// TwilioTotalCategory is the category whose price is the account's bill and
// is therefore the only one reported as Kind "cost_usd".
const TwilioTotalCategory = "totalprice"

// Usage kinds and gauge names the Twilio poller emits.
const (
	// twilioKindBreakdownCost is the price of a category other than
	// totalprice: part of the total, overlapping it and other categories, so
	// never added to cost_usd (provider_usage sums cost_usd rows as billed).
	twilioKindBreakdownCost = "breakdown_cost_usd"
	twilioKindCost          = "cost_usd"
	twilioKindCount         = "count"
	twilioKindUsage         = "usage"
	twilioGaugeBalance      = "balance_usd"
)

const (
	twilioAPIPrefix = "/2010-04-01/Accounts/"
	twilioPageSize  = "1000" // Twilio's maximum
	twilioMaxPages  = 1000   // per list; a loop beyond this is a provider bug
	twilioDateFmt   = "2006-01-02"
	twilioDay       = 24 * time.Hour
)

// Client polls Twilio's Usage Records (Daily and Today, per category) and the
// balance of one account.
//
// Emitted per usage record (a Daily or Today record covers
// [start_date 00:00 UTC, start_date+1d)):
//   - Kind "cost_usd" = price, for category "totalprice" only;
//     Kind "breakdown_cost_usd" = price, for every other category (they
//     overlap totalprice and each other). A null price is skipped, never 0;
//     a price_unit other than usd is skipped with a note (see Notes).
//   - Kind "count" = count, LineItem = count_unit ("messages", "calls").
//   - Kind "usage" = usage (the billed quantity), LineItem = usage_unit
//     ("segments", "minutes", "usd").
//
// All carry Category = the record's category and Account = its account SID.
// Gauge "balance_usd" (Window "") is the account balance.
type Client struct {
	cfg        ClientConfig
	c          *provider.Client
	categories []string

	mu    sync.Mutex
	notes []string
}

// NewClient returns a Twilio poller.
func NewClient(cfg ClientConfig, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = "https://api.twilio.com"
	}
	cats := make([]string, 0, len(cfg.Categories))
	seen := map[string]bool{}
	for _, c := range cfg.Categories {
		c = strings.TrimSpace(c)
		if c != "" && !seen[c] {
			seen[c] = true
			cats = append(cats, c)
		}
	}
	if len(cats) == 0 {
		cats = append(cats, TwilioDefaultCategories...)
	}
	user, pass := cfg.AccountSID, cfg.AuthToken
	if pass == "" {
		user, pass = cfg.APIKeySID, cfg.APIKeySecret
	}
	return &Client{
		cfg:        cfg,
		categories: cats,
		c: &provider.Client{Provider: Name, BaseURL: base, HTTP: httpClient,
			Auth: func(r *http.Request) { r.SetBasicAuth(user, pass) }, Secrets: []string{cfg.AuthToken, cfg.APIKeySecret}},
	}
}

// Provider implements Poller.
func (t *Client) Provider() string { return Name }

// Notes returns what the last Poll skipped and why (records priced in
// another currency, unreadable dates, a balance in another currency). The
// Poll result has no place for them; they are not errors.
func (t *Client) Notes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.notes...)
}

func (t *Client) accountPath(suffix string) string {
	return twilioAPIPrefix + url.PathEscape(t.cfg.AccountSID) + suffix
}

type twilioRecord struct {
	AccountSID string `json:"account_sid"`
	Category   string `json:"category"`
	StartDate  string `json:"start_date"`
	EndDate    string `json:"end_date"`
	Count      any    `json:"count"`
	CountUnit  string `json:"count_unit"`
	Usage      any    `json:"usage"`
	UsageUnit  string `json:"usage_unit"`
	Price      any    `json:"price"`
	PriceUnit  string `json:"price_unit"`
}

type twilioPage struct {
	UsageRecords *[]twilioRecord `json:"usage_records"`
	NextPageURI  *string         `json:"next_page_uri"`
}

// twilioRecordSet keeps one record per category and day; a later record
// (Today after Daily) replaces an earlier one in place.
type twilioRecordSet struct {
	recs  []twilioRecord
	index map[string]int
}

func (s *twilioRecordSet) add(r twilioRecord) {
	k := r.Category + "\x00" + strings.TrimSpace(r.StartDate)
	if i, ok := s.index[k]; ok {
		s.recs[i] = r
		return
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[k] = len(s.recs)
	s.recs = append(s.recs, r)
}

// twilioFatal says whether an error should end the poll: everything but a
// refused request for one list (a bad category) or one unreadable list.
func twilioFatal(err error) bool {
	switch provider.ClassOf(err) {
	case provider.ClassClientError, provider.ClassBadResponse:
		return false
	}
	return true
}

// Poll implements Poller. Requests: per category one Daily list (StartDate
// = from, EndDate = now, UTC dates) and one Today list, each paged by
// next_page_uri; then the balance. A partial result comes with the first
// error; auth, rate-limit, server and transport errors end the poll at once.
func (t *Client) Poll(ctx context.Context, from, now time.Time) (provider.Poll, error) {
	var notes []string
	defer func() {
		t.mu.Lock()
		t.notes = notes
		t.mu.Unlock()
	}()
	if from.After(now) {
		from = now
	}
	wanted := map[string]bool{}
	for _, c := range t.categories {
		wanted[c] = true
	}
	var set twilioRecordSet
	keep := func(r twilioRecord) {
		if wanted[r.Category] { // in case Twilio ignored the Category filter
			set.add(r)
		}
	}
	var firstErr error
	fail := func(err error) bool {
		if firstErr == nil {
			firstErr = err
		}
		return twilioFatal(err)
	}
	stopped := false
	for _, cat := range t.categories {
		daily := url.Values{"Category": {cat}, "StartDate": {from.UTC().Format(twilioDateFmt)},
			"EndDate": {now.UTC().Format(twilioDateFmt)}, "PageSize": {twilioPageSize}}
		if err := t.list(ctx, t.accountPath("/Usage/Records/Daily.json"), daily, keep); err != nil && fail(err) {
			stopped = true
			break
		}
		today := url.Values{"Category": {cat}, "PageSize": {twilioPageSize}}
		if err := t.list(ctx, t.accountPath("/Usage/Records/Today.json"), today, keep); err != nil && fail(err) {
			stopped = true
			break
		}
	}
	var p provider.Poll
	p.Usage = t.usages(set.recs, &notes)
	if stopped {
		return p, firstErr
	}
	g, note, err := t.balance(ctx)
	if note != "" {
		notes = append(notes, note)
	}
	if err != nil {
		fail(err)
	} else if g != nil {
		p.Gauges = append(p.Gauges, *g)
	}
	return p, firstErr
}

// list reads one Usage Records list, following next_page_uri until null.
// A repeated link or more than twilioMaxPages pages ends it with a
// bad_response error; records read so far have been handed to each.
func (t *Client) list(ctx context.Context, path string, q url.Values, each func(twilioRecord)) error {
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages >= twilioMaxPages {
			return &provider.Error{Provider: Name, Op: "GET " + path, Class: provider.ClassBadResponse,
				Message: fmt.Sprintf("more than %d pages; stopped following next_page_uri", twilioMaxPages)}
		}
		var page twilioPage
		if _, err := t.c.Do(ctx, http.MethodGet, path, q, nil, &page); err != nil {
			return err
		}
		if page.UsageRecords == nil {
			return &provider.Error{Provider: Name, Op: "GET " + path, Status: http.StatusOK,
				Class: provider.ClassBadResponse, Message: "answer has no usage_records"}
		}
		for _, r := range *page.UsageRecords {
			each(r)
		}
		if page.NextPageURI == nil || strings.TrimSpace(*page.NextPageURI) == "" {
			return nil
		}
		next := strings.TrimSpace(*page.NextPageURI)
		if seen[next] {
			return &provider.Error{Provider: Name, Op: "GET " + path, Status: http.StatusOK, Class: provider.ClassBadResponse,
				Message: "next_page_uri repeats a page already read; stopped paging"}
		}
		seen[next] = true
		target, err := t.pageTarget(next)
		if err != nil {
			return &provider.Error{Provider: Name, Op: "GET " + path, Status: http.StatusOK, Class: provider.ClassBadResponse,
				Message: err.Error()}
		}
		path, q = target, nil
	}
}

// pageTarget resolves a next_page_uri: a path relative to the base URL, or
// an absolute URL on the base URL's own host (credentials never go to
// another host).
func (t *Client) pageTarget(next string) (string, error) {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		return next, nil
	}
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() {
		return "", errors.New("next_page_uri is neither a path nor a URL")
	}
	b, err := url.Parse(t.c.BaseURL)
	if err != nil || !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Host, b.Host) {
		return "", errors.New("next_page_uri points to another host; not followed")
	}
	return next, nil
}

func (t *Client) usages(recs []twilioRecord, notes *[]string) []provider.Usage {
	var out []provider.Usage
	for _, r := range recs {
		start, err := time.ParseInLocation(twilioDateFmt, strings.TrimSpace(r.StartDate), time.UTC)
		if err != nil {
			*notes = append(*notes, fmt.Sprintf("%s: record with unreadable start_date %q skipped", r.Category, r.StartDate))
			continue
		}
		base := provider.Usage{Start: start, End: start.Add(twilioDay), Account: r.AccountSID, Category: r.Category}
		if base.Account == "" {
			base.Account = t.cfg.AccountSID
		}
		if v, ok := provider.Decimal(r.Price); ok {
			if strings.EqualFold(strings.TrimSpace(r.PriceUnit), "usd") {
				u := base
				u.Kind, u.Value = twilioKindCost, v
				if r.Category != TwilioTotalCategory {
					u.Kind = twilioKindBreakdownCost
				}
				out = append(out, u)
			} else {
				*notes = append(*notes, fmt.Sprintf("%s %s: price in %q skipped (only usd is recorded)", r.Category, r.StartDate, r.PriceUnit))
			}
		}
		if v, ok := provider.Quantity(r.Count); ok {
			u := base
			u.Kind, u.Value, u.LineItem = twilioKindCount, v, r.CountUnit
			out = append(out, u)
		}
		if v, ok := provider.Quantity(r.Usage); ok {
			u := base
			u.Kind, u.Value, u.LineItem = twilioKindUsage, v, r.UsageUnit
			out = append(out, u)
		}
	}
	return out
}

func (t *Client) balance(ctx context.Context) (*provider.Gauge, string, error) {
	path := t.accountPath("/Balance.json")
	var b struct {
		AccountSID string `json:"account_sid"`
		Balance    any    `json:"balance"`
		Currency   string `json:"currency"`
	}
	if _, err := t.c.Do(ctx, http.MethodGet, path, nil, nil, &b); err != nil {
		return nil, "", err
	}
	v, ok := provider.Decimal(b.Balance)
	if !ok {
		return nil, "", &provider.Error{Provider: Name, Op: "GET " + path, Status: http.StatusOK,
			Class: provider.ClassBadResponse, Message: "answer has no readable balance"}
	}
	if !strings.EqualFold(strings.TrimSpace(b.Currency), "usd") {
		return nil, fmt.Sprintf("balance in %q skipped (only usd is recorded)", b.Currency), nil
	}
	acct := b.AccountSID
	if acct == "" {
		acct = t.cfg.AccountSID
	}
	return &provider.Gauge{Name: twilioGaugeBalance, Account: acct, Value: v}, "", nil
}

// Check implements Poller: GET /2010-04-01/Accounts/{Sid}.json (free). An
// account whose status is present and not "active" (suspended, closed) is
// reported down with class auth_failed: its credentials no longer work for
// calls.
func (t *Client) Check(ctx context.Context) provider.Check {
	var acct struct {
		Status string `json:"status"`
	}
	resp, err := t.c.Do(ctx, http.MethodGet, t.accountPath(".json"), nil, nil, &acct)
	ch := provider.CheckOf(resp, err)
	if err == nil {
		if s := strings.ToLower(strings.TrimSpace(acct.Status)); s != "" && s != "active" {
			ch.Up, ch.Class, ch.Message = false, provider.ClassAuthFailed, provider.Clip("account status "+s)
		}
	}
	return ch
}
