package metric

import (
	"math"
	"slices"
	"time"
)

// Units, as the scenario layer prints them.
const (
	UnitNumber    = ""
	UnitSeconds   = "s"
	UnitPerSecond = "/s"
)

// Info names a measurement: a series sampled every interval, or a figure
// summarising the run.
type Info struct {
	Name         string
	Unit         string
	Distribution bool // has percentiles as well as a mean
	Help         string
}

// Rate reports whether a series is counted over each interval and recorded
// per second, rather than set at the sample.
func (i Info) Rate() bool { return i.Unit == UnitPerSecond }

// Figure is one summary figure of a run.
type Figure struct {
	Name                    string
	Value                   float64 // the mean for a distribution
	Min, Max, P50, P95, P99 float64
	Count                   int64
}

// Meter keeps a model's series: Add counts events into a rate series, Set
// sets a gauge, and Sample closes the interval.
type Meter struct {
	interval time.Duration
	info     []Info
	counts   []float64
	gauges   []float64
	totals   []float64
	series   [][]float64
}

// NewMeter returns a meter for the series info lists, sampled every
// interval (> 0).
func NewMeter(interval time.Duration, info []Info) *Meter {
	n := len(info)
	return &Meter{
		interval: interval, info: slices.Clone(info),
		counts: make([]float64, n), gauges: make([]float64, n), totals: make([]float64, n),
		series: make([][]float64, n),
	}
}

// Interval is the sample interval.
func (m *Meter) Interval() time.Duration { return m.interval }

// Add counts n events into rate series s.
func (m *Meter) Add(s int, n float64) {
	m.counts[s] += n
	m.totals[s] += n
}

// Set sets gauge s to v; the next Sample records it.
func (m *Meter) Set(s int, v float64) { m.gauges[s] = v }

// Sample closes the current interval: rates are recorded per second and
// their counts cleared; gauges are recorded as set.
func (m *Meter) Sample() {
	dt := m.interval.Seconds()
	for s, in := range m.info {
		if in.Rate() {
			m.series[s] = append(m.series[s], m.counts[s]/dt)
			m.counts[s] = 0
		} else {
			m.series[s] = append(m.series[s], m.gauges[s])
		}
	}
}

// Total is the count of rate series s over the whole run so far.
func (m *Meter) Total(s int) float64 { return m.totals[s] }

// Column is series s as recorded (not a copy: do not change it).
func (m *Meter) Column(s int) []float64 { return m.series[s] }

// Series returns a copy of every series, in the order of the info.
func (m *Meter) Series() [][]float64 {
	out := make([][]float64, len(m.series))
	for s := range m.series {
		out[s] = slices.Clone(m.series[s])
	}
	return out
}

// Mean is the mean of xs, 0 for none.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Median is the median of xs, 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Max is the largest of xs and 0.
func Max(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// Stretch describes when a series met a condition.
type Stretch struct {
	Total   float64 // seconds the condition held
	Longest float64 // seconds of its longest unbroken stretch
	First   float64 // start of the first interval it held, from the start; -1 if never
	Last    float64 // end of the last interval it held; 0 if never
}

// When measures the intervals of xs (each dt seconds long) for which cond
// holds.
func When(xs []float64, dt float64, cond func(float64) bool) Stretch {
	st := Stretch{First: -1}
	run := 0.0
	for i, x := range xs {
		if !cond(x) {
			run = 0
			continue
		}
		st.Total += dt
		run += dt
		st.Longest = math.Max(st.Longest, run)
		if st.First < 0 {
			st.First = float64(i) * dt
		}
		st.Last = float64(i+1) * dt
	}
	return st
}

// Windows averages xs over consecutive windows of width intervals; a
// partial window at the end is dropped.
func Windows(xs []float64, width int) []float64 {
	width = max(1, width)
	var out []float64
	for i := 0; i+width <= len(xs); i += width {
		out = append(out, Mean(xs[i:i+width]))
	}
	return out
}
