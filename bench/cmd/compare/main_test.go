package main

import (
	"math"
	"testing"

	"stormglass/sim/queueing"
)

// TestMMcModels checks that the M/M/c models the benchmark times are the
// right models: their mean wait must land near Erlang C's. It is a sanity
// check, not a timing test. At ρ = 0.9 the queue forgets its past slowly,
// so one run of 20,000 customers lands anywhere within ±35 % of the truth
// and one of 50,000 has a standard deviation of 13 %. The test therefore
// averages 16 independent runs of 50,000 (standard deviation about 3 %,
// under half a second in all): a 15 % miss then means a wrong model, not
// bad luck.
func TestMMcModels(t *testing.T) {
	const (
		customers = 50_000
		reps      = 16
		tolerance = 0.15
	)
	want, err := queueing.MMc(mmcLambda, mmcMu, mmcServers)
	if err != nil {
		t.Fatal(err)
	}
	engines := []struct {
		name string
		run  func(n int, seed uint64) result
	}{
		{"handwritten", mmcHandwritten},
		{"stormglass", mmcStormglass},
		{"kernel-only", mmcKernelOnly},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			var sum float64
			for i := range reps {
				r := e.run(customers, uint64(i+1))
				if r.Work != customers || r.Events != 2*customers {
					t.Fatalf("seed %d: served %d customers in %d events, want %d in %d",
						i+1, r.Work, r.Events, customers, 2*customers)
				}
				sum += r.Wq
			}
			wq := sum / reps
			rel := (wq - want.Wq) / want.Wq
			t.Logf("Wq %.4f, Erlang C %.4f, rel. error %+.1f%%", wq, want.Wq, 100*rel)
			if math.Abs(rel) > tolerance {
				t.Errorf("Wq %.4f is %+.1f%% from Erlang C's %.4f (tolerance %.0f%%)", wq, 100*rel, want.Wq, 100*tolerance)
			}
		})
	}
}
