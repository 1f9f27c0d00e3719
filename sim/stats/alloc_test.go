package stats

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The recording hot path must not allocate in steady state.

func TestAllocsCounterTally(t *testing.T) {
	var c Counter
	var tl Tally
	x := 0.0
	if n := testing.AllocsPerRun(1000, func() { c.Inc(); c.Add(3) }); n != 0 {
		t.Errorf("Counter.Add/Inc: %v allocs per run", n)
	}
	if n := testing.AllocsPerRun(1000, func() { x += 1.5; tl.Record(x) }); n != 0 {
		t.Errorf("Tally.Record: %v allocs per run", n)
	}
}

func TestAllocsTimeWeighted(t *testing.T) {
	w := NewTimeWeighted(0, 0)
	now := time.Duration(0)
	if n := testing.AllocsPerRun(1000, func() {
		now += time.Millisecond
		w.Set(now, float64(now%7))
		w.Add(now, 1)
	}); n != 0 {
		t.Errorf("TimeWeighted.Set/Add: %v allocs per run", n)
	}
}

func TestAllocsHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = math.Exp(rng.NormFloat64()*2) * 1e-3 // lognormal latencies around 1 ms
	}
	xs[0] = 0
	h := NewHistogram(DefaultRelAccuracy)
	for _, x := range xs { // warm up: the bucket window covers the data
		h.Record(x)
	}
	i := 0
	if n := testing.AllocsPerRun(10000, func() {
		h.Record(xs[i%len(xs)])
		i++
	}); n != 0 {
		t.Errorf("Histogram.Record: %v allocs per run", n)
	}
	// After Reset the storage is reused.
	h.Reset()
	i = 0
	if n := testing.AllocsPerRun(10000, func() {
		h.Record(xs[i%len(xs)])
		i++
	}); n != 0 {
		t.Errorf("Histogram.Record after Reset: %v allocs per run", n)
	}
}

func TestAllocsSeries(t *testing.T) {
	for _, agg := range []Aggregation{Sum, Mean, Max, Last} {
		s := NewSeries(time.Second, agg)
		const runs = 3000
		s.Grow(runs/3 + 2)
		now := time.Duration(0)
		// Three records per interval: both within-interval updates and
		// moves into the next interval.
		if n := testing.AllocsPerRun(runs, func() {
			now += time.Second / 3
			s.Record(now, 1)
		}); n != 0 {
			t.Errorf("Series(%v).Record: %v allocs per run", agg, n)
		}
	}
	w := NewTimeWeightedSeries(time.Second, 0)
	const runs = 3000
	w.Grow(runs/3 + 2)
	now := time.Duration(0)
	if n := testing.AllocsPerRun(runs, func() {
		now += time.Second / 3
		w.Add(now, 1)
	}); n != 0 {
		t.Errorf("TimeWeightedSeries.Set/Add: %v allocs per run", n)
	}
}

// TestHistogramGrowthAmortised sweeps bucket by bucket from 1 to one end
// of the tracked range, so that every Record needs a bucket just outside the
// window: the window must grow geometrically, not bucket by bucket, and
// never beyond the tracked range. A second sweep after Reset must not
// allocate at all.
func TestHistogramGrowthAmortised(t *testing.T) {
	gamma := (1 + DefaultRelAccuracy) / (1 - DefaultRelAccuracy)
	for _, step := range []float64{1 / gamma, gamma} {
		h := NewHistogram(DefaultRelAccuracy)
		sweep := func(onRecord func()) {
			for x := 1.0; x >= MinTrackedValue && x <= MaxTrackedValue; x *= step {
				h.Record(x)
				onRecord()
			}
		}
		grows, prevCap := 0, 0
		sweep(func() {
			if c := cap(h.counts); c != prevCap {
				grows++
				prevCap = c
			}
		})
		if grows > 8 {
			t.Errorf("step %v: sweeping %d buckets reallocated the window %d times, want at most 8", step, len(h.counts), grows)
		}
		if limit := h.maxIdx - h.minIdx + 1; len(h.counts) > limit {
			t.Errorf("step %v: window of %d buckets exceeds the tracked range of %d", step, len(h.counts), limit)
		}
		if n := testing.AllocsPerRun(3, func() { h.Reset(); sweep(func() {}) }); n != 0 {
			t.Errorf("step %v: sweep after Reset allocated %v times, want 0", step, n)
		}
	}
}
