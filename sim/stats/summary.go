package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Summary is a confidence interval for the mean of a performance measure,
// from the results of independent replications (one value per run, for
// example each run's mean waiting time after warm-up).
type Summary struct {
	N          int     // number of samples
	Mean       float64 // sample mean (NaN when N is 0)
	StdDev     float64 // sample standard deviation, denominator N-1 (NaN when N < 2)
	Confidence float64 // confidence level, for example 0.95
	HalfWidth  float64 // half-width of the interval (+Inf when N < 2)
	Lo, Hi     float64 // Mean-HalfWidth and Mean+HalfWidth
}

// Summarize returns the Student t confidence interval for the mean of
// samples at the given confidence level, which must be in (0, 1):
//
//	HalfWidth = t(1-(1-confidence)/2; N-1) · StdDev / sqrt(N)
//
// The interval is exact for independent, identically distributed normal
// samples and approximately right for means of independent runs, which are
// close to normal by the central limit theorem. It is not valid for the
// correlated observations within one run (see the package documentation).
//
// With fewer than two samples the spread is unknown: HalfWidth is +Inf, Lo
// is -Inf and Hi is +Inf, so the interval contains every number and
// RelHalfWidth is +Inf, and a sequential stopping rule keeps running.
func Summarize(samples []float64, confidence float64) Summary {
	if !(confidence > 0 && confidence < 1) {
		panic(fmt.Sprintf("stats: Summarize: confidence %v is not in (0, 1)", confidence))
	}
	s := Summary{N: len(samples), Confidence: confidence, Mean: math.NaN(), StdDev: math.NaN()}
	if s.N > 0 {
		s.Mean = stat.Mean(samples, nil)
	}
	if s.N < 2 {
		s.HalfWidth = math.Inf(1)
		s.Lo, s.Hi = math.Inf(-1), math.Inf(1)
		return s
	}
	s.Mean, s.StdDev = stat.MeanStdDev(samples, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(s.N - 1)}.Quantile(1 - (1-confidence)/2)
	s.HalfWidth = t * s.StdDev / math.Sqrt(float64(s.N))
	s.Lo, s.Hi = s.Mean-s.HalfWidth, s.Mean+s.HalfWidth
	return s
}

// RelHalfWidth returns HalfWidth/|Mean|, the relative precision of the
// estimate (0.05 means ±5 %). It is 0 when HalfWidth is 0 and +Inf when
// the mean is 0 (or unknown) and the half-width is not.
func (s Summary) RelHalfWidth() float64 {
	if s.HalfWidth == 0 {
		return 0
	}
	if s.Mean == 0 || math.IsNaN(s.Mean) {
		return math.Inf(1)
	}
	return s.HalfWidth / math.Abs(s.Mean)
}

// Contains reports whether x lies in the closed interval [Lo, Hi].
func (s Summary) Contains(x float64) bool { return s.Lo <= x && x <= s.Hi }

// String formats the summary as "mean ± half-width (95% CI, n=10)".
func (s Summary) String() string {
	return fmt.Sprintf("%g ± %g (%g%% CI, n=%d)", s.Mean, s.HalfWidth, 100*s.Confidence, s.N)
}
