package stats

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func latencies(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = math.Exp(rng.NormFloat64()*2) * 1e-3
	}
	return xs
}

func BenchmarkHistogramRecord(b *testing.B) {
	xs := latencies(1 << 12)
	h := NewHistogram(DefaultRelAccuracy)
	for _, x := range xs {
		h.Record(x)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.Record(xs[i&(len(xs)-1)])
		i++
	}
}

func BenchmarkHistogramQuantile(b *testing.B) {
	h := NewHistogram(DefaultRelAccuracy)
	for _, x := range latencies(1 << 16) {
		h.Record(x)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.P99()
	}
}

func BenchmarkTimeWeightedSet(b *testing.B) {
	w := NewTimeWeighted(0, 0)
	now := time.Duration(0)
	b.ReportAllocs()
	for b.Loop() {
		now += time.Microsecond
		w.Set(now, float64(now&15))
	}
}

func BenchmarkTallyRecord(b *testing.B) {
	var tl Tally
	x := 0.0
	b.ReportAllocs()
	for b.Loop() {
		x += 0.5
		tl.Record(x)
	}
}

func BenchmarkSeriesRecord(b *testing.B) {
	s := NewSeries(time.Second, Mean)
	now := time.Duration(0)
	b.ReportAllocs()
	for b.Loop() {
		now += time.Millisecond
		s.Record(now, 1)
	}
}

func BenchmarkTimeWeightedSeriesSet(b *testing.B) {
	w := NewTimeWeightedSeries(time.Second, 0)
	now := time.Duration(0)
	b.ReportAllocs()
	for b.Loop() {
		now += time.Millisecond
		w.Set(now, float64(now&15))
	}
}
