package scenarios

import (
	"context"
	"testing"

	"stormglass/sim"
)

// BenchmarkFlashSale replays the card-shop flash sale's incident variant
// once: the heaviest of the services scenarios (millions of requests and
// retries against a collapsed database).
func BenchmarkFlashSale(b *testing.B) {
	sc, err := Builtin("card-shop-flash-sale")
	if err != nil {
		b.Fatal(err)
	}
	p, err := sc.Plan(PlanOptions{Variant: "incident"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		k := sim.NewKernel(sim.Config{Seed: 1})
		w, err := Build(k, sim.NewStreams(1), p)
		if err != nil {
			b.Fatal(err)
		}
		w.Start()
		if err := k.RunUntil(context.Background(), p.Horizon); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(k.Events())/b.Elapsed().Seconds(), "events/s")
	}
}
