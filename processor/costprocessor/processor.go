package costprocessor

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/anomaly"
	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// state is what one cost instance keeps whichever signal a call comes on:
// the catalog, the anomaly baselines and the live feed. The factory shares
// it between the instance's traces and logs processors (shared.go), so a
// series' baseline learns from every call, wherever it was seen.
type state struct {
	reader   apicall.Reader
	prices   *prices
	detector *anomaly.Detector
	attr     *attributor

	liveID *component.ID
	feed   *livefeed.Hub // nil unless live_feed is configured

	// The live feed is looked up once, by whichever processor starts
	// first; the others get the same answer, error included.
	startOnce sync.Once
	startErr  error
}

func newState(cfg *Config, logger *zap.Logger) (*state, error) {
	base, err := pricing.Default()
	if err != nil {
		return nil, fmt.Errorf("load pricing catalog: %w", err)
	}
	catalog, err := base.With(cfg.Pricing)
	if err != nil {
		return nil, err
	}
	s := &state{
		reader:   apicall.Reader{Hosts: cfg.Hosts, Routes: cfg.Routes},
		prices:   &prices{base: catalog, cfg: cfg.Prices, logger: logger},
		detector: anomaly.New(cfg.Anomaly),
		attr:     newAttributor(&cfg.Attribution),
		liveID:   cfg.LiveFeed,
	}
	logger.Info("pricing catalog loaded", zap.String("version", catalog.Version()))
	return s, nil
}

func (s *state) start(host component.Host) error {
	s.startOnce.Do(func() {
		if s.startErr = s.prices.start(host); s.startErr != nil || s.liveID == nil {
			return
		}
		feed, err := livefeed.FromHost(host, *s.liveID)
		if err != nil {
			s.startErr = fmt.Errorf("cost processor: live_feed: %w", err)
			return
		}
		s.feed = feed
	})
	return s.startErr
}

// costProcessor is one pipeline's processor: the shared state, and its own
// logger and telemetry, which the collector tags with the pipeline.
type costProcessor struct {
	*state

	logger    *zap.Logger
	calls     metric.Int64Counter
	anomalies metric.Int64Counter
	byStatus  [4]metric.MeasurementOption // reported, computed, unpriced, refused
	truncated metric.Int64Counter
	byDim     [numDims]metric.MeasurementOption
}

// newCostProcessor returns a processor with a state of its own.
func newCostProcessor(cfg *Config, set processor.Settings) (*costProcessor, error) {
	s, err := newState(cfg, set.Logger)
	if err != nil {
		return nil, err
	}
	return withState(s, set)
}

// withState returns a processor on state s, with telemetry of its own.
func withState(s *state, set processor.Settings) (*costProcessor, error) {
	meter := set.MeterProvider.Meter("github.com/nexus-otel/nexus/processor/costprocessor")
	calls, err := meter.Int64Counter("nexus.cost.calls",
		metric.WithDescription("API calls priced, by how: reported by the provider, computed from the catalog, unpriced, or refused (not billed)"),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, err
	}
	anomalies, err := meter.Int64Counter("nexus.cost.anomalies",
		metric.WithDescription("API calls flagged as anomalous in latency or cost"), metric.WithUnit("{call}"))
	if err != nil {
		return nil, err
	}
	// A sender can put anything in an attribution attribute; what was cut
	// shows here, so a misbehaving client is seen even where nobody reads
	// the store.
	truncated, err := meter.Int64Counter("nexus.cost.attribution.truncated",
		metric.WithDescription("Attribution values (customer, user, team, feature, tag name or value) cut to their limit or cleaned of control characters, "+
			"and calls whose tags past max_tags were dropped, by dimension"),
		metric.WithUnit("{value}"))
	if err != nil {
		return nil, err
	}
	p := &costProcessor{
		state:     s,
		logger:    set.Logger,
		calls:     calls,
		anomalies: anomalies,
		truncated: truncated,
	}
	for i, d := range dimNames {
		p.byDim[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("dimension", d)))
	}
	for i, st := range []pricing.Status{pricing.Reported, pricing.Computed, pricing.Unpriced, pricing.Refused} {
		p.byStatus[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("status", st.String())))
	}
	return p, nil
}

func (p *costProcessor) start(_ context.Context, host component.Host) error {
	return p.state.start(host)
}

// tally counts a batch's outcomes so that telemetry costs one Add per batch,
// not per span.
type tally struct {
	// catalog prices the batch: its tenant's, read once per batch.
	catalog   *pricing.Catalog
	byStatus  [4]int64
	anomalies int64
	truncated [numDims]int64
}

func (p *costProcessor) record(ctx context.Context, t *tally) {
	for i, n := range t.byStatus {
		if n > 0 {
			p.calls.Add(ctx, n, p.byStatus[i])
		}
	}
	if t.anomalies > 0 {
		p.anomalies.Add(ctx, t.anomalies)
	}
	for i, n := range t.truncated {
		if n > 0 {
			p.truncated.Add(ctx, n, p.byDim[i])
		}
	}
}

