package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// ClientConfig configures the OpenAI poller.
type ClientConfig struct {
	// BaseURL is the API root, default https://api.openai.com/v1.
	BaseURL string
	// AdminKey (sk-admin-…) reads the Usage and Costs APIs. Without it
	// Poll reads nothing and only the key check runs.
	AdminKey string
	// APIKey is an optional inference key: when set, the key check is
	// GET /models with it (and reports its rate limits).
	APIKey string
	// BucketWidth of usage buckets: "1m", "1h" or "1d" (default). Costs
	// are always polled in 1d buckets.
	BucketWidth string
	// UsageTypes are the Usage API paths polled, default completions,
	// embeddings, moderations, images, audio_speeches,
	// audio_transcriptions, vector_stores, code_interpreter_sessions.
	UsageTypes []string
	// Account labels every Usage, default "openai".
	Account string
}

// openAIDefaultUsageTypes are the Usage API's endpoints (the siblings of
// completions are a [guess] in providers.md: a 404 on one of them is
// reported and the others are still polled).
var openAIDefaultUsageTypes = []string{
	"completions", "embeddings", "moderations", "images", "audio_speeches",
	"audio_transcriptions", "vector_stores", "code_interpreter_sessions",
}

// openAIBucketLimits is the largest page (in buckets) per bucket width.
var openAIBucketLimits = map[string]int{"1d": 31, "1h": 168, "1m": 1440}

var openAIBucketWidths = map[string]time.Duration{"1d": 24 * time.Hour, "1h": time.Hour, "1m": time.Minute}

// openAICostsLimit is the Costs API's largest page (1d buckets).
const openAICostsLimit = 180

// openAIMaxPages bounds how many pages one endpoint may make a poll read:
// a provider that keeps saying has_more must not keep Nexus busy forever.
const openAIMaxPages = 1000

var openAIUsageTypeRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// openAIGroupKeys are result fields that name a group, never a quantity.
var openAIGroupKeys = map[string]bool{
	"object": true, "project_id": true, "user_id": true, "api_key_id": true, "model": true,
	"batch": true, "service_tier": true, "start_time": true, "end_time": true,
	"line_item": true, "amount": true,
}

// openAIKindNames renames the Usage API's fields to Nexus's kinds.
var openAIKindNames = map[string]string{
	"num_model_requests":  "requests",
	"input_cached_tokens": "cached_input_tokens",
}

// Client polls OpenAI's organization Usage and Costs APIs (admin key) and
// checks keys.
type Client struct {
	cfg   ClientConfig
	admin *provider.Client // admin key: usage, costs, and the check without an API key
	api   *provider.Client // inference key: the check
}

// NewClient returns an OpenAI poller. A nil httpClient means a default
// client; timeouts come from the contexts passed to Poll and Check.
func NewClient(cfg ClientConfig, httpClient *http.Client) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = BaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.BucketWidth == "" {
		cfg.BucketWidth = "1d"
	}
	if len(cfg.UsageTypes) == 0 {
		cfg.UsageTypes = openAIDefaultUsageTypes
	}
	cfg.UsageTypes = slices.Clone(cfg.UsageTypes)
	if cfg.Account == "" {
		cfg.Account = Name
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	secrets := []string{cfg.AdminKey, cfg.APIKey}
	return &Client{
		cfg:   cfg,
		admin: &provider.Client{Provider: Name, BaseURL: cfg.BaseURL, HTTP: httpClient, Auth: provider.Bearer(cfg.AdminKey), Secrets: secrets},
		api:   &provider.Client{Provider: Name, BaseURL: cfg.BaseURL, HTTP: httpClient, Auth: provider.Bearer(cfg.APIKey), Secrets: secrets},
	}
}

// Provider implements Poller.
func (o *Client) Provider() string { return Name }

// openAIPage is one page of the Usage or Costs API.
type openAIPage struct {
	Data     []openAIBucket `json:"data"`
	HasMore  bool           `json:"has_more"`
	NextPage *string        `json:"next_page"`
}

type openAIBucket struct {
	StartTime any              `json:"start_time"`
	EndTime   any              `json:"end_time"`
	Results   []map[string]any `json:"results"`
	Result    []map[string]any `json:"result"` // older spelling, read defensively
}

// openAIRun is the state of one poll.
type openAIRun struct {
	o          *Client
	usage      provider.UsageSet
	rateLimits []provider.RateLimit
	badBuckets int
}

