package stats

import "math"

// Counter counts events: arrivals, completions, drops, retries. The zero
// value is a counter at zero, ready to use.
type Counter struct {
	n int64
}

// Add adds n to the count. n may be negative; Counter does not check.
func (c *Counter) Add(n int64) { c.n += n }

// Inc adds one to the count.
func (c *Counter) Inc() { c.n++ }

// Count returns the current count.
func (c *Counter) Count() int64 { return c.n }

// Reset sets the count to zero (warm-up deletion).
func (c *Counter) Reset() { c.n = 0 }

// Tally accumulates observations that are not weighted by time, one per
// entity: the waiting time of each customer, the size of each batch. It keeps
// the count, sum, minimum, maximum and the sums of the observations and of
// their squares shifted by the first observation, so that the sample
// variance is numerically stable even when the mean is large compared with
// the spread (the shifted-data algorithm; Chan, Golub and LeVeque, 1983).
// Unlike Welford's method it needs no division per observation, which
// matters when a model records every customer. Memory is constant; Record
// does not allocate.
//
// Tally accepts any float64; a NaN observation makes Mean, Var and Sum NaN.
// The zero value is an empty tally, ready to use.
type Tally struct {
	n        int64
	shift    float64 // the first observation
	s1, s2   float64 // Σ(x − shift) and Σ(x − shift)²
	sum      float64
	min, max float64
}

// Record adds one observation.
func (t *Tally) Record(x float64) {
	t.n++
	if t.n == 1 {
		t.min, t.max, t.shift = x, x, x
	} else {
		if x < t.min {
			t.min = x
		}
		if x > t.max {
			t.max = x
		}
	}
	t.sum += x
	d := x - t.shift
	t.s1 += d
	t.s2 += d * d
}

// N returns the number of observations.
func (t *Tally) N() int64 { return t.n }

// Sum returns the sum of the observations (0 when empty).
func (t *Tally) Sum() float64 { return t.sum }

// Mean returns the sample mean, or NaN when the tally is empty.
func (t *Tally) Mean() float64 {
	if t.n == 0 {
		return math.NaN()
	}
	return t.shift + t.s1/float64(t.n)
}

// Var returns the sample variance (denominator n-1), or NaN with fewer than
// two observations.
func (t *Tally) Var() float64 {
	if t.n < 2 {
		return math.NaN()
	}
	n := float64(t.n)
	return max(0, t.s2-t.s1*t.s1/n) / (n - 1)
}

// StdDev returns the sample standard deviation, sqrt(Var()).
func (t *Tally) StdDev() float64 { return math.Sqrt(t.Var()) }

// Min returns the smallest observation, or NaN when the tally is empty.
func (t *Tally) Min() float64 {
	if t.n == 0 {
		return math.NaN()
	}
	return t.min
}

// Max returns the largest observation, or NaN when the tally is empty.
func (t *Tally) Max() float64 {
	if t.n == 0 {
		return math.NaN()
	}
	return t.max
}

// Reset forgets all observations (warm-up deletion).
func (t *Tally) Reset() { *t = Tally{} }

// Merge adds the observations of other to t, as if they had been recorded
// into t: other's shifted sums are moved to t's shift exactly. other is not
// modified; t.Merge(t) doubles every observation.
func (t *Tally) Merge(other *Tally) {
	if other.n == 0 {
		return
	}
	if t.n == 0 {
		*t = *other
		return
	}
	// Σ(x − K) = Σ(x − K') + n'δ and Σ(x − K)² = Σ(x − K')² + 2δΣ(x − K') + n'δ²,
	// with δ = K' − K.
	d := other.shift - t.shift
	nb := float64(other.n)
	o1, o2 := other.s1, other.s2
	t.s2 += o2 + 2*d*o1 + nb*d*d
	t.s1 += o1 + nb*d
	t.sum += other.sum
	t.min = math.Min(t.min, other.min)
	t.max = math.Max(t.max, other.max)
	t.n += other.n
}
