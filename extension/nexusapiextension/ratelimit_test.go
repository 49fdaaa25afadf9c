package nexusapiextension

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// A client that keeps retrying while refused is served again as soon as
// its bucket has a token: refused requests take nothing from it, so
// Retry-After stays at most 1/rate however long the client hammers.
func TestRateLimitRetryAfterStaysBounded(t *testing.T) {
	ta := startAPI(t, freshDB("api_rl_bounded"), func(c *Config) { c.RateLimit.RequestsPerSecond, c.RateLimit.Burst = 2, 1 })
	// Spend the burst, then hammer: each refusal must leave the bucket as
	// it was.
	refused, maxRetry := 0, 0
	for range 60 {
		e := ta.do("GET", "/api/v1/keys", ta.admin, nil)
		if e.status == 200 {
			continue
		}
		if e.status != 429 || e.Error.Code != "RATE_LIMITED" {
			t.Fatalf("want 429 RATE_LIMITED, got %d %+v", e.status, e.Error)
		}
		refused++
		n, err := strconv.Atoi(e.header.Get("Retry-After"))
		if err != nil || n < 1 {
			t.Fatalf("Retry-After %q", e.header.Get("Retry-After"))
		}
		maxRetry = max(maxRetry, n)
	}
	if refused < 50 {
		t.Fatalf("only %d of 60 requests refused at 2/s", refused)
	}
	// 1/rate is half a second, rounded up to whole seconds.
	if maxRetry > 1 {
		t.Fatalf("Retry-After grew to %d s after %d refusals; want at most 1", maxRetry, refused)
	}
	time.Sleep(time.Duration(maxRetry) * time.Second)
	if e := ta.do("GET", "/api/v1/keys", ta.admin, nil); e.status != 200 {
		t.Fatalf("after waiting Retry-After: %d %+v", e.status, e.Error)
	}
}

// clientFrom is an HTTP client whose connections come from local address
// ip (any 127.0.0.0/8 address is this host's on Linux), so that a test can
// be two different clients.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func getWith(t *testing.T, c *http.Client, url, key string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// Guessing keys from one address is throttled after failed_auth.max
// failures, whatever key it sends next; another address is not affected.
func TestFailedAuthThrottledPerAddress(t *testing.T) {
	ta := startAPI(t, freshDB("api_failed_auth"), func(c *Config) {
		c.RateLimit.FailedAuth = FailedAuthConfig{Max: 5, Window: time.Minute, MaxAddresses: 100}
	})
	url := ta.base + "/api/v1/keys"
	guesser, other := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	for i := range 5 {
		if code, _ := getWith(t, guesser, url, "nxs_guess_"+strconv.Itoa(i)); code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, code)
		}
	}
	code, h := getWith(t, guesser, url, "nxs_guess_again")
	if code != 429 {
		t.Fatalf("sixth guess: %d, want 429", code)
	}
	// One failure comes back every window/max = 12 s.
	if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 || n > 12 {
		t.Fatalf("Retry-After %q, want 1–12", h.Get("Retry-After"))
	}
	// Throttled before the key is looked at: a right guess cannot be told
	// from a wrong one.
	if code, _ := getWith(t, guesser, url, ta.admin); code != 429 {
		t.Fatalf("right key from the throttled address: %d, want 429", code)
	}
	// Another address is served, and its own failures are its own.
	if code, _ := getWith(t, other, url, ta.admin); code != 200 {
		t.Fatalf("other address, right key: %d", code)
	}
	if code, _ := getWith(t, other, url, "nxs_wrong"); code != 401 {
		t.Fatalf("other address, wrong key: %d", code)
	}
	// A missing key is not a guess.
	req, _ := http.NewRequest("GET", url, nil)
	resp, err := clientFrom(t, "127.0.0.4").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("no key: %d", resp.StatusCode)
	}
}

// The addresses remembered are bounded: a flood of addresses each failing
// once keeps at most max_addresses of them.
func TestFailedAuthAddressesBounded(t *testing.T) {
	f := newAuthFailures(FailedAuthConfig{Max: 2, Window: time.Minute, MaxAddresses: 100})
	now := time.Now()
	for i := range 10_000 {
		f.failed("10.0."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256), now)
	}
	if n := f.size(); n != 100 {
		t.Fatalf("%d addresses remembered, want 100", n)
	}
	// The most recent ones are kept and still counted.
	last := "10.0." + strconv.Itoa(9999/256) + "." + strconv.Itoa(9999%256)
	f.failed(last, now)
	if _, blocked := f.blocked(last, now); !blocked {
		t.Fatal("two failures of the latest address not counted")
	}
	if _, blocked := f.blocked("10.0.0.0", now); blocked {
		t.Fatal("a forgotten address is still blocked")
	}
}

func TestClientAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.2:5555":                "127.0.0.2",
		"[::ffff:10.1.2.3]:80":          "10.1.2.3",
		"[2001:db8:1:2:3:4:5:6]:443":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff:4:5:6]:443": "2001:db8:1:2::/64",
	} {
		if got := clientAddr(&http.Request{RemoteAddr: in}); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
