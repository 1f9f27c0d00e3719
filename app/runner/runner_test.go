package runner

import (
	"context"
	"encoding/json"
	"testing"

	"stormglass/scenarios"
)

func plan(t *testing.T, name string, opt scenarios.PlanOptions) *scenarios.Plan {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sc.Plan(opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Results must not depend on how many replications run at once.
func TestResultsDoNotDependOnWorkers(t *testing.T) {
	p := plan(t, "checkout", scenarios.PlanOptions{Replications: 4, Horizon: 15 * 60e9})
	encode := func(workers int) string {
		r, err := Run(context.Background(), p, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a, b := encode(1), encode(4); a != b {
		t.Fatal("1 worker and 4 workers gave different results")
	}
}

func TestProgressReachesOneAndNeverGoesBack(t *testing.T) {
	p := plan(t, "mm1", scenarios.PlanOptions{Replications: 3})
	var seen []float64
	_, err := Run(context.Background(), p, Options{Progress: func(f float64) { seen = append(seen, f) }, ProgressEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[len(seen)-1] != 1 {
		t.Fatalf("progress ended at %v, want 1", seen)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	p := plan(t, "mm1", scenarios.PlanOptions{Replications: 2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, p, Options{}); err == nil {
		t.Fatal("a cancelled run returned no error")
	}
}

func TestJudgeSaysUncertainWhenTheIntervalStraddlesTheBound(t *testing.T) {
	max := 1.0
	slo := scenarios.SLO{Name: "x", Metric: "m", Stat: "mean", Max: &max}
	runs := func(xs ...float64) []map[string]float64 {
		out := make([]map[string]float64, len(xs))
		for i, x := range xs {
			out[i] = map[string]float64{"m": x}
		}
		return out
	}
	for _, tc := range []struct {
		xs   []float64
		want string
	}{
		{[]float64{0.5, 0.6, 0.55, 0.52}, VerdictMet},
		{[]float64{1.5, 1.6, 1.55, 1.52}, VerdictViolated},
		{[]float64{0.5, 1.5, 0.9, 1.2}, VerdictUncertain},
	} {
		if got := judge(slo, runs(tc.xs...)).Verdict; got != tc.want {
			t.Errorf("%v: verdict %s, want %s", tc.xs, got, tc.want)
		}
	}
}
