package anomaly

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// gen draws deterministic log-normal values: median·e^(sigma·N(0,1)).
type gen struct{ rng *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))} }

func (g *gen) logNormal(median, sigma float64) int64 {
	return int64(median * math.Exp(sigma*g.rng.NormFloat64()))
}

const (
	ms        = int64(1e6) // nanoseconds
	microUSD  = int64(1e6) // picodollars
	latMedian = 400 * ms   // 400 ms
	costMed   = 2000 * microUSD
)

var key = Key{Provider: "openai", Model: "gpt-4o", Operation: "chat", Service: "checkout"}

// warm feeds n normal calls (latency sigma 0.25, cost sigma 0.3) and fails
// on any flag.
func warm(t *testing.T, d *Detector, k Key, g *gen, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if s, a := d.Observe(k, g.logNormal(float64(latMedian), 0.25), g.logNormal(float64(costMed), 0.3)); a {
			t.Fatalf("normal call %d flagged, score %.2f", i, s)
		}
	}
}

func TestNormalTrafficIsNotFlagged(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(1)
	// A few series with different spreads; every third call unpriced.
	type series struct {
		k                Key
		latSigma, cSigma float64
	}
	ss := []series{
		{Key{"openai", "gpt-4o", "chat", "a"}, 0.25, 0.8},
		{Key{"openai", "gpt-4o-mini", "chat", "a"}, 0.5, 1.2},
		{Key{"exa", "", "search", "b"}, 0.1, 0.05},
		{Key{"twilio", "", "sms", "c"}, 1.0, 0.3},
		{Key{"apollo", "", "enrich", "c"}, 2.0, 2.0},
	}
	const n = 100_000
	flags, maxScore := 0, 0.0
	for i := 0; i < n; i++ {
		s := &ss[i%len(ss)]
		cost := g.logNormal(float64(costMed), s.cSigma)
		if i%3 == 0 {
			cost = 0
		}
		r := d.ObserveResult(s.k, g.logNormal(float64(latMedian), s.latSigma), cost)
		if r.Anomalous {
			flags++
		}
		maxScore = max(maxScore, r.Score)
	}
	t.Logf("normal traffic: %d flags in %d calls, max score %.2f (threshold %v)", flags, n, maxScore, d.Threshold())
	if flags != 0 {
		t.Fatalf("normal log-normal traffic: %d flags in %d calls, want 0", flags, n)
	}
	if d.Len() != len(ss) {
		t.Fatalf("Len = %d, want %d", d.Len(), len(ss))
	}
	// The baseline found the truth.
	b, ok := d.Baseline(ss[0].k)
	if !ok {
		t.Fatal("no baseline")
	}
	if r := b.LatencyNanos / float64(latMedian); r < 0.9 || r > 1.1 {
		t.Errorf("latency level %.0f ns, want ≈ %d", b.LatencyNanos, latMedian)
	}
	if b.LatencySpread < 0.2 || b.LatencySpread > 0.3 {
		t.Errorf("latency spread %.3f, want ≈ 0.25", b.LatencySpread)
	}
	if int(b.LatencyCount) != n/len(ss) || b.CostCount >= b.LatencyCount {
		t.Errorf("counts: latency %d (want %d), cost %d (want fewer: unpriced calls)", b.LatencyCount, n/len(ss), b.CostCount)
	}
}

// Young series are the riskiest: their scale is estimated from few values.
func TestManyYoungSeriesRarelyFlag(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(11)
	const series, calls = 5000, 100
	flags, scored := 0, 0
	for s := 0; s < series; s++ {
		k := Key{"openai", fmt.Sprint("model-", s), "chat", "svc"}
		for i := 0; i < calls; i++ {
			r := d.ObserveResult(k, g.logNormal(float64(latMedian), 0.25), g.logNormal(float64(costMed), 0.7))
			if r.Anomalous {
				flags++
			}
			if r.Scored {
				scored++
			}
		}
	}
	t.Logf("%d new series x %d normal calls: %d flags in %d scored calls", series, calls, flags, scored)
	// Measured: a rate around 2e-6 per scored call; allow 1e-5.
	if float64(flags) > 1e-5*float64(scored) {
		t.Fatalf("%d flags in %d scored calls of young series, want a rate <= 1e-5", flags, scored)
	}
}

