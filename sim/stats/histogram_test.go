package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// quantileGrid is the set of q checked against the exact quantiles: a fine
// grid plus the extreme tails.
func quantileGrid() []float64 {
	qs := []float64{0, 1e-5, 1e-4, 0.001, 0.005, 0.995, 0.999, 0.9995, 0.9999, 0.99999, 1}
	for i := range 1001 {
		qs = append(qs, float64(i)/1000)
	}
	return qs
}

// testData returns named samples from several distributions, all inside
// [MinTrackedValue, MaxTrackedValue] or zero.
func testData() map[string][]float64 { return testDataOnce() }

var testDataOnce = sync.OnceValue(func() map[string][]float64 {
	const n = 200_000
	src := rand.New(rand.NewPCG(1, 2))
	gen := func(f func() float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = f()
		}
		return xs
	}
	gamma := (1 + DefaultRelAccuracy) / (1 - DefaultRelAccuracy)
	return map[string][]float64{
		"exponential": gen(distuv.Exponential{Rate: 20, Src: src}.Rand),
		// σ = 3: the middle 99.99 % spans e^±11.8, ten decades.
		"lognormal": gen(distuv.LogNormal{Mu: math.Log(0.05), Sigma: 3, Src: src}.Rand),
		"uniform":   gen(distuv.Uniform{Min: 0, Max: 1, Src: src}.Rand),
		"pareto":    gen(distuv.Pareto{Xm: 1e-3, Alpha: 1.1, Src: src}.Rand),
		"point":     gen(func() float64 { return 0.137 }),
		// log-uniform over the whole tracked range, grows the window both ways
		"loguniform": gen(func() float64 { return math.Exp(math.Log(1e-9) + src.Float64()*math.Log(1e18)) }),
		// exact powers of γ sit on bucket boundaries
		"boundaries": gen(func() float64 { return math.Pow(gamma, float64(src.IntN(4000)-2000)) }),
		// a quarter zeros, the rest exponential
		"zeros": gen(func() float64 {
			if src.IntN(4) == 0 {
				return 0
			}
			return src.ExpFloat64()
		}),
	}
})

// exactQuantile returns the q-quantile of sorted under the inverse-ECDF
// convention of stat.Empirical: sorted[k] for the smallest k with k+1 >= q·n.
func exactQuantile(q float64, sorted []float64) float64 {
	k := max(int(math.Ceil(q*float64(len(sorted))))-1, 0)
	return sorted[k]
}

// checkQuantiles compares h against the exact empirical quantiles of sorted.
func checkQuantiles(t *testing.T, name string, h *Histogram, sorted []float64) {
	t.Helper()
	a := h.RelAccuracy()
	worst := 0.0
	for i, q := range quantileGrid() {
		want := exactQuantile(q, sorted)
		if i%50 == 0 {
			// exactQuantile is gonum's stat.Empirical, without its linear scan.
			if g := stat.Quantile(q, stat.Empirical, sorted, nil); g != want {
				t.Fatalf("exactQuantile(%v) = %v, stat.Quantile = %v", q, want, g)
			}
		}
		got := h.Quantile(q)
		if want == 0 {
			if got != 0 {
				t.Errorf("%s: Quantile(%v) = %v, want exactly 0", name, q, got)
			}
			continue
		}
		rel := math.Abs(got-want) / want
		worst = max(worst, rel)
		if rel > a+1e-9 {
			t.Errorf("%s: Quantile(%v) = %v, exact %v, relative error %.3g > %v", name, q, got, want, rel, a)
		}
	}
	t.Logf("%s (a=%v): worst relative error %.12f", name, a, worst)
}

func TestHistogramQuantileAccuracy(t *testing.T) {
	for name, xs := range testData() {
		for _, a := range []float64{DefaultRelAccuracy, 0.02, 0.001} {
			h := NewHistogram(a)
			for _, x := range xs {
				h.Record(x)
			}
			sorted := slices.Clone(xs)
			slices.Sort(sorted)
			checkQuantiles(t, name, h, sorted)

			if h.Count() != int64(len(xs)) || h.Min() != sorted[0] || h.Max() != sorted[len(sorted)-1] {
				t.Errorf("%s: Count, Min, Max = %d, %v, %v, want %d, %v, %v",
					name, h.Count(), h.Min(), h.Max(), len(xs), sorted[0], sorted[len(sorted)-1])
			}
			if sum := stat.Mean(xs, nil) * float64(len(xs)); !relClose(h.Sum(), sum, 1e-9) || !relClose(h.Mean(), sum/float64(len(xs)), 1e-9) {
				t.Errorf("%s: Sum, Mean = %v, %v, want %v, %v", name, h.Sum(), h.Mean(), sum, sum/float64(len(xs)))
			}
			if h.Underflow() != 0 || h.Overflow() != 0 {
				t.Errorf("%s: Underflow, Overflow = %d, %d, want 0, 0", name, h.Underflow(), h.Overflow())
			}
			if name == "point" && (h.P50() != 0.137 || h.P999() != 0.137) {
				t.Errorf("point mass: P50, P999 = %v, %v, want exactly 0.137 (clamped to Min/Max)", h.P50(), h.P999())
			}
		}
	}
}

