package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func TestCounter(t *testing.T) {
	var c Counter
	if c.Count() != 0 {
		t.Fatalf("zero Counter: Count() = %d", c.Count())
	}
	c.Inc()
	c.Inc()
	c.Add(40)
	if got := c.Count(); got != 42 {
		t.Fatalf("Count() = %d, want 42", got)
	}
	c.Reset()
	if got := c.Count(); got != 0 {
		t.Fatalf("after Reset, Count() = %d, want 0", got)
	}
}

// TestTallyAgainstGonum checks the streaming Welford statistics against
// gonum's two-pass ones, on data with a large mean and a small spread where
// a naive sum-of-squares variance loses most of its digits.
func TestTallyAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 10000)
	var tl Tally
	for i := range xs {
		xs[i] = 1e9 + rng.NormFloat64()
		tl.Record(xs[i])
	}
	mean, variance := stat.MeanVariance(xs, nil)
	if tl.N() != int64(len(xs)) {
		t.Fatalf("N() = %d, want %d", tl.N(), len(xs))
	}
	if !relClose(tl.Mean(), mean, 1e-14) {
		t.Errorf("Mean() = %v, want %v", tl.Mean(), mean)
	}
	if !relClose(tl.Var(), variance, 1e-6) {
		t.Errorf("Var() = %v, want %v", tl.Var(), variance)
	}
	if !relClose(tl.StdDev(), math.Sqrt(variance), 1e-6) {
		t.Errorf("StdDev() = %v, want %v", tl.StdDev(), math.Sqrt(variance))
	}
	if !relClose(tl.Sum(), stat.Mean(xs, nil)*float64(len(xs)), 1e-12) {
		t.Errorf("Sum() = %v", tl.Sum())
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if tl.Min() != lo || tl.Max() != hi {
		t.Errorf("Min, Max = %v, %v, want %v, %v", tl.Min(), tl.Max(), lo, hi)
	}
}

func TestTallyHand(t *testing.T) {
	var tl Tally
	for _, x := range []float64{2, 4, 4, 4, 5, 5, 7, 9} {
		tl.Record(x)
	}
	// Mean 5, squared deviations sum to 32, sample variance 32/7.
	if tl.Mean() != 5 || !relClose(tl.Var(), 32.0/7, 1e-15) || tl.Sum() != 40 || tl.Min() != 2 || tl.Max() != 9 {
		t.Fatalf("got N=%d mean=%v var=%v sum=%v min=%v max=%v", tl.N(), tl.Mean(), tl.Var(), tl.Sum(), tl.Min(), tl.Max())
	}
}

func TestTallyEmptyAndReset(t *testing.T) {
	var tl Tally
	for name, v := range map[string]float64{"Mean": tl.Mean(), "Var": tl.Var(), "Min": tl.Min(), "Max": tl.Max()} {
		if !math.IsNaN(v) {
			t.Errorf("empty Tally: %s = %v, want NaN", name, v)
		}
	}
	tl.Record(-3)
	if tl.Mean() != -3 || tl.Min() != -3 || tl.Max() != -3 || !math.IsNaN(tl.Var()) {
		t.Errorf("one observation: mean=%v min=%v max=%v var=%v", tl.Mean(), tl.Min(), tl.Max(), tl.Var())
	}
	tl.Record(5)
	tl.Reset()
	if tl.N() != 0 || tl.Sum() != 0 || !math.IsNaN(tl.Mean()) {
		t.Errorf("after Reset: N=%d sum=%v mean=%v", tl.N(), tl.Sum(), tl.Mean())
	}
	tl.Record(7)
	if tl.Min() != 7 || tl.Max() != 7 || tl.Mean() != 7 {
		t.Errorf("after Reset and Record(7): min=%v max=%v mean=%v", tl.Min(), tl.Max(), tl.Mean())
	}
}

func TestTallyMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var all, a, b, empty Tally
	for i := range 3000 {
		x := 100 + 10*rng.NormFloat64()
		if i%3 == 0 {
			x += 50 // the parts have different means
			a.Record(x)
		} else {
			b.Record(x)
		}
		all.Record(x)
	}
	m := a
	m.Merge(&b)
	m.Merge(&empty)
	if m.N() != all.N() || !relClose(m.Mean(), all.Mean(), 1e-13) || !relClose(m.Var(), all.Var(), 1e-11) ||
		m.Min() != all.Min() || m.Max() != all.Max() || !relClose(m.Sum(), all.Sum(), 1e-13) {
		t.Fatalf("merged N=%d mean=%v var=%v min=%v max=%v, want N=%d mean=%v var=%v min=%v max=%v",
			m.N(), m.Mean(), m.Var(), m.Min(), m.Max(), all.N(), all.Mean(), all.Var(), all.Min(), all.Max())
	}
	var z Tally
	z.Merge(&a)
	if z != a {
		t.Fatalf("merging into an empty Tally: got %+v, want %+v", z, a)
	}
	d := a
	d.Merge(&d)
	if d.N() != 2*a.N() || !relClose(d.Mean(), a.Mean(), 1e-14) || !relClose(d.Var(), a.Var()*float64(2*a.N()-2)/float64(2*a.N()-1), 1e-12) {
		t.Fatalf("self-merge: N=%d mean=%v var=%v", d.N(), d.Mean(), d.Var())
	}
}

// relClose reports whether got is within relative tolerance tol of want.
func relClose(got, want, tol float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= tol*math.Abs(want)
}
