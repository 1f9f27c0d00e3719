package stats

import (
	"fmt"
	"time"
)

// Aggregation says how a Series combines the values recorded in one
// interval.
type Aggregation int

const (
	// Sum adds the values recorded in the interval: with value 1 per event
	// it counts events per interval (arrivals, drops). Empty intervals are 0.
	// Series.Rate turns the sums into per-second rates.
	Sum Aggregation = iota
	// Mean averages the values recorded in the interval (for example the
	// response times of the requests completed in it). Empty intervals are 0.
	Mean
	// Max keeps the largest value recorded in the interval. Empty intervals
	// are 0.
	Max
	// Last keeps the last value recorded in the interval. An empty interval
	// repeats the previous interval's value (0 before the first record), as
	// a gauge that was not sampled still shows its last reading.
	Last
)

// String returns the name of the aggregation.
func (a Aggregation) String() string {
	switch a {
	case Sum:
		return "Sum"
	case Mean:
		return "Mean"
	case Max:
		return "Max"
	case Last:
		return "Last"
	}
	return fmt.Sprintf("Aggregation(%d)", int(a))
}

// Series is a fixed-interval time series of point observations, for charts
// of a run: interval i covers virtual times [Start+i·interval,
// Start+(i+1)·interval), and its value combines the values recorded in it
// according to the Aggregation. Empty intervals are 0, except under Last
// (see Aggregation); a Series never produces NaN.
//
// Records before Start are ignored, which is how a series skips a warm-up
// period. Times must not decrease from one Record (or AdvanceTo) to the
// next; a record at an earlier time panics.
//
// Memory grows by one float64 per interval, so the number of intervals,
// (end-Start)/interval, should be what a chart can show. Recording within
// the current interval never allocates; moving into a new interval appends,
// which allocates only when capacity runs out (amortised, and never after
// Grow).
type Series struct {
	// Start is the virtual time at which interval 0 begins. Set it before
	// the first Record; records at earlier times are ignored.
	Start time.Duration

	interval time.Duration
	agg      Aggregation
	vals     []float64     // vals[len-1] is the current interval
	curN     int64         // records in the current interval
	curSum   float64       // their sum, for Mean
	last     time.Duration // time of the last Record or AdvanceTo
}

// NewSeries returns an empty series with the given interval, which must be
// positive, starting at time 0.
func NewSeries(interval time.Duration, agg Aggregation) *Series {
	if interval <= 0 {
		panic(fmt.Sprintf("stats: NewSeries: interval %v is not positive", interval))
	}
	if agg < Sum || agg > Last {
		panic(fmt.Sprintf("stats: NewSeries: unknown %v", agg))
	}
	return &Series{interval: interval, agg: agg}
}

// Interval returns the length of each interval.
func (s *Series) Interval() time.Duration { return s.interval }

// Aggregation returns how values are combined within an interval.
func (s *Series) Aggregation() Aggregation { return s.agg }

// Len returns the number of intervals so far: up to and including the
// interval of the latest Record or AdvanceTo at or after Start.
func (s *Series) Len() int { return len(s.vals) }

// Grow ensures room for n more intervals without allocation.
func (s *Series) Grow(n int) {
	if n > cap(s.vals)-len(s.vals) {
		vals := make([]float64, len(s.vals), len(s.vals)+n)
		copy(vals, s.vals)
		s.vals = vals
	}
}

// Record records the value v at time now.
func (s *Series) Record(now time.Duration, v float64) {
	if !s.advance(now, "Series.Record") {
		return
	}
	k := len(s.vals) - 1
	switch s.agg {
	case Sum:
		s.vals[k] += v
	case Mean:
		s.curSum += v
		s.vals[k] = s.curSum / float64(s.curN+1)
	case Max:
		if s.curN == 0 || v > s.vals[k] {
			s.vals[k] = v
		}
	case Last:
		s.vals[k] = v
	}
	s.curN++
}

// AdvanceTo extends the series, without recording anything, up to and
// including the interval that contains now, filling the new intervals as
// empty ones. Call it at the end of a run so that a quiet stretch at the end
// shows in Values. The last interval may then be partial.
func (s *Series) AdvanceTo(now time.Duration) { s.advance(now, "Series.AdvanceTo") }

// advance checks and records the time, and makes the interval containing
// now the current one. It reports false if now is before Start.
func (s *Series) advance(now time.Duration, op string) bool {
	if now < s.last {
		panicBackwards(op, now, s.last)
	}
	s.last = now
	if now < s.Start {
		return false
	}
	k := int((now - s.Start) / s.interval)
	if k >= len(s.vals) {
		s.extend(k)
	}
	return true
}

// extend appends empty intervals up to and including interval k.
func (s *Series) extend(k int) {
	fill := 0.0
	if s.agg == Last && len(s.vals) > 0 {
		fill = s.vals[len(s.vals)-1]
	}
	for len(s.vals) <= k {
		s.vals = append(s.vals, fill)
	}
	s.curN, s.curSum = 0, 0
}

