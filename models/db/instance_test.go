package db

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim"
)

// closedLoop starts n clients on d, each on its own connection issuing
// queries of cost work back to back, the first at a random offset within
// one query's time alone so that completions are not in lock step.
func closedLoop(t testing.TB, k *sim.Kernel, d *Instance, n int, cost float64) {
	rng := k.Rand("start")
	for range n {
		c := mustOpen(t, d)
		var loop func(error)
		loop = func(err error) {
			if err != nil {
				t.Errorf("query failed: %v", err)
				return
			}
			d.Exec(c, cost, loop)
		}
		k.AfterFunc(secs(rng.Float64()*cost/d.cfg.Speed), func() { d.Exec(c, cost, loop) })
	}
}

// TestThroughputCurve holds the processor-sharing instance with its knee
// to its formula: a closed loop of N clients completes
// X(N) = Cores·Speed·min(1, N/Cores)/(1 + Thrash·max(0, N − Knee))/cost
// queries per second, below, at and above the cores and the knee.
func TestThroughputCurve(t *testing.T) {
	cfg := baseConfig()
	const cost = 0.01 // 10 ms alone: 800 queries/s at full speed
	peak := 0.0
	for _, n := range []int{1, 4, 8, 16, 32, 40, 64, 128} {
		k := newKernel(uint64(n))
		d := mustNew(t, k, cfg)
		closedLoop(t, k, d, n, cost)
		want := cfg.Capacity(n) / cost
		warm := secs(1)
		span := secs(20000 / want) // about 20,000 completions
		run(t, k, warm)
		d.ResetStats()
		run(t, k, warm+span)
		got := float64(d.Stats().Completed) / span.Seconds()
		rel := math.Abs(got-want) / want
		t.Logf("N=%-3d  X theory %8.3f/s  sim %8.3f/s  rel.err %.3f%%  executing %.2f",
			n, want, got, 100*rel, d.Stats().ExecutingMean)
		if rel >= 0.02 {
			t.Errorf("N=%d: throughput %.3f/s, formula %.3f/s: off by %.2f%% ≥ 2%%", n, got, want, 100*rel)
		}
		if n == cfg.Knee {
			peak = got
		}
		if n > cfg.Knee && got >= peak {
			t.Errorf("N=%d past the knee: throughput %.1f/s did not fall below the knee's %.1f/s", n, got, peak)
		}
	}
}

// psMeanExecuting is the mean number of queries executing in the open
// loop's birth–death chain: arrivals at rate λ, departures at
// C(n)/E[cost] with n executing. Processor sharing with a state-dependent
// rate is insensitive to the distribution of the cost, so only its mean
// matters. Past the n where C(n)/E[cost] falls below λ the chain drifts
// off into collapse; below it (the stable regime) the sum is taken until
// its terms vanish, which is the quasi-stationary distribution a run
// sees. (Below the cores the ratio λ/μ(n) may exceed 1, as in M/M/c.)
func psMeanExecuting(cfg Config, lambda, meanCost float64) float64 {
	p, sum, l := 1.0, 1.0, 0.0
	for n := 1; n < 1_000_000; n++ {
		ratio := lambda * meanCost / cfg.Capacity(n)
		if ratio >= 1 && n > cfg.Knee {
			break // the far side of the knee: collapse
		}
		p *= ratio
		sum += p
		l += float64(n) * p
		if p < 1e-18*sum {
			break
		}
	}
	return l / sum
}

