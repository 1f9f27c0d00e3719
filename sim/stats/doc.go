// Package stats provides the measurement primitives of a Stormglass
// simulation run: what a model records while the event kernel advances
// virtual time, and how the results of several runs become a confidence
// interval.
//
// # The model
//
// Time is virtual: a time.Duration since the start of the run, as the
// kernel reports it, never the wall clock. It only moves forward; every
// method that takes a time panics if it is earlier than the last change it
// saw, because that can only be a bug in the caller. Values are float64.
// Nothing here keeps global state or draws random numbers, so a run that is
// deterministic stays deterministic, and none of the types is safe for
// concurrent use: a run is single-threaded, and parallel replications each
// have their own measures, combined afterwards with Merge or Summarize.
//
// A simulation produces two kinds of measurement, and they must not be
// confused.
//
// Observations belong to entities: the waiting time of each customer, the
// response time of each request. Each counts once, however long it took. A
// Counter counts events; a Tally keeps count, mean, variance, minimum and
// maximum of observations; a Histogram keeps their distribution, for
// percentiles.
//
// Time-persistent quantities belong to the system: the length of a queue,
// the number of busy servers or open connections. They are piecewise
// constant, changing only at events, and are averaged over time, not over
// changes: the time average over [s, t] is the integral of the value over
// that interval divided by t-s. A TimeWeighted keeps that integral (Area),
// the time average (Mean) and the extremes. By Little's law the time-average
// number in a system equals the arrival rate times the mean time per
// customer, which is a useful cross-check between the two kinds.
//
// Series and TimeWeightedSeries cut a run into fixed intervals for charts:
// Series aggregates observations per interval (Sum, with Rate for events per
// second; Mean; Max; Last), TimeWeightedSeries gives the time average of a
// quantity per interval, splitting a value held across a boundary exactly
// between the intervals.
//
// # Warm-up deletion
//
// A model usually starts empty and idle, which is not its steady state;
// observations from the first stretch of a run bias steady-state estimates.
// The usual remedy is to discard a warm-up period: run to the warm-up time,
// then Reset every measure and measure only from there. Counter, Tally and
// Histogram forget everything on Reset; TimeWeighted.Reset(now) forgets the
// history but keeps the current value, since the queue still holds whoever
// is in it, and averages from now on. Series and TimeWeightedSeries take a
// Start time instead, before which nothing is recorded, and number their
// intervals from it.
//
// # Bounded-error percentiles
//
// Histogram follows DDSketch: for relative accuracy a it uses logarithmic
// buckets whose bounds grow by the factor γ = (1+a)/(1-a), so a bucket
// (γ^(i-1), γ^i] is narrow for small values and wide for large ones, and
// every value in it is within relative error a of the bucket's
// representative 2γ^i/(γ+1). A quantile is found by counting through the
// buckets to the one that holds the value of the requested rank, so it is
// within relative error a of the exact quantile of the recorded data (0.5 %
// by default: a true p99 of 200 ms is reported between 199 and 201 ms),
// whatever the distribution, using constant memory. Zero is counted apart
// and reported exactly. The buckets cover 1e-9 to 1e9; values outside are
// clamped into the end buckets and counted (Underflow, Overflow). Count, Sum,
// Mean, Min and Max are exact. Histograms of the same accuracy merge without
// further loss, which is how per-run histograms are combined.
//
// # Confidence intervals from replications
//
// Observations within one run are autocorrelated: a customer who waits long
// is followed by one who waits long too. The sample variance of such
// observations badly underestimates the variance of their mean, so a
// confidence interval built from them is far too narrow. The remedy is to
// make n independent replications (same model, independent random number
// streams, same warm-up), take one number from each, say its mean waiting
// time, and treat those n numbers as independent and, by the central limit
// theorem, nearly normal. Summarize turns them into a Student t interval,
// mean ± t(1-α/2; n-1)·s/√n, and RelHalfWidth tells whether more
// replications are needed.
//
// # API
//
//   - Counter: Add, Inc, Count, Reset.
//   - Tally: Record, N, Sum, Mean, Var, StdDev, Min, Max, Reset, Merge.
//   - TimeWeighted: NewTimeWeighted, Set, Add, Value, Area, Mean, Min, Max,
//     Start, Reset.
//   - Histogram: NewHistogram, Record, Count, Sum, Mean, Min, Max,
//     Quantile, P50, P95, P99, P999, ZeroCount, Underflow, Overflow,
//     RelAccuracy, Merge, Reset.
//   - Series (with Aggregation Sum, Mean, Max, Last): NewSeries, Start,
//     Record, AdvanceTo, Values, Rate, Len, Interval, Aggregation, Grow.
//   - TimeWeightedSeries: NewTimeWeightedSeries, Start, Set, Add, Value,
//     Values, Interval, Grow.
//   - Summarize and Summary: RelHalfWidth, Contains, String.
//
// Counter, Tally, TimeWeighted (time 0, value 0) and Histogram (default
// accuracy) are ready to use as zero values. Recording (Add, Inc, Record,
// Set) does not allocate in steady state. Confidence intervals use gonum's
// stat and stat/distuv; Tally's streaming Welford update is written out
// here because gonum's statistics work on whole slices.
package stats
