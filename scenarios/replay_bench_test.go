package scenarios

import (
	"context"
	"syscall"
	"testing"
	"time"

	"stormglass/sim"
)

// BenchmarkOutageReplay runs one replication of the flagship replay, the
// reactive-outage-2025 incident variant: 05:00 to 14:00 of a day with over
// 100,000 tabs. The goal is under 30 s and under 1 GiB on a 2-core machine;
// run it alone (make bench does), since peak RSS is the whole process's:
//
//	go test -run '^$' -bench OutageReplay -benchtime 1x ./scenarios/
func BenchmarkOutageReplay(b *testing.B) {
	sc, err := Builtin("reactive-outage-2025")
	if err != nil {
		b.Fatal(err)
	}
	plan, err := sc.Plan(PlanOptions{Variant: "incident"})
	if err != nil {
		b.Fatal(err)
	}
	var events uint64
	var tabs float64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		k := sim.NewKernel(sim.Config{})
		w, err := Build(k, sim.NewStreams(plan.Seed).Replication(i), plan)
		if err != nil {
			b.Fatal(err)
		}
		w.Start()
		if err := k.RunUntil(context.Background(), plan.Horizon); err != nil {
			b.Fatal(err)
		}
		events += k.Events()
		for _, m := range w.Measure() {
			if m.Name == "clients_total" {
				tabs = m.Value
			}
		}
	}
	wall := time.Since(start).Seconds()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB") // Linux reports KiB
	}
	b.ReportMetric(wall/float64(b.N), "s/replay")
	b.ReportMetric(float64(events)/wall/1e6, "Mevents/s")
	b.ReportMetric(plan.Horizon.Seconds()*float64(b.N)/wall, "sim-s/s")
	b.ReportMetric(tabs, "tabs")
}
