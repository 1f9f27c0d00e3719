package sim

import (
	"math"
	"time"
)

// Rander is a distribution to draw from: every gonum distuv distribution
// (Exponential, LogNormal, Gamma, Weibull, Uniform, ...) satisfies it. Give
// the distribution a stream from Streams as its Src so draws are
// reproducible.
type Rander interface {
	Rand() float64
}

// Seconds turns a distribution over seconds into a sampler of virtual-time
// durations, for service times, think times and delays.
func Seconds(d Rander) func() time.Duration {
	return func() time.Duration { return DurationOf(d.Rand()) }
}

// Fixed is a sampler that always returns d (deterministic service).
func Fixed(d time.Duration) func() time.Duration {
	return func() time.Duration { return d }
}

// DurationOf converts seconds to a Duration, rounding to the nearest
// nanosecond. Negative and NaN inputs give 0 (a distribution that can go
// negative, such as a normal, is truncated at zero); +Inf and values beyond
// the range of Duration give the largest Duration.
func DurationOf(seconds float64) time.Duration {
	switch {
	case !(seconds > 0):
		return 0
	case seconds >= math.MaxInt64/1e9:
		return math.MaxInt64
	}
	// Adding a half and truncating rounds a positive value to nearest, as
	// math.Round would, at a fraction of its cost on this hot path.
	return time.Duration(seconds*1e9 + 0.5)
}

// seconds converts a duration to seconds with one multiplication, cheaper
// than time.Duration.Seconds's split into whole and fractional parts, which
// matters where statistics are recorded for every customer.
func seconds(d time.Duration) float64 { return float64(d) * 1e-9 }
