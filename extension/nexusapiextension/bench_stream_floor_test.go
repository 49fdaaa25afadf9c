package nexusapiextension

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/livefeed"
)

// streamFloor is the least a Go net/http SSE server can do to deliver one
// event to every open stream: a pre-rendered frame handed to each
// connection's buffered channel, and one handler goroutine per connection
// that writes it and flushes. No authentication, matching, registry,
// heartbeat or processor: what BenchmarkStream10kClients measures on top of
// this is Nexus's own cost, the rest is the machine's.
//
// raw takes the connection over and writes frames to it directly, as
// Nexus's stream does over HTTP/1.1; otherwise frames go through the
// ResponseWriter (chunked encoding, its buffer) and Flush.
type streamFloor struct {
	srv  *http.Server
	base string
	done chan struct{}

	mu   sync.Mutex
	subs map[chan []byte]struct{}
	raw  bool
}

func startStreamFloor(tb testing.TB, raw bool) *streamFloor {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &streamFloor{base: "http://" + ln.Addr().String(), done: make(chan struct{}), subs: map[chan []byte]struct{}{}, raw: raw}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: time.Minute}
	go func() { _ = f.srv.Serve(ln) }()
	return f
}

// stop ends the handlers (their clients are gone; a handler would notice
// only at its next write) and the server.
func (f *streamFloor) stop() {
	close(f.done)
	_ = f.srv.Close()
}

func (f *streamFloor) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// publish renders a call summary shaped like Nexus's, arrived now, once,
// and hands it to every connection without waiting.
func (f *streamFloor) publish() {
	cost := "0.00045"
	c := livefeed.Call{
		Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Provider: "openai", Model: "gpt-4o-mini",
		Operation: "chat", Service: "shop", Environment: "prod", Status: "ok",
		Tokens: livefeed.Tokens{Input: 1000, Output: 500}, CostUSD: &cost, CostStatus: "priced",
		TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "b7ad6b7169203331",
	}
	data, _ := json.Marshal(c)
	frame := append(append([]byte("event: call\ndata: "), data...), "\n\n"...)
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- frame:
		default:
		}
	}
}

func (f *streamFloor) leg(key string) streamLeg {
	name := "floor"
	if f.raw {
		name = "rawfloor"
	}
	return streamLeg{name: name, base: f.base, key: key, path: "/stream", subscribed: f.subscribers, publish: f.publish}
}

func (f *streamFloor) serve(w http.ResponseWriter, r *http.Request) {
	ch := make(chan []byte, streamBuffer)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}()
	const hello = "retry: 3000\n: connected\n\n"
	var write func([]byte) bool
	if f.raw {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + hello)); err != nil {
			return
		}
		write = func(b []byte) bool { _, err := conn.Write(b); return err == nil }
	} else {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		_, _ = w.Write([]byte(hello))
		fl.Flush()
		write = func(b []byte) bool {
			_, err := w.Write(b)
			fl.Flush()
			return err == nil
		}
	}
	for {
		select {
		case <-f.done:
			return
		case <-r.Context().Done():
			return
		case frame := <-ch:
			if !write(frame) {
				return
			}
		}
	}
}