func TestLatencySpikeIsFlagged(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(2)
	warm(t, d, key, g, 1000)
	r := d.ObserveResult(key, 10*latMedian, costMed)
	t.Logf("10x latency spike: score %.2f (latency %.2f, cost %.2f)", r.Score, r.LatencyScore, r.CostScore)
	if !r.Anomalous || r.LatencyScore < d.Threshold() || r.Score != r.LatencyScore {
		t.Fatalf("10x latency spike not flagged: %+v", r)
	}
	if r.CostScore >= 2 {
		t.Fatalf("normal cost scored %.2f", r.CostScore)
	}
	// The spike did not disturb the baseline: normal traffic stays quiet.
	warm(t, d, key, g, 1000)
}

func TestBurstIsFlaggedThenLearnt(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(3)
	warm(t, d, key, g, 1000)
	var scores []string
	flagged := 0
	for i := 0; i < 10; i++ {
		s, a := d.Observe(key, 10*latMedian, costMed)
		scores = append(scores, fmt.Sprintf("%.1f", s))
		if a && flagged == i {
			flagged++
		}
	}
	t.Logf("burst of ten 10x calls: scores %s; first %d flagged", strings.Join(scores, " "), flagged)
	if flagged < 8 {
		t.Fatalf("only the first %d of a burst of 10 outliers flagged, want >= 8", flagged)
	}
	// A lasting level shift is learnt: flags stop.
	last := -1
	for i := 0; i < 500; i++ {
		if _, a := d.Observe(key, g.logNormal(float64(10*latMedian), 0.25), costMed); a {
			last = i
		}
	}
	t.Logf("sustained 10x shift after the burst: last flagged at call %d", last)
	if last > 100 {
		t.Fatalf("sustained shift still flagged at call %d", last)
	}
}

func TestCostSpikeIsFlagged(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(4)
	warm(t, d, key, g, 1000)
	r := d.ObserveResult(key, latMedian, 20*costMed)
	t.Logf("20x cost spike: score %.2f (latency %.2f, cost %.2f)", r.Score, r.LatencyScore, r.CostScore)
	if !r.Anomalous || r.CostScore < d.Threshold() || r.LatencyScore != 0 {
		t.Fatalf("20x cost spike not flagged: %+v", r)
	}
	warm(t, d, key, g, 1000)
}

func TestLowSideNeverScores(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(5)
	warm(t, d, key, g, 500)
	r := d.ObserveResult(key, latMedian/100, costMed/100)
	if r.Score != 0 || r.Anomalous || !r.Scored {
		t.Fatalf("100x drop: %+v, want scored with score 0", r)
	}
}

func TestUnpricedCalls(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(6)
	k := Key{"exa", "", "search", "s"}
	// Latency-only series still scores latency.
	for i := 0; i < 200; i++ {
		cost := int64(0)
		if i%2 == 1 {
			cost = -1 // "unknown" spelled differently
		}
		if _, a := d.Observe(k, g.logNormal(float64(latMedian), 0.25), cost); a {
			t.Fatalf("call %d flagged", i)
		}
	}
	b, _ := d.Baseline(k)
	if b.LatencyCount != 200 || b.CostCount != 0 || b.CostPico != 0 {
		t.Fatalf("baseline %+v, want 200 latency and no cost observations", b)
	}
	if r := d.ObserveResult(k, 10*latMedian, 0); !r.Anomalous || r.CostScore != 0 {
		t.Fatalf("latency spike on unpriced series: %+v", r)
	}
	// Cost warms up on its own count: the first priced calls are not scored
	// for cost even though the series is old.
	for i := 0; i < DefaultConfig().Warmup; i++ {
		if r := d.ObserveResult(k, latMedian, 1000*costMed*int64(i%2+1)); r.CostScore != 0 || r.Anomalous {
			t.Fatalf("priced call %d scored during cost warm-up: %+v", i, r)
		}
	}
	// A call with neither metric is ignored and creates nothing.
	if s, a := d.Observe(Key{"x", "y", "z", "w"}, 0, 0); s != 0 || a || d.Len() != 1 {
		t.Fatalf("empty call: score %v anomalous %v, Len %d", s, a, d.Len())
	}
}

