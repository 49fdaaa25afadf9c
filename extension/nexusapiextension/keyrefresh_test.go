package nexusapiextension

import (
	"context"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/alertingtest"
)

// waitStatus polls GET /keys… as key on ta until it answers want.
func (ta *testAPI) waitStatus(key, path string, want int, within time.Duration) time.Duration {
	ta.t.Helper()
	began := time.Now()
	for {
		e := ta.do("GET", path, key, nil)
		if e.status == want {
			return time.Since(began)
		}
		if time.Since(began) > within {
			ta.t.Fatalf("GET %s still answers %d after %s, want %d", path, e.status, within, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitEnded waits for a stream's frames to end.
func waitEnded(t *testing.T, frames <-chan sseFrame, within time.Duration, what string) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case _, ok := <-frames:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("%s still open after %s", what, within)
		}
	}
}

func waitStreams(t *testing.T, ta *testAPI, key string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ta.api.streams.count(key) != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open, want %d", ta.api.streams.count(key), n)
		}
	}
}

// Two collectors share a store. A key created on one works on the other
// within seconds; revoked on one, it is refused on the other within
// seconds, and its open streams are closed on both.
func TestRevocationSeenByOtherCollectors(t *testing.T) {
	one := startAPI(t, freshDB("api_keys_shared"), nil) // the default keys_refresh_interval
	// The polls below fail authentication until the refresh: they are
	// not to be throttled as guesses.
	two := one.another(func(c *Config) { c.RateLimit.FailedAuth.Max = 1000 })
	e := one.do("POST", "/api/v1/keys", one.admin, map[string]string{"name": "dashboard", "role": "viewer"})
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	e.decode(t, &k)
	if e.status != 201 {
		t.Fatalf("create key: %d", e.status)
	}
	took := two.waitStatus(k.Key, "/api/v1/budgets", 200, 10*time.Second)
	t.Logf("a new key worked on the other collector after %s", took)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	respOne, framesOne := one.openStream(ctx, "", k.Key, nil)
	respTwo, framesTwo := two.openStream(ctx, "", k.Key, nil)
	if respOne.StatusCode != 200 || respTwo.StatusCode != 200 {
		t.Fatalf("streams: %d, %d", respOne.StatusCode, respTwo.StatusCode)
	}
	waitStreams(t, one, k.ID, 1)
	waitStreams(t, two, k.ID, 1)

	if e := one.do("DELETE", "/api/v1/keys/"+k.ID, one.admin, nil); e.status != 200 {
		t.Fatalf("revoke: %d %+v", e.status, e.Error)
	}
	began := time.Now()
	waitEnded(t, framesOne, 2*time.Second, "the revoked key's stream on the collector that revoked it")
	if e := one.do("GET", "/api/v1/budgets", k.Key, nil); e.status != 401 {
		t.Fatalf("revoked key on the same collector: %d", e.status)
	}
	two.waitStatus(k.Key, "/api/v1/budgets", 401, 10*time.Second)
	waitEnded(t, framesTwo, 10*time.Second-time.Since(began), "the revoked key's stream on the other collector")
	t.Logf("revocation took effect on the other collector after %s", time.Since(began))
	waitStreams(t, two, "", 0)
}

// Streams are capped per key and per collector: past either, 429 with the
// envelope; a closed stream frees its place.
func TestStreamCaps(t *testing.T) {
	ta := startAPI(t, freshDB("api_stream_caps"), func(c *Config) { c.Stream.MaxPerKey, c.Stream.MaxTotal = 2, 3 })
	a, b, c := ta.key("viewer"), ta.key("viewer"), ta.key("viewer")
	refused := func(key, why string) {
		t.Helper()
		var e envelope
		alertingtest.Within(t, 5*time.Second, why, func() { e = ta.do("GET", "/api/v1/stream", key, nil) })
		if e.status != 429 || e.Error.Code != "RATE_LIMITED" || e.header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d %+v", why, e.status, e.Error)
		}
	}
	first, closeFirst := context.WithCancel(context.Background())
	defer closeFirst()
	rest, closeRest := context.WithCancel(context.Background())
	defer closeRest()
	for i, s := range []struct {
		ctx context.Context
		key string
	}{{first, a}, {rest, a}, {rest, b}} {
		if resp, _ := ta.openStream(s.ctx, "", s.key, nil); resp.StatusCode != 200 {
			t.Fatalf("stream %d: %d", i, resp.StatusCode)
		}
		waitStreams(t, ta, "", i+1)
	}
	refused(a, "a third stream of one key")
	refused(c, "a fourth stream on the collector")
	closeFirst()
	waitStreams(t, ta, "", 2)
	if resp, _ := ta.openStream(rest, "", a, nil); resp.StatusCode != 200 {
		t.Fatalf("after one closed: %d", resp.StatusCode)
	}
	waitStreams(t, ta, "", 3)
}
