package sim

import (
	"context"
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim/queueing"
)

func TestPoolGrantsInOrderAndTimesOut(t *testing.T) {
	k := NewKernel(Config{})
	p := NewPool(k, "db", 2)
	var log []string
	p.OnGrant = func(tag int64, waited time.Duration) {
		log = append(log, "grant", time.Duration(tag).String(), waited.String())
	}
	p.OnTimeout = func(tag int64, waited time.Duration) {
		log = append(log, "timeout", time.Duration(tag).String(), waited.String())
	}
	if p.Acquire(1, time.Second) != Granted || p.Acquire(2, time.Second) != Granted {
		t.Fatal("free permits must be granted at once")
	}
	if p.Acquire(3, 0) != Rejected {
		t.Fatal("with no permit free and no waiting allowed, Acquire must reject")
	}
	p.Acquire(3, 3*time.Second) // times out at 3 s
	p.Acquire(4, time.Hour)     // gets the permit released at 5 s
	p.Acquire(5, -1)            // waits forever; gets the one released at 6 s
	k.AfterFunc(5*time.Second, p.Release)
	k.AfterFunc(6*time.Second, p.Release)
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"timeout", "3ns", "3s", "grant", "4ns", "5s", "grant", "5ns", "6s"}
	if len(log) != len(want) {
		t.Fatalf("log = %v, want %v", log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Fatalf("log = %v, want %v", log, want)
		}
	}
	st := &p.Stats
	if st.Granted.Count() != 4 || st.TimedOut.Count() != 1 || st.Rejected.Count() != 1 || st.Queued.Count() != 3 {
		t.Fatalf("counts: granted %d timed out %d rejected %d queued %d",
			st.Granted.Count(), st.TimedOut.Count(), st.Rejected.Count(), st.Queued.Count())
	}
	if p.InUse() != 2 || p.Waiting() != 0 || k.Pending() != 0 {
		t.Fatalf("in use %d, waiting %d, pending events %d: a served waiter's timeout must be cancelled",
			p.InUse(), p.Waiting(), k.Pending())
	}
}

func TestPoolResizeServesWaiters(t *testing.T) {
	k := NewKernel(Config{})
	p := NewPool(k, "workers", 1)
	granted := 0
	p.OnGrant = func(int64, time.Duration) { granted++ }
	p.Acquire(1, -1)
	p.Acquire(2, -1)
	p.Acquire(3, -1)
	p.SetSize(3)
	if granted != 2 || p.InUse() != 3 {
		t.Fatalf("growing the pool granted %d waiters, in use %d", granted, p.InUse())
	}
}

// TestPoolAsLossSystemMatchesErlangB: a pool with no waiting, fed by Poisson
// arrivals holding permits for exponential times, is the M/M/c/c loss system.
func TestPoolAsLossSystemMatchesErlangB(t *testing.T) {
	const c, a = 10, 7.0
	k := NewKernel(Config{Seed: 3})
	p := NewPool(k, "lines", c)
	hold := distuv.Exponential{Rate: 1, Src: k.Streams().Source("hold")}
	inter := distuv.Exponential{Rate: a, Src: k.Streams().Source("arrivals")}
	var arrive func()
	arrive = func() {
		if p.Acquire(0, 0) == Granted {
			k.AfterFunc(DurationOf(hold.Rand()), p.Release)
		}
		k.AfterFunc(DurationOf(inter.Rand()), arrive)
	}
	k.AfterFunc(0, arrive)
	if err := k.RunUntil(context.Background(), 200_000*time.Second); err != nil {
		t.Fatal(err)
	}
	attempts := float64(p.Stats.Granted.Count() + p.Stats.Rejected.Count())
	got := float64(p.Stats.Rejected.Count()) / attempts
	want := queueing.ErlangB(c, a)
	// 1.4 M attempts: the binomial standard error is far below 3 %.
	if math.Abs(got-want)/want > 0.03 {
		t.Fatalf("blocking %.5f, Erlang B %.5f", got, want)
	}
	if util := p.Stats.InUse.Mean(k.Now()); math.Abs(util-a*(1-want))/(a*(1-want)) > 0.02 {
		t.Fatalf("mean permits in use %.4f, want a(1−B) = %.4f", util, a*(1-want))
	}
}

