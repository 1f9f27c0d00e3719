package sim

import (
	"context"
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim/queueing"
)

// queueCase is a single-station queue and what theory says of it.
type queueCase struct {
	name      string
	lambda    float64
	servers   int
	capacity  int
	service   func(Streams) func() time.Duration
	want      queueing.Metrics
	customers float64 // per replication, after warm-up
}

func expService(mu float64) func(Streams) func() time.Duration {
	return func(s Streams) func() time.Duration {
		return Seconds(distuv.Exponential{Rate: mu, Src: s.Source("service")})
	}
}

// runQueue is one replication: warm up for a tenth of the run, delete the
// warm-up, measure, and report the station's metrics.
func runQueue(ctx context.Context, s Streams, c queueCase) (map[string]float64, error) {
	k := NewKernel(Config{Seed: s.Seed()})
	st := NewStation(k, c.name, c.servers, c.capacity, c.service(s))
	var waited, served float64
	st.OnDepart = func(cu Customer) {
		served++
		if cu.Wait() > 0 {
			waited++
		}
	}
	NewSource(k, Seconds(distuv.Exponential{Rate: c.lambda, Src: s.Source("arrivals")}),
		func(id int64) { st.Arrive(id) }).Start()
	horizon := DurationOf(c.customers / c.lambda)
	if err := k.RunUntil(ctx, horizon/10); err != nil {
		return nil, err
	}
	st.ResetStats()
	waited, served = 0, 0
	if err := k.RunUntil(ctx, horizon/10+horizon); err != nil {
		return nil, err
	}
	m := st.Metrics()
	return map[string]float64{
		"Wq":     m.WaitMean,
		"W":      m.ResponseMean,
		"L":      m.SystemMean,
		"Lq":     m.QueueMean,
		"X":      m.Throughput,
		"PBlock": m.BlockedFraction,
		"PWait":  waited / served,
		"Util":   m.Utilization,
	}, nil
}

func mustMetrics(m queueing.Metrics, err error) queueing.Metrics {
	if err != nil {
		panic(err)
	}
	return m
}

