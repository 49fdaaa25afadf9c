package pricing

import "math/bits"

// rest is total minus the parts, 0 when they reach it. Each quantity is
// below 2^63, so their sum is kept exactly in 128 bits.
func rest(total uint64, parts ...uint64) uint64 {
	var hi, lo uint64
	for _, p := range parts {
		var carry uint64
		lo, carry = bits.Add64(lo, p, 0)
		hi += carry
	}
	if hi != 0 || lo >= total {
		return 0
	}
	return total - lo
}

// divRound returns (hi,lo) / d rounded half to even, and false when the
// quotient does not fit in 64 bits.
func divRound(hi, lo, d uint64) (uint64, bool) {
	if hi >= d {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, d)
	// rem < d < 2^63 for our divisors, so 2*rem does not wrap.
	if twice := 2 * rem; twice > d || twice == d && q&1 == 1 {
		q++
		if q == 0 {
			return 0, false
		}
	}
	return q, true
}

// mulDivRound returns (hi,lo) × m / d rounded half to even, and false
// when the quotient does not fit in 64 bits. d < 2^63.
func mulDivRound(hi, lo, m, d uint64) (uint64, bool) {
	h0, a0 := bits.Mul64(lo, m)
	h1, l1 := bits.Mul64(hi, m)
	a1, carry := bits.Add64(h0, l1, 0)
	a2 := h1 + carry // (hi,lo) × m < 2^192: no wrap
	if a2 >= d {
		return 0, false
	}
	q1, r1 := bits.Div64(a2, a1, d)
	if q1 != 0 {
		return 0, false
	}
	q, rem := bits.Div64(r1, a0, d)
	if twice := 2 * rem; twice > d || twice == d && q&1 == 1 {
		q++
		if q == 0 {
			return 0, false
		}
	}
	return q, true
}