// Poll reads usage buckets of every configured type from the bucket that
// holds from up to now, then daily costs, following the page cursors.
//
// start_time is from rounded down to the bucket width (UTC), so a bucket
// polled again has the same bounds and storage replaces it. Errors on one
// usage type (a 404 on a sibling path, a 500, an unusable answer) are
// collected and the other types still polled; a refused key, a rate limit,
// an exhausted quota, a timeout or a network failure stop the poll. What was
// read comes back with the error.
func (o *Client) Poll(ctx context.Context, from, now time.Time) (provider.Poll, error) {
	if o.cfg.AdminKey == "" {
		return provider.Poll{}, nil // only an inference key: it serves the key check
	}
	limit, ok := openAIBucketLimits[o.cfg.BucketWidth]
	if !ok {
		return provider.Poll{}, &provider.Error{Provider: Name, Op: "poll", Class: provider.ClassClientError,
			Message: fmt.Sprintf("bucket width %q is not 1m, 1h or 1d", o.cfg.BucketWidth)}
	}
	if !from.Before(now) {
		return provider.Poll{}, nil
	}
	run := &openAIRun{o: o}
	var errs []error
	end := strconv.FormatInt(now.Unix(), 10)

	start := from.UTC().Truncate(openAIBucketWidths[o.cfg.BucketWidth])
	for _, typ := range o.cfg.UsageTypes {
		if !openAIUsageTypeRE.MatchString(typ) {
			errs = append(errs, &provider.Error{Provider: Name, Op: "poll", Class: provider.ClassClientError,
				Message: fmt.Sprintf("usage type %q is not a Usage API name", typ)})
			continue
		}
		q := url.Values{
			"start_time":   {strconv.FormatInt(start.Unix(), 10)},
			"end_time":     {end},
			"bucket_width": {o.cfg.BucketWidth},
			"group_by[]":   {"model", "project_id"},
			"limit":        {strconv.Itoa(limit)},
		}
		err := run.pages(ctx, "/organization/usage/"+typ, q, func(b openAIBucket) { run.addUsageBucket(b, typ) })
		if err != nil {
			errs = append(errs, err)
			if provider.Stops(ctx, err) {
				return run.result(), provider.JoinErrors(errs)
			}
		}
	}

	costStart := from.UTC().Truncate(24 * time.Hour)
	q := url.Values{
		"start_time":   {strconv.FormatInt(costStart.Unix(), 10)},
		"end_time":     {end},
		"bucket_width": {"1d"},
		"group_by[]":   {"line_item", "project_id"},
		"limit":        {strconv.Itoa(openAICostsLimit)},
	}
	foreign := map[string]int{}
	if err := run.pages(ctx, "/organization/costs", q, func(b openAIBucket) { run.addCostBucket(b, foreign) }); err != nil {
		errs = append(errs, err)
	}
	if len(foreign) > 0 {
		// Cost in another currency is not converted (there is no rate to
		// trust) and not stored as USD: it is left out and said so, so the
		// spend does not vanish silently.
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(foreign)) {
			parts = append(parts, fmt.Sprintf("%d in %q", foreign[c], c))
		}
		errs = append(errs, &provider.Error{Provider: Name, Op: "GET /organization/costs", Class: provider.ClassBadResponse,
			Message: provider.Clip("cost results not in USD skipped: " + strings.Join(parts, ", "))})
	}
	if run.badBuckets > 0 {
		errs = append(errs, &provider.Error{Provider: Name, Op: "poll", Class: provider.ClassBadResponse,
			Message: fmt.Sprintf("%d buckets without a valid start_time/end_time skipped", run.badBuckets)})
	}
	return run.result(), provider.JoinErrors(errs)
}

func (r *openAIRun) result() provider.Poll {
	return provider.Poll{Usage: r.usage.List(), RateLimits: r.rateLimits}
}

// pages reads path page after page while has_more, handing every bucket to
// each. A cursor that is missing or was already seen, or more than
// openAIMaxPages pages, is a bad_response.
func (r *openAIRun) pages(ctx context.Context, path string, q url.Values, each func(openAIBucket)) error {
	op := http.MethodGet + " " + path
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if n >= openAIMaxPages {
			return &provider.Error{Provider: Name, Op: op, Class: provider.ClassBadResponse,
				Message: fmt.Sprintf("still has_more after %d pages", openAIMaxPages)}
		}
		var page openAIPage
		resp, err := r.o.admin.Do(ctx, http.MethodGet, path, q, nil, &page)
		if resp != nil {
			if rl := RateLimits(resp.Header); len(rl) > 0 {
				r.rateLimits = rl
			}
		}
		if err != nil {
			return Scrub(err, r.o.cfg.AdminKey, r.o.cfg.APIKey)
		}
		for _, b := range page.Data {
			each(b)
		}
		if !page.HasMore {
			return nil
		}
		next := ""
		if page.NextPage != nil {
			next = *page.NextPage
		}
		switch {
		case next == "":
			return &provider.Error{Provider: Name, Op: op, Class: provider.ClassBadResponse,
				Message: "has_more without next_page"}
		case seen[next]:
			return &provider.Error{Provider: Name, Op: op, Class: provider.ClassBadResponse,
				Message: "next_page repeats a cursor already read"}
		}
		seen[next] = true
		q = maps.Clone(q)
		q.Set("page", next)
	}
}

// openAIMaxUnix is the last second of year 9999: bucket bounds past it (or
// before 1970) are not times a bucket can have.
const openAIMaxUnix = 253402300799

