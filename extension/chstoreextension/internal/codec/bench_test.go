package codec

import (
	"testing"
	"time"
)

// benchRow is a span-like row of 25 columns, the shape the exporter writes.
func benchRow(tb testing.TB) (*RowEncoder, []any) {
	types, err := ParseTypes(
		"DateTime64(9, 'UTC')",                // Timestamp
		"String",                              // TraceId
		"String",                              // SpanId
		"String",                              // ParentSpanId
		"String",                              // TraceState
		"LowCardinality(String)",              // SpanName
		"LowCardinality(String)",              // SpanKind
		"LowCardinality(String)",              // ServiceName
		"Map(LowCardinality(String), String)", // ResourceAttributes
		"LowCardinality(String)",              // ScopeName
		"LowCardinality(String)",              // ScopeVersion
		"Map(LowCardinality(String), String)", // SpanAttributes
		"UInt64",                              // Duration
		"LowCardinality(String)",              // StatusCode
		"String",                              // StatusMessage
		"Decimal(18, 9)",                      // Cost
		"Decimal(18, 9)",                      // Tokens price
		"UInt64",                              // InputTokens
		"UInt64",                              // OutputTokens
		"Int64",                               // Delta
		"Float64",                             // Ratio
		"DateTime64(9, 'UTC')",                // EndTime
		"Date",                                // Day
		"Nullable(String)",                    // Note
		"Bool",                                // IsRoot
	)
	if err != nil {
		tb.Fatal(err)
	}
	ts := time.Date(2025, 3, 4, 5, 6, 7, 890123456, time.UTC)
	row := []any{
		ts, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "00f067aa0ba902b7", "",
		"POST /v1/chat/completions", "Server", "checkout",
		map[string]string{"service.name": "checkout", "host.name": "web-1", "k8s.pod.name": "checkout-7d9f", "deployment.environment": "prod"},
		"io.opentelemetry.http", "1.2.3",
		map[string]string{"http.method": "POST", "http.route": "/v1/chat/completions", "http.status_code": "200", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o"},
		uint64(123456789), "Ok", "",
		dec("0.000001234"), dec("12.5"), uint64(1234), uint64(567), int64(-42), 0.75,
		ts.Add(123456789), ts, nil, true,
	}
	return NewRowEncoder(types), row
}

func BenchmarkRowEncoderAppend(b *testing.B) {
	enc, row := benchRow(b)
	buf, err := enc.Append(nil, row...)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = enc.Append(buf[:0], row...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRowEncoderAppendBoxing includes boxing fresh values into the
// ...any argument each row, as an exporter converting spans does.
func BenchmarkRowEncoderAppendBoxing(b *testing.B) {
	enc, row := benchRow(b)
	buf := make([]byte, 0, 4096)
	vals := make([]any, len(row))
	ts := row[0].(time.Time)
	b.ReportAllocs()
	var err error
	i := uint64(0)
	for b.Loop() {
		i++
		copy(vals, row)
		vals[0] = ts.Add(time.Duration(i))
		vals[12] = uint64(123456789) + i
		vals[17] = uint64(1234) + i
		if buf, err = enc.Append(buf[:0], vals...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderScan(b *testing.B) {
	enc, row := benchRow(b)
	var rows []byte
	for range 1000 {
		rows, _ = enc.Append(rows, row...)
	}
	names := make([]string, len(row))
	for i := range names {
		names[i] = "c" + string(rune('a'+i))
	}
	b.ReportAllocs()
	for b.Loop() {
		r := rowsReader(b, names, enc.Types(), rows)
		var (
			ts, end        time.Time
			s              [13]string
			attrs1, attrs2 map[string]string
			dur, in, out   uint64
			delta          int64
			ratio          float64
			c1, c2         any
			day            time.Time
			note           *string
			root           bool
		)
		for r.Next() {
			if err := r.Scan(&ts, &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &attrs1, &s[7], &s[8], &attrs2,
				&dur, &s[9], &s[10], &c1, &c2, &in, &out, &delta, &ratio, &end, &day, &note, &root); err != nil {
				b.Fatal(err)
			}
		}
	}
}