// TestOpenLoopStable drives the instance with Poisson arrivals of queries
// below its capacity (ρ = 0.6 of the peak): the mean number executing
// must match the birth–death chain within the replications' confidence
// interval, and Little's law L = X·W must hold on every replication.
func TestOpenLoopStable(t *testing.T) {
	cfg := baseConfig()
	const meanCost, lambda = 0.01, 480.0 // peak 800/s
	want := psMeanExecuting(cfg, lambda, meanCost)
	const arrivals = 20000
	horizon := secs(arrivals / lambda)
	res := replicate(t, 50, 10, func(s sim.Streams) map[string]float64 {
		k := sim.NewKernel(sim.Config{Seed: s.Seed()})
		d := mustNew(t, k, cfg)
		conns := make([]Conn, 64)
		for i := range conns {
			conns[i] = mustOpen(t, d)
		}
		costs := distuv.Exponential{Rate: 1 / meanCost, Src: s.Source("cost")}
		done := func(err error) {
			if err != nil {
				t.Errorf("query failed: %v", err)
			}
		}
		sim.NewSource(k, exponential(lambda, s, "arrivals"), func(id int64) {
			d.Exec(conns[id%int64(len(conns))], costs.Rand(), done)
		}).Start()
		run(t, k, horizon/10)
		d.ResetStats()
		run(t, k, horizon/10+horizon)
		st := d.Stats()
		return map[string]float64{
			"L": st.ExecutingMean,
			"X": float64(st.Completed) / horizon.Seconds(),
			"W": st.Response.Mean(),
		}
	})
	checkCI(t, "mean executing", res["L"], want, 0.03)
	for i, l := range res["L"] {
		xw := res["X"][i] * res["W"][i]
		if rel := math.Abs(l-xw) / l; rel > 0.01 {
			t.Errorf("replication %d: Little's law off by %.2f%%: L=%.5g, X·W=%.5g", i, 100*rel, l, xw)
		}
	}
}

// TestOpenLoopCollapse is incident 5's shape: an instance whose peak is
// 5,000 queries per second (16 cores, 3.2 ms queries) offered 6,000 per
// second over many connections piles queries up, each one past the knee
// slows the rest, and the throughput falls far below the peak instead of
// holding at it. The same load admitted through a pool of Knee
// connections (the fix: admit no more than the instance can run, turn the
// rest away) holds the peak.
func TestOpenLoopCollapse(t *testing.T) {
	cfg := baseConfig()
	cfg.Cores, cfg.Knee, cfg.Thrash = 16, 64, 0.02
	const cost, lambda = 0.0032, 6000.0
	peak := cfg.Capacity(cfg.Knee) / cost
	if math.Abs(peak-5000) > 1e-6 {
		t.Fatalf("peak %v, want 5000/s", peak)
	}
	horizon := 8 * time.Second

	measure := func(pooled bool) (late float64, st InstanceStats, perSecond []int64) {
		k := newKernel(5)
		d := mustNew(t, k, cfg)
		var last int64
		for i := 1; i <= int(horizon/time.Second); i++ {
			k.AtFunc(time.Duration(i)*time.Second, func() {
				n := d.Stats().Completed
				perSecond = append(perSecond, n-last)
				last = n
			})
		}
		var p *Pool
		if pooled {
			p = mustPool(t, k, d, "app", PoolConfig{Min: cfg.Knee, Max: cfg.Knee, AcquireTimeout: 50 * time.Millisecond})
		}
		s := k.Streams()
		sim.NewSource(k, exponential(lambda, s, "arrivals"), func(id int64) {
			if !pooled {
				// A connection per request, as many as it takes.
				c := mustOpen(t, d)
				d.Exec(c, cost, func(error) { d.Close(c) })
				return
			}
			p.Acquire(func(c Conn, err error) {
				if err != nil {
					return // "busy, retry later"
				}
				d.Exec(c, cost, func(error) { p.Release(c) })
			})
		}).Start()
		run(t, k, horizon-2*time.Second)
		before := d.Stats().Completed
		run(t, k, horizon)
		st = d.Stats()
		return float64(st.Completed-before) / 2, st, perSecond
	}
	raw, rawSt, rawSeries := measure(false)
	fixed, fixedSt, fixedSeries := measure(true)
	t.Logf("completions per second, unprotected: %v; through the pool: %v", rawSeries, fixedSeries)
	t.Logf("peak %.0f/s; offered %.0f/s; unprotected: %.0f/s in the last 2 s, %d executing and %d connections at the end; through a pool of %d: %.0f/s with %d executing",
		peak, lambda, raw, rawSt.PeakExecuting, rawSt.PeakConnections, cfg.Knee, fixed, fixedSt.PeakExecuting)
	if raw > 0.5*peak {
		t.Errorf("unprotected instance kept %.0f/s of its %.0f/s peak in the last 2 s: no collapse", raw, peak)
	}
	if math.Abs(fixed-peak)/peak > 0.02 {
		t.Errorf("pooled instance ran %.0f/s, want its peak %.0f/s within 2%%", fixed, peak)
	}
}

