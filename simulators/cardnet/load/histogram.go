package load

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^subBits buckets, so a value is known to within 1/2^subBits (0.8%).
const subBits = 7

const (
	subCount = 1 << subBits
	// maxExp covers values up to 2^maxExp ns (about 18 minutes); larger
	// ones are counted in the last bucket.
	maxExp   = 40
	nBuckets = subCount + (maxExp-subBits)*subCount
)

// Histogram counts latencies in log-linear buckets, as HdrHistogram does:
// values below 2^subBits ns exactly, and above that each power of two cut
// into 2^subBits equal buckets. Memory is fixed (about 34 KiB), recording is
// a few instructions, and any quantile is read back within 0.8%. It is not
// safe for concurrent use.
type Histogram struct {
	counts   [nBuckets]uint64
	total    uint64
	min, max int64
	sum      float64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{min: math.MaxInt64} }

// bucketOf returns the bucket of v >= 0.
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v's top bit
	if e >= maxExp {
		return nBuckets - 1
	}
	shift := e - subBits
	sub := int(v>>shift) - subCount
	return subCount + shift*subCount + sub
}

// bucketBounds returns the lowest and highest values of bucket i.
func bucketBounds(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	shift := (i - subCount) / subCount
	sub := (i - subCount) % subCount
	lo = int64(subCount+sub) << shift
	return lo, lo + int64(1)<<shift - 1
}

// Record counts one latency; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Min is the smallest value recorded (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max is the largest value recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average value recorded.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Quantile returns the value at or below which a fraction q of the values
// fall (q = 0.99 for p99): the highest value of the bucket holding the
// ceil(q·count)-th smallest value, never above the largest recorded. 0 when
// empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
