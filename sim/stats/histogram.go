package stats

import (
	"errors"
	"fmt"
	"math"
)

// Histogram constants.
const (
	// DefaultRelAccuracy is the relative accuracy of a zero-value Histogram:
	// quantiles are within 0.5 % of the true value.
	DefaultRelAccuracy = 0.005

	// MinTrackedValue and MaxTrackedValue bound the range a Histogram
	// resolves: 1e-9 to 1e9 is nanoseconds to about 30 years when values
	// are seconds, and equally wide in any other unit. Positive values
	// below MinTrackedValue are counted in the lowest bucket (Underflow),
	// values above MaxTrackedValue in the highest (Overflow).
	MinTrackedValue = 1e-9
	MaxTrackedValue = 1e9
)

// ErrAccuracyMismatch is returned (wrapped) by Histogram.Merge when the two
// histograms were built with different relative accuracies.
var ErrAccuracyMismatch = errors.New("stats: histograms have different relative accuracy")

// Histogram records the distribution of non-negative values (latencies,
// sizes) in constant memory and answers quantile queries with bounded
// relative error, in the manner of DDSketch (Masson, Rim and Lee, VLDB 2019).
//
// For relative accuracy a, let γ = 2^(1/B) with B = ⌈ln 2 / ln((1+a)/(1-a))⌉
// buckets per power of two, so that γ ≤ (1+a)/(1-a). A positive value x
// falls in bucket i = ⌈log_γ x⌉, which covers (γ^(i-1), γ^i]; the bucket is
// represented by 2γ^i/(γ+1), which is within relative error a of every value
// in the bucket. Zero has a bucket of its own and is reported exactly.
//
// Aligning buckets with powers of two makes a value's bucket its binary
// exponent times B plus a bucket within the octave that depends only on the
// mantissa. At the default accuracy that part comes from a table on the top
// 12 mantissa bits, computing a logarithm only for the few table cells that
// straddle a bucket boundary: recording stays exact and costs a few
// nanoseconds, which matters when a model records every request.
// Count, Sum, Mean, Min and Max are exact (Sum and Mean up to float64
// rounding).
//
// Quantile(q) uses the inverse of the empirical distribution function, the
// same convention as gonum's stat.Quantile with stat.Empirical: with the n
// recorded values sorted as x[0] <= ... <= x[n-1], the q-quantile is x[k]
// for the smallest k with k+1 >= q·n (x[0] for q = 0). The value returned is
// within relative error a of that x[k], provided x[k] is zero or lies in
// [MinTrackedValue, MaxTrackedValue]. It is also clamped to [Min(), Max()],
// which can only bring it closer; Quantile(0) and Quantile(1) are Min and
// Max exactly.
//
// Memory is bounded: buckets are allocated lazily as a contiguous window
// that grows to cover the indices seen, and never beyond the buckets for
// [MinTrackedValue, MaxTrackedValue], about 20.7/a of them (4,186 int64
// counts, 33 KB, at the default accuracy). Values outside that range are
// clamped into the end buckets and counted by Underflow and Overflow; their
// quantiles lose the accuracy guarantee, but Min, Max and Sum stay exact.
//
// Negative values, NaN and +Inf are rejected: Record panics. Latencies and
// sizes are never negative, so such a value is a bug in the model, and
// silently folding it into the zero bucket would hide it.
//
// Record does not allocate once the bucket window covers the values being
// recorded. The zero value is an empty histogram with DefaultRelAccuracy.
type Histogram struct {
	relAcc    float64 // a; 0 in the zero value, meaning DefaultRelAccuracy
	lnGamma   float64 // ln γ = ln 2 / B
	perOctave int     // B, buckets per power of two
	octave    *octaveTable
	repFactor float64 // 2/(γ+1): representative of bucket i is γ^i·repFactor
	minIdx    int     // bucket of MinTrackedValue
	maxIdx    int     // bucket of MaxTrackedValue

	counts []int64 // counts[j] is the count of bucket offset+j
	offset int

	count     int64 // all values, including zeros
	zero      int64
	underflow int64
	overflow  int64
	sum       float64
	min, max  float64
}

// NewHistogram returns an empty histogram whose quantiles are within
// relative error relAccuracy, which must be in (0, 1); use
// DefaultRelAccuracy for 0.5 %. Memory grows as about 20.7/relAccuracy
// int64 counts at most.
func NewHistogram(relAccuracy float64) *Histogram {
	if !(relAccuracy > 0 && relAccuracy < 1) {
		panic(fmt.Sprintf("stats: NewHistogram: relative accuracy %v is not in (0, 1)", relAccuracy))
	}
	h := &Histogram{}
	h.setAccuracy(relAccuracy)
	return h
}

