package chstoreextension

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/codec"
	"github.com/nexus-otel/nexus/internal/store"
)

// The codec benchmarks decide how the embedded store encodes inserts: the
// in-house RowBinary encoder (internal/codec) against clickhouse-go's own
// columns encoded as a Native block, on the rows the nexus exporter writes
// to api_calls. Both encode the same rows in the same run; the insert
// benchmarks also stream them into the engine, through the table's
// materialized views, as a batch's Send does. Figures and the decision are
// in the README ("Insert encoding").

// exporterColumns is the exporter's api_calls column order.
var exporterColumns = store.APICallColumns

// exporterRows builds n rows with the Go types and the spread of values the
// exporter's callRows appends: five providers, a few models and services,
// one call in fifty failed, one in twenty unpriced (NULL cost), usage units
// only for the providers that bill in them, random trace and span ids.
func exporterRows(n int, at time.Time) [][]any {
	type provider struct{ name, host, op, unit string }
	providers := []provider{
		{"openai", "api.openai.com", "chat", ""}, {"openrouter", "openrouter.ai", "chat", ""},
		{"exa", "api.exa.ai", "search", "results"}, {"twilio", "api.twilio.com", "sms", "sms_segments"},
		{"apollo", "api.apollo.io", "enrich", "credits"},
	}
	models := []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "anthropic/claude-sonnet-4"}
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([][]any, n)
	for i := range rows {
		p := providers[i%len(providers)]
		model, reqModel := "", ""
		if p.op == "chat" {
			model = models[i%len(models)]
			reqModel = model
		}
		var tid [16]byte
		var sid [8]byte
		for j := range tid {
			tid[j] = byte(rng.Uint32())
		}
		for j := range sid {
			sid[j] = byte(rng.Uint32())
		}
		status, httpStatus, errClass, errType := "ok", uint16(200), "", ""
		if i%50 == 0 {
			status, httpStatus, errClass, errType = "error", 429, "rate_limited", "RateLimitError"
		}
		var units map[string]uint64
		if p.unit != "" {
			units = map[string]uint64{p.unit: uint64(1 + i%10)}
		}
		var usd any = decimal.New(int64(1000+rng.IntN(5_000_000)), -12)
		costStatus, unpriced, version := "computed", "", "2026-11-01"
		if i%20 == 0 {
			usd, costStatus, unpriced, version = nil, "unpriced", "no catalog price for model", ""
		}
		in, out := uint64(200+rng.IntN(4000)), uint64(20+rng.IntN(800))
		rows[i] = []any{
			at.Add(time.Duration(i) * time.Millisecond), uint64(80_000_000 + rng.IntN(2_000_000_000)),
			fmt.Sprintf("svc-%d", i%20), "prod", p.name, p.op, model,
			reqModel, p.op + " " + model, p.host, "POST", httpStatus, status,
			errClass, errType, in, out, in / 4,
			uint64(0), out / 10, units,
			usd, costStatus, unpriced, version, "", "", float32(rng.Float64()), i%97 == 0,
			hex.EncodeToString(tid[:]), hex.EncodeToString(sid[:]),
			fmt.Sprintf("cus_%d", i%1000), fmt.Sprintf("usr_%d", i%5000), "growth", "search", map[string]string(nil),
			fmt.Sprintf("tenant-%d", i%3),
		}
	}
	return rows
}

// rowBinaryEncoder is the embedded store's insert encoding (embeddedBatch).
type rowBinaryEncoder struct {
	enc *codec.RowEncoder
	buf []byte
}

func (e *rowBinaryEncoder) format() string { return "RowBinary" }

func (e *rowBinaryEncoder) encode(rows [][]any) ([]byte, error) {
	e.buf = e.buf[:0]
	for _, r := range rows {
		var err error
		if e.buf, err = e.enc.Append(e.buf, r...); err != nil {
			return nil, err
		}
	}
	return e.buf, nil
}

// nativeEncoder is clickhouse-go's: one column per type string, each row
// appended column by column, the block encoded as the Native format
// (revision 0: no block info, no serialization flags), columns reused
// between batches as a reused RowBinary buffer is.
type nativeEncoder struct {
	block *proto.Block
	buf   chproto.Buffer
}

func newNativeEncoder(columns []string, types []codec.Type) (*nativeEncoder, error) {
	b := proto.NewBlock()
	for i, name := range columns {
		if err := b.AddColumn(name, column.Type(types[i].String())); err != nil {
			return nil, fmt.Errorf("column %s: %w", name, err)
		}
	}
	return &nativeEncoder{block: b}, nil
}

func (e *nativeEncoder) format() string { return "Native" }

func (e *nativeEncoder) encode(rows [][]any) ([]byte, error) {
	for _, c := range e.block.Columns {
		c.Reset()
	}
	for _, r := range rows {
		if err := e.block.Append(r...); err != nil {
			return nil, err
		}
	}
	e.buf.Reset()
	if err := e.block.Encode(&e.buf, 0); err != nil {
		return nil, err
	}
	return e.buf.Buf, nil
}

type batchEncoder interface {
	format() string
	encode(rows [][]any) ([]byte, error)
}

// codecBench is an engine with api_calls and both encoders for its columns.
type codecBench struct {
	s       *embeddedStore
	query   string
	byName  map[string]batchEncoder
	formats []string
}