func TestWarmup(t *testing.T) {
	cfg := DefaultConfig()
	d := New(cfg)
	g := newGen(7)
	// Wild values: each call 1000x or 1/1000 of the previous level.
	for i := 0; i < cfg.Warmup; i++ {
		lat := latMedian
		if i%3 == 1 {
			lat *= 1000
		}
		r := d.ObserveResult(key, lat, costMed*int64(1+i*i*1000))
		if r.Score != 0 || r.Anomalous || r.Scored {
			t.Fatalf("call %d during warm-up: %+v", i, r)
		}
	}
	if r := d.ObserveResult(key, latMedian, costMed); !r.Scored {
		t.Fatalf("call %d after warm-up not scored: %+v", cfg.Warmup, r)
	}

	// An outlier among the very first calls does not spoil the baseline:
	// the seed is a median.
	d = New(cfg)
	d.Observe(key, 1000*latMedian, 1000*costMed)
	warm(t, d, key, g, 200)
	if r := d.ObserveResult(key, 10*latMedian, costMed); !r.Anomalous {
		t.Fatalf("spike after an early outlier not flagged: %+v", r)
	}

	// Warmup 1: scored from the second call.
	d = New(Config{Warmup: 1})
	if r := d.ObserveResult(key, latMedian, 0); r.Scored {
		t.Fatalf("first call scored: %+v", r)
	}
	if r := d.ObserveResult(key, 100*latMedian, 0); !r.Scored || !r.Anomalous {
		t.Fatalf("second call with Warmup 1: %+v", r)
	}
}

func TestConstantSeriesWithJitter(t *testing.T) {
	d := New(DefaultConfig())
	g := newGen(8)
	k := Key{"twilio", "", "sms.send", "notify"}
	const price = 7900 * microUSD // a fixed price per message
	for i := 0; i < 10_000; i++ {
		// ±1% latency jitter around 120 ms, exact constant price.
		lat := int64(float64(120*ms) * (1 + 0.01*(2*g.rng.Float64()-1)))
		if s, a := d.Observe(k, lat, price); a || s > 1 {
			t.Fatalf("call %d: jitter scored %.2f (anomalous %v)", i, s, a)
		}
	}
	// 1.5x is within the scale floor; a double charge (2x) is not.
	if r := d.ObserveResult(k, 120*ms, price*3/2); r.Anomalous {
		t.Fatalf("1.5x price flagged on a constant series: %+v", r)
	}
	r := d.ObserveResult(k, 120*ms, 2*price)
	t.Logf("2x price on a constant series: score %.2f", r.Score)
	if !r.Anomalous {
		t.Fatalf("2x price not flagged on a constant series: %+v", r)
	}
}

func TestEvictsLeastRecentlySeen(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSeries = 3
	d := New(cfg)
	g := newGen(9)
	a, b, c, e := Key{Service: "a"}, Key{Service: "b"}, Key{Service: "c"}, Key{Service: "e"}
	for _, k := range []Key{a, b, c} {
		warm(t, d, k, g, cfg.Warmup+50)
	}
	warm(t, d, a, g, 1) // a is now more recent than b and c
	warm(t, d, e, g, 1) // full: evicts b
	checkInvariants(t, d)
	if d.Len() != 3 {
		t.Fatalf("Len = %d, want 3", d.Len())
	}
	if _, ok := d.Baseline(b); ok {
		t.Fatal("b still held; want it evicted as least recently seen")
	}
	// a is still warm: a spike is flagged.
	if _, an := d.Observe(a, 10*latMedian, costMed); !an {
		t.Fatal("a lost its baseline")
	}
	// b restarts its warm-up: a spike is not even scored.
	if r := d.ObserveResult(b, 10*latMedian, costMed); r.Scored || r.Anomalous {
		t.Fatalf("evicted b kept its baseline: %+v", r)
	}
	if bl, _ := d.Baseline(b); bl.LatencyCount != 1 {
		t.Fatalf("b restarted with %d observations, want 1", bl.LatencyCount)
	}
	// That insert evicted c, now the least recently seen.
	if _, ok := d.Baseline(c); ok || d.Len() != 3 {
		t.Fatalf("after re-inserting b: c held %v, Len %d", ok, d.Len())
	}
	checkInvariants(t, d)
}

func TestLenBounded(t *testing.T) {
	for _, shards := range []int{1, 3, 8} {
		cfg := DefaultConfig()
		cfg.MaxSeries, cfg.Shards = 100, shards
		d := New(cfg)
		for i := 0; i < 5000; i++ {
			d.Observe(Key{"p", fmt.Sprint("m", i%700), "op", fmt.Sprint(i % 3)}, latMedian, 0)
			if d.Len() > cfg.MaxSeries {
				t.Fatalf("shards %d: Len %d > MaxSeries %d", shards, d.Len(), cfg.MaxSeries)
			}
		}
		if d.Len() != cfg.MaxSeries {
			t.Fatalf("shards %d: Len %d, want full at %d", shards, d.Len(), cfg.MaxSeries)
		}
		checkInvariants(t, d)
	}
}

