package cli

import (
	"math"
	"sync"
	"testing"
	"time"
)

// Helpers of the incident signature tests (outage, services, websocket):
// each runs a built-in scenario's variants through the CLI, as a planner
// would, and reads the JSON.

// figure is a summary metric over the replications.
type figure struct{ mean, min, max float64 }

func outageFigure(t *testing.T, res map[string]any, name string) figure {
	t.Helper()
	ms, _ := res["metrics"].(map[string]any)
	m, ok := ms[name].(map[string]any)
	if !ok {
		t.Fatalf("JSON has no metric %s", name)
	}
	f := figure{mean: m["mean"].(float64), min: m["mean"].(float64), max: m["mean"].(float64)}
	if v, ok := m["min"].(float64); ok {
		f.min = v
	}
	if v, ok := m["max"].(float64); ok {
		f.max = v
	}
	return f
}

func between(t *testing.T, what string, f figure, lo, hi float64) {
	t.Helper()
	if f.min < lo || f.max > hi {
		t.Errorf("%s: %.4g to %.4g over the seeds, want within [%.4g, %.4g]", what, f.min, f.max, lo, hi)
	}
}

// runVariants runs scenario's variants in parallel and returns their JSON
// by variant.
func runVariants(t *testing.T, scenario string, runs []struct{ variant, until, replications string }) map[string]map[string]any {
	t.Helper()
	var mu sync.Mutex
	results := map[string]map[string]any{}
	t.Run("runs", func(t *testing.T) {
		for _, r := range runs {
			t.Run(r.variant, func(t *testing.T) {
				t.Parallel()
				res := runJSON(t, "run", scenario, "--variant", r.variant, "--until", r.until, "--replications", r.replications)
				mu.Lock()
				results[r.variant] = res
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	return results
}

// percentile reads a distribution metric's percentile ("p50", "p99").
func percentile(t *testing.T, res map[string]any, name, p string) float64 {
	t.Helper()
	m, ok := res["metrics"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("JSON has no metric %s", name)
	}
	v, ok := m[p].(float64)
	if !ok {
		t.Fatalf("metric %s has no %s", name, p)
	}
	return v
}

// windowMean averages a series over [from, to) of simulated time, for a
// run sampled every sample.
func windowMean(t *testing.T, res map[string]any, name string, sample, from, to time.Duration) float64 {
	t.Helper()
	vs := seriesValues(t, res, name)
	lo, hi := int(from/sample), min(int(to/sample), len(vs))
	sum := 0.0
	for _, v := range vs[lo:hi] {
		sum += v
	}
	return sum / float64(hi-lo)
}

// seriesValues returns a series of a run's JSON.
func seriesValues(t *testing.T, res map[string]any, name string) []float64 {
	t.Helper()
	for _, s := range res["series"].([]any) {
		s := s.(map[string]any)
		if s["name"] != name {
			continue
		}
		var out []float64
		for _, v := range s["values"].([]any) {
			out = append(out, v.(float64))
		}
		return out
	}
	t.Fatalf("JSON has no series %s", name)
	return nil
}

func argmax(xs []float64) int {
	best, at := math.Inf(-1), -1
	for i, x := range xs {
		if x > best {
			best, at = x, i
		}
	}
	return at
}
