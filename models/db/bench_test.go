package db

import (
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim"
)

// BenchmarkExec measures the processor-sharing path with the knee: a
// closed loop of 64 clients (past the knee of 32) issuing queries of
// exponential cost back to back. One iteration is one kernel event, that
// is one completion, its callback's next Exec, and the rescheduling of
// the completion event.
func BenchmarkExec(b *testing.B) {
	k := sim.NewKernel(sim.Config{Seed: 1})
	d := mustNew(b, k, baseConfig())
	costs := distuv.Exponential{Rate: 100, Src: k.Streams().Source("cost")}
	for range 64 {
		c := mustOpen(b, d)
		var loop func(error)
		loop = func(error) { d.Exec(c, costs.Rand(), loop) }
		d.Exec(c, costs.Rand(), loop)
	}
	for range 10000 { // reach the working size of every slice and heap
		k.Step()
	}
	b.ReportAllocs()
	for b.Loop() {
		k.Step()
	}
	b.ReportMetric(float64(d.Stats().Completed)/float64(b.Elapsed().Seconds()), "queries/s")
}