func newCodecBench(tb testing.TB, db string) *codecBench {
	_, st := startEmbedded(tb, db, nil)
	s := st.(*embeddedStore)
	types, err := s.cols.types(context.Background(), s, s.db, "api_calls", exporterColumns)
	if err != nil {
		tb.Fatal(err)
	}
	native, err := newNativeEncoder(exporterColumns, types)
	if err != nil {
		tb.Fatal(err)
	}
	return &codecBench{
		s:     s,
		query: fmt.Sprintf("INSERT INTO %s.api_calls (%s)", quoteIdent(s.db), joinIdents(exporterColumns)),
		byName: map[string]batchEncoder{
			"rowbinary": &rowBinaryEncoder{enc: codec.NewRowEncoder(types)},
			"native":    native,
		},
		formats: []string{"rowbinary", "native"},
	}
}

// insert encodes rows and streams them into the engine, returning the time
// spent in each.
func (cb *codecBench) insert(tb testing.TB, enc batchEncoder, rows [][]any) (encoding, engine time.Duration) {
	began := time.Now()
	body, err := enc.encode(rows)
	if err != nil {
		tb.Fatal(err)
	}
	encoded := time.Now()
	c, release, err := cb.s.conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer release()
	if _, err := c.Insert(cb.query, enc.format(), body); err != nil {
		tb.Fatal(err)
	}
	return encoded.Sub(began), time.Since(encoded)
}

// batchSizes are a quiet pipeline's small batch and the exporter's default
// largest one (8192 spans).
var batchSizes = []int{256, 8192}

// reportPerRow reports wall and CPU time per row; cpuBefore is processCPU
// when the loop began.
func reportPerRow(b *testing.B, rows int, cpuBefore time.Duration) {
	n := float64(b.N * rows)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/row")
	b.ReportMetric(float64((processCPU()-cpuBefore).Nanoseconds())/n, "cpu-ns/row")
}

// BenchmarkAPICallsEncode is pure encoding: a batch of exporter rows to the
// bytes a Send hands the engine.
func BenchmarkAPICallsEncode(b *testing.B) {
	cb := newCodecBench(b, "bench_codec_encode")
	for _, n := range batchSizes {
		rows := exporterRows(n, time.Now().UTC())
		for _, name := range cb.formats {
			enc := cb.byName[name]
			b.Run(fmt.Sprintf("%s/rows=%d", name, n), func(b *testing.B) {
				body, err := enc.encode(rows)
				if err != nil {
					b.Fatal(err)
				}
				size := len(body)
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					if _, err := enc.encode(rows); err != nil {
						b.Fatal(err)
					}
				}
				reportPerRow(b, n, cpu)
				// After the loop: b.Loop's first call clears earlier metrics.
				b.ReportMetric(float64(size)/float64(n), "body-bytes/row")
			})
		}
	}
}

// BenchmarkAPICallsInsert is encoding plus the engine's insert of the batch
// into api_calls and its rollups. Each batch gets fresh timestamps so that
// insert deduplication never skips one.
func BenchmarkAPICallsInsert(b *testing.B) {
	cb := newCodecBench(b, "bench_codec_insert")
	base := time.Now().UTC().Add(-time.Hour)
	for _, n := range batchSizes {
		rows := exporterRows(n, base)
		for _, name := range cb.formats {
			enc := cb.byName[name]
			b.Run(fmt.Sprintf("%s/rows=%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				var encoding, engine time.Duration
				cpu := processCPU()
				for b.Loop() {
					base = base.Add(time.Microsecond)
					rows[0][0] = base
					e, g := cb.insert(b, enc, rows)
					encoding, engine = encoding+e, engine+g
				}
				reportPerRow(b, n, cpu)
				perRow := float64(b.N * n)
				b.ReportMetric(float64(encoding.Nanoseconds())/perRow, "encode-ns/row")
				b.ReportMetric(float64(engine.Nanoseconds())/perRow, "engine-ns/row")
			})
		}
	}
}

// TestCodecsAgreeOnExporterRows stores the same exporter rows through both
// encodings, into api_calls and into a copy of it, and checks the engine
// holds the same rows either way: the benchmarks compare encodings of the
// same data, and neither loses or alters a value.
func TestCodecsAgreeOnExporterRows(t *testing.T) {
	cb := newCodecBench(t, "codec_agree")
	if err := cb.s.Exec(context.Background(), "CREATE TABLE codec_agree.api_calls_copy AS codec_agree.api_calls", nil); err != nil {
		t.Fatal(err)
	}
	rows := exporterRows(500, time.Now().UTC().Add(-time.Hour))
	cb.insert(t, cb.byName["rowbinary"], rows)
	native := *cb
	native.query = fmt.Sprintf("INSERT INTO codec_agree.api_calls_copy (%s)", joinIdents(exporterColumns))
	native.insert(t, cb.byName["native"], rows)
	dump := func(table string) string {
		c, release, err := cb.s.conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		res, err := c.Query(fmt.Sprintf("SELECT %s FROM codec_agree.%s ORDER BY trace_id", joinIdents(exporterColumns), table), "TabSeparated", nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Data)
	}
	viaRowBinary, viaNative := dump("api_calls"), dump("api_calls_copy")
	if n := strings.Count(viaRowBinary, "\n"); n != len(rows) {
		t.Fatalf("RowBinary stored %d rows, want %d", n, len(rows))
	}
	if viaRowBinary != viaNative {
		t.Fatalf("RowBinary and Native stored different rows:\n%.2000s\n---\n%.2000s", viaRowBinary, viaNative)
	}
}