func TestHistogramZeroValueIsDefault(t *testing.T) {
	var h Histogram
	if h.RelAccuracy() != DefaultRelAccuracy {
		t.Fatalf("zero value RelAccuracy() = %v", h.RelAccuracy())
	}
	xs := testData()["lognormal"]
	for _, x := range xs {
		h.Record(x)
	}
	ref := NewHistogram(DefaultRelAccuracy)
	for _, x := range xs {
		ref.Record(x)
	}
	for _, q := range quantileGrid() {
		if h.Quantile(q) != ref.Quantile(q) {
			t.Fatalf("zero value and NewHistogram(DefaultRelAccuracy) differ at q=%v", q)
		}
	}
}

func TestHistogramConvenience(t *testing.T) {
	h := NewHistogram(DefaultRelAccuracy)
	for i := 1; i <= 1000; i++ {
		h.Record(float64(i))
	}
	// Inverse ECDF: the q-quantile of 1..1000 is ⌈1000q⌉.
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"P50", h.P50(), 500}, {"P95", h.P95(), 950}, {"P99", h.P99(), 990}, {"P999", h.P999(), 999}} {
		if math.Abs(c.got-c.want) > DefaultRelAccuracy*c.want {
			t.Errorf("%s = %v, want %v ± 0.5 %%", c.name, c.got, c.want)
		}
	}
	if h.Quantile(0) != 1 || h.Quantile(1) != 1000 {
		t.Errorf("Quantile(0), Quantile(1) = %v, %v, want exactly Min and Max, 1 and 1000", h.Quantile(0), h.Quantile(1))
	}
	for _, q := range []float64{-0.1, 1.1, math.NaN()} {
		if !math.IsNaN(h.Quantile(q)) {
			t.Errorf("Quantile(%v) = %v, want NaN", q, h.Quantile(q))
		}
	}
}

func TestHistogramEmpty(t *testing.T) {
	h := NewHistogram(0.01)
	for name, v := range map[string]float64{"Quantile": h.Quantile(0.5), "Mean": h.Mean(), "Min": h.Min(), "Max": h.Max()} {
		if !math.IsNaN(v) {
			t.Errorf("empty: %s = %v, want NaN", name, v)
		}
	}
	if h.Count() != 0 || h.Sum() != 0 {
		t.Errorf("empty: Count, Sum = %d, %v", h.Count(), h.Sum())
	}
}

func TestHistogramZeros(t *testing.T) {
	h := NewHistogram(DefaultRelAccuracy)
	for range 300 {
		h.Record(0)
	}
	for i := range 700 {
		h.Record(1 + float64(i))
	}
	if h.ZeroCount() != 300 || h.Count() != 1000 || h.Min() != 0 {
		t.Fatalf("ZeroCount, Count, Min = %d, %d, %v, want 300, 1000, 0", h.ZeroCount(), h.Count(), h.Min())
	}
	if h.Quantile(0) != 0 || h.Quantile(0.3) != 0 {
		t.Errorf("Quantile(0), Quantile(0.3) = %v, %v, want exactly 0", h.Quantile(0), h.Quantile(0.3))
	}
	if got := h.Quantile(0.3005); math.Abs(got-1) > DefaultRelAccuracy {
		t.Errorf("Quantile(0.3005) = %v, want the first positive value, 1 ± 0.5 %%", got)
	}

	only := NewHistogram(DefaultRelAccuracy)
	only.Record(0)
	if only.P99() != 0 || only.Max() != 0 || only.Mean() != 0 {
		t.Errorf("only zeros: P99, Max, Mean = %v, %v, %v", only.P99(), only.Max(), only.Mean())
	}
}

func TestHistogramRejects(t *testing.T) {
	for _, x := range []float64{-1, -1e-300, math.NaN(), math.Inf(1), math.Inf(-1)} {
		h := NewHistogram(DefaultRelAccuracy)
		msg := panicMessage(func() { h.Record(x) })
		if !strings.Contains(msg, "non-negative") {
			t.Errorf("Record(%v): panic %q, want a rejection", x, msg)
		}
		if h.Count() != 0 {
			t.Errorf("Record(%v) was counted", x)
		}
	}
	for _, a := range []float64{0, -0.01, 1, 2, math.NaN()} {
		if msg := panicMessage(func() { NewHistogram(a) }); !strings.Contains(msg, "accuracy") {
			t.Errorf("NewHistogram(%v): panic %q, want a rejection", a, msg)
		}
	}
}