// TestQueuesAgainstClosedForms is the kernel's proof of truth: single
// stations simulated with independent replications must reproduce the
// closed forms of queueing theory (Erlang C, Pollaczek–Khinchine, M/M/c/K)
// at loads up to ρ = 0.95. Every estimate must be within 2 % of its closed
// form, and the closed form must lie inside the replications' 95 %
// confidence interval.
//
// A correct simulator misses a 95 % interval one time in twenty, so among
// the ~50 intervals here a few misses are expected; demanding none would
// only make the test pass or fail by the choice of seed. The test therefore
// logs every miss and fails when there are more than a correct simulator
// would produce with probability 0.999 (a binomial bound), which a biased
// model exceeds at once. Little's law, L = λ·W, is checked on every
// replication of every station.
func TestQueuesAgainstClosedForms(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical validation takes tens of seconds; make test runs it in the full (non-short) pass")
	}
	det := func(d float64) func(Streams) func() time.Duration {
		return func(Streams) func() time.Duration { return Fixed(DurationOf(d)) }
	}
	cases := []queueCase{
		{name: "M/M/1 ρ=0.5", lambda: 0.5, servers: 1, service: expService(1), want: mustMetrics(queueing.MMc(0.5, 1, 1)), customers: 4e5},
		{name: "M/M/1 ρ=0.8", lambda: 0.8, servers: 1, service: expService(1), want: mustMetrics(queueing.MMc(0.8, 1, 1)), customers: 1e6},
		{name: "M/M/1 ρ=0.95", lambda: 0.95, servers: 1, service: expService(1), want: mustMetrics(queueing.MMc(0.95, 1, 1)), customers: 4e6},
		{name: "M/M/8 ρ=0.5", lambda: 4, servers: 8, service: expService(1), want: mustMetrics(queueing.MMc(4, 1, 8)), customers: 4e5},
		{name: "M/M/8 ρ=0.9", lambda: 7.2, servers: 8, service: expService(1), want: mustMetrics(queueing.MMc(7.2, 1, 8)), customers: 1e6},
		{name: "M/M/8 ρ=0.95", lambda: 7.6, servers: 8, service: expService(1), want: mustMetrics(queueing.MMc(7.6, 1, 8)), customers: 4e6},
		{name: "M/D/1 ρ=0.5", lambda: 0.5, servers: 1, service: det(1), want: mustMetrics(queueing.MD1(0.5, 1)), customers: 4e5},
		{name: "M/D/1 ρ=0.9", lambda: 0.9, servers: 1, service: det(1), want: mustMetrics(queueing.MD1(0.9, 1)), customers: 2e6},
		{name: "M/M/4/10 ρ=0.8", lambda: 3.2, servers: 4, capacity: 10, service: expService(1), want: mustMetrics(queueing.MMcK(3.2, 1, 4, 10)), customers: 4e5},
		{name: "M/M/4/10 ρ=0.95", lambda: 3.8, servers: 4, capacity: 10, service: expService(1), want: mustMetrics(queueing.MMcK(3.8, 1, 4, 10)), customers: 4e5},
		{name: "M/M/4/10 ρ=1.5", lambda: 6, servers: 4, capacity: 10, service: expService(1), want: mustMetrics(queueing.MMcK(6, 1, 4, 10)), customers: 4e5},
	}
	var checks, misses int
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Replicate(context.Background(), uint64(1000+i), ReplicateOptions{Replications: 10},
				func(ctx context.Context, _ int, s Streams) (map[string]float64, error) { return runQueue(ctx, s, c) })
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]float64{"Wq": c.want.Wq, "W": c.want.W, "L": c.want.L, "PWait": c.want.PWait}
			if c.capacity > 0 {
				want["PBlock"] = c.want.PBlock
			}
			for _, name := range []string{"Wq", "W", "L", "PWait", "PBlock"} {
				want, ok := want[name]
				if !ok {
					continue
				}
				m, _ := res.Metric(name)
				rel := math.Abs(m.Mean-want) / want
				t.Logf("%-6s theory %.5g  sim %.5g  95%% CI [%.5g, %.5g]  rel.err %.2f%%", name, want, m.Mean, m.Lo, m.Hi, 100*rel)
				checks++
				if !m.Contains(want) {
					misses++
					t.Logf("%s: closed form %.5g outside the 95%% CI [%.5g, %.5g]", name, want, m.Lo, m.Hi)
				}
				if rel >= 0.02 {
					t.Errorf("%s: relative error %.2f%% ≥ 2%%", name, 100*rel)
				}
			}
			for i, r := range res.Runs {
				if little := math.Abs(r["L"]-r["X"]*r["W"]) / r["L"]; little > 0.005 {
					t.Errorf("replication %d: Little's law off by %.2f%%: L=%.5g, λW=%.5g", i, 100*little, r["L"], r["X"]*r["W"])
				}
				if little := math.Abs(r["Lq"]-r["X"]*r["Wq"]) / r["Lq"]; little > 0.005 {
					t.Errorf("replication %d: Little's law on the queue off by %.2f%%", i, 100*little)
				}
			}
		})
	}
	allowed := chanceMisses(checks, 0.05, 0.999)
	t.Logf("%d of %d closed forms outside their 95%% CI; chance alone allows up to %d", misses, checks, allowed)
	if misses > allowed {
		t.Errorf("%d of %d closed forms fell outside their 95%% CI: more than the %d chance allows", misses, checks, allowed)
	}
}

// chanceMisses is the smallest k with P(X ≤ k) ≥ level for X ~ Binomial(n,
// p): the most misses that chance explains at that level.
func chanceMisses(n int, p, level float64) int {
	b := distuv.Binomial{N: float64(n), P: p}
	k := 0
	for b.CDF(float64(k)) < level {
		k++
	}
	return k
}
