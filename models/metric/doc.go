// Package metric is what every Stormglass model measures with: the names
// and units of its series and summary figures, and a Meter that turns
// events into per-interval series.
//
// # The model
//
// A run records two kinds of series, sampled every interval:
//
//   - a rate (unit "/s"): events counted over the interval, divided by
//     its length, so a series reads "per second" whatever the interval;
//   - a gauge (any other unit): the value the model sets at the sample,
//     such as connections open or a queue's depth.
//
// Totals of the rate series are kept exactly (not re-derived from the
// rounded series), so a summary can say "3,164,120 connections closed".
// A summary figure is a single number (Value) or a distribution (Value is
// the mean, with percentiles); Info.Distribution says which.
//
// The scenario layer lists a model's Info to name its metrics in results,
// objectives and reports; the names are stable and documented, so a
// scenario's SLO can refer to them.
package metric