// TestMemory holds memory to its formula: MemoryBase plus each
// connection's footprint, which grows by MemoryGrowth per query up to its
// cap; the OOM at the instant memory crosses the limit; the exact
// downtime; OnRestart hearing "oom".
func TestMemory(t *testing.T) {
	const (
		base   = 1e9
		perC   = 1e6
		growth = 1e5
		capC   = 1.5e6
	)
	cfg := baseConfig()
	cfg.MemoryBase, cfg.MemoryPerConnection, cfg.MemoryGrowth, cfg.MemoryPerConnectionMax = base, perC, growth, capC
	cfg.RestartTime = 7 * time.Second
	k := newKernel(1)
	d := mustNew(t, k, cfg)
	if d.Memory() != base {
		t.Fatalf("memory %v with no connection, want %v", d.Memory(), base)
	}
	conns := make([]Conn, 10)
	for i := range conns {
		conns[i] = mustOpen(t, d)
	}
	if got, want := d.Memory(), base+10*perC; got != want {
		t.Fatalf("memory %v with 10 connections, want %v", got, want)
	}
	// Eight queries on one connection: +growth each up to the cap (5
	// queries reach it).
	for range 8 {
		d.Exec(conns[0], 0.001, func(error) {})
	}
	run(t, k, time.Second)
	if got, want := d.Memory(), base+9*perC+capC; got != want {
		t.Fatalf("memory %v after 8 queries on one connection, want %v (capped)", got, want)
	}
	d.Exec(conns[1], 0.001, func(error) {})
	d.Exec(conns[1], 0.001, func(error) {})
	run(t, k, 2*time.Second)
	if got, want := d.Memory(), base+8*perC+capC+(perC+2*growth); got != want {
		t.Fatalf("memory %v, want %v", got, want)
	}
	d.Close(conns[0])
	if got, want := d.Memory(), base+8*perC+(perC+2*growth); got != want {
		t.Fatalf("memory %v after closing the grown connection, want %v", got, want)
	}

	// A limit 2.5 growths above the present: the third query from now
	// crosses it, at t = 5 s.
	cfg.MemoryLimit = d.Memory() + 2.5*growth
	d.ResetStats() // the peak so far was higher, before the close
	if err := d.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	var causes []string
	var causeAt time.Duration
	d.OnRestart(func(c string) { causes = append(causes, c); causeAt = k.Now() })
	var errs []error
	var errAt []time.Duration
	for i := range 3 {
		k.AtFunc(time.Duration(3+i)*time.Second, func() {
			d.Exec(conns[2], 1.5, func(err error) { errs = append(errs, err); errAt = append(errAt, k.Now()) })
		})
	}
	oomAt := 5 * time.Second
	run(t, k, oomAt-1)
	if !d.Up() {
		t.Fatal("down before the memory crossed the limit")
	}
	run(t, k, oomAt)
	if d.Up() || d.Stats().OOMs != 1 || d.Stats().Restarts != 1 {
		t.Fatalf("at %v: up %v, OOMs %d, restarts %d: want down after 1 OOM", k.Now(), d.Up(), d.Stats().OOMs, d.Stats().Restarts)
	}
	if len(causes) != 1 || causes[0] != CauseOOM || causeAt != oomAt {
		t.Errorf("OnRestart heard %v at %v, want [oom] at %v", causes, causeAt, oomAt)
	}
	if st := d.Stats(); st.PeakMemory != cfg.MemoryLimit+0.5*growth {
		t.Errorf("peak memory %v, want %v (the value that crossed the limit)", st.PeakMemory, cfg.MemoryLimit+0.5*growth)
	}
	// Each query takes 1.5 s: the first finished at 4.5 s; the one started
	// at 4 s and the one that crossed the limit at 5 s fail at the OOM.
	if len(errs) != 3 || errs[0] != nil || !errors.Is(errs[1], ErrReset) || !errors.Is(errs[2], ErrReset) ||
		errAt[1] != oomAt || errAt[2] != oomAt {
		t.Errorf("query outcomes %v at %v, want [nil ECONNRESET ECONNRESET], the last two at %v", errs, errAt, oomAt)
	}
	if d.Memory() != 0 || d.Connections() != 0 {
		t.Errorf("down: memory %v, connections %d, want 0 and 0", d.Memory(), d.Connections())
	}
	if _, err := d.Open(); !errors.Is(err, ErrDown) {
		t.Errorf("Open while down: %v, want ErrDown", err)
	}
	upAt := oomAt + cfg.RestartTime
	run(t, k, upAt-1)
	if d.Up() {
		t.Fatalf("up at %v, before the restart time %v had passed", k.Now(), cfg.RestartTime)
	}
	run(t, k, upAt)
	if !d.Up() || d.Memory() != base {
		t.Fatalf("at %v: up %v, memory %v; want up with the base %v", k.Now(), d.Up(), d.Memory(), base)
	}
	if st := d.Stats(); st.Downtime != cfg.RestartTime {
		t.Errorf("downtime %v, want %v", st.Downtime, cfg.RestartTime)
	}
	d.Exec(conns[3], 0.001, func(err error) { errs = append(errs, err) })
	run(t, k, upAt+time.Second)
	if !errors.Is(errs[len(errs)-1], ErrReset) {
		t.Errorf("query on a connection from before the OOM: %v, want ErrReset", errs[len(errs)-1])
	}

	d.Restart(0)
	run(t, k, k.Now())
	if len(causes) != 2 || causes[1] != CauseRestart {
		t.Errorf("OnRestart heard %v, want [oom restart]", causes)
	}
}

