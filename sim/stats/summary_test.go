package stats

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSummarizeHand(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	s := Summarize(xs, 0.95)
	// Mean 5.5; squared deviations sum to 82.5, so s² = 82.5/9.
	sd := math.Sqrt(82.5 / 9)
	if s.N != 10 || s.Mean != 5.5 || !relClose(s.StdDev, sd, 1e-14) || s.Confidence != 0.95 {
		t.Fatalf("N, Mean, StdDev, Confidence = %d, %v, %v, %v, want 10, 5.5, %v, 0.95", s.N, s.Mean, s.StdDev, s.Confidence, sd)
	}
	// t(0.975; 9) = 2.262 in every table.
	tq := s.HalfWidth * math.Sqrt(10) / sd
	if math.Abs(tq-2.262) > 5e-4 {
		t.Errorf("implied t quantile %v, want 2.262", tq)
	}
	if want := 2.2621571628 * sd / math.Sqrt(10); !relClose(s.HalfWidth, want, 1e-9) {
		t.Errorf("HalfWidth = %v, want %v", s.HalfWidth, want)
	}
	if s.Lo != s.Mean-s.HalfWidth || s.Hi != s.Mean+s.HalfWidth {
		t.Errorf("Lo, Hi = %v, %v, want Mean ∓ HalfWidth", s.Lo, s.Hi)
	}
	if !relClose(s.RelHalfWidth(), s.HalfWidth/5.5, 1e-15) {
		t.Errorf("RelHalfWidth = %v", s.RelHalfWidth())
	}
	if !s.Contains(5.5) || !s.Contains(s.Lo) || !s.Contains(s.Hi) || s.Contains(s.Hi+1e-9) || s.Contains(3.3) {
		t.Errorf("Contains wrong for [%v, %v]", s.Lo, s.Hi)
	}
	if str := s.String(); !strings.Contains(str, "5.5 ±") || !strings.Contains(str, "95% CI, n=10") {
		t.Errorf("String() = %q", str)
	}
}

func TestSummarizeTQuantiles(t *testing.T) {
	// HalfWidth·sqrt(n)/StdDev recovers t; expected values from standard
	// tables.
	for _, c := range []struct {
		n          int
		confidence float64
		t          float64
	}{{2, 0.95, 12.706}, {5, 0.90, 2.132}, {10, 0.99, 3.250}, {30, 0.95, 2.045}} {
		xs := make([]float64, c.n)
		for i := range xs {
			xs[i] = float64(i)
		}
		s := Summarize(xs, c.confidence)
		if got := s.HalfWidth * math.Sqrt(float64(c.n)) / s.StdDev; math.Abs(got-c.t) > 5e-4 {
			t.Errorf("n=%d, %v: t = %v, want %v", c.n, c.confidence, got, c.t)
		}
	}
}

func TestSummarizeFewSamples(t *testing.T) {
	one := Summarize([]float64{4}, 0.95)
	if one.N != 1 || one.Mean != 4 || !math.IsNaN(one.StdDev) || !math.IsInf(one.HalfWidth, 1) ||
		!math.IsInf(one.Lo, -1) || !math.IsInf(one.Hi, 1) || !math.IsInf(one.RelHalfWidth(), 1) || !one.Contains(1e300) {
		t.Errorf("n=1: %+v", one)
	}
	none := Summarize(nil, 0.95)
	if none.N != 0 || !math.IsNaN(none.Mean) || !math.IsInf(none.HalfWidth, 1) || !math.IsInf(none.RelHalfWidth(), 1) {
		t.Errorf("n=0: %+v", none)
	}
	same := Summarize([]float64{3, 3, 3}, 0.95)
	if same.HalfWidth != 0 || same.RelHalfWidth() != 0 || !same.Contains(3) || same.Contains(3.0000001) {
		t.Errorf("constant samples: %+v", same)
	}
	zero := Summarize([]float64{-1, 1}, 0.95)
	if !math.IsInf(zero.RelHalfWidth(), 1) {
		t.Errorf("mean 0: RelHalfWidth = %v, want +Inf", zero.RelHalfWidth())
	}
	for _, c := range []float64{0, 1, -0.5, 95, math.NaN()} {
		if msg := panicMessage(func() { Summarize([]float64{1, 2}, c) }); !strings.Contains(msg, "confidence") {
			t.Errorf("confidence %v: panic %q, want a rejection", c, msg)
		}
	}
}

// TestSummarizeCoverage checks that the 95 % interval from n=10 normal
// samples covers the true mean about 95 % of the time.
func TestSummarizeCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const trials, n, mu, sigma = 2000, 10, 42.0, 7.0
	xs := make([]float64, n)
	covered := 0
	for range trials {
		for i := range xs {
			xs[i] = mu + sigma*rng.NormFloat64()
		}
		if Summarize(xs, 0.95).Contains(mu) {
			covered++
		}
	}
	rate := float64(covered) / trials
	t.Logf("coverage %.4f", rate)
	if rate < 0.935 || rate > 0.965 {
		t.Fatalf("coverage %.4f, want 0.95 ± 0.015", rate)
	}
	// A z interval (1.96 instead of 2.262) would cover visibly less; make
	// sure the test can tell the two apart.
	rng = rand.New(rand.NewPCG(1, 2))
	zCovered := 0
	for range trials {
		for i := range xs {
			xs[i] = mu + sigma*rng.NormFloat64()
		}
		s := Summarize(xs, 0.95)
		if math.Abs(s.Mean-mu) <= 1.96*s.StdDev/math.Sqrt(n) {
			zCovered++
		}
	}
	z := float64(zCovered) / trials
	t.Logf("z interval coverage %.4f", z)
	if z >= 0.935 {
		t.Fatalf("z interval coverage %.4f is inside the band: the coverage test cannot tell t from z", z)
	}
}