func TestDeterministic(t *testing.T) {
	run := func() []float64 {
		cfg := DefaultConfig()
		cfg.MaxSeries, cfg.Shards = 50, 4 // with eviction pressure
		d := New(cfg)
		g := newGen(10)
		out := make([]float64, 0, 50_000)
		for i := 0; i < 50_000; i++ {
			k := Key{"openai", fmt.Sprint("m", g.rng.IntN(60)), "chat", "s"}
			lat := g.logNormal(float64(latMedian), 0.3)
			if g.rng.IntN(500) == 0 {
				lat *= 20
			}
			r := d.ObserveResult(k, lat, g.logNormal(float64(costMed), 0.5))
			out = append(out, r.LatencyScore, r.CostScore)
		}
		return out
	}
	a, b := run(), run()
	nonzero := 0
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("score %d differs: %v vs %v", i, a[i], b[i])
		}
		if a[i] > 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Fatal("no scores at all")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	cases := []struct {
		field string
		mod   func(*Config)
	}{
		{"threshold:", func(c *Config) { c.Threshold = 0 }},
		{"threshold:", func(c *Config) { c.Threshold = math.NaN() }},
		{"threshold:", func(c *Config) { c.Threshold = math.Inf(1) }},
		{"warmup:", func(c *Config) { c.Warmup = 0 }},
		{"max_series:", func(c *Config) { c.MaxSeries = -1 }},
		{"alpha:", func(c *Config) { c.Alpha = 1 }},
		{"alpha:", func(c *Config) { c.Alpha = -0.1 }},
		{"clip:", func(c *Config) { c.Clip = 0 }},
		{"min_rel_scale:", func(c *Config) { c.MinRelScale = -1 }},
		{"shards:", func(c *Config) { c.Shards = 0 }},
		{"shards:", func(c *Config) { c.MaxSeries, c.Shards = 4, 8 }},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want one starting %q", c, err, tc.field)
		}
	}
	// Every bad field is reported.
	err := Config{}.Validate()
	for _, f := range []string{"threshold:", "warmup:", "max_series:", "alpha:", "clip:", "min_rel_scale:", "shards:"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("zero config: error %v does not name %s", err, f)
		}
	}
}

func TestNew(t *testing.T) {
	// Zero fields take the defaults.
	d := New(Config{})
	if d.Threshold() != DefaultConfig().Threshold || d.p.warmup != uint32(DefaultConfig().Warmup) {
		t.Fatalf("zero config not defaulted: threshold %v warmup %d", d.Threshold(), d.p.warmup)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New with an invalid config did not panic")
		}
	}()
	New(Config{Alpha: 2})
}

func TestKeyIsCopied(t *testing.T) {
	d := New(DefaultConfig())
	buf := []byte("openai" + "gpt-4o" + "chat" + "checkout" + strings.Repeat("x", 1<<16))
	k := Key{
		Provider:  unsafe.String(&buf[0], 6),
		Model:     unsafe.String(&buf[6], 6),
		Operation: unsafe.String(&buf[12], 4),
		Service:   unsafe.String(&buf[16], 8),
	}
	d.Observe(k, latMedian, costMed)
	s := &d.shards[0]
	stored := s.entries[s.index[k]].key
	if stored != key {
		t.Fatalf("stored key %+v, want %+v", stored, key)
	}
	for _, str := range []string{stored.Provider, stored.Model, stored.Operation, stored.Service} {
		p := uintptr(unsafe.Pointer(unsafe.StringData(str)))
		lo := uintptr(unsafe.Pointer(&buf[0]))
		if p >= lo && p < lo+uintptr(len(buf)) {
			t.Fatalf("stored key string %q points into the caller's buffer", str)
		}
	}
	// Overwrite the caller's buffer: the series is still found under its
	// original name.
	copy(buf, "XXXXXXXXXXXXXXXXXXXXXXXX")
	if b, ok := d.Baseline(key); !ok || b.LatencyCount != 1 {
		t.Fatalf("series lost after the caller reused its buffer: %+v %v", b, ok)
	}
}

func TestObserveDoesNotAllocate(t *testing.T) {
	for _, shards := range []int{1, 4} {
		cfg := DefaultConfig()
		cfg.Shards = shards
		d := New(cfg)
		d.Observe(key, latMedian, costMed)
		// The caller's key has its own copies of the strings, as a span's
		// attributes would.
		k := Key{strings.Clone(key.Provider), strings.Clone(key.Model), strings.Clone(key.Operation), strings.Clone(key.Service)}
		lat := latMedian
		if a := testing.AllocsPerRun(10_000, func() {
			lat++
			d.Observe(k, lat, costMed)
		}); a != 0 {
			t.Fatalf("shards %d: Observe on an existing series: %v allocs, want 0", shards, a)
		}
		// A new series costs one allocation (its key) once the slab is full.
		cfg.MaxSeries = 16
		d = New(cfg)
		keys := make([]Key, 1000)
		for i := range keys {
			keys[i] = Key{"p", fmt.Sprint("model-", i), "op", "svc"}
		}
		for _, k := range keys[:100] {
			d.Observe(k, latMedian, 0)
		}
		i := 100
		if a := testing.AllocsPerRun(800, func() {
			d.Observe(keys[i], latMedian, 0)
			i++
		}); a > 1 {
			t.Fatalf("shards %d: new series: %v allocs, want <= 1", shards, a)
		}
	}
}