// TestMaxConnections refuses connections past max_connections.
func TestMaxConnections(t *testing.T) {
	cfg := baseConfig()
	cfg.MaxConnections = 3
	k := newKernel(1)
	d := mustNew(t, k, cfg)
	cs := []Conn{mustOpen(t, d), mustOpen(t, d), mustOpen(t, d)}
	if _, err := d.Open(); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("fourth Open: %v, want ErrTooManyConnections", err)
	}
	d.Close(cs[1])
	d.Close(cs[1]) // idempotent
	if d.Connections() != 2 {
		t.Fatalf("%d connections after a double close, want 2", d.Connections())
	}
	c := mustOpen(t, d)
	if c == cs[1] {
		t.Fatal("a reopened slot gave the same Conn as the closed one")
	}
	var got error = errors.New("not called")
	d.Exec(cs[1], 1, func(err error) { got = err })
	run(t, k, time.Second)
	if !errors.Is(got, ErrClosed) {
		t.Errorf("Exec on a closed connection: %v, want ErrClosed", got)
	}
	if st := d.Stats(); st.PeakConnections != 3 || st.RefusedTooMany != 1 || st.Opens != 4 || st.Closes != 1 {
		t.Errorf("stats %+v: want peak 3, refused 1, opens 4, closes 1", st)
	}
}

// TestExecNeverReentrant checks that done runs from a kernel event: after
// Exec returns, even for a query failed at once or of zero cost.
func TestExecNeverReentrant(t *testing.T) {
	k := newKernel(1)
	d := mustNew(t, k, baseConfig())
	c := mustOpen(t, d)
	inside := false
	calls := 0
	check := func(err error) {
		calls++
		if inside {
			t.Error("done ran inside Exec")
		}
	}
	inside = true
	d.Exec(c, 0, check)
	d.Exec(Conn{}, 1, check)
	d.Restart(time.Second)
	d.Exec(c, 1, check) // broken
	inside = false
	run(t, k, 2*time.Second)
	if calls != 3 {
		t.Errorf("%d calls, want 3", calls)
	}
}

