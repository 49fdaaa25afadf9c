package anomaly

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// benchInputs returns n deterministic normal (latency, cost) pairs.
func benchInputs(n int) (lat, cost []int64) {
	g := newGen(42)
	lat, cost = make([]int64, n), make([]int64, n)
	for i := range lat {
		lat[i] = g.logNormal(float64(latMedian), 0.25)
		cost[i] = g.logNormal(float64(costMed), 0.5)
	}
	return lat, cost
}

// benchKeys returns n keys whose strings are private copies, as a span's
// attributes would be, so lookups compare contents.
func benchKeys(n int) (stored, lookup []Key) {
	for i := 0; i < n; i++ {
		k := Key{"openai", fmt.Sprint("gpt-4o-2024-08-", i), "chat", "checkout-service"}
		stored = append(stored, k)
		lookup = append(lookup, Key{strings.Clone(k.Provider), strings.Clone(k.Model), strings.Clone(k.Operation), strings.Clone(k.Service)})
	}
	return stored, lookup
}

func BenchmarkObserve(b *testing.B) {
	for _, nkeys := range []int{1, 1000} {
		b.Run(fmt.Sprint("series=", nkeys), func(b *testing.B) {
			d := New(DefaultConfig())
			stored, keys := benchKeys(nkeys)
			lat, cost := benchInputs(1 << 12)
			for i := range 100 {
				for _, k := range stored {
					d.Observe(k, lat[i], cost[i])
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i & (len(lat) - 1)
				d.Observe(keys[i%nkeys], lat[j], cost[j])
			}
		})
	}
}

// BenchmarkObserveParallel: ns/op is wall time per observation over all
// goroutines. "shared": every goroutine cycles over the same 64 series (the
// processor's case: a popular model is seen by every goroutine); "disjoint":
// each goroutine has its own 8 series.
func BenchmarkObserveParallel(b *testing.B) {
	for _, shards := range []int{1, 16} {
		for _, shared := range []bool{true, false} {
			name := fmt.Sprintf("shards=%d/shared=%v", shards, shared)
			b.Run(name, func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Shards = shards
				d := New(cfg)
				stored, keys := benchKeys(64)
				lat, cost := benchInputs(1 << 12)
				for i := range 100 {
					for _, k := range stored {
						d.Observe(k, lat[i], cost[i])
					}
				}
				var worker atomic.Uint64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := int(worker.Add(1))
					i := w * 7919
					for pb.Next() {
						j := i & (len(lat) - 1)
						ki := i & 63
						if !shared {
							ki = (w*8 + i&7) & 63
						}
						d.Observe(keys[ki], lat[j], cost[j])
						i++
					}
				})
			})
		}
	}
}

// BenchmarkObserveNewSeries measures the insert path: every call is a new
// series evicting the least recently seen.
func BenchmarkObserveNewSeries(b *testing.B) {
	cfg := DefaultConfig()
	cfg.MaxSeries = 1000
	d := New(cfg)
	_, keys := benchKeys(1 << 14)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Observe(keys[i&(len(keys)-1)], latMedian, costMed)
	}
}