func TestConcurrent(t *testing.T) {
	for _, shards := range []int{1, 4} {
		t.Run(fmt.Sprint("shards=", shards), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Shards = shards
			d := New(cfg)
			shared := Key{"openai", "gpt-4o", "chat", "shared"}
			const workers, n = 8, 20_000
			var wg sync.WaitGroup
			var mu sync.Mutex
			flags := 0
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					g := newGen(uint64(100 + w))
					own := Key{"openai", "gpt-4o", "chat", fmt.Sprint("worker-", w)}
					f := 0
					for i := 0; i < n; i++ {
						cost := g.logNormal(float64(costMed), 0.3)
						if i%2 == 1 {
							cost = 0
						}
						if _, a := d.Observe(own, g.logNormal(float64(latMedian), 0.25), cost); a {
							f++
						}
						if _, a := d.Observe(shared, g.logNormal(float64(latMedian), 0.25), cost); a {
							f++
						}
					}
					mu.Lock()
					flags += f
					mu.Unlock()
				}()
			}
			wg.Wait()
			if flags != 0 {
				t.Errorf("%d flags on normal concurrent traffic", flags)
			}
			if d.Len() != workers+1 {
				t.Fatalf("Len = %d, want %d", d.Len(), workers+1)
			}
			for w := 0; w < workers; w++ {
				b, ok := d.Baseline(Key{"openai", "gpt-4o", "chat", fmt.Sprint("worker-", w)})
				if !ok || b.LatencyCount != n || b.CostCount != n/2 {
					t.Errorf("worker %d: %+v (held %v), want %d latency and %d cost observations", w, b, ok, n, n/2)
				}
			}
			b, _ := d.Baseline(shared)
			if b.LatencyCount != workers*n || b.CostCount != workers*n/2 {
				t.Errorf("shared: %+v, want %d latency and %d cost observations", b, workers*n, workers*n/2)
			}
			if r := b.LatencyNanos / float64(latMedian); r < 0.9 || r > 1.1 {
				t.Errorf("shared latency level %.0f, want ≈ %d", b.LatencyNanos, latMedian)
			}
			checkInvariants(t, d)
		})
	}
}

func TestConcurrentEviction(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSeries, cfg.Shards = 64, 4
	d := New(cfg)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20_000; i++ {
				d.Observe(Key{"p", fmt.Sprint("m", (i*7+w)%300), "op", "s"}, latMedian+int64(i), int64(w+1))
				if i%1000 == 0 && d.Len() > cfg.MaxSeries {
					t.Errorf("Len %d > %d", d.Len(), cfg.MaxSeries)
				}
			}
		}()
	}
	wg.Wait()
	checkInvariants(t, d)
}

// checkInvariants walks every shard's recency list both ways and checks it
// against the index.
func checkInvariants(t *testing.T, d *Detector) {
	t.Helper()
	total := 0
	for si := range d.shards {
		s := &d.shards[si]
		s.mu.Lock()
		if len(s.index) > s.limit || len(s.entries) > s.limit {
			t.Errorf("shard %d: %d series, %d slots, limit %d", si, len(s.index), len(s.entries), s.limit)
		}
		n, prev := 0, int32(nilIdx)
		for i := s.head; i != nilIdx; i = s.entries[i].next {
			e := &s.entries[i]
			if e.prev != prev {
				t.Errorf("shard %d: entry %d prev %d, want %d", si, i, e.prev, prev)
			}
			if j, ok := s.index[e.key]; !ok || j != i {
				t.Errorf("shard %d: entry %d key %+v indexed at %d (%v)", si, i, e.key, j, ok)
			}
			prev = i
			n++
			if n > len(s.entries) {
				t.Fatalf("shard %d: recency list has a cycle", si)
			}
		}
		if s.tail != prev || n != len(s.index) {
			t.Errorf("shard %d: tail %d want %d, list %d entries, index %d", si, s.tail, prev, n, len(s.index))
		}
		total += n
		s.mu.Unlock()
	}
	if total != d.Len() {
		t.Errorf("lists hold %d series, Len %d", total, d.Len())
	}
}