func (h *Histogram) setAccuracy(a float64) {
	h.relAcc = a
	h.perOctave = bucketsPerOctave(a)
	h.lnGamma = math.Ln2 / float64(h.perOctave)
	h.repFactor = 2 / (1 + math.Exp(h.lnGamma))
	h.octave = nil
	if h.perOctave == defaultOctave.perOctave {
		h.octave = defaultOctave
	}
	h.minIdx = h.index(MinTrackedValue)
	h.maxIdx = h.index(MaxTrackedValue)
}

// bucketsPerOctave returns B, the fewest buckets per power of two that keep
// relative accuracy a. γ = (1+a)/(1-a) = 1 + 2a/(1-a); Log1p keeps ln γ
// accurate for small a.
func bucketsPerOctave(a float64) int {
	return int(math.Ceil(math.Ln2 / math.Log1p(2*a/(1-a))))
}

// index returns the bucket of a normal float64 x > 0: its binary exponent
// times B plus ⌈B·log2 m⌉ for its mantissa m in [1, 2).
func (h *Histogram) index(x float64) int {
	bits := math.Float64bits(x)
	exp := int(bits>>52&0x7ff) - 1023
	if t := h.octave; t != nil {
		if j := t.cells[bits>>(52-octaveBits)&(1<<octaveBits-1)]; j >= 0 {
			return exp*h.perOctave + int(j)
		}
	}
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52)
	return exp*h.perOctave + withinOctave(h.perOctave, m)
}

// withinOctave is ⌈B·log2 m⌉ for m in [1, 2): the bucket within an octave.
func withinOctave(perOctave int, m float64) int {
	return int(math.Ceil(float64(perOctave) * math.Log2(m)))
}

// octaveBits is how many leading mantissa bits index an octaveTable.
const octaveBits = 12

// octaveTable gives, for each cell of mantissas sharing their top
// octaveBits bits, the bucket within the octave that every mantissa of the
// cell falls in, or -1 where the cell straddles a bucket boundary and the
// logarithm must be computed.
type octaveTable struct {
	perOctave int
	cells     [1 << octaveBits]int16
}

func newOctaveTable(perOctave int) *octaveTable {
	t := &octaveTable{perOctave: perOctave}
	for c := range t.cells {
		lo := 1 + float64(c)/(1<<octaveBits)
		hi := 1 + float64(c+1)/(1<<octaveBits)
		jl, jh := float64(perOctave)*math.Log2(lo), float64(perOctave)*math.Log2(hi)
		// Uniform when the whole cell [lo, hi) maps to one ⌈·⌉: lo itself
		// must not sit exactly on a boundary (it would belong below).
		if jl != math.Floor(jl) && math.Ceil(jl) == math.Ceil(jh) {
			t.cells[c] = int16(math.Ceil(jl))
		} else {
			t.cells[c] = -1
		}
	}
	return t
}

// defaultOctave serves every histogram at DefaultRelAccuracy. It is built
// once and never written again.
var defaultOctave = newOctaveTable(bucketsPerOctave(DefaultRelAccuracy))

// bucketValue returns the representative value of bucket i.
func (h *Histogram) bucketValue(i int) float64 {
	return math.Exp(float64(i)*h.lnGamma) * h.repFactor
}

// RelAccuracy returns the relative accuracy a of the quantiles.
func (h *Histogram) RelAccuracy() float64 {
	if h.relAcc == 0 {
		return DefaultRelAccuracy
	}
	return h.relAcc
}

// Record adds the value x, which must be finite and non-negative.
func (h *Histogram) Record(x float64) {
	if !(x >= 0 && x <= math.MaxFloat64) {
		panicBadValue(x)
	}
	if h.count == 0 {
		h.min, h.max = x, x
	} else {
		if x < h.min {
			h.min = x
		}
		if x > h.max {
			h.max = x
		}
	}
	h.count++
	h.sum += x
	if x == 0 {
		h.zero++
		return
	}
	if h.lnGamma == 0 {
		h.setAccuracy(DefaultRelAccuracy)
	}
	var i int
	switch {
	case x < MinTrackedValue:
		i = h.minIdx
		h.underflow++
	case x > MaxTrackedValue:
		i = h.maxIdx
		h.overflow++
	default:
		i = h.index(x)
	}
	j := i - h.offset
	if uint(j) >= uint(len(h.counts)) {
		h.grow(i)
		j = i - h.offset
	}
	h.counts[j]++
}

//go:noinline
func panicBadValue(x float64) {
	panic(fmt.Sprintf("stats: Histogram.Record(%v): values must be finite and non-negative", x))
}

// minWindow is the smallest bucket window allocated, about a factor of 1.9
// in value at the default accuracy.
const minWindow = 64

