package sim

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"runtime"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// tracedRun runs a small network (a CPU feeding a pool-guarded station)
// with timers through the virtual clock, hashes every departure, and
// returns the results as bytes.
func tracedRun(ctx context.Context, _ int, s Streams) (map[string]float64, error) {
	k := NewKernel(Config{Seed: s.Seed()})
	st := NewStation(k, "db", 3, 20, Seconds(distuv.LogNormal{Mu: -1, Sigma: 0.8, Src: s.Source("db")}))
	cpu := NewCPU(k, "app", 2, 1)
	pool := NewPool(k, "conns", 2)
	h := fnv.New64a()
	var buf [8]byte
	stamp := func(v int64) {
		for i := range buf {
			buf[i] = byte(v >> (8 * i))
		}
		h.Write(buf[:])
	}
	cpu.OnDone = func(id int64, _ time.Duration) {
		stamp(int64(k.Now()))
		if pool.Acquire(id, 500*time.Millisecond) == Granted {
			st.Arrive(id)
		}
	}
	pool.OnGrant = func(id int64, _ time.Duration) { st.Arrive(id) }
	st.OnDepart = func(c Customer) { stamp(c.ID); stamp(int64(c.Departed)); pool.Release() }
	work := distuv.Gamma{Alpha: 2, Beta: 20, Src: s.Source("work")}
	inter := distuv.Exponential{Rate: 15, Src: s.Source("arrivals")}
	var next int64
	var arrive func()
	arrive = func() {
		cpu.Submit(next, work.Rand())
		next++
		k.Clock().AfterFunc(DurationOf(inter.Rand()), arrive)
	}
	k.AfterFunc(0, arrive)
	if err := k.RunUntil(ctx, 2000*time.Second); err != nil {
		return nil, err
	}
	m := st.Metrics()
	return map[string]float64{
		"trace":    float64(h.Sum64() >> 11), // exactly representable
		"events":   float64(k.Events()),
		"response": m.ResponseMean,
		"p99":      st.Stats.ResponseHist.P99(),
		"timeouts": float64(pool.Stats.TimedOut.Count()),
		"cpu":      cpu.Utilization(),
	}, nil
}

func replicatedBytes(t *testing.T, seed uint64) []byte {
	t.Helper()
	res, err := Replicate(context.Background(), seed, ReplicateOptions{Replications: 6}, tracedRun)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSameSeedGivesByteIdenticalResults(t *testing.T) {
	first := replicatedBytes(t, 9)
	if again := replicatedBytes(t, 9); string(again) != string(first) {
		t.Fatalf("two runs with the same seed differ:\n%s\n%s", first, again)
	}
	prev := runtime.GOMAXPROCS(1)
	one := replicatedBytes(t, 9)
	runtime.GOMAXPROCS(2)
	two := replicatedBytes(t, 9)
	runtime.GOMAXPROCS(prev)
	if string(one) != string(first) || string(two) != string(first) {
		t.Fatalf("results depend on GOMAXPROCS:\n1: %s\n2: %s", one, two)
	}
	if other := replicatedBytes(t, 10); string(other) == string(first) {
		t.Fatal("a different seed gave the same results: the seed is not reaching the model")
	}
}

func TestSequentialStoppingReachesTheTargetDeterministically(t *testing.T) {
	run := func(workers int) *Replicated {
		res, err := Replicate(context.Background(), 5, ReplicateOptions{
			Replications: 4, Workers: workers, TargetRelHalfWidth: 0.01,
			TargetMetrics: []string{"response"}, BatchSize: 4, MaxReplications: 200,
		}, tracedRun)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(1), run(2)
	m, _ := a.Metric("response")
	if !a.TargetMet || m.RelHalfWidth() > 0.01 {
		t.Fatalf("target not met: %d replications, relative half-width %.4f", len(a.Runs), m.RelHalfWidth())
	}
	if len(a.Runs) <= 4 {
		t.Fatalf("the target was met after the first batch (%.4f): the test does not exercise stopping", m.RelHalfWidth())
	}
	if len(a.Runs) != len(b.Runs) {
		t.Fatalf("stopped after %d replications with one worker and %d with two", len(a.Runs), len(b.Runs))
	}
}
