package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestSeriesSumBoundaries(t *testing.T) {
	s := NewSeries(sec, Sum)
	for _, at := range []time.Duration{0, sec - 1, sec, 3500 * ms} {
		s.Record(at, 1)
	}
	// [0,1s) holds 0 and 1s-1ns; 1s opens interval 1; interval 2 is empty.
	if got, want := s.Values(), []float64{2, 1, 0, 1}; !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v", got, want)
	}
	s.AdvanceTo(5 * sec) // quiet to the end of the run
	if got, want := s.Values(), []float64{2, 1, 0, 1, 0, 0}; !slices.Equal(got, want) {
		t.Fatalf("after AdvanceTo(5s), Values() = %v, want %v", got, want)
	}
	s.Record(5*sec+ms, 2.5)
	if got, want := s.Values(), []float64{2, 1, 0, 1, 0, 2.5}; !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v", got, want)
	}
	if s.Len() != 6 || s.Interval() != sec || s.Aggregation() != Sum {
		t.Errorf("Len, Interval, Aggregation = %d, %v, %v", s.Len(), s.Interval(), s.Aggregation())
	}
}

func TestSeriesRate(t *testing.T) {
	s := NewSeries(250*ms, Sum)
	for i := range 10 {
		s.Record(time.Duration(i)*100*ms, 1) // 0, 100, ..., 900 ms
	}
	// Intervals [0,250) [250,500) [500,750) [750,1000) hold 3, 2, 3, 2 events.
	if got, want := s.Values(), []float64{3, 2, 3, 2}; !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v", got, want)
	}
	if got, want := s.Rate(), []float64{12, 8, 12, 8}; !slices.Equal(got, want) {
		t.Fatalf("Rate() = %v, want %v per second", got, want)
	}
	m := NewSeries(sec, Mean)
	if msg := panicMessage(func() { m.Rate() }); !strings.Contains(msg, "Sum") {
		t.Errorf("Rate on a Mean series: panic %q, want a rejection", msg)
	}
}

func TestSeriesAggregations(t *testing.T) {
	type rec struct {
		at time.Duration
		v  float64
	}
	// Interval 0: 4, -2, 7; interval 1 empty; interval 2: -5, -1; interval 3: 3.
	recs := []rec{{0, 4}, {200 * ms, -2}, {999 * ms, 7}, {2 * sec, -5}, {2500 * ms, -1}, {3 * sec, 3}}
	for _, c := range []struct {
		agg  Aggregation
		want []float64
	}{
		{Sum, []float64{9, 0, -6, 3}},
		{Mean, []float64{3, 0, -3, 3}},
		{Max, []float64{7, 0, -1, 3}},
		{Last, []float64{7, 7, -1, 3}},
	} {
		s := NewSeries(sec, c.agg)
		for _, r := range recs {
			s.Record(r.at, r.v)
		}
		s.AdvanceTo(4 * sec)
		want := append(c.want, c.want[len(c.want)-1]) // interval 4 is empty
		if c.agg != Last {
			want[len(want)-1] = 0
		}
		got := s.Values()
		if !slices.Equal(got, want) {
			t.Errorf("%v: Values() = %v, want %v", c.agg, got, want)
		}
		for _, v := range got {
			if math.IsNaN(v) {
				t.Errorf("%v: NaN in %v", c.agg, got)
			}
		}
		got[0] = 1e6
		if s.Values()[0] == 1e6 {
			t.Errorf("%v: Values() returned internal storage", c.agg)
		}
	}
}

func TestSeriesStart(t *testing.T) {
	s := NewSeries(sec, Sum)
	s.Start = 10 * sec
	s.Record(sec, 100)     // warm-up: ignored
	s.Record(9999*ms, 100) // warm-up: ignored
	if s.Len() != 0 || len(s.Values()) != 0 {
		t.Fatalf("records before Start created intervals: %v", s.Values())
	}
	s.Record(10*sec, 1)   // interval 0 = [10s, 11s)
	s.Record(10999*ms, 1) // interval 0
	s.Record(12500*ms, 1) // interval 2
	if got, want := s.Values(), []float64{2, 0, 1}; !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v", got, want)
	}
}

func TestSeriesPanics(t *testing.T) {
	s := NewSeries(sec, Max)
	s.Record(2*sec, 1)
	if msg := panicMessage(func() { s.Record(sec, 1) }); !strings.Contains(msg, "backwards") {
		t.Errorf("Record back in time: panic %q", msg)
	}
	if msg := panicMessage(func() { s.AdvanceTo(sec) }); !strings.Contains(msg, "backwards") {
		t.Errorf("AdvanceTo back in time: panic %q", msg)
	}
	if msg := panicMessage(func() { NewSeries(0, Sum) }); !strings.Contains(msg, "interval") {
		t.Errorf("NewSeries(0): panic %q", msg)
	}
	if msg := panicMessage(func() { NewSeries(sec, Aggregation(9)) }); !strings.Contains(msg, "Aggregation(9)") {
		t.Errorf("NewSeries with unknown aggregation: panic %q", msg)
	}
	if msg := panicMessage(func() { NewTimeWeightedSeries(-sec, 0) }); !strings.Contains(msg, "interval") {
		t.Errorf("NewTimeWeightedSeries(-1s): panic %q", msg)
	}
}

