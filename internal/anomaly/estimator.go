package anomaly

import "math"

// The estimator.
//
// Latency and cost per call are positive and heavy-tailed (roughly
// log-normal), so each metric is tracked on log scale: y = ln(x). There a
// multiplicative change is a shift and "10x slower" means the same thing for
// a 50 ms and a 20 s endpoint.
//
// Per metric a series keeps a center m and a scale s (a standard deviation on
// log scale) estimated by a streaming Huber M-estimator:
//
//	S  = max(s, ln(1+MinRelScale))          // scale floor
//	z  = max(0, y - m) / (S·(1 + youngK/n)) // the score, before learning
//	r  = clamp(y - m, -Clip·S, +Clip·S)     // winsorised residual
//	m += g · r
//	s += g · (κ·|r| - s)                    // κ = 1/E|clamp(Z,-Clip,Clip)|
//
// with weight g = max(Alpha, 1/n): a plain running average while the series
// is young, then an exponentially weighted window of ~1/Alpha calls.
//
// Why this and not plain EWMA mean/variance: an unclipped EWMA lets one 100x
// outlier drag the mean by Alpha·ln(100) and blow the variance up by
// Alpha·ln(100)², so the next outliers look normal. Clipping bounds the
// influence of any single observation, whatever its size, to Alpha·Clip·S on
// the center and a factor (1 + Alpha·(κ·Clip-1)) ≈ 1.03 on the scale (the
// defaults), so a burst of several outliers is still flagged while a genuine,
// lasting level shift is learnt after a few dozen calls at most (the scale
// grows geometrically while every residual is clipped): a sustained 10x
// latency step on a series of spread 0.25 scores 8.9, 8.6, 8.3, ... and is
// flagged for its first dozen calls, then accepted as the new normal. κ makes s consistent for
// the standard deviation of normal data despite the clipping, and the scale
// update is a contraction around that fixed point (slope κ·Clip·P(|Z|>Clip)
// ≈ 0.12), so an underestimated scale recovers instead of collapsing.
// Why not a streaming median/MAD (sign-based stochastic approximation): it
// is just as robust but its step does not shrink with the residual, so in
// steady state it jitters by a full step around the median; the Huber update
// behaves like the mean (efficient) for normal residuals and like the median
// for outliers. It costs two multiply-adds and no memory beyond two floats.
//
// Seeding: the clipped update needs a first scale. The first seedN (≤ 8, ≤
// Warmup) observations are kept and the baseline starts from their median
// and normalised MAD refined by one Huber step, so even an outlier among the
// very first calls does not skew it; the rest of the warm-up refines it with
// the 1/n weight. Until a series is well established its scale is widened
// for scoring (see youngK).
//
// Only the high side scores: z < 0 is reported as 0. A call that is much
// faster or cheaper than usual is rarely an incident (and a cached or
// truncated response legitimately is), while runaway latency or spend is.
// Low values still update the baseline, clipped like high ones.

// seedMax is the largest number of observations a series buffers to seed
// its baseline.
const seedMax = 8

// youngK widens the scale of a young series when scoring, by a factor
// 1 + youngK/n after n observations (1.25 at n = 20, 1.05 at n = 100): a
// scale estimated from a few dozen values is itself uncertain, and a 6-sigma
// threshold against a scale that happens to be 30% low is a 4-sigma one.
// Measured on 20,000 log-normal series of 200 calls each, it cuts false
// flags from 26 to 6 in 3.6M scored calls, while a 10x spike on a series of
// spread 0.25 is still flagged in 94% of series at their 21st call, 99% at
// the 31st and all from the 60th.
const youngK = 5

// params are the per-Detector constants the estimator needs.
type params struct {
	warmup   uint32  // observations before a metric is scored
	seedN    uint32  // observations buffered for the seed, 1..seedMax, ≤ warmup
	avgN     uint32  // below this count the weight is 1/n (≥ Alpha)
	alpha    float64 // weight once established
	clip     float64 // Huber constant, in units of scale
	kappa    float64 // consistency factor for the clipped absolute residual
	minScale float64 // scale floor on log scale: ln(1+MinRelScale)
}