// Values returns a copy of the interval values, one per interval from
// interval 0 to the current one (see Len).
func (s *Series) Values() []float64 {
	return append([]float64(nil), s.vals...)
}

// Rate returns the values of a Sum series divided by the interval length in
// seconds: events per second when each event records 1. The current interval
// is divided by the full interval length even if it is not over yet. Rate
// panics for other aggregations, where a per-second value means nothing.
func (s *Series) Rate() []float64 {
	if s.agg != Sum {
		panic(fmt.Sprintf("stats: Series.Rate on a %v series; Rate needs Sum", s.agg))
	}
	out := s.Values()
	sec := s.interval.Seconds()
	for i := range out {
		out[i] /= sec
	}
	return out
}

// TimeWeightedSeries is the per-interval time average of a piecewise-constant
// quantity (see TimeWeighted): interval i covers virtual times
// [Start+i·interval, Start+(i+1)·interval), and its value is the integral of
// the quantity over the interval divided by the interval length. A value
// held across interval boundaries is split at the boundaries exactly: the
// split is done in integer nanoseconds, and each interval accumulates
// value·nanoseconds, so a constant stretch contributes exactly its value to
// every interval it covers entirely.
//
// Before Start the value is tracked but not integrated; the value at Start is
// the one last set before it. Times must not decrease from one Set to the
// next; a change at an earlier time panics.
//
// Memory grows by one float64 per interval; Set within an interval never
// allocates, and Set into later intervals allocates only when capacity runs
// out (never after Grow).
type TimeWeightedSeries struct {
	// Start is the virtual time at which interval 0 begins. Set it before
	// the first Set or Add.
	Start time.Duration

	interval time.Duration
	value    float64
	last     time.Duration // time of the last change
	area     []float64     // value·ns per interval, integrated up to last
}

// NewTimeWeightedSeries returns a series of a quantity whose value is initial
// until the first Set, with intervals of the given positive length starting
// at time 0.
func NewTimeWeightedSeries(interval time.Duration, initial float64) *TimeWeightedSeries {
	if interval <= 0 {
		panic(fmt.Sprintf("stats: NewTimeWeightedSeries: interval %v is not positive", interval))
	}
	return &TimeWeightedSeries{interval: interval, value: initial}
}

// Interval returns the length of each interval.
func (t *TimeWeightedSeries) Interval() time.Duration { return t.interval }

// Value returns the current value.
func (t *TimeWeightedSeries) Value() float64 { return t.value }

// Grow ensures room for n more intervals without allocation.
func (t *TimeWeightedSeries) Grow(n int) {
	if n > cap(t.area)-len(t.area) {
		area := make([]float64, len(t.area), len(t.area)+n)
		copy(area, t.area)
		t.area = area
	}
}

// Set changes the value to v at time now.
func (t *TimeWeightedSeries) Set(now time.Duration, v float64) {
	if now < t.last {
		panicBackwards("TimeWeightedSeries.Set", now, t.last)
	}
	t.area = t.integrate(t.area, now)
	t.value = v
	t.last = now
}

// Add changes the value by delta at time now: Set(now, Value()+delta).
func (t *TimeWeightedSeries) Add(now time.Duration, delta float64) {
	t.Set(now, t.value+delta)
}

// integrate adds the current value over [max(last, Start), now) to area,
// interval by interval, appending intervals as needed, and returns area.
func (t *TimeWeightedSeries) integrate(area []float64, now time.Duration) []float64 {
	from := max(t.last, t.Start)
	if now <= from {
		return area
	}
	k := int((from - t.Start) / t.interval)
	for from < now {
		end := min(t.Start+time.Duration(k+1)*t.interval, now)
		for len(area) <= k {
			area = append(area, 0)
		}
		area[k] += t.value * float64(end-from)
		from = end
		k++
	}
	return area
}

// Values returns the time average of each interval from interval 0 up to
// the one containing now, which is closed at now: its average is over
// [its start, now), not over the whole interval. An interval is included
// only once time has passed in it, so when now falls exactly on a boundary
// the result ends with the interval just completed. now must not be earlier
// than the last change. Values does not change the series.
func (t *TimeWeightedSeries) Values(now time.Duration) []float64 {
	if now < t.last {
		panicBackwards("TimeWeightedSeries.Values", now, t.last)
	}
	if now <= t.Start {
		return []float64{}
	}
	n := int((now - t.Start + t.interval - 1) / t.interval) // intervals touched by [Start, now)
	out := make([]float64, len(t.area), n)
	copy(out, t.area)
	out = t.integrate(out, now)
	iv := float64(t.interval)
	for i := range n - 1 {
		out[i] /= iv
	}
	partial := now - (t.Start + time.Duration(n-1)*t.interval)
	out[n-1] /= float64(partial)
	return out
}
