package nexusexporter

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/attribution"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/store"
)

// apiCallsColumns is the column order of every api_calls insert (the
// values of callRows follow it).
var apiCallsColumns = store.APICallColumns

// apiCalls is the table of calls, partitioned by month of the call's start.
var apiCalls = tableSpec{name: "api_calls", columns: apiCallsColumns}

type nexusExporter struct {
	cfg    *Config
	logger *zap.Logger
	store  store.Store
	// retention reports the store's retention of api_calls, nil when the
	// store does not.
	retention store.RetentionReporter
	refusals  *refusals
	// journal keeps the blocks in flight (nil without a persistent queue).
	journal *journal
	id      component.ID
	signal  string
}

func newNexusExporter(cfg *Config, set exporter.Settings, signal string) (*nexusExporter, error) {
	r, err := newRefusals(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &nexusExporter{cfg: cfg, logger: set.Logger, refusals: r, id: set.ID, signal: signal}, nil
}

func (e *nexusExporter) start(ctx context.Context, host component.Host) error {
	s, err := store.FromHost(host, e.cfg.Store)
	if err != nil {
		return fmt.Errorf("nexus exporter: %w", err)
	}
	e.store = s
	if e.journal, err = openJournal(ctx, host, e.cfg, e.id, e.signal, e.logger); err != nil {
		return fmt.Errorf("nexus exporter: %w", err)
	}
	// The store or the extension providing it may know the retention.
	if rr, ok := s.(store.RetentionReporter); ok {
		e.retention = rr
	} else if rr, ok := host.GetExtensions()[e.cfg.Store].(store.RetentionReporter); ok {
		e.retention = rr
	}
	return nil
}

func (e *nexusExporter) shutdown(ctx context.Context) error {
	return e.journal.close(ctx)
}

// pushTraces writes one row per API-call span. Calls whose times cannot be
// stored as sent are refused (counted and logged); the others are written
// exactly once, however often the request is retried (see write). An error
// is returned only for an outage, so that exporterhelper retries and
// queues the request.
func (e *nexusExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	rows := callRows(td, newWindow(time.Now(), e.maxAge(), e.cfg.AcceptedTime.MaxFuture))
	if len(rows) == 0 {
		return nil
	}
	var rep pushReport
	began := time.Now()
	if err := e.write(ctx, &apiCalls, rows, &rep); err != nil {
		return err
	}
	e.refusals.report(ctx, &rep)
	e.logger.Debug("api_calls written", zap.Int("rows", rep.stored), zap.Int("already_stored", rep.duplicates),
		zap.Duration("took", time.Since(began)))
	return nil
}

// callRows turns the API-call spans of td into api_calls rows, those
// outside w marked refused.
func callRows(td ptrace.Traces, w window) []row {
	rows := make([]row, 0, td.SpanCount())
	var traceBuf [32]byte
	var spanBuf [16]byte
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service, env := apicall.Resource(rs.Resource())
		tenant := tenantOf(rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				call, ok := apicall.FromSpan(span)
				if !ok {
					continue
				}
				start, end := span.StartTimestamp(), span.EndTimestamp()
				var dur uint64
				if end > start {
					dur = uint64(end - start)
				}
				status := "ok"
				if call.Failed {
					status = "error"
				}
				tid, sid := span.TraceID(), span.SpanID()
				hex.Encode(traceBuf[:], tid[:])
				hex.Encode(spanBuf[:], sid[:])
				traceID, spanID := string(traceBuf[:]), string(spanBuf[:])
				c := costOf(span.Attributes())
				d := dimensionsOf(span.Attributes())
				rows = append(rows, row{
					at:      start.AsTime(),
					refused: w.checkSpan(start, end),
					vals: []any{
						start.AsTime(), dur, service, env, call.Provider, call.Operation, call.Model,
						call.RequestModel, span.Name(), call.ServerAddress, call.HTTPMethod, uint16(min(max(call.HTTPStatus, 0), 65535)), status,
						call.ErrorClass, call.ErrorType, uint64(call.InputTokens), uint64(call.OutputTokens), uint64(call.CachedInputTokens),
						uint64(call.CacheWriteTokens), uint64(call.ReasoningTokens), apicall.UsageUnits(&call),
						c.usd, c.status, c.reason, c.version, c.costReason, call.ServiceTier, float32(c.score), c.anomaly,
						traceID, spanID,
						d.customer, d.user, d.team, d.feature, d.tags,
						tenant,
					},
				})
			}
		}
	}
	return rows
}