func TestTimeWeightedSeriesHand(t *testing.T) {
	w := NewTimeWeightedSeries(sec, 2)
	w.Set(1500*ms, 4)
	w.Add(3250*ms, -4) // to 0
	// [0,1): 2. [1,2): ½·2 + ½·4 = 3. [2,3): 4. [3,4): ¼·4 + ¾·0 = 1.
	// [4,4.5): 0, averaged over the half second that has passed.
	if got, want := w.Values(4500*ms), []float64{2, 3, 4, 1, 0}; !slices.Equal(got, want) {
		t.Fatalf("Values(4.5s) = %v, want %v", got, want)
	}
	// On a boundary, the result ends with the interval just completed.
	if got, want := w.Values(4*sec), []float64{2, 3, 4, 1}; !slices.Equal(got, want) {
		t.Fatalf("Values(4s) = %v, want %v", got, want)
	}
	// The partial interval is averaged over its elapsed part only.
	w.Set(4200*ms, 5)
	if got, want := w.Values(4500*ms), []float64{2, 3, 4, 1, 3}; !slices.Equal(got, want) { // (0·0.2 + 5·0.3)/0.5
		t.Fatalf("Values(4.5s) after Set(4.2s, 5) = %v, want %v", got, want)
	}
	if got, want := w.Values(5*sec), []float64{2, 3, 4, 1, 4}; !slices.Equal(got, want) { // (5·0.8)/1
		t.Fatalf("Values(5s) = %v, want %v", got, want)
	}
	if w.Value() != 5 || w.Interval() != sec {
		t.Errorf("Value, Interval = %v, %v", w.Value(), w.Interval())
	}
}

func TestTimeWeightedSeriesLongStretch(t *testing.T) {
	w := NewTimeWeightedSeries(100*ms, 3)
	w.Set(2700*ms, 5) // 3 over 27 whole intervals
	w.Set(100*sec, 0) // 5 over [2.7s, 100s)
	got := w.Values(100 * sec)
	if len(got) != 1000 {
		t.Fatalf("len(Values(100s)) = %d, want 1000", len(got))
	}
	for i, v := range got {
		want := 3.0
		if i >= 27 {
			want = 5
		}
		if v != want {
			t.Fatalf("interval %d = %v, want exactly %v", i, v, want)
		}
	}
	// A value that is not a binary fraction, split off-boundary.
	x := NewTimeWeightedSeries(sec, 0.1)
	x.Set(2700*ms, 0.3)
	if got, want := x.Values(3*sec), []float64{0.1, 0.1, 0.7*0.1 + 0.3*0.3}; got[0] != want[0] || got[1] != want[1] || !relClose(got[2], want[2], 1e-15) {
		t.Fatalf("Values(3s) = %v, want %v", got, want)
	}
}

func TestTimeWeightedSeriesStart(t *testing.T) {
	w := NewTimeWeightedSeries(sec, 1)
	w.Start = 2 * sec
	w.Set(sec, 7) // before Start: only the value matters
	if got := w.Values(2 * sec); len(got) != 0 {
		t.Fatalf("Values(Start) = %v, want empty", got)
	}
	w.Set(2500*ms, 3) // 7 over [2s, 2.5s)
	if got, want := w.Values(4*sec), []float64{5, 3}; !slices.Equal(got, want) {
		t.Fatalf("Values(4s) = %v, want %v", got, want)
	}
	if msg := panicMessage(func() { w.Values(2 * sec) }); !strings.Contains(msg, "backwards") {
		t.Errorf("Values before the last change: panic %q", msg)
	}
	if msg := panicMessage(func() { w.Set(2*sec, 1) }); !strings.Contains(msg, "backwards") {
		t.Errorf("Set before the last change: panic %q", msg)
	}
}

// TestTimeWeightedSeriesRandom compares the series with a brute-force
// integration of a random step function, interval by interval, and with a
// TimeWeighted over the whole run.
func TestTimeWeightedSeriesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const iv = 70 * ms
	type step struct {
		at time.Duration
		v  float64
	}
	w := NewTimeWeightedSeries(iv, 0)
	tw := NewTimeWeighted(0, 0)
	steps := []step{{0, 0}}
	now := time.Duration(0)
	for range 5000 {
		now += time.Duration(rng.ExpFloat64() * float64(30*ms))
		v := float64(rng.IntN(20))
		if rng.IntN(10) == 0 {
			w.Add(now, 1)
			tw.Add(now, 1)
			v = steps[len(steps)-1].v + 1
		} else {
			w.Set(now, v)
			tw.Set(now, v)
		}
		steps = append(steps, step{now, v})
	}
	end := now + 13*ms
	got := w.Values(end)
	n := int((end + iv - 1) / iv)
	if len(got) != n {
		t.Fatalf("len(Values) = %d, want %d", len(got), n)
	}
	total := 0.0
	for i := range n {
		lo, hi := time.Duration(i)*iv, min(time.Duration(i+1)*iv, end)
		area := 0.0 // value·ns, exact for these integer values
		for j, s := range steps {
			next := end
			if j+1 < len(steps) {
				next = steps[j+1].at
			}
			if a, b := max(s.at, lo), min(next, hi); a < b {
				area += s.v * float64(b-a)
			}
		}
		if want := area / float64(hi-lo); got[i] != want {
			t.Fatalf("interval %d = %v, want %v", i, got[i], want)
		}
		total += got[i] * float64(hi-lo)
	}
	if mean := total / float64(end); !relClose(mean, tw.Mean(end), 1e-12) {
		t.Errorf("weighted mean of intervals %v, TimeWeighted.Mean %v", mean, tw.Mean(end))
	}
}
