package runner

import (
	"context"
	"errors"
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
	diff, err := Differences(ra, rb)
	if err != nil {
		return nil, err
	}
	return &Comparison{Scenario: a.Scenario.Meta.Name, A: ra, B: rb, Diff: diff}, nil
}

// ErrNotPaired is returned by Differences for two results whose
// replications cannot be paired.
var ErrNotPaired = errors.New("runs cannot be paired")

// Differences estimates B − A for every metric of a from paired
// replications: replication i of each ran on the same random numbers, so
// the two results must be of one scenario with the same seed and number
// of replications (as Compare runs them, or two stored runs made so).
func Differences(a, b *Result) (map[string]*Diff, error) {
	switch {
	case a.Scenario != b.Scenario:
		return nil, fmt.Errorf("%w: scenarios %s and %s differ", ErrNotPaired, a.Scenario, b.Scenario)
	case a.Seed != b.Seed:
		return nil, fmt.Errorf("%w: seeds %d and %d differ", ErrNotPaired, a.Seed, b.Seed)
	case len(a.PerReplication) != len(b.PerReplication) || len(a.PerReplication) == 0:
		return nil, fmt.Errorf("%w: %d and %d replications", ErrNotPaired, len(a.PerReplication), len(b.PerReplication))
	}
	out := map[string]*Diff{}
	for _, name := range a.MetricOrder {
		ds := make([]float64, len(a.PerReplication))
		paired := true
		for i := range a.PerReplication {
			bv, ok := b.PerReplication[i][name]
			if !ok {
				paired = false
				break
			}
			ds[i] = bv - a.PerReplication[i][name]
		}
		if !paired {
			continue // a metric only a has (a scenario edited between runs)
		}
		d := &Diff{Mean: mean(ds)}
		if len(ds) > 1 {
			s := stats.Summarize(ds, 0.95)
			d.CI95 = &[2]float64{s.Lo, s.Hi}
			d.Significant = s.Lo > 0 || s.Hi < 0
		}
		if st := a.lookup(name); st != nil && st.Mean != 0 {
			rel := d.Mean / st.Mean
			d.Relative = &rel
		}
		out[name] = d
	}
	return out, nil
}