func TestHistogramClamping(t *testing.T) {
	h := NewHistogram(DefaultRelAccuracy)
	for _, x := range []float64{1e-12, 5e-10, 1e-9, 1, 1e9, 2e9, 1e15} {
		h.Record(x)
	}
	if h.Underflow() != 2 || h.Overflow() != 2 || h.Count() != 7 {
		t.Fatalf("Underflow, Overflow, Count = %d, %d, %d, want 2, 2, 7", h.Underflow(), h.Overflow(), h.Count())
	}
	if h.Min() != 1e-12 || h.Max() != 1e15 || h.Sum() != 1e-12+5e-10+1e-9+1+1e9+2e9+1e15 {
		t.Errorf("Min, Max, Sum = %v, %v, %v: want exact", h.Min(), h.Max(), h.Sum())
	}
	// The three values at or below 1e-9 share the lowest bucket, the three
	// at or above 1e9 the highest; their quantiles read as the end buckets.
	if got := h.Quantile(2.0 / 7); math.Abs(got-MinTrackedValue) > DefaultRelAccuracy*MinTrackedValue {
		t.Errorf("Quantile in the underflow bucket = %v, want about %v", got, MinTrackedValue)
	}
	if got := h.Quantile(6.0 / 7); math.Abs(got-MaxTrackedValue) > DefaultRelAccuracy*MaxTrackedValue {
		t.Errorf("Quantile(6/7) = %v, want about %v: 2e9 was clamped into the top bucket", got, MaxTrackedValue)
	}
	if got := h.Quantile(1); got != 1e15 {
		t.Errorf("Quantile(1) = %v, want Max, 1e15, exactly", got)
	}
	if got := h.Quantile(4.0 / 7); math.Abs(got-1) > DefaultRelAccuracy {
		t.Errorf("Quantile(4/7) = %v, want 1 ± 0.5 %%", got)
	}
	// Memory is bounded by the tracked range: B buckets per power of two
	// over log2(1e18) ≈ 59.8 octaves, about 20.7/a buckets.
	if n, limit := len(h.counts), int(math.Log2(1e18)*float64(bucketsPerOctave(DefaultRelAccuracy)))+2; n > limit {
		t.Errorf("bucket window has %d buckets, want at most %d", n, limit)
	}
	if n := len(h.counts); n > 4200 {
		t.Errorf("bucket window has %d buckets; expected about 4,190 at 0.5 %%", n)
	}
}