// tenantOf is the tenant the sender of ctx's data proved with its ingest
// key (the nexusingestauth authenticator's client info), else the default
// tenant: a receiver without authentication writes there.
func tenantOf(ctx context.Context) string {
	if a := client.FromContext(ctx).Auth; a != nil {
		if t, ok := a.GetAttribute(semconv.AuthTenant).(string); ok && t != "" {
			return t
		}
	}
	return schema.DefaultTenant
}

func (p *costProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	tenant := tenantOf(ctx)
	t := tally{catalog: p.prices.catalog(tenant)}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		// Always overwritten: what a sender wrote there is no proof of
		// anything, and a tenant must not write into another's data.
		rs.Resource().Attributes().PutStr(semconv.Tenant, tenant)
		service, env := apicall.Resource(rs.Resource())
		res := p.attr.scan(rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				span.Attributes().Remove(semconv.Tenant)
				call, ok := p.reader.FromSpan(span)
				if !ok {
					continue
				}
				start, end := span.StartTimestamp(), span.EndTimestamp()
				var latency int64
				if end > start {
					latency = int64(end - start)
				}
				out := p.process(&t, span.Attributes(), &call, service, start.AsTime(), latency)
				p.attr.apply(span.Attributes(), &res, &t.truncated)
				if p.feed != nil && p.feed.Active() {
					tid, sid := span.TraceID(), span.SpanID()
					p.publish(&call, out, tenant, span.Attributes(), service, env, start.AsTime(), latency, hex.EncodeToString(tid[:]), hex.EncodeToString(sid[:]))
				}
			}
		}
	}
	p.record(ctx, &t)
	return td, nil
}

func (p *costProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	tenant := tenantOf(ctx)
	t := tally{catalog: p.prices.catalog(tenant)}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		rl.Resource().Attributes().PutStr(semconv.Tenant, tenant)
		service, env := apicall.Resource(rl.Resource())
		res := p.attr.scan(rl.Resource().Attributes())
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			logs := sls.At(j).LogRecords()
			for k := 0; k < logs.Len(); k++ {
				lr := logs.At(k)
				lr.Attributes().Remove(semconv.Tenant)
				call, ok := p.reader.FromAttributes(lr.Attributes(), lr.SeverityNumber() >= plog.SeverityNumberError)
				if !ok {
					continue
				}
				ts := lr.Timestamp()
				if ts == 0 {
					ts = lr.ObservedTimestamp()
				}
				// A log record has no duration: only its cost is scored.
				out := p.process(&t, lr.Attributes(), &call, service, ts.AsTime(), -1)
				p.attr.apply(lr.Attributes(), &res, &t.truncated)
				if p.feed != nil && p.feed.Active() {
					tid, sid := lr.TraceID(), lr.SpanID()
					p.publish(&call, out, tenant, lr.Attributes(), service, env, ts.AsTime(), 0, hex.EncodeToString(tid[:]), hex.EncodeToString(sid[:]))
				}
			}
		}
	}
	p.record(ctx, &t)
	return ld, nil
}

// outcome is what process decided for a call.
type outcome struct {
	res       pricing.Result
	score     float64
	anomalous bool
}

// process prices and scores one call and writes the outcome on its
// attributes, where the nexus exporter (or any other) reads it.
func (p *costProcessor) process(t *tally, attrs pcommon.Map, call *apicall.Call, service string, at time.Time, latency int64) outcome {
	res := p.price(t.catalog, call, at)
	t.byStatus[statusIndex(res.Status)]++

	var cost int64 = -1
	if res.Status != pricing.Unpriced {
		cost = int64(res.Cost)
	}
	key := anomaly.Key{Provider: call.Provider, Model: call.Model, Operation: call.Operation, Service: service}
	score, anomalous := p.detector.Observe(key, latency, cost)
	if anomalous {
		t.anomalies++
	}

	if _, seen := attrs.Get(semconv.AttrCostStatus); !seen {
		// Grow the attribute slice once for everything written below,
		// rather than once per doubling.
		attrs.EnsureCapacity(attrs.Len() + 8)
	}
	attrs.PutStr(semconv.AttrNexusProvider, call.Provider)
	if call.Operation != "" {
		attrs.PutStr(semconv.AttrNexusOperation, call.Operation)
	}
	attrs.PutStr(semconv.AttrCostStatus, res.Status.String())
	if res.Status == pricing.Unpriced {
		attrs.Remove(semconv.AttrCostPicoUSD)
		// The full sentence allocates, but only for unpriced calls, and it
		// is what an operator needs to add the missing price.
		attrs.PutStr(semconv.AttrUnpricedReason, res.Detail())
	} else {
		attrs.PutInt(semconv.AttrCostPicoUSD, int64(res.Cost))
		attrs.Remove(semconv.AttrUnpricedReason)
	}
	// Stale values from a re-processed span go.
	if res.Status == pricing.Computed {
		attrs.PutStr(semconv.AttrPricingVersion, t.catalog.Version())
	} else {
		attrs.Remove(semconv.AttrPricingVersion)
	}
	if res.Status == pricing.Refused {
		attrs.PutStr(semconv.AttrCostReason, res.Reason)
	} else {
		attrs.Remove(semconv.AttrCostReason)
	}
	attrs.PutDouble(semconv.AttrAnomalyScore, score)
	attrs.PutBool(semconv.AttrAnomaly, anomalous)
	return outcome{res: res, score: score, anomalous: anomalous}
}

