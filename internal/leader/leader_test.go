package leader

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"go.uber.org/zap"
)

// Short timings, as short as Validate allows: followers see a renewal
// only when its second changes, so a lease under renew + retry + 1s
// could expire for a follower while the leader still renews it.
const (
	testLease = 3 * time.Second
	testRenew = 1200 * time.Millisecond
	testRetry = 200 * time.Millisecond
)

func testConfig(id string) Config {
	c := NewDefaultConfig()
	c.Mode, c.Namespace, c.Identity = ModeKubernetes, "nexus", id
	c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = testLease, testRenew, testRetry
	return c
}

// candidate is one elector running in the background, recording its
// terms; leaders counts the candidates between onStart and onStop, over
// all candidates of a test.
type candidate struct {
	id      string
	cancel  context.CancelFunc
	done    chan struct{}
	leading atomic.Bool
	starts  atomic.Int32
	stops   atomic.Int32
	mu      sync.Mutex
	stopped time.Time
	started time.Time
}

func campaign(t *testing.T, client *fake.Clientset, id string, leaders *atomic.Int32, startErr error) *candidate {
	t.Helper()
	el, err := NewKubernetes(testConfig(id), client.CoordinationV1(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{id: id, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		err := el.Run(ctx, func(context.Context) error {
			c.starts.Add(1)
			if startErr != nil {
				return startErr
			}
			if n := leaders.Add(1); n != 1 {
				t.Errorf("%s started leading while %d others lead", id, n-1)
			}
			c.mu.Lock()
			c.started = time.Now()
			c.mu.Unlock()
			c.leading.Store(true)
			return nil
		}, func() {
			c.leading.Store(false)
			leaders.Add(-1)
			c.stops.Add(1)
			c.mu.Lock()
			c.stopped = time.Now()
			c.mu.Unlock()
		})
		if err != nil {
			t.Errorf("%s: Run: %v", id, err)
		}
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop ends the candidate's campaign and waits for Run to return.
func (c *candidate) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: Run did not return after its context ended", c.id)
	}
}

// startedAfterStop checks that second's term began after first's ended.
func startedAfterStop(t *testing.T, first, second *candidate) {
	t.Helper()
	second.mu.Lock()
	defer second.mu.Unlock()
	first.mu.Lock()
	defer first.mu.Unlock()
	if !second.started.After(first.stopped) {
		t.Errorf("%s started at %s, before %s stopped at %s", second.id, second.started, first.id, first.stopped)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, f func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !f() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// leaderOf waits until exactly one of cs leads and returns it and the
// other.
func leaderOf(t *testing.T, a, b *candidate) (*candidate, *candidate) {
	t.Helper()
	waitFor(t, 3*testLease, "a leader", func() bool { return a.leading.Load() || b.leading.Load() })
	if a.leading.Load() {
		return a, b
	}
	return b, a
}

func TestLeaderOneAtATimeAndHandoverOnCancel(t *testing.T) {
	client := fake.NewClientset()
	var leaders atomic.Int32
	a := campaign(t, client, "collector-a", &leaders, nil)
	b := campaign(t, client, "collector-b", &leaders, nil)
	first, second := leaderOf(t, a, b)
	// Several renewals: the follower never starts meanwhile.
	time.Sleep(3 * testRenew)
	if second.starts.Load() != 0 || first.starts.Load() != 1 || leaders.Load() != 1 {
		t.Fatalf("while %s leads: %s started %d times, %s %d", first.id, second.id, second.starts.Load(), first.id, first.starts.Load())
	}
	lease, err := client.CoordinationV1().Leases("nexus").Get(context.Background(), "nexus-alert-evaluator", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != first.id {
		t.Fatalf("lease: %+v %v", lease, err)
	}

	first.stop(t)
	if first.stops.Load() != 1 || first.leading.Load() {
		t.Fatalf("%s after its context ended: %d stops", first.id, first.stops.Load())
	}
	// The lease was given up: the other takes over at its next try, well
	// within the lease duration.
	took := waitFor(t, testLease, "takeover after the leader stopped", second.leading.Load)
	startedAfterStop(t, first, second)
	t.Logf("takeover after a release: %s", took)
}

func TestLeaderStopsWhenItCannotRenew(t *testing.T) {
	// One API (the shared tracker) seen through a client per candidate,
	// so that one candidate can lose it alone.
	api := fake.NewClientset()
	var cut sync.Map // identities that can no longer reach the API
	clientOf := func(id string) *fake.Clientset {
		c := fake.NewClientset()
		through := k8stesting.ObjectReaction(api.Tracker())
		c.PrependReactor("*", "*", func(act k8stesting.Action) (bool, runtime.Object, error) {
			if _, ok := cut.Load(id); ok {
				return true, nil, errors.New("connection refused")
			}
			return through(act)
		})
		return c
	}
	var leaders atomic.Int32
	a := campaign(t, clientOf("collector-a"), "collector-a", &leaders, nil)
	b := campaign(t, clientOf("collector-b"), "collector-b", &leaders, nil)
	first, second := leaderOf(t, a, b)
	cutAt := time.Now()
	cut.Store(first.id, true)

	// The leader stops after the renew deadline (plus a retry) …
	stopped := waitFor(t, testRenew+4*testRetry, "the leader stopping", func() bool { return first.stops.Load() == 1 })
	// … and the other takes over once the lease expired, not before.
	waitFor(t, 2*testLease, "takeover after the lease expired", second.leading.Load)
	took := time.Since(cutAt)
	// The follower counts the lease from when it saw the last renewal,
	// which it sees to the second: up to a second (and a retry) early.
	if took < testLease-leaseResolution-2*testRetry || took > testLease+testRenew+4*testRetry {
		t.Fatalf("takeover %s after the leader lost the API; lease %s", took, testLease)
	}
	startedAfterStop(t, first, second)
	if first.starts.Load() != 1 {
		t.Fatalf("%s started %d times; it cannot write the lease", first.id, first.starts.Load())
	}
	t.Logf("leader stopped %s and was replaced %s after it lost the API", stopped, took)
}

func TestLeaderGivesUpWhenStartFails(t *testing.T) {
	client := fake.NewClientset()
	var leaders atomic.Int32
	bad := campaign(t, client, "collector-bad", &leaders, errors.New("store down"))
	waitFor(t, 3*testLease, "the failing candidate trying", func() bool { return bad.starts.Load() >= 1 })
	good := campaign(t, client, "collector-good", &leaders, nil)
	// The failing one gives the lease up each time, so the good one gets
	// it within a lease duration or so; the failing one never calls onStop.
	waitFor(t, 3*testLease, "the healthy candidate leading", good.leading.Load)
	if bad.stops.Load() != 0 {
		t.Fatalf("onStop called %d times after onStart failed", bad.stops.Load())
	}
}

func TestLeaderAlways(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var order []string
	done := make(chan error)
	go func() {
		done <- Always{}.Run(ctx, func(context.Context) error { order = append(order, "start"); return nil },
			func() { order = append(order, "stop") })
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != nil || strings.Join(order, ",") != "start,stop" {
		t.Fatalf("Always: %v %v", err, order)
	}
	want := errors.New("nope")
	if err := (Always{}).Run(context.Background(), func(context.Context) error { return want }, func() { t.Error("onStop after a failed start") }); !errors.Is(err, want) {
		t.Fatalf("Always with a failing start: %v", err)
	}
}

func TestLeaderConfigValidate(t *testing.T) {
	def := NewDefaultConfig()
	if err := def.Validate(); err != nil || def.Enabled() {
		t.Fatalf("default: %v", err)
	}
	k := def
	k.Mode = ModeKubernetes
	if err := k.Validate(); err != nil || !k.Enabled() {
		t.Fatalf("kubernetes with defaults: %v", err)
	}
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Mode = "zookeeper" }, "mode:"},
		{func(c *Config) { c.LeaseName = "Not_A_Name" }, "lease_name:"},
		{func(c *Config) { c.LeaseName = "" }, "lease_name:"},
		{func(c *Config) { c.Namespace = "bad ns" }, "namespace:"},
		{func(c *Config) { c.Identity = strings.Repeat("x", 254) }, "identity:"},
		{func(c *Config) { c.LeaseDuration = 500 * time.Millisecond }, "lease_duration:"},
		{func(c *Config) { c.RenewDeadline = c.LeaseDuration }, "renew_deadline:"},
		{func(c *Config) { c.RenewDeadline = 0 }, "renew_deadline:"},
		{func(c *Config) { c.RetryPeriod = 9 * time.Second }, "retry_period:"},
		{func(c *Config) { c.RetryPeriod = -time.Second }, "retry_period:"},
		{func(c *Config) {
			c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 3*time.Second, 2*time.Second, time.Second/2
		}, "lease_duration:"},
	} {
		c := k
		tc.change(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error on %s, got %v", tc.want, err)
		}
	}
	// Mode none reads nothing else: nothing else is refused.
	off := def
	off.LeaseDuration = 0
	if err := off.Validate(); err != nil {
		t.Fatalf("mode none with unused bad timings: %v", err)
	}
	if _, err := NewKubernetes(k, fake.NewClientset().CoordinationV1(), nil); err == nil {
		t.Fatal("an unresolved config was accepted")
	}
	if _, err := NewKubernetes(testConfig("a"), nil, nil); err == nil {
		t.Fatal("no client was accepted")
	}
}

func TestLeaderResolve(t *testing.T) {
	env := map[string]string{}
	files := map[string]string{}
	host := Host{Getenv: func(k string) string { return env[k] },
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, os.ErrNotExist
		},
		Hostname: func() (string, error) { return "host-1", nil }}
	c := NewDefaultConfig()
	c.Mode = ModeKubernetes
	if _, err := c.Resolve(host); err == nil || !strings.Contains(err.Error(), NamespaceEnv) {
		t.Fatalf("no namespace anywhere: %v", err)
	}
	files[namespaceFile] = "monitoring\n"
	r, err := c.Resolve(host)
	if err != nil || r.Namespace != "monitoring" || r.Identity != "host-1" {
		t.Fatalf("from the service account and host name: %+v %v", r, err)
	}
	env[NamespaceEnv], env[PodNameEnv] = "nexus", "nexus-collector-7"
	if r, err = c.Resolve(host); err != nil || r.Namespace != "nexus" || r.Identity != "nexus-collector-7" {
		t.Fatalf("from the environment: %+v %v", r, err)
	}
	c.Namespace, c.Identity = "explicit", "me"
	if r, err = c.Resolve(host); err != nil || r.Namespace != "explicit" || r.Identity != "me" {
		t.Fatalf("explicit values win: %+v %v", r, err)
	}
	env[NamespaceEnv] = "Bad Namespace"
	c.Namespace = ""
	if _, err = c.Resolve(host); err == nil {
		t.Fatal("an invalid namespace from the environment was accepted")
	}
}