func newParams(c Config) params {
	p := params{
		warmup:   uint32(min(c.Warmup, math.MaxUint32)),
		seedN:    uint32(min(c.Warmup, seedMax)),
		alpha:    c.Alpha,
		clip:     c.Clip,
		kappa:    1 / clippedAbsMean(c.Clip),
		minScale: math.Log1p(c.MinRelScale),
	}
	// 1/n > alpha ⇔ n < 1/alpha.
	p.avgN = uint32(min(math.Ceil(1/c.Alpha), math.MaxUint32))
	return p
}

// clippedAbsMean returns E|clamp(Z, -c, c)| for a standard normal Z:
// sqrt(2/π)·(1 - e^{-c²/2}) + 2c·P(Z > c).
func clippedAbsMean(c float64) float64 {
	return math.Sqrt(2/math.Pi)*(1-math.Exp(-c*c/2)) + c*math.Erfc(c/math.Sqrt2)
}

// metric is the state of one metric of one series: 56 bytes.
type metric struct {
	center float64 // m: location of ln(x)
	scale  float64 // s: spread of ln(x), unfloored
	n      uint32  // observations seen, saturating
	seed   [seedMax]float32
}

// observe scores y = ln(x) against the baseline, then learns from it. It
// returns the high-side robust z-score and whether the metric was scored
// (past warm-up).
func (m *metric) observe(y float64, p *params) (z float64, scored bool) {
	n := m.n
	if n < p.seedN {
		// Seeding: seedN ≤ warmup, so nothing is scored yet.
		m.seed[n] = float32(y)
		m.n = n + 1
		if m.n == p.seedN {
			m.center, m.scale = seedBaseline(m.seed[:p.seedN], p)
		}
		return 0, false
	}
	// Plain comparisons rather than min/max: the values are never NaN and
	// the NaN- and signed-zero-aware builtins cost several branches each.
	s := m.scale
	if s < p.minScale {
		s = p.minScale
	}
	r := y - m.center
	if n >= p.warmup {
		scored = true
		if r > 0 {
			// r / (s·(1 + youngK/n)) with one division.
			fn := float64(n)
			z = r * fn / (s * (fn + youngK))
		}
	}
	if lim := p.clip * s; r > lim {
		r = lim
	} else if r < -lim {
		r = -lim
	}
	g := p.alpha
	if n < p.avgN {
		g = 1 / float64(n+1) // this is observation n+1
	}
	m.center += g * r
	m.scale += g * (p.kappa*math.Abs(r) - m.scale)
	if n != math.MaxUint32 {
		m.n = n + 1
	}
	return z, scored
}

// seedBaseline starts a baseline from the first observations: median and
// normalised MAD (robust to a minority of outliers), then one Huber step on
// the same values, which keeps the robustness but is far less noisy than the
// MAD of a handful of values.
func seedBaseline(v []float32, p *params) (center, scale float64) {
	med, mad := medianMAD(v)
	s0 := max(mad, p.minScale)
	lim := p.clip * s0
	var sr, sa float64
	for _, x := range v {
		r := min(max(float64(x)-med, -lim), lim)
		sr += r
		sa += math.Abs(r)
	}
	n := float64(len(v))
	return med + sr/n, p.kappa * sa / n
}

// madToSigma makes the median absolute deviation consistent for the
// standard deviation of normal data: 1/Φ⁻¹(3/4).
const madToSigma = 1.482602218505602

// medianMAD returns the median of v and its normalised median absolute
// deviation. It reorders v; len(v) ≤ seedMax.
func medianMAD(v []float32) (center, scale float64) {
	sortSmall(v)
	center = medianSorted(v)
	var dev [seedMax]float32
	d := dev[:len(v)]
	for i, x := range v {
		d[i] = float32(math.Abs(float64(x) - center))
	}
	sortSmall(d)
	return center, madToSigma * medianSorted(d)
}

func medianSorted(v []float32) float64 {
	n := len(v)
	if n%2 == 1 {
		return float64(v[n/2])
	}
	return (float64(v[n/2-1]) + float64(v[n/2])) / 2
}

// sortSmall is an insertion sort: no allocation, fastest for ≤ 8 values.
func sortSmall(v []float32) {
	for i := 1; i < len(v); i++ {
		x := v[i]
		j := i
		for ; j > 0 && v[j-1] > x; j-- {
			v[j] = v[j-1]
		}
		v[j] = x
	}
}
