package runner

import (
	"context"
	"fmt"

	"stormglass/scenarios"
	"stormglass/sim/stats"
)

// Comparison is two variants of a scenario run side by side on common
// random numbers.
type Comparison struct {
	Scenario string           `json:"scenario"`
	A        *Result          `json:"a"`
	B        *Result          `json:"b"`
	Diff     map[string]*Diff `json:"differences"` // B − A per metric, station metrics as station.NAME.FIELD
}

// Diff is the difference B − A of a metric's mean, with the 95 %
// interval of the paired per-replication differences.
type Diff struct {
	Mean     float64     `json:"mean"`
	CI95     *[2]float64 `json:"ci95,omitempty"`
	Relative *float64    `json:"relative,omitempty"` // (B − A) / A, when A ≠ 0
	// Significant reports whether the interval excludes zero.
	Significant bool `json:"significant"`
}

// Compare runs plans a and b (two variants of one scenario) with a's seed
// and number of replications, and estimates each metric's difference.
func Compare(ctx context.Context, a, b *scenarios.Plan, opt Options) (*Comparison, error) {
	if a.Scenario != b.Scenario {
		return nil, fmt.Errorf("runner: compare needs two variants of one scenario")
	}
	bb := *b
	bb.Seed, bb.Replications = a.Seed, a.Replications
	progress := opt.Progress
	half := func(offset float64) Options {
		o := opt
		if progress != nil {
			o.Progress = func(f float64) { progress(offset + f/2) }
		}
		return o
	}
	ra, err := Run(ctx, a, half(0))
	if err != nil {
		return nil, fmt.Errorf("variant %s: %w", a.Variant, err)
	}
	rb, err := Run(ctx, &bb, half(0.5))
	if err != nil {
		return nil, fmt.Errorf("variant %s: %w", b.Variant, err)
	}
	c := &Comparison{Scenario: a.Scenario.Meta.Name, A: ra, B: rb, Diff: map[string]*Diff{}}
	for _, name := range ra.MetricOrder {
		ds := make([]float64, len(ra.PerReplication))
		for i := range ra.PerReplication {
			ds[i] = rb.PerReplication[i][name] - ra.PerReplication[i][name]
		}
		d := &Diff{Mean: mean(ds)}
		if len(ds) > 1 {
			s := stats.Summarize(ds, 0.95)
			d.CI95 = &[2]float64{s.Lo, s.Hi}
			d.Significant = s.Lo > 0 || s.Hi < 0
		}
		if av := ra.lookup(name).Mean; av != 0 {
			rel := d.Mean / av
			d.Relative = &rel
		}
		c.Diff[name] = d
	}
	return c, nil
}