func TestQueueBoundsAndCounts(t *testing.T) {
	k := NewKernel(Config{})
	q := NewQueue[string](k, "updates", 2)
	if !q.Push("a") || !q.Push("b") || q.Push("c") {
		t.Fatal("a queue of 2 must take 2 items and refuse the third")
	}
	q.SetCap(3)
	if !q.Push("c") || !q.Full() {
		t.Fatal("raising the limit must admit more")
	}
	q.SetCap(1)
	if q.Push("d") || q.Len() != 3 {
		t.Fatal("lowering the limit drops nothing and refuses new items")
	}
	_ = k.RunUntil(context.Background(), 2*time.Second)
	for _, want := range []string{"a", "b", "c"} {
		if v, ok := q.Pop(); !ok || v != want {
			t.Fatalf("Pop = %q, %v; want %q", v, ok, want)
		}
	}
	if _, ok := q.Pop(); ok {
		t.Fatal("Pop of an empty queue must report false")
	}
	if q.Stats.Accepted.Count() != 3 || q.Stats.Refused.Count() != 2 || q.Stats.Wait.Mean() != 2 {
		t.Fatalf("accepted %d refused %d mean wait %v", q.Stats.Accepted.Count(), q.Stats.Refused.Count(), q.Stats.Wait.Mean())
	}
	if got := q.Stats.Length.Mean(k.Now()); got != 3 {
		t.Fatalf("time-average length %v, want 3", got)
	}
}

func TestCPUSharesEqually(t *testing.T) {
	k := NewKernel(Config{})
	cpu := NewCPU(k, "node", 2, 1)
	done := map[int64]time.Duration{}
	cpu.OnDone = func(id int64, _ time.Duration) { done[id] = k.Now() }
	// Four jobs of 1 s on two cores: each runs at half speed, all end at 2 s.
	for id := range int64(4) {
		cpu.Submit(id, 1)
	}
	// A fifth job of 0.5 s arrives at 1 s: from then on five share two
	// cores at 0.4 each. It ends at 1 + 0.5/0.4 = 2.25 s; the others have
	// 0.5 left at 1 s and so also need 1.25 s more: all end together.
	k.AfterFunc(time.Second, func() { cpu.Submit(4, 0.5) })
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id, at := range done {
		if d := at - 2250*time.Millisecond; d < 0 || d > 2 {
			t.Errorf("job %d ended at %v, want 2.25s", id, at)
		}
	}
	if len(done) != 5 {
		t.Fatalf("%d jobs finished, want 5", len(done))
	}
	// Busy cores were 2 throughout: utilisation 1.
	if u := cpu.Utilization(); math.Abs(u-1) > 1e-9 {
		t.Fatalf("utilisation %v, want 1", u)
	}
}

func TestCPUBackgroundThreadsTakeTheirShare(t *testing.T) {
	k := NewKernel(Config{})
	cpu := NewCPU(k, "node", 4, 1)
	var ends []time.Duration
	cpu.OnDone = func(int64, time.Duration) { ends = append(ends, k.Now()) }
	// A job of 1 s alone on 4 cores beside 7 hog threads: it gets 4/8 of a
	// core, so it ends at 2 s. From 2 s the hog stops and a second job of
	// 1 s runs at full speed: it ends at 3 s.
	cpu.SetBackground(7)
	cpu.Submit(0, 1)
	k.AfterFunc(2*time.Second, func() {
		cpu.SetBackground(0)
		cpu.Submit(1, 1)
	})
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{2 * time.Second, 3 * time.Second}
	for i, at := range ends {
		if d := at - want[i]; d < 0 || d > 2 {
			t.Errorf("job %d ended at %v, want %v", i, at, want[i])
		}
	}
	if len(ends) != 2 {
		t.Fatalf("%d jobs finished, want 2", len(ends))
	}
	// Busy cores: 4 for 2 s, then 1 for 1 s, of 4 cores for 3 s: 9/12.
	if u := cpu.Utilization(); math.Abs(u-0.75) > 1e-9 {
		t.Errorf("utilisation %v, want 0.75: the hog counts as busy", u)
	}
}