// tenantOf is the tenant the cost processor stamped on a resource (from
// the sender's ingest key), the default tenant when none did. The value is
// bounded like any other: a pipeline without the processor must not store
// whatever a sender wrote, at any length.
func tenantOf(res pcommon.Map) string {
	if v, ok := res.Get(semconv.Tenant); ok {
		if t, _ := attribution.Clean(v.AsString(), attribution.CeilingValueBytes); t != "" {
			return t
		}
	}
	return schema.DefaultTenant
}

// noCostProcessor is the reason stored when no cost processor priced a call:
// the call is unpriced, never $0.
const noCostProcessor = "not priced: no cost processor in the pipeline"

// cost is what the cost processor wrote on a span.
type cost struct {
	usd        any // *decimal.Decimal or nil (unpriced)
	status     string
	reason     string // why unpriced
	version    string // catalog version of a computed cost
	costReason string // how a refused call's $0 was decided
	score      float64
	anomaly    bool
}

func costOf(attrs pcommon.Map) cost {
	var c cost
	if v, ok := attrs.Get(semconv.AttrCostStatus); ok {
		c.status = v.Str()
	}
	if v, ok := attrs.Get(semconv.AttrCostPicoUSD); ok && v.Type() == pcommon.ValueTypeInt && c.status != "unpriced" {
		c.usd = decimal.New(v.Int(), -12)
	}
	switch {
	case c.status == "":
		c.status, c.reason = "unpriced", noCostProcessor
	case c.usd == nil:
		c.status = "unpriced"
		if v, ok := attrs.Get(semconv.AttrUnpricedReason); ok {
			c.reason = v.Str()
		}
	}
	if v, ok := attrs.Get(semconv.AttrPricingVersion); ok {
		c.version = v.Str()
	}
	if v, ok := attrs.Get(semconv.AttrCostReason); ok && c.status == "refused" {
		c.costReason = v.Str()
	}
	if v, ok := attrs.Get(semconv.AttrAnomalyScore); ok {
		c.score = v.Double()
	}
	if v, ok := attrs.Get(semconv.AttrAnomaly); ok {
		c.anomaly = v.Bool()
	}
	return c
}

// dimensions is who a call was made for, as the cost processor resolved it.
type dimensions struct {
	customer, user, team, feature string
	tags                          map[string]string // nil when none
}

// dimensionsOf reads the canonical attribution attributes the cost
// processor wrote; a span it did not see has none, and stores empty
// dimensions. The processor has cleaned and bounded the values to its
// limits; the exporter cuts again to the ceilings, which no configuration
// exceeds, so a span that bypassed the processor (or a sender writing the
// canonical names itself) still cannot store a megabyte value.
func dimensionsOf(attrs pcommon.Map) dimensions {
	var d dimensions
	str := func(key string) string {
		if v, ok := attrs.Get(key); ok {
			s, _ := attribution.Clean(v.AsString(), attribution.CeilingValueBytes)
			return s
		}
		return ""
	}
	d.customer = str(semconv.AttrAttributionCustomer)
	d.user = str(semconv.AttrAttributionUser)
	d.team = str(semconv.AttrAttributionTeam)
	d.feature = str(semconv.AttrAttributionFeature)
	if v, ok := attrs.Get(semconv.AttrAttributionTags); ok && v.Type() == pcommon.ValueTypeMap && v.Map().Len() > 0 {
		d.tags = make(map[string]string, min(v.Map().Len(), attribution.CeilingTags))
		for name, tv := range v.Map().All() {
			if len(d.tags) == attribution.CeilingTags {
				break
			}
			n, _ := attribution.Clean(name, attribution.CeilingTagNameBytes)
			if n == "" {
				continue
			}
			if _, dup := d.tags[n]; !dup {
				d.tags[n], _ = attribution.Clean(tv.AsString(), attribution.CeilingValueBytes)
			}
		}
		if len(d.tags) == 0 {
			d.tags = nil
		}
	}
	return d
}
