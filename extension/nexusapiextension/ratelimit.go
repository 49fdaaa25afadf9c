package nexusapiextension

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters hands out one token bucket per API key.
type limiters struct {
	mu    sync.Mutex
	rps   rate.Limit
	burst int
	byKey map[string]*rate.Limiter
}

func newLimiters(cfg RateLimitConfig) *limiters {
	return &limiters{rps: rate.Limit(cfg.RequestsPerSecond), burst: cfg.Burst, byKey: map[string]*rate.Limiter{}}
}

func (l *limiters) get(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byKey[key]
	if !ok {
		lim = rate.NewLimiter(l.rps, l.burst)
		l.byKey[key] = lim
	}
	return lim
}

// retain forgets the buckets of keys that no longer authenticate, so that
// the map follows the keys rather than growing with every key ever made.
func (l *limiters) retain(active func(id string) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.byKey {
		if !active(id) {
			delete(l.byKey, id)
		}
	}
}

// allow takes a token from lim, or tells how long until one is there. The
// wait is read from the bucket without reserving: a reservation taken only
// to learn the delay would leave the bucket in debt, so that every refused
// request pushed the next allowed one further away and a client retrying
// on 429 would never be served again.
func allow(lim *rate.Limiter, now time.Time) (time.Duration, bool) {
	if lim.AllowN(now, 1) {
		return 0, true
	}
	return untilToken(lim, now), false
}

// untilToken is how long until lim holds a whole token, at most 1/rate
// (the bucket never goes below zero when only AllowN takes from it).
func untilToken(lim *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
}

// setRetryAfter sets Retry-After to d in whole seconds, rounded up (a
// client that waits exactly that long finds a token), at least 1.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int64(math.Ceil(d.Seconds()))
	w.Header().Set("Retry-After", strconv.FormatInt(max(1, secs), 10))
}

// authFailures counts failed authentications per client address in token
// buckets (Max at once, refilled over Window). The addresses are a bounded
// LRU: an address whose bucket has refilled is no different from one never
// seen, so forgetting the least recently seen one first loses nothing an
// attacker could use, and a flood of addresses costs at most MaxAddresses
// entries.
type authFailures struct {
	mu     sync.Mutex
	limit  rate.Limit
	burst  int
	max    int
	order  *list.List // of *authEntry, most recently seen first
	byAddr map[string]*list.Element
}

type authEntry struct {
	addr string
	lim  *rate.Limiter
}

func newAuthFailures(cfg FailedAuthConfig) *authFailures {
	return &authFailures{limit: rate.Limit(float64(cfg.Max) / cfg.Window.Seconds()), burst: cfg.Max,
		max: cfg.MaxAddresses, order: list.New(), byAddr: map[string]*list.Element{}}
}

// blocked tells whether addr has used up its failed authentications, and
// how long until it may try again. Nothing is taken from the bucket.
func (f *authFailures) blocked(addr string, now time.Time) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	el, ok := f.byAddr[addr]
	if !ok {
		return 0, false
	}
	wait := untilToken(el.Value.(*authEntry).lim, now)
	return wait, wait > 0
}

// failed records a failed authentication of addr.
func (f *authFailures) failed(addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	el, ok := f.byAddr[addr]
	if ok {
		f.order.MoveToFront(el)
	} else {
		for f.order.Len() >= f.max {
			oldest := f.order.Back()
			delete(f.byAddr, oldest.Value.(*authEntry).addr)
			f.order.Remove(oldest)
		}
		el = f.order.PushFront(&authEntry{addr: addr, lim: rate.NewLimiter(f.limit, f.burst)})
		f.byAddr[addr] = el
	}
	el.Value.(*authEntry).lim.AllowN(now, 1)
}

// size is how many addresses are remembered.
func (f *authFailures) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.order.Len()
}

// clientAddr is who failed authentication: the connection's remote
// address, never a header the client writes (X-Forwarded-For would let a
// guesser pick a fresh address per try). IPv6 clients are counted per /64,
// the smallest block a site is usually given, for the same reason.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, err := ip.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return ip.String()
}
