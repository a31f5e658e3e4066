package domain

import "math/bits"

func mul64(a, b uint64) (hi, lo uint64) { return bits.Mul64(a, b) }

func div64(hi, lo, c uint64) (q, r uint64) {
	if hi >= c { // cannot happen for amounts below 10^12, which DE4 and DE6 are
		return ^uint64(0), 0
	}
	return bits.Div64(hi, lo, c)
}