// bounds reads a bucket's start and end (Unix seconds); ok is false when
// either is absent or out of range, or the bucket ends before it starts.
func (r *openAIRun) bounds(b openAIBucket) (start, end time.Time, ok bool) {
	s, sok := provider.Decimal(b.StartTime)
	e, eok := provider.Decimal(b.EndTime)
	if !sok || !eok || s.IsNegative() || e.GreaterThan(decimal.NewFromInt(openAIMaxUnix)) || !s.LessThan(e) {
		r.badBuckets++
		return time.Time{}, time.Time{}, false
	}
	start, end = time.Unix(s.IntPart(), 0).UTC(), time.Unix(e.IntPart(), 0).UTC()
	if !start.Before(end) { // fractions of one second
		r.badBuckets++
		return time.Time{}, time.Time{}, false
	}
	return start, end, true
}

// addUsageBucket turns every numeric field of every result into a Usage of
// that kind. Null and absent fields are skipped, never stored as 0.
func (r *openAIRun) addUsageBucket(b openAIBucket, typ string) {
	start, end, ok := r.bounds(b)
	if !ok {
		return
	}
	var sum provider.UsageSet
	for _, res := range append(b.Results, b.Result...) {
		base := provider.Usage{Start: start, End: end, Account: r.o.cfg.Account, Category: typ,
			Project: provider.Str(res["project_id"]), Model: provider.Str(res["model"]), APIKey: provider.Str(res["api_key_id"])}
		for _, field := range slices.Sorted(maps.Keys(res)) {
			if openAIGroupKeys[field] {
				continue
			}
			v, isNum := res[field].(json.Number) // strings are names, not quantities
			if !isNum {
				continue
			}
			d, ok := provider.Quantity(v)
			if !ok {
				continue
			}
			u := base
			u.Kind = field
			if k, renamed := openAIKindNames[field]; renamed {
				u.Kind = k
			}
			u.Value = d
			sum.Sum(u)
		}
	}
	r.usage.ReplaceAll(sum.List())
}

// addCostBucket reads amount.value (exact) of every cost result as
// cost_usd by line item and project. Other currencies are counted in
// foreign and skipped.
func (r *openAIRun) addCostBucket(b openAIBucket, foreign map[string]int) {
	start, end, ok := r.bounds(b)
	if !ok {
		return
	}
	var sum provider.UsageSet
	for _, res := range append(b.Results, b.Result...) {
		amount, _ := res["amount"].(map[string]any)
		if amount == nil {
			continue
		}
		d, ok := provider.Decimal(amount["value"])
		if !ok {
			continue
		}
		if cur := strings.ToLower(strings.TrimSpace(provider.Str(amount["currency"]))); cur != "" && cur != "usd" {
			foreign[cur]++
			continue
		}
		sum.Sum(provider.Usage{Start: start, End: end, Account: r.o.cfg.Account, Kind: "cost_usd", Value: d,
			LineItem: provider.Str(res["line_item"]), Project: provider.Str(res["project_id"]), APIKey: provider.Str(res["api_key_id"])})
	}
	r.usage.ReplaceAll(sum.List())
}

// openAIUsageKey identifies one Usage record: storage keeps one value per
// Check runs the cheapest authenticated call: GET /models with the API key
// when there is one (its answer carries the rate limits), else a one-bucket
// usage query with the admin key.
func (o *Client) Check(ctx context.Context) provider.Check {
	secrets := []string{o.cfg.AdminKey, o.cfg.APIKey}
	switch {
	case o.cfg.APIKey != "":
		return provider.CheckCall(ctx, o.api, "/models", nil, RateLimits, keyScrubber(secrets))
	case o.cfg.AdminKey != "":
		q := url.Values{
			"start_time":   {strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)},
			"bucket_width": {"1m"},
			"limit":        {"1"},
		}
		return provider.CheckCall(ctx, o.admin, "/organization/usage/completions", q, RateLimits, keyScrubber(secrets))
	}
	return provider.Check{Class: provider.ClassClientError, Message: "no OpenAI key configured"}
}

// openAISecretRE matches what looks like an OpenAI or OpenRouter key, whole
// or masked (sk-proj-…, sk-admin-…, sk-or-v1-…, sk-abc***wxyz): providers
// quote the key they refused in their messages.
var openAISecretRE = regexp.MustCompile(`sk-[A-Za-z0-9_*\-]+`)

// Scrub removes the configured keys, and anything shaped like a key,
// from an error's message, so that no key reaches a log or a Check.
func Scrub(err error, secrets ...string) error {
	return provider.ScrubWith(provider.Scrub(err, secrets...), func(s string) string {
		return openAISecretRE.ReplaceAllString(s, "sk-[redacted]")
	})
}

// keyScrubber cleans an error of secrets and of anything shaped like a key.
func keyScrubber(secrets []string) func(error) error {
	return func(err error) error { return Scrub(err, secrets...) }
}