func TestHistogramMerge(t *testing.T) {
	xs := testData()["zeros"]
	xs = append(xs, testData()["loguniform"][:1000]...)
	xs = append(xs, 1e-12, 1e12)
	whole := NewHistogram(DefaultRelAccuracy)
	parts := []*Histogram{NewHistogram(DefaultRelAccuracy), NewHistogram(DefaultRelAccuracy), NewHistogram(DefaultRelAccuracy)}
	for i, x := range xs {
		whole.Record(x)
		// Part 0 gets small values, part 1 large, part 2 the rest, so that
		// merging must widen the window on both sides.
		switch {
		case x < 1e-3:
			parts[0].Record(x)
		case x > 10:
			parts[1].Record(x)
		default:
			parts[i%3].Record(x)
		}
	}
	var merged Histogram // zero value, default accuracy
	for _, p := range parts {
		if err := merged.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := merged.Merge(NewHistogram(DefaultRelAccuracy)); err != nil {
		t.Fatal(err)
	}
	sameHistogram(t, &merged, whole)

	// Merging into a histogram that already holds data.
	m2 := NewHistogram(DefaultRelAccuracy)
	for _, x := range xs {
		if x >= 1 {
			m2.Record(x)
		}
	}
	rest := NewHistogram(DefaultRelAccuracy)
	for _, x := range xs {
		if x < 1 {
			rest.Record(x)
		}
	}
	if err := m2.Merge(rest); err != nil {
		t.Fatal(err)
	}
	sameHistogram(t, m2, whole)

	// Self-merge doubles every count: quantiles are unchanged.
	d := NewHistogram(DefaultRelAccuracy)
	d2 := NewHistogram(DefaultRelAccuracy)
	for _, x := range xs {
		d.Record(x)
		d2.Record(x)
		d2.Record(x)
	}
	if err := d.Merge(d); err != nil {
		t.Fatal(err)
	}
	sameHistogram(t, d, d2)
}

func TestHistogramMergeMismatch(t *testing.T) {
	h := NewHistogram(0.01)
	h.Record(3)
	other := NewHistogram(0.02)
	other.Record(5)
	err := h.Merge(other)
	if !errors.Is(err, ErrAccuracyMismatch) {
		t.Fatalf("Merge of 1 %% into 2 %%: err = %v, want ErrAccuracyMismatch", err)
	}
	if h.Count() != 1 || h.Max() != 3 {
		t.Errorf("failed Merge changed h: Count=%d Max=%v", h.Count(), h.Max())
	}
	var zero Histogram
	if err := zero.Merge(h); !errors.Is(err, ErrAccuracyMismatch) {
		t.Errorf("Merge of 1 %% into a zero value (0.5 %%): err = %v, want ErrAccuracyMismatch", err)
	}
	if err := h.Merge(NewHistogram(0.02)); !errors.Is(err, ErrAccuracyMismatch) {
		t.Errorf("Merge of an empty histogram of another accuracy: err = %v, want ErrAccuracyMismatch", err)
	}
}

func TestHistogramReset(t *testing.T) {
	h := NewHistogram(DefaultRelAccuracy)
	for _, x := range testData()["lognormal"][:5000] {
		h.Record(x)
	}
	h.Record(0)
	h.Record(1e12)
	h.Reset()
	if h.Count() != 0 || h.Sum() != 0 || h.ZeroCount() != 0 || h.Overflow() != 0 || !math.IsNaN(h.P50()) || !math.IsNaN(h.Min()) {
		t.Fatalf("after Reset: count=%d sum=%v zero=%d over=%d p50=%v min=%v", h.Count(), h.Sum(), h.ZeroCount(), h.Overflow(), h.P50(), h.Min())
	}
	if h.RelAccuracy() != DefaultRelAccuracy {
		t.Errorf("Reset changed the accuracy to %v", h.RelAccuracy())
	}
	fresh := NewHistogram(DefaultRelAccuracy)
	for _, x := range []float64{7, 8, 9} {
		h.Record(x)
		fresh.Record(x)
	}
	sameHistogram(t, h, fresh)
}

// sameHistogram fails unless a and b answer every query identically (Sum up
// to rounding, which depends on the order of addition).
func sameHistogram(t *testing.T, a, b *Histogram) {
	t.Helper()
	if a.Count() != b.Count() || a.ZeroCount() != b.ZeroCount() || a.Underflow() != b.Underflow() ||
		a.Overflow() != b.Overflow() || a.Min() != b.Min() || a.Max() != b.Max() || !relClose(a.Sum(), b.Sum(), 1e-12) {
		t.Fatalf("got count=%d zero=%d under=%d over=%d min=%v max=%v sum=%v, want count=%d zero=%d under=%d over=%d min=%v max=%v sum=%v",
			a.Count(), a.ZeroCount(), a.Underflow(), a.Overflow(), a.Min(), a.Max(), a.Sum(),
			b.Count(), b.ZeroCount(), b.Underflow(), b.Overflow(), b.Min(), b.Max(), b.Sum())
	}
	for _, q := range quantileGrid() {
		if ga, gb := a.Quantile(q), b.Quantile(q); ga != gb {
			t.Fatalf("Quantile(%v) = %v, want %v", q, ga, gb)
		}
	}
}

// TestOctaveTableAgreesWithTheLogarithm checks the fast path against the
// definition: every table cell that claims a bucket must hold it at both of
// its ends and at random points inside, and the index of random values over
// the whole tracked range must equal ⌈B·log2 x⌉ computed directly.
func TestOctaveTableAgreesWithTheLogarithm(t *testing.T) {
	tab := defaultOctave
	b := tab.perOctave
	straddling := 0
	for c, j := range tab.cells {
		if j < 0 {
			straddling++
			continue
		}
		lo := 1 + float64(c)/(1<<octaveBits)
		hi := math.Nextafter(1+float64(c+1)/(1<<octaveBits), 0)
		for _, m := range []float64{lo, hi, (lo + hi) / 2} {
			if got := withinOctave(b, m); got != int(j) {
				t.Fatalf("cell %d says bucket %d, but mantissa %v is in bucket %d", c, j, m, got)
			}
		}
	}
	// Each of the B boundaries in an octave can spoil at most one cell.
	if straddling > b || straddling == 0 {
		t.Fatalf("%d straddling cells for %d boundaries", straddling, b)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	h := NewHistogram(DefaultRelAccuracy)
	slow := &Histogram{}
	slow.setAccuracy(DefaultRelAccuracy)
	slow.octave = nil
	for range 200_000 {
		x := math.Exp(rng.Float64()*41.4 - 20.7) // 1e-9 .. 1e9, log-uniform
		if fast, direct := h.index(x), slow.index(x); fast != direct {
			t.Fatalf("index(%v) = %d from the table, %d from the logarithm", x, fast, direct)
		}
	}
}