// TestRestartDuringExecution: a query executing when the instance
// restarts fails with ErrReset at the restart, not at its natural end.
func TestRestartDuringExecution(t *testing.T) {
	k := newKernel(1)
	d := mustNew(t, k, baseConfig())
	c := mustOpen(t, d)
	var err error
	var at time.Duration
	d.Exec(c, 10, func(e error) { err, at = e, k.Now() })
	k.AtFunc(3*time.Second, func() { d.Restart(2 * time.Second) })
	run(t, k, 20*time.Second)
	if !errors.Is(err, ErrReset) || at != 3*time.Second {
		t.Errorf("got %v at %v, want ErrReset at 3s", err, at)
	}
	if st := d.Stats(); st.Failed != 1 || st.Completed != 0 || st.Downtime != 2*time.Second || st.Restarts != 1 || st.OOMs != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestSetConfigCapacity: doubling the cores mid-query speeds up the rest
// of it exactly.
func TestSetConfigCapacity(t *testing.T) {
	cfg := baseConfig()
	cfg.Cores = 1
	k := newKernel(1)
	d := mustNew(t, k, cfg)
	a, b := mustOpen(t, d), mustOpen(t, d)
	var ends []time.Duration
	rec := func(error) { ends = append(ends, k.Now()) }
	d.Exec(a, 2, rec) // alone at rate 1/2 each with b: 1 unit by t=2s
	d.Exec(b, 2, rec)
	k.AtFunc(2*time.Second, func() {
		cfg.Cores = 2
		if err := d.SetConfig(cfg); err != nil {
			t.Error(err)
		}
	})
	run(t, k, 10*time.Second)
	if len(ends) != 2 || ends[0] != 3*time.Second || ends[1] != 3*time.Second {
		t.Errorf("completions at %v, want both at 3s", ends)
	}
}

// Connections left open grow by MemoryAging per second, applied every
// AgingStep: with N connections the instance dies at the first step at
// which base + N·min(cap, per + aging·t) passes the limit — and never when
// N·cap stays under it (incident 4: 400 connections die, 200 do not).
func TestMemoryAgingKillsOnlyManyConnections(t *testing.T) {
	const (
		mib   = 1 << 20
		base  = 8192 * mib
		per   = 2 * mib
		capC  = 24 * mib
		aging = 0.001 * mib // per second
		limit = 16384 * mib
	)
	for _, n := range []int{400, 200} {
		k := sim.NewKernel(sim.Config{})
		d, err := New(k, "mysql", Config{Cores: 4, Speed: 1, Knee: 8, MaxConnections: 1000,
			MemoryBase: base, MemoryPerConnection: per, MemoryAging: aging, MemoryPerConnectionMax: capC,
			MemoryLimit: limit, RestartTime: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			if _, err := d.Open(); err != nil {
				t.Fatal(err)
			}
		}
		var died time.Duration = -1
		d.OnRestart(func(cause string) {
			if died < 0 {
				died = k.Now()
			}
		})
		if err := k.RunUntil(context.Background(), 12*time.Hour); err != nil {
			t.Fatal(err)
		}
		// 400 × (2 MiB + aging·t) > 8 GiB  ⇔  t > (8192/400 − 2) / 0.001 s
		// = 18480 s; the first step after it is 18490 s.
		switch n {
		case 400:
			if want := 18490 * time.Second; died != want {
				t.Errorf("400 connections: died at %v, want %v", died, want)
			}
		case 200:
			if died >= 0 {
				t.Errorf("200 connections: died at %v, want never (200 × 24 MiB + 8 GiB < 16 GiB)", died)
			}
			if m := d.Memory(); math.Abs(m-(base+200*capC)) > 1 { // a byte of float drift
				t.Errorf("200 connections: memory %v MiB, want base + 200 × cap = %v MiB", m/mib, (base+200*capC)/mib)
			}
		}
	}
}