// publish shows a priced call on the live stream. It runs only while
// someone watches, so an unwatched collector pays nothing for it. attrs
// are the record's attributes once attribution is applied: the stream
// shows (and filters by) the attribution the call is stored with.
func (p *costProcessor) publish(call *apicall.Call, out outcome, tenant string, attrs pcommon.Map, service, env string, at time.Time, latency int64, traceID, spanID string) {
	c := livefeed.Call{
		Tenant: tenant, Timestamp: at.UTC().Format(time.RFC3339Nano), DurationMs: float64(max(latency, 0)) / 1e6,
		Provider: call.Provider, Model: call.Model, Operation: call.Operation, Service: service, Environment: env,
		HTTPStatus: call.HTTPStatus, Status: "ok", ErrorClass: call.ErrorClass,
		Tokens: livefeed.Tokens{Input: call.InputTokens, Output: call.OutputTokens,
			CachedInput: call.CachedInputTokens, Reasoning: call.ReasoningTokens},
		CostStatus: out.res.Status.String(), Anomaly: out.anomalous, AnomalyScore: out.score,
		TraceID: traceID, SpanID: spanID,
	}
	str := func(k string) string {
		if v, ok := attrs.Get(k); ok {
			return v.Str()
		}
		return ""
	}
	c.Customer, c.User, c.Team, c.Feature = str(semconv.AttrCustomer), str(semconv.AttrUser), str(semconv.AttrTeam), str(semconv.AttrFeature)
	if call.Failed {
		c.Status = "error"
	}
	if out.res.Status != pricing.Unpriced {
		usd := out.res.Cost.Decimal().String()
		c.CostUSD = &usd
	}
	p.feed.Publish(livefeed.CallEvent(&c))
}

// price takes the provider-reported cost when the span carries one, else
// settles a failed call the provider did not bill (unbilled), else prices
// the usage from cat, as re-pricing a stored call does (apicall.PriceUsage).
func (p *costProcessor) price(cat *pricing.Catalog, call *apicall.Call, at time.Time) pricing.Result {
	if call.HasReportedCost {
		if m, ok := reportedMoney(call.ReportedCost); ok {
			return pricing.Result{Cost: m, Status: pricing.Reported}
		}
	}
	if res, ok := unbilled(call); ok {
		// An operation the catalog prices at $0 whatever happened (a Twilio
		// status fetch, an Apollo search that consumes no credits) costs $0
		// even when nobody knows whether the provider performed it.
		// Providers that bill tokens are excluded: no tokens reported is
		// no $0.
		if d, _ := providers.Lookup(call.Provider); res.Status == pricing.Unpriced && d != nil && !d.Billing.ByTokens {
			if free := apicall.PriceUsage(cat, call, at); free.Status == pricing.Computed && free.Cost == 0 {
				return free
			}
		}
		return res
	}
	return apicall.PriceUsage(cat, call, at)
}

// reportedMoney reads a provider-reported cost: a decimal string (Exa,
// Twilio — whose prices are negative, as billed amounts) or a double
// (OpenRouter's usage.cost through instrumentations), which is read by its
// shortest decimal form so that 0.00123 is 0.00123 exactly. The cost is the
// amount's absolute value; ok is false when it is unreadable or more than
// MaxCost, and the call is then priced from the catalog.
func reportedMoney(v pcommon.Value) (pricing.Money, bool) {
	var m pricing.Money
	var err error
	switch v.Type() {
	case pcommon.ValueTypeStr:
		m, err = pricing.ParseMoney(v.Str())
	case pcommon.ValueTypeDouble:
		var buf [32]byte
		// A double can carry more digits than pico-USD; round, never refuse.
		m, err = pricing.ParseMoneyRound(string(strconv.AppendFloat(buf[:0], v.Double(), 'f', -1, 64)))
	case pcommon.ValueTypeInt:
		m, err = pricing.ParseMoney(strconv.FormatInt(v.Int(), 10))
	default:
		return 0, false
	}
	// A cost past MaxCost would not fit the store's Decimal(18,12): like
	// an unreadable one, it is no usable reported cost (and the most
	// negative Money has no positive counterpart).
	if err != nil || m.Abs() > pricing.MaxCost {
		return 0, false
	}
	return m.Abs(), true
}

func statusIndex(s pricing.Status) int {
	switch s {
	case pricing.Reported:
		return 0
	case pricing.Computed:
		return 1
	case pricing.Refused:
		return 3
	}
	return 2
}
