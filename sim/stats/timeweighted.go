package stats

import (
	"fmt"
	"time"
)

// TimeWeighted measures a piecewise-constant quantity over virtual time: the
// length of a queue, the number of busy servers, the number of open
// connections. The quantity holds its value from one change to the next; its
// time average over [s, t] is the integral of the value over that interval
// divided by t-s, so a value held for an hour weighs 3,600 times as much as
// one held for a second, however many changes there were.
//
// Times are virtual: durations since the start of the run, as given by the
// simulation kernel. They must never decrease; a change at an earlier time
// than the previous change panics.
//
// Min and Max are over every value the quantity has taken since the last
// reset, including values replaced at the same instant they were set (a
// queue that grows and shrinks at one instant did reach that length).
//
// The zero value is a quantity that has been 0 since time 0.
type TimeWeighted struct {
	start    time.Duration // beginning of the observation window (last reset)
	last     time.Duration // time of the last change
	value    float64       // current value, held since last
	area     float64       // integral over [start, last], value·nanoseconds
	min, max float64       // extremes over [start, last]
}

// NewTimeWeighted returns a quantity whose value is initial from time now,
// with the observation window starting at now.
func NewTimeWeighted(now time.Duration, initial float64) *TimeWeighted {
	return &TimeWeighted{start: now, last: now, value: initial, min: initial, max: initial}
}

// Set changes the value to v at time now. now must not be earlier than the
// previous change.
func (w *TimeWeighted) Set(now time.Duration, v float64) {
	if now < w.last {
		panicBackwards("TimeWeighted.Set", now, w.last)
	}
	// Integrating in nanoseconds keeps the conversion to seconds out of
	// the hot path; a model sets its gauges several times per event.
	w.area += w.value * float64(now-w.last)
	w.last = now
	w.value = v
	if v < w.min {
		w.min = v
	}
	if v > w.max {
		w.max = v
	}
}

// Add changes the value by delta at time now: Set(now, Value()+delta).
func (w *TimeWeighted) Add(now time.Duration, delta float64) { w.Set(now, w.value+delta) }

// Value returns the current value.
func (w *TimeWeighted) Value() float64 { return w.value }

// Area returns the integral of the value from the last reset to now, in
// value·seconds (for example customer-seconds for a queue length). now must
// not be earlier than the last change.
func (w *TimeWeighted) Area(now time.Duration) float64 {
	if now < w.last {
		panicBackwards("TimeWeighted.Area", now, w.last)
	}
	return (w.area + w.value*float64(now-w.last)) / 1e9
}

// Mean returns the time average of the value from the last reset to now,
// Area(now) divided by the elapsed seconds. Over an empty window (now equal
// to the reset time) it returns the current value, the limit of the average
// as the window shrinks.
func (w *TimeWeighted) Mean(now time.Duration) float64 {
	a := w.Area(now)
	if now == w.start {
		return w.value
	}
	return a / (now - w.start).Seconds()
}

// Min returns the smallest value taken since the last reset.
func (w *TimeWeighted) Min() float64 { return w.min }

// Max returns the largest value taken since the last reset.
func (w *TimeWeighted) Max() float64 { return w.max }

// Start returns the beginning of the current observation window: the time of
// the last reset, or of construction.
func (w *TimeWeighted) Start() time.Duration { return w.start }

// Reset starts a new observation window at now (warm-up deletion): the
// history is forgotten, the current value is kept and becomes the only value
// seen so far. now must not be earlier than the last change.
func (w *TimeWeighted) Reset(now time.Duration) {
	if now < w.last {
		panicBackwards("TimeWeighted.Reset", now, w.last)
	}
	w.start, w.last = now, now
	w.area = 0
	w.min, w.max = w.value, w.value
}

// panicBackwards reports virtual time going backwards, a bug in the caller.
// It is kept out of line so that the callers stay small enough to inline.
//
//go:noinline
func panicBackwards(op string, now, last time.Duration) {
	panic(fmt.Sprintf("stats: %s at %v is before the last change at %v: virtual time must not go backwards", op, now, last))
}
