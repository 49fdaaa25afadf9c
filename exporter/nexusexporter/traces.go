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
	"github.com/nexus-otel/nexus/internal/store"
)

// apiCallsColumns is the column order of every api_calls insert.
var apiCallsColumns = []string{
	"timestamp", "duration_ns", "service", "environment", "provider", "operation", "model",
	"request_model", "span_name", "server_address", "http_method", "http_status", "status",
	"error_class", "error_type", "input_tokens", "output_tokens", "cached_input_tokens",
	"cache_write_input_tokens", "reasoning_tokens", "usage_units",
	"cost_usd", "cost_status", "unpriced_reason", "pricing_version", "anomaly_score", "is_anomaly",
	"trace_id", "span_id",
}

type nexusExporter struct {
	cfg    *Config
	logger *zap.Logger
	store  store.Store
}

func newNexusExporter(cfg *Config, set exporter.Settings) *nexusExporter {
	return &nexusExporter{cfg: cfg, logger: set.Logger}
}

func (e *nexusExporter) start(_ context.Context, host component.Host) error {
	s, err := store.FromHost(host, e.cfg.Store)
	if err != nil {
		return fmt.Errorf("nexus exporter: %w", err)
	}
	e.store = s
	return nil
}

// pushTraces writes one row per API-call span. A failed insert returns the
// error so that exporterhelper retries and queues the whole request; rows
// are only ever written by a successful Send, so a retry cannot duplicate.
func (e *nexusExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	batch, err := e.store.PrepareBatch(ctx, "api_calls", apiCallsColumns)
	if err != nil {
		return fmt.Errorf("prepare api_calls insert: %w", err)
	}
	var traceBuf [32]byte
	var spanBuf [16]byte
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service, env := apicall.Resource(rs.Resource())
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
				c := costOf(span.Attributes())
				err := batch.Append(
					start.AsTime(), dur, service, env, call.Provider, call.Operation, call.Model,
					call.RequestModel, span.Name(), call.ServerAddress, call.HTTPMethod, uint16(min(max(call.HTTPStatus, 0), 65535)), status,
					call.ErrorClass, call.ErrorType, uint64(call.InputTokens), uint64(call.OutputTokens), uint64(call.CachedInputTokens),
					uint64(call.CacheWriteTokens), uint64(call.ReasoningTokens), usageUnits(&call),
					c.usd, c.status, c.reason, c.version, float32(c.score), c.anomaly,
					string(traceBuf[:]), string(spanBuf[:]),
				)
				if err != nil {
					// A row the table cannot take is bad data, not an outage:
					// dropping it (loudly) beats retrying the batch forever.
					e.logger.Warn("dropping span that does not fit api_calls", zap.Error(err),
						zap.String("span", span.Name()), zap.Time("start", start.AsTime()))
				}
			}
		}
	}
	if batch.Rows() == 0 {
		return batch.Abort()
	}
	rows, began := batch.Rows(), time.Now()
	if err := batch.Send(ctx); err != nil {
		return fmt.Errorf("insert %d api_calls rows: %w", rows, err)
	}
	e.logger.Debug("api_calls inserted", zap.Int("rows", rows), zap.Duration("took", time.Since(began)))
	return nil
}

// noCostProcessor is the reason stored when no cost processor priced a call:
// the call is unpriced, never $0.
const noCostProcessor = "not priced: no cost processor in the pipeline"

// cost is what the cost processor wrote on a span.
type cost struct {
	usd     any // *decimal.Decimal or nil (unpriced)
	status  string
	reason  string
	version string
	score   float64
	anomaly bool
}

func costOf(attrs pcommon.Map) cost {
	var c cost
	if v, ok := attrs.Get(apicall.AttrCostStatus); ok {
		c.status = v.Str()
	}
	if v, ok := attrs.Get(apicall.AttrCostPicoUSD); ok && v.Type() == pcommon.ValueTypeInt && c.status != "unpriced" {
		c.usd = decimal.New(v.Int(), -12)
	}
	switch {
	case c.status == "":
		c.status, c.reason = "unpriced", noCostProcessor
	case c.usd == nil:
		c.status = "unpriced"
		if v, ok := attrs.Get(apicall.AttrUnpricedReason); ok {
			c.reason = v.Str()
		}
	}
	if v, ok := attrs.Get(apicall.AttrPricingVersion); ok {
		c.version = v.Str()
	}
	if v, ok := attrs.Get(apicall.AttrAnomalyScore); ok {
		c.score = v.Double()
	}
	if v, ok := attrs.Get(apicall.AttrAnomaly); ok {
		c.anomaly = v.Bool()
	}
	return c
}

// usageUnits holds the non-token usage of a call (nil when there is none).
func usageUnits(c *apicall.Call) map[string]uint64 {
	var m map[string]uint64
	add := func(k string, v int64) {
		if v > 0 {
			if m == nil {
				m = make(map[string]uint64, 2)
			}
			m[k] = uint64(v)
		}
	}
	add("results", c.Results)
	add("pages", c.Pages)
	add("sms_segments", c.SMSSegments)
	add("voice_seconds", c.VoiceSeconds)
	add("credits", c.Credits)
	return m
}
