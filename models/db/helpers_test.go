package db

import (
	"context"
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim"
	"stormglass/sim/stats"
)

// baseConfig is an instance of 8 cores at speed 1 thrashing past 32
// queries, with room for every connection a test opens and no memory
// limit.
func baseConfig() Config {
	return Config{
		Cores: 8, Speed: 1, Knee: 32, Thrash: 0.05,
		MaxConnections:         100000,
		MemoryPerConnection:    1 << 20,
		MemoryPerConnectionMax: 1 << 20,
		RestartTime:            10 * time.Second,
	}
}

func newKernel(seed uint64) *sim.Kernel { return sim.NewKernel(sim.Config{Seed: seed}) }

func mustNew(t testing.TB, k *sim.Kernel, cfg Config) *Instance {
	t.Helper()
	d, err := New(k, "db", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustPool(t testing.TB, k *sim.Kernel, d *Instance, name string, cfg PoolConfig) *Pool {
	t.Helper()
	p, err := NewPool(k, name, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustOpen(t testing.TB, d *Instance) Conn {
	t.Helper()
	c, err := d.Open()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run(t testing.TB, k *sim.Kernel, until time.Duration) {
	t.Helper()
	if err := k.RunUntil(context.Background(), until); err != nil {
		t.Fatal(err)
	}
}

func exponential(rate float64, src sim.Streams, name string) func() time.Duration {
	return sim.Seconds(distuv.Exponential{Rate: rate, Src: src.Source(name)})
}

func secs(s float64) time.Duration { return sim.DurationOf(s) }

// checkCI logs a replicated estimate against theory and reports whether
// theory is inside the 95 % interval; it fails the test when the relative
// error reaches tol.
func checkCI(t *testing.T, name string, samples []float64, want, tol float64) bool {
	t.Helper()
	s := stats.Summarize(samples, 0.95)
	rel := math.Abs(s.Mean-want) / want
	t.Logf("%s: theory %.5g  sim %.5g  95%% CI [%.5g, %.5g]  rel.err %.2f%%  (n=%d)",
		name, want, s.Mean, s.Lo, s.Hi, 100*rel, s.N)
	if rel >= tol {
		t.Errorf("%s: relative error %.2f%% ≥ %.0f%%", name, 100*rel, 100*tol)
	}
	if !s.Contains(want) {
		t.Logf("%s: theory %.5g outside the 95%% CI", name, want)
		return false
	}
	return true
}

// replicate runs n replications of f in parallel, each with its own
// streams, and returns the metrics by name, in replication order.
func replicate(t *testing.T, seed uint64, n int, f func(s sim.Streams) map[string]float64) map[string][]float64 {
	t.Helper()
	res, err := sim.Replicate(context.Background(), seed, sim.ReplicateOptions{Replications: n},
		func(_ context.Context, _ int, s sim.Streams) (map[string]float64, error) { return f(s), nil })
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, r := range res.Runs {
		for _, m := range res.Metrics {
			out[m.Name] = append(out[m.Name], r[m.Name])
		}
	}
	return out
}
