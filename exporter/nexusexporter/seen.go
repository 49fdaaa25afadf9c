package nexusexporter

import (
	"context"
	"fmt"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// Block tokens make a retried insert of the same block count once, but a
// span can reach the store twice in another block: a client that resends a
// request the collector took but was killed before answering, or a crash
// after the store committed a batch whose requests the persistent queue
// then replays beside others, batched differently (measured: up to 10,500
// of 1.8 M spans twice over seven kills). So before a block of calls is
// inserted, the spans already stored — and repeats inside the push — are
// dropped by their identity: trace id, span id and start time (the time
// too, so that senders reusing ids for different calls keep both).

// callIdentity indexes the api_calls columns that identify a call.
type callIdentity struct{ ts, tenant, provider, service, trace, span int }

func identityOf(columns []string) callIdentity {
	idx := map[string]int{}
	for i, c := range columns {
		idx[c] = i
	}
	return callIdentity{ts: idx["timestamp"], tenant: idx["tenant"], provider: idx["provider"], service: idx["service"],
		trace: idx["trace_id"], span: idx["span_id"]}
}

var apiCallsIdentity = identityOf(apiCallsColumns)

// callKey holds the tenant too: a call another tenant stored with the
// same ids (which a sender can copy) must not make this one a duplicate.
type callKey struct {
	tenant, trace, span string
	ts                  int64
}

func (id callIdentity) key(r row) callKey {
	return callKey{tenant: r.vals[id.tenant].(string), trace: r.vals[id.trace].(string), span: r.vals[id.span].(string), ts: r.vals[id.ts].(time.Time).UnixNano()}
}

// dropStored returns rows without the calls the store already holds and
// without repeats of a call within rows (the first is kept). An error
// means the store could not be asked: the caller retries the push.
func (e *nexusExporter) dropStored(ctx context.Context, rows []row) ([]row, int, error) {
	id := apiCallsIdentity
	seen := make(map[callKey]bool, len(rows))
	var tenants, traces, spans, providers, services []string
	from, to := rows[0].at, rows[0].at
	kept := make([]row, 0, len(rows))
	for _, r := range rows {
		k := id.key(r)
		if seen[k] {
			continue
		}
		seen[k] = true
		kept = append(kept, r)
		traces, spans, tenants = append(traces, k.trace), append(spans, k.span), append(tenants, k.tenant)
		providers = append(providers, r.vals[id.provider].(string))
		services = append(services, r.vals[id.service].(string))
		from, to = minTime(from, r.at), maxTime(to, r.at)
	}
	// provider, service and the time range select the primary key's
	// ranges; trace_id's bloom filter skips the granules in them that hold
	// none of these traces, so the check reads a few granules, not days.
	res, err := e.store.Query(ctx, "SELECT tenant, trace_id, span_id, timestamp FROM "+e.store.Database()+".api_calls"+
		" WHERE tenant IN {tenants:Array(String)} AND provider IN {providers:Array(String)} AND service IN {services:Array(String)}"+
		" AND timestamp BETWEEN {from:DateTime64(9, 'UTC')} AND {to:DateTime64(9, 'UTC')}"+
		" AND trace_id IN {traces:Array(String)} AND span_id IN {spans:Array(String)}",
		store.Params{
			"tenants": arrayParam(tenants), "providers": arrayParam(providers), "services": arrayParam(services),
			"traces": arrayParam(traces), "spans": arrayParam(spans),
			"from": from.UTC().Format("2006-01-02 15:04:05.999999999"), "to": to.UTC().Format("2006-01-02 15:04:05.999999999"),
		})
	if err != nil {
		return nil, 0, fmt.Errorf("look up calls already stored: %w", err)
	}
	defer res.Close()
	stored := map[callKey]bool{}
	for res.Next() {
		var k callKey
		var ts time.Time
		if err := res.Scan(&k.tenant, &k.trace, &k.span, &ts); err != nil {
			return nil, 0, fmt.Errorf("read calls already stored: %w", err)
		}
		k.ts = ts.UnixNano()
		stored[k] = true
	}
	if err := res.Err(); err != nil {
		return nil, 0, fmt.Errorf("read calls already stored: %w", err)
	}
	if len(stored) == 0 {
		return kept, len(rows) - len(kept), nil
	}
	out := kept[:0]
	for _, r := range kept {
		if !stored[id.key(r)] {
			out = append(out, r)
		}
	}
	return out, len(rows) - len(out), nil
}

// arrayParam is a distinct list in ClickHouse's text form of
// Array(String), as {name:Array(String)} parameters take it.
func arrayParam(vals []string) string {
	seen := make(map[string]bool, len(vals))
	b := make([]byte, 0, len(vals)*20)
	b = append(b, '[')
	for _, v := range vals {
		if seen[v] {
			continue
		}
		seen[v] = true
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '\'')
		for i := 0; i < len(v); i++ {
			if v[i] == '\'' || v[i] == '\\' {
				b = append(b, '\\')
			}
			b = append(b, v[i])
		}
		b = append(b, '\'')
	}
	return string(append(b, ']'))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