// grow widens the bucket window to include bucket i, at least doubling it so
// that growth is amortised, and never beyond [minIdx, maxIdx].
func (h *Histogram) grow(i int) {
	var lo, hi int // new window [lo, hi)
	if len(h.counts) == 0 {
		lo, hi = i-minWindow/2, i+minWindow/2
	} else {
		lo, hi = h.offset, h.offset+len(h.counts)
		extra := max(len(h.counts), minWindow)
		if i < lo {
			lo = min(i, lo-extra)
		} else {
			hi = max(i+1, hi+extra)
		}
	}
	lo = max(lo, h.minIdx)
	hi = min(hi, h.maxIdx+1)
	counts := make([]int64, hi-lo)
	if len(h.counts) > 0 {
		copy(counts[h.offset-lo:], h.counts)
	}
	h.counts, h.offset = counts, lo
}

// Count returns the number of values recorded, including zeros.
func (h *Histogram) Count() int64 { return h.count }

// Sum returns the sum of the values recorded.
func (h *Histogram) Sum() float64 { return h.sum }

// Mean returns the mean of the values recorded, or NaN when empty.
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return math.NaN()
	}
	return h.sum / float64(h.count)
}

// Min returns the smallest value recorded, or NaN when empty.
func (h *Histogram) Min() float64 {
	if h.count == 0 {
		return math.NaN()
	}
	return h.min
}

// Max returns the largest value recorded, or NaN when empty.
func (h *Histogram) Max() float64 {
	if h.count == 0 {
		return math.NaN()
	}
	return h.max
}

// ZeroCount returns the number of zeros recorded.
func (h *Histogram) ZeroCount() int64 { return h.zero }

// Underflow returns the number of positive values below MinTrackedValue,
// which were counted in the lowest bucket.
func (h *Histogram) Underflow() int64 { return h.underflow }

// Overflow returns the number of values above MaxTrackedValue, which were
// counted in the highest bucket.
func (h *Histogram) Overflow() int64 { return h.overflow }

// Quantile returns the q-quantile of the recorded values (see the type
// documentation for the rank convention and the error bound). It returns NaN
// when the histogram is empty or q is not in [0, 1].
func (h *Histogram) Quantile(q float64) float64 {
	if h.count == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	switch q {
	case 0:
		return h.min
	case 1:
		return h.max
	}
	rank := q * float64(h.count) // same arithmetic as gonum's stat.Empirical
	cum := h.zero
	if cum > 0 && float64(cum) >= rank {
		return 0
	}
	for j, c := range h.counts {
		if c == 0 {
			continue
		}
		cum += c
		if float64(cum) >= rank {
			v := h.bucketValue(h.offset + j)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max // unreachable: cum reaches count >= rank
}

// P50 returns Quantile(0.50), the median.
func (h *Histogram) P50() float64 { return h.Quantile(0.50) }

// P95 returns Quantile(0.95).
func (h *Histogram) P95() float64 { return h.Quantile(0.95) }

// P99 returns Quantile(0.99).
func (h *Histogram) P99() float64 { return h.Quantile(0.99) }

// P999 returns Quantile(0.999).
func (h *Histogram) P999() float64 { return h.Quantile(0.999) }

// Merge adds the values recorded in other to h, as if they had been recorded
// into h. The two must have the same relative accuracy; otherwise Merge
// returns an error wrapping ErrAccuracyMismatch and leaves h unchanged.
// other is not modified.
func (h *Histogram) Merge(other *Histogram) error {
	if a, b := h.RelAccuracy(), other.RelAccuracy(); a != b {
		return fmt.Errorf("%w: %v and %v", ErrAccuracyMismatch, a, b)
	}
	if other.count == 0 {
		return nil
	}
	if h.lnGamma == 0 {
		h.setAccuracy(DefaultRelAccuracy)
	}
	// Widen h to other's occupied buckets before adding.
	first, last := -1, -1
	for j, c := range other.counts {
		if c != 0 {
			if first < 0 {
				first = j
			}
			last = j
		}
	}
	if first >= 0 {
		for _, i := range [2]int{other.offset + first, other.offset + last} {
			if uint(i-h.offset) >= uint(len(h.counts)) {
				h.grow(i)
			}
		}
		for j := first; j <= last; j++ {
			h.counts[other.offset+j-h.offset] += other.counts[j]
		}
	}
	if h.count == 0 {
		h.min, h.max = other.min, other.max
	} else {
		h.min = min(h.min, other.min)
		h.max = max(h.max, other.max)
	}
	h.count += other.count
	h.zero += other.zero
	h.underflow += other.underflow
	h.overflow += other.overflow
	h.sum += other.sum
	return nil
}

// Reset forgets all values (warm-up deletion). The relative accuracy and the
// bucket storage are kept, so recording again does not allocate.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.count, h.zero, h.underflow, h.overflow = 0, 0, 0, 0
	h.sum, h.min, h.max = 0, 0, 0
}
