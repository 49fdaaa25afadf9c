package apiproxyreceiver

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// TestSSEAnySplit: however the stream is cut into reads, the scanner keeps
// the same events.
func TestSSEAnySplit(t *testing.T) {
	stream := strings.Join(openAIStream("gpt-4o-mini-2024-07-18"), "")
	stream = strings.ReplaceAll(stream, "\n", "\r\n") // CRLF streams too
	want := scan([]byte(stream), len(stream))
	if want.first == nil || want.usage == nil || len(want.finish) != 1 || !want.done || want.errEv != nil {
		t.Fatalf("whole stream: %+v", want)
	}
	for size := 1; size < 64; size++ {
		got := scan([]byte(stream), size)
		if !bytes.Equal(got.first, want.first) || !bytes.Equal(got.usage, want.usage) || len(got.finish) != 1 || !got.done || got.events != want.events {
			t.Fatalf("reads of %d bytes: %+v", size, got)
		}
	}
	var res result
	readStream(&want, &res)
	if res.input != 1000 || res.reasoning != 120 || res.model != "gpt-4o-mini-2024-07-18" || res.finish[0] != "stop" {
		t.Fatalf("%+v", res)
	}
}

func scan(stream []byte, size int) sseScanner {
	s := sseScanner{maxEvent: 1 << 20}
	for len(stream) > 0 {
		n := min(size, len(stream))
		s.write(stream[:n])
		stream = stream[n:]
	}
	s.flush()
	return s
}

// TestSSEBoundedMemory: an oversized event is dropped, not kept, and the
// stream's usage after it is still read.
func TestSSEBoundedMemory(t *testing.T) {
	huge := "data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("x", 200<<10) + "\"}}]}\n\n"
	events := openAIStream("m")
	stream := events[0] + huge + huge + strings.Join(events[1:], "")
	s := scan([]byte(stream), 4096)
	s2 := sseScanner{maxEvent: 64 << 10}
	for i := 0; i < len(stream); i += 4096 {
		s2.write([]byte(stream[i:min(i+4096, len(stream))]))
		if cap(s2.line) > 2*64<<10 || cap(s2.data) > 2*64<<10 {
			t.Fatalf("buffers grew to %d / %d", cap(s2.line), cap(s2.data))
		}
	}
	s2.flush()
	if s2.usage == nil || !bytes.Equal(s2.usage, s.usage) || !s2.truncated || s.truncated {
		t.Fatal("usage after oversized events lost, or the drop not noted")
	}
}

func TestSSEErrorDetection(t *testing.T) {
	for name, c := range map[string]struct {
		stream string
		isErr  bool
	}{
		"responses created has error:null": {"data: {\"type\":\"response.created\",\"response\":{\"error\":null}}\n\n", false},
		"openrouter error chunk":           {"data: {\"id\":\"a\"}\n\ndata: {\"error\":{\"code\":502,\"message\":\"x\"}}\n\n", true},
		"finish reason error":              {"data: {\"id\":\"a\"}\n\ndata: {\"choices\":[{\"finish_reason\":\"error\"}]}\n\n", true},
		"responses failed":                 {"data: {\"id\":\"a\"}\n\ndata: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":\"server_error\"}}}\n\n", true},
		"error event":                      {"data: {\"id\":\"a\"}\n\nevent: error\ndata: {\"message\":\"boom\"}\n\n", true},
		"content mentions error":           {"data: {\"id\":\"a\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"an \\\"error\\\" here\"}}]}\n\n", false},
	} {
		s := scan([]byte(c.stream), 7)
		var res result
		readStream(&s, &res)
		if res.streamErr != c.isErr {
			t.Errorf("%s: stream error %v (type %q)", name, res.streamErr, res.bodyErrType)
		}
	}
}

func TestCaptureKeepsHeadAndTail(t *testing.T) {
	var body bytes.Buffer
	for i := 0; body.Len() < 1<<20; i++ {
		fmt.Fprintf(&body, "%08d,", i)
	}
	b := body.Bytes()
	for _, size := range []int{1, 7, 4096, 100000} {
		c := capture{max: 8192}
		for i := 0; i < len(b); i += size {
			c.write(b[i:min(i+size, len(b))])
		}
		if c.complete() || !bytes.Equal(c.head, b[:8192]) || !bytes.Equal(c.tailBytes(), b[len(b)-tailSize:]) {
			t.Fatalf("writes of %d: head or tail wrong", size)
		}
		c.release()
	}
	c := capture{max: 8192}
	c.write([]byte("small"))
	if !c.complete() || string(c.head) != "small" || c.tail != nil {
		t.Fatal("small body")
	}
}

func TestDecompressors(t *testing.T) {
	plain := []byte(openAIChat)
	var gz, br bytes.Buffer
	gw := gzip.NewWriter(&gz)
	_, _ = gw.Write(plain)
	_ = gw.Close()
	bw := brotli.NewWriter(&br)
	_, _ = bw.Write(plain)
	_ = bw.Close()
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll(plain, nil)
	for name, raw := range map[string][]byte{"gzip": gz.Bytes(), "br": br.Bytes(), "zstd": zs} {
		c := &call{status: 200, media: mediaJSON, encoding: name, eof: true, rt: &route{}}
		c.resp = capture{max: 1 << 20, headOnly: true}
		c.resp.write(raw)
		res := extract(c, 1<<20)
		if res.usage != usageParsed || res.input != 1000 {
			t.Errorf("%s: %+v", name, res)
		}
	}
	c := &call{status: 200, media: mediaJSON, encoding: "compress", eof: true, rt: &route{}}
	c.resp.write([]byte("x"))
	if res := extract(c, 1<<20); res.usage != usageSkipped {
		t.Errorf("unknown encoding: %s", res.usage)
	}
}

func TestDecimalText(t *testing.T) {
	for in, want := range map[string]string{`0.00123`: "0.00123", `1e-7`: "0.0000001", `"-0.00750"`: "-0.0075", `null`: "", `"abc"`: "", `{}`: ""} {
		got, _ := provider.DecimalText([]byte(in))
		if got != want {
			t.Errorf("provider.DecimalText(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactQuery(t *testing.T) {
	for in, want := range map[string]string{
		"api_key=s&first=Tim":         "api_key=REDACTED&first=Tim",
		"AccessToken=x&Signature=y&a": "AccessToken=REDACTED&Signature=REDACTED&a",
		"page=2":                      "page=2",
	} {
		if got := redactQuery(in); got != want {
			t.Errorf("redactQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTraceparent(t *testing.T) {
	if _, _, ok := parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"); ok {
		t.Fatal("zero trace id accepted")
	}
	if _, _, ok := parseTraceparent("garbage"); ok {
		t.Fatal("garbage accepted")
	}
	if tid, sid, ok := parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); !ok ||
		tid.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sid.String() != "00f067aa0ba902b7" {
		t.Fatal("valid traceparent refused")
	}
}