func TestCPUChangeOfTierKeepsWorkDone(t *testing.T) {
	k := NewKernel(Config{})
	cpu := NewCPU(k, "node", 1, 1)
	var end time.Duration
	cpu.OnDone = func(int64, time.Duration) { end = k.Now() }
	cpu.Submit(1, 10)                                               // 10 s of work
	k.AfterFunc(4*time.Second, func() { cpu.SetCapacity(1, 0.25) }) // free tier: quarter speed
	_ = k.Run(context.Background())
	if want := 4*time.Second + 24*time.Second; end-want > 2 || end < want {
		t.Fatalf("job ended at %v, want %v (4 s at full speed, 6 s of work at 0.25)", end, want)
	}
}

// TestCPUProcessorSharingMatchesTheory: M/M/1-PS has mean response
// 1/(μ − λ), and a job's expected response is proportional to its size,
// x/(1 − ρ), whatever the distribution.
func TestCPUProcessorSharingMatchesTheory(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical validation; make test runs it in the full (non-short) pass")
	}
	const lambda, mu = 0.8, 1.0
	res, err := Replicate(context.Background(), 77, ReplicateOptions{Replications: 10},
		func(ctx context.Context, _ int, s Streams) (map[string]float64, error) {
			k := NewKernel(Config{Seed: s.Seed()})
			cpu := NewCPU(k, "cpu", 1, 1)
			size := distuv.Exponential{Rate: mu, Src: s.Source("size")}
			inter := distuv.Exponential{Rate: lambda, Src: s.Source("arrivals")}
			sizes := map[int64]float64{}
			var small, smallN float64 // jobs of size < 0.5: response / size
			cpu.OnDone = func(id int64, arrived time.Duration) {
				if x := sizes[id]; x < 0.5 && x > 0.01 {
					small += (k.Now() - arrived).Seconds() / x
					smallN++
				}
				delete(sizes, id)
			}
			var next int64
			var arrive func()
			arrive = func() {
				x := size.Rand()
				sizes[next] = x
				cpu.Submit(next, x)
				next++
				k.AfterFunc(DurationOf(inter.Rand()), arrive)
			}
			k.AfterFunc(0, arrive)
			if err := k.RunUntil(ctx, 50_000*time.Second); err != nil {
				return nil, err
			}
			cpu.ResetStats()
			small, smallN = 0, 0
			if err := k.RunUntil(ctx, 550_000*time.Second); err != nil {
				return nil, err
			}
			return map[string]float64{"W": cpu.Stats.Response.Mean(), "slowdown": small / smallN}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := queueing.MM1PS(lambda, mu)
	for name, w := range map[string]float64{"W": want.W, "slowdown": 1 / (1 - lambda/mu)} {
		m, _ := res.Metric(name)
		t.Logf("%s: theory %.4g, sim %.4g [%.4g, %.4g]", name, w, m.Mean, m.Lo, m.Hi)
		if !m.Contains(w) || math.Abs(m.Mean-w)/w > 0.02 {
			t.Errorf("%s: theory %.4g outside [%.4g, %.4g] or off by more than 2 %%", name, w, m.Lo, m.Hi)
		}
	}
}

func TestSourceLimitStopAndStart(t *testing.T) {
	k := NewKernel(Config{})
	var at []time.Duration
	var ids []int64
	src := NewSource(k, Fixed(time.Second), func(id int64) { ids = append(ids, id); at = append(at, k.Now()) })
	src.SetLimit(5)
	src.Start()
	src.Start() // a second Start must not add a second stream of arrivals
	k.AfterFunc(2500*time.Millisecond, src.Stop)
	k.AfterFunc(10*time.Second, src.Start)
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 10 * time.Second, 11 * time.Second}
	if len(at) != len(want) || src.Arrivals() != 5 {
		t.Fatalf("arrivals at %v (ids %v), want %v", at, ids, want)
	}
	for i := range want {
		if at[i] != want[i] || ids[i] != int64(i) {
			t.Fatalf("arrivals at %v (ids %v), want %v", at, ids, want)
		}
	}
}
