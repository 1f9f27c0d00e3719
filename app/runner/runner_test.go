package runner

import (
	"context"
	"encoding/json"
	"errors"
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

// A metric's interval never reaches below zero (no metric is negative),
// and above zero it is the t interval unchanged.
func TestIntervalIsCutAtZero(t *testing.T) {
	cut := interval95([]float64{0, 106}) // mean 53, t interval about [−620, 726]
	if cut[0] != 0 || cut[1] < 600 {
		t.Errorf("interval of {0, 106} = %v, want [0, >600]", *cut)
	}
	whole := interval95([]float64{10, 11, 12})
	if whole[0] <= 8 || whole[0] >= 11 || whole[1] <= 11 || whole[1] >= 14 || whole[0]+whole[1] != 22 {
		t.Errorf("interval of {10, 11, 12} = %v, want symmetric about 11", *whole)
	}
	max := 100.0
	v := judge(scenarios.SLO{Name: "errors", Metric: "m", Stat: "mean", Max: &max},
		[]map[string]float64{{"m": 0}, {"m": 106}})
	if v.CI95 == nil || v.CI95[0] != 0 {
		t.Errorf("objective interval %v, want it cut at 0", v.CI95)
	}
}

// Differences pairs stored results the way Compare pairs fresh runs, and
// refuses results whose replications cannot be paired.
func TestDifferencesPairReplications(t *testing.T) {
	a := &Result{Scenario: "s", Seed: 1, MetricOrder: []string{"m"}, Metrics: map[string]*Stat{"m": {Mean: 2}},
		PerReplication: []map[string]float64{{"m": 1}, {"m": 3}}}
	b := &Result{Scenario: "s", Seed: 1, MetricOrder: []string{"m"}, Metrics: map[string]*Stat{"m": {Mean: 4}},
		PerReplication: []map[string]float64{{"m": 3.1}, {"m": 5}}}
	d, err := Differences(a, b)
	if err != nil {
		t.Fatal(err)
	}
	// Paired, the differences 2.1 and 2 are nearly constant: significant,
	// though unpaired the two samples overlap.
	if m := d["m"]; m == nil || m.Mean != 2.05 || !m.Significant || m.Relative == nil || *m.Relative != 1.025 {
		t.Errorf("difference %+v, want mean 2.05, significant, relative 1.025", d["m"])
	}
	for _, bad := range []*Result{
		{Scenario: "other", Seed: 1, PerReplication: b.PerReplication},
		{Scenario: "s", Seed: 2, PerReplication: b.PerReplication},
		{Scenario: "s", Seed: 1, PerReplication: b.PerReplication[:1]},
	} {
		if _, err := Differences(a, bad); !errors.Is(err, ErrNotPaired) {
			t.Errorf("Differences with %s seed %d, %d replications: error %v, want ErrNotPaired",
				bad.Scenario, bad.Seed, len(bad.PerReplication), err)
		}
	}
}
