package stats_test

import (
	"fmt"
	"time"

	"stormglass/sim/stats"
)

// A queue observed over virtual time, with the first 10 s discarded as
// warm-up.
func ExampleTimeWeighted() {
	q := stats.NewTimeWeighted(0, 0)
	q.Set(4*time.Second, 3)   // a burst arrives during warm-up
	q.Reset(10 * time.Second) // warm-up over: 3 customers still queued
	q.Set(12*time.Second, 1)
	q.Set(16*time.Second, 0)
	fmt.Printf("mean %.2f over [10s, 20s], max %v, area %v customer-seconds\n",
		q.Mean(20*time.Second), q.Max(), q.Area(20*time.Second))
	// Output: mean 1.00 over [10s, 20s], max 3, area 10 customer-seconds
}

func ExampleHistogram() {
	var h stats.Histogram // 0.5 % relative accuracy
	for i := 1; i <= 1000; i++ {
		h.Record(float64(i) / 1000) // 1 ms .. 1 s, in seconds
	}
	// Each percentile is within 0.5 % of the exact one (0.500 and 0.990).
	fmt.Printf("p50 %.3f s, p99 %.3f s, max %v s\n", h.P50(), h.P99(), h.Max())
	// Output: p50 0.498 s, p99 0.985 s, max 1 s
}

func ExampleSummarize() {
	// Mean response time (ms) of ten independent replications.
	runs := []float64{41.2, 39.8, 43.1, 40.5, 42.0, 38.9, 41.7, 40.2, 42.6, 39.5}
	s := stats.Summarize(runs, 0.95)
	fmt.Printf("%.2f ± %.2f ms (±%.1f %%)\n", s.Mean, s.HalfWidth, 100*s.RelHalfWidth())
	// Output: 40.95 ± 1.00 ms (±2.4 %)
}

func ExampleTimeWeightedSeries() {
	busy := stats.NewTimeWeightedSeries(time.Second, 0)
	busy.Set(500*time.Millisecond, 2) // two servers busy from 0.5 s
	busy.Set(2250*time.Millisecond, 1)
	fmt.Println(busy.Values(3 * time.Second))
	// Output: [1 2 1.25]
}
