package db

import (
	"errors"
	"math"
	"testing"
	"time"

	"stormglass/sim"
	"stormglass/sim/queueing"
)

// mmcPool runs one replication of a pool of c connections with Poisson
// borrowers (rate lambda) holding each connection an exponential time of
// mean 1/mu, and returns the pool's stats after a warm-up.
func mmcPool(t *testing.T, s sim.Streams, c int, lambda, mu float64, timeout time.Duration, borrowers float64) PoolStats {
	k := sim.NewKernel(sim.Config{Seed: s.Seed()})
	cfg := baseConfig()
	d := mustNew(t, k, cfg)
	p := mustPool(t, k, d, "app", PoolConfig{Min: c, Max: c, AcquireTimeout: timeout})
	hold := exponential(mu, s, "hold")
	sim.NewSource(k, exponential(lambda, s, "arrivals"), func(int64) {
		p.Acquire(func(c Conn, err error) {
			if err != nil {
				return
			}
			k.AfterFunc(hold(), func() { p.Release(c) })
		})
	}).Start()
	horizon := secs(borrowers / lambda)
	run(t, k, horizon/10)
	p.ResetStats()
	run(t, k, horizon/10+horizon)
	return p.Stats()
}

// TestPoolErlangC: a pool of c connections with Poisson borrowers holding
// exponential times and patient enough never to give up is M/M/c: the
// share of borrowers that wait is Erlang C and the mean wait is
// C/(cμ − λ).
func TestPoolErlangC(t *testing.T) {
	const c, lambda, mu = 10, 8.0, 1.0
	want, err := queueing.MMc(lambda, mu, c)
	if err != nil {
		t.Fatal(err)
	}
	res := replicate(t, 70, 20, func(s sim.Streams) map[string]float64 {
		st := mmcPool(t, s, c, lambda, mu, time.Hour, 50000)
		if st.Timeouts != 0 {
			t.Errorf("%d borrowers timed out with an hour's patience", st.Timeouts)
		}
		return map[string]float64{
			"PWait": float64(st.Waited) / float64(st.Requests),
			"Wq":    st.Wait.Mean(),
		}
	})
	inPW := checkCI(t, "P(wait) vs Erlang C", res["PWait"], want.PWait, 0.02)
	inWq := checkCI(t, "mean wait vs Erlang C/(cμ−λ)", res["Wq"], want.Wq, 0.06)
	if !inPW && !inWq {
		t.Error("both closed forms outside their 95% CI: chance alone does that 1 time in 400")
	}
}

// TestPoolErlangB: the same pool with borrowers who will not wait (an
// acquire timeout of a nanosecond) is M/M/c/c: the share refused is
// Erlang B.
func TestPoolErlangB(t *testing.T) {
	const c, lambda, mu = 10, 8.0, 1.0
	want := queueing.ErlangB(c, lambda/mu)
	res := replicate(t, 80, 10, func(s sim.Streams) map[string]float64 {
		st := mmcPool(t, s, c, lambda, mu, 1, 50000)
		return map[string]float64{"PBlock": float64(st.Timeouts) / float64(st.Requests)}
	})
	checkCI(t, "refused share vs Erlang B", res["PBlock"], want, 0.04)
}

// leakRun is incident 3's pool: Max 50, acquire timeout 3 s, borrowers at
// 20/s holding 20 ms, of which a share lose the connection on an
// exception path. It returns when the pool ran dry (all Max connections
// leaked; -1 if never) and what became of the borrowers after that.
type leakRun struct {
	exhausted       time.Duration
	after, timedOut int // borrowers arriving after exhaustion; those that timed out after exactly 3 s
	successAfter    int
	leakTimes       []time.Duration
	stats           PoolStats
	leakedAtEnd     int
}

func runLeaks(t *testing.T, s sim.Streams, detection, horizon time.Duration) leakRun {
	const rate, share, max = 20.0, 0.05, 50
	k := sim.NewKernel(sim.Config{Seed: s.Seed()})
	d := mustNew(t, k, baseConfig())
	p := mustPool(t, k, d, "app", PoolConfig{Max: max, AcquireTimeout: 3 * time.Second, LeakDetection: detection})
	lose := s.Rand("leak")
	r := leakRun{exhausted: -1}
	var src *sim.Source
	src = sim.NewSource(k, exponential(rate, s, "arrivals"), func(int64) {
		asked := k.Now()
		late := r.exhausted >= 0
		if late {
			r.after++
		}
		p.Acquire(func(c Conn, err error) {
			if late {
				if errors.Is(err, ErrAcquireTimeout) && k.Now()-asked == 3*time.Second {
					r.timedOut++
				}
				if err == nil {
					r.successAfter++
				}
			}
			if err != nil {
				return
			}
			if lose.Float64() < share {
				p.Leak(c)
				r.leakTimes = append(r.leakTimes, k.Now())
				if p.Leaked() == max && r.exhausted < 0 {
					r.exhausted = k.Now()
					if detection == 0 {
						// 20 s more of borrowers, then time for the
						// last of them to give up.
						k.AfterFunc(20*time.Second, src.Stop)
						k.AfterFunc(23*time.Second, k.Stop)
					}
				}
				return
			}
			k.AfterFunc(20*time.Millisecond, func() { p.Release(c) })
		})
	})
	src.Start()
	run(t, k, horizon)
	r.stats = p.Stats()
	r.leakedAtEnd = p.Leaked()
	return r
}

// TestPoolLeakExhaustion is incident 3's cascade: leaks at rate
// λ·share exhaust a pool of Max connections after Max/(λ·share) (the
// time of the Max-th leak, whose mean that is), and from then on every
// borrower waits the full acquire timeout and fails.
func TestPoolLeakExhaustion(t *testing.T) {
	const want = 50 / (20.0 * 0.05) // 50 s
	res := replicate(t, 90, 200, func(s sim.Streams) map[string]float64 {
		r := runLeaks(t, s, 0, 1000*time.Second)
		if r.exhausted < 0 {
			t.Error("the pool never ran dry")
			return map[string]float64{"T": math.NaN()}
		}
		if r.after == 0 || r.timedOut != r.after || r.successAfter != 0 {
			t.Errorf("after exhaustion at %v: %d borrowers, %d timed out after exactly 3 s, %d served; want all timed out",
				r.exhausted, r.after, r.timedOut, r.successAfter)
		}
		return map[string]float64{"T": r.exhausted.Seconds(), "after": float64(r.after)}
	})
	checkCI(t, "time to exhaustion (s) vs Max/(rate·share)", res["T"], want, 0.05)
	t.Logf("borrowers after exhaustion per run (20 s at 20/s): %v", res["after"][:5])
}

// TestPoolLeakDetection: the same leaks with leak detection at 5 s never
// exhaust the pool; every leak is reclaimed 5 s after its borrow, so
// the reclaimed count is exactly the leaks older than 5 s at the end.
func TestPoolLeakDetection(t *testing.T) {
	horizon := 300 * time.Second
	r := runLeaks(t, sim.NewStreams(7), 5*time.Second, horizon)
	var old int64
	for _, at := range r.leakTimes {
		if at+5*time.Second <= horizon {
			old++
		}
	}
	t.Logf("leaks %d, reclaimed %d, leaked at the end %d, peak in use %d, timeouts %d",
		r.stats.Leaks, r.stats.Reclaimed, r.leakedAtEnd, r.stats.PeakInUse, r.stats.Timeouts)
	if r.exhausted >= 0 || r.stats.Timeouts != 0 {
		t.Errorf("pool ran dry at %v with leak detection (%d timeouts)", r.exhausted, r.stats.Timeouts)
	}
	if r.stats.Reclaimed != old || int64(r.leakedAtEnd) != r.stats.Leaks-old {
		t.Errorf("reclaimed %d, want %d (leaks older than 5 s); leaked at the end %d, want %d",
			r.stats.Reclaimed, old, r.leakedAtEnd, r.stats.Leaks-old)
	}
	if r.stats.PeakInUse >= 50 {
		t.Errorf("peak in use %d: the pool came to its Max", r.stats.PeakInUse)
	}
}

// worker is a closed-loop client of a pool: acquire, run one query,
// release, think, again. It records when each query ended and how.
type worker struct {
	k     *sim.Kernel
	d     *Instance
	p     *Pool
	cost  float64
	think time.Duration
	log   *[]outcome
}

type outcome struct {
	at  time.Duration
	err error
}

func (w *worker) start() { w.k.AfterFunc(0, w.loop) }

func (w *worker) loop() {
	w.p.Acquire(func(c Conn, err error) {
		if err != nil {
			if errors.Is(err, ErrAcquireTimeout) {
				w.k.AfterFunc(0, w.loop) // it has waited already
			} else {
				w.k.AfterFunc(w.think, w.loop)
			}
			return
		}
		w.d.Exec(c, w.cost, func(err error) {
			*w.log = append(*w.log, outcome{w.k.Now(), err})
			w.p.Release(c)
			w.k.AfterFunc(w.think, w.loop)
		})
	})
}

func reconnectWorld(t *testing.T, rc Reconnect) (*sim.Kernel, *Instance, *Pool, *[]outcome) {
	k := newKernel(3)
	d := mustNew(t, k, baseConfig())
	p := mustPool(t, k, d, "node", PoolConfig{Min: 8, Max: 8, AcquireTimeout: 3 * time.Second,
		Reconnect: rc, ReconnectDelay: time.Second})
	var log []outcome
	for range 8 {
		(&worker{k: k, d: d, p: p, cost: 0.005, think: 10 * time.Millisecond, log: &log}).start()
	}
	k.AtFunc(20*time.Second, func() { d.Restart(0) }) // down 10 s
	return k, d, p, &log
}

// TestNoReconnect is incident 4's ORM: after the database restarts, the
// pool keeps lending its broken connections and every query fails with
// ECONNRESET, long after the database is back, until the process is
// restarted by hand; then it works at once.
func TestNoReconnect(t *testing.T) {
	k, d, p, log := reconnectWorld(t, NoReconnect)
	fix := 100 * time.Second
	k.AtFunc(fix, p.RestartProcess)
	run(t, k, 60*time.Second)
	if !d.Up() || d.Connections() != 0 || p.Size() != 8 {
		t.Errorf("at 60 s: database up %v with %d connections, pool of %d: want up, 0, 8 (the pool never reconnects)",
			d.Up(), d.Connections(), p.Size())
	}
	run(t, k, 120*time.Second)
	var before, resets, other, after int
	firstAfter := time.Duration(-1)
	for _, o := range *log {
		switch {
		case o.at < 20*time.Second:
			if o.err == nil {
				before++
			}
		case o.at < fix:
			if errors.Is(o.err, ErrReset) {
				resets++
			} else {
				other++
			}
		default:
			if o.err == nil {
				after++
				if firstAfter < 0 {
					firstAfter = o.at
				}
			} else {
				other++
			}
		}
	}
	t.Logf("before the restart %d ok; from the restart to the manual fix %d ECONNRESET, %d other; after the fix %d ok, the first at %v",
		before, resets, other, after, firstAfter)
	if before == 0 || resets == 0 || other != 0 || after == 0 {
		t.Errorf("want queries ok before, only ECONNRESET between restart and fix, only ok after")
	}
	if firstAfter > fix+10*time.Millisecond {
		t.Errorf("first success after the process restart at %v, want within 10 ms of %v", firstAfter, fix)
	}
	if d.Connections() != 8 || p.Stats().ProcessRestarts != 1 {
		t.Errorf("after the fix: %d connections, %d process restarts; want 8 and 1", d.Connections(), p.Stats().ProcessRestarts)
	}
}

// TestAutoReconnect: with automatic reconnect the pool discards broken
// connections and reopens, retrying every ReconnectDelay while the
// database is down, so the first query succeeds within RestartTime +
// ReconnectDelay + one query of the restart, and none fails after.
func TestAutoReconnect(t *testing.T) {
	k, _, p, log := reconnectWorld(t, AutoReconnect)
	run(t, k, 60*time.Second)
	restart, restartTime, delay, query := 20*time.Second, 10*time.Second, time.Second, 5*time.Millisecond
	first := time.Duration(-1)
	var failsAfter int
	for _, o := range *log {
		if o.at < restart {
			continue
		}
		if o.err == nil && first < 0 {
			first = o.at
		}
		if o.err != nil && first >= 0 {
			failsAfter++
		}
	}
	st := p.Stats()
	t.Logf("first success after the restart at %v (bound %v); resets %d, open failures %d, acquire timeouts %d",
		first, restart+restartTime+delay+query, st.Resets, st.OpenFailures, st.Timeouts)
	if first < restart+restartTime || first > restart+restartTime+delay+query {
		t.Errorf("first success at %v, want in [%v, %v]", first, restart+restartTime, restart+restartTime+delay+query)
	}
	if failsAfter != 0 {
		t.Errorf("%d queries failed after the recovery", failsAfter)
	}
	if st.Resets != 8 {
		t.Errorf("%d broken connections discarded, want the 8 the restart broke", st.Resets)
	}
}

// TestPoolBasics: LIFO lending, on-demand growth, idle timeout above
// Min, SetMax, stale releases, leak reclaim of a long borrow, and the
// callback never running inside Acquire.
func TestPoolBasics(t *testing.T) {
	k := newKernel(1)
	d := mustNew(t, k, baseConfig())
	p := mustPool(t, k, d, "app", PoolConfig{Min: 1, Max: 3, AcquireTimeout: time.Second,
		IdleTimeout: 10 * time.Second, LeakDetection: 30 * time.Second})
	if p.Size() != 1 || p.Idle() != 1 || d.Connections() != 1 {
		t.Fatalf("new pool: size %d idle %d, db %d; want 1, 1, 1", p.Size(), p.Idle(), d.Connections())
	}
	var got []Conn
	inside := false
	take := func(c Conn, err error) {
		if inside {
			t.Error("got ran inside Acquire")
		}
		if err != nil {
			t.Errorf("Acquire: %v", err)
		}
		got = append(got, c)
	}
	inside = true
	for range 3 {
		p.Acquire(take)
	}
	inside = false
	run(t, k, time.Second)
	if len(got) != 3 || p.Size() != 3 || p.InUse() != 3 || d.Connections() != 3 {
		t.Fatalf("three borrowers: got %d, size %d, in use %d", len(got), p.Size(), p.InUse())
	}
	// A fourth waits and times out after exactly AcquireTimeout.
	var err4 error
	var at4 time.Duration
	p.Acquire(func(_ Conn, err error) { err4, at4 = err, k.Now() })
	run(t, k, 3*time.Second)
	if !errors.Is(err4, ErrAcquireTimeout) || at4 != 2*time.Second {
		t.Errorf("fourth borrower: %v at %v, want ErrAcquireTimeout at 2s", err4, at4)
	}
	// Released at 3 s; the last one back is lent first.
	p.Release(got[0])
	p.Release(got[1])
	p.Release(got[1]) // twice: ignored
	var next Conn
	p.Acquire(func(c Conn, _ error) { next = c })
	run(t, k, 3*time.Second)
	if next != got[1] {
		t.Errorf("lent %v, want the last returned %v (LIFO)", next, got[1])
	}
	p.Release(next)
	// Idle since 3 s: above Min, closed at 13 s, down to Min.
	run(t, k, 13*time.Second-1)
	if p.Size() != 3 {
		t.Fatalf("size %d before the idle timeout, want 3", p.Size())
	}
	run(t, k, 13*time.Second)
	if p.Size() != 1 || p.Stats().IdleClosed != 2 {
		t.Errorf("after the idle timeout: size %d, idle closed %d; want 1 (the one still lent) and 2", p.Size(), p.Stats().IdleClosed)
	}
	// got[2], lent at 0 s and never returned, is reclaimed at 30 s.
	run(t, k, 30*time.Second)
	if p.InUse() != 0 || p.Stats().Reclaimed != 1 {
		t.Errorf("at 30 s: in use %d, reclaimed %d; want 0 and 1", p.InUse(), p.Stats().Reclaimed)
	}
	var execErr error
	d.Exec(got[2], 0.001, func(err error) { execErr = err })
	p.Release(got[2])
	run(t, k, 31*time.Second)
	if !errors.Is(execErr, ErrClosed) || p.Stats().Dropped != 1 {
		t.Errorf("reclaimed connection: Exec %v, release dropped %d; want ErrClosed and 1", execErr, p.Stats().Dropped)
	}
	if p.Size() != 1 {
		t.Errorf("size %d after reclaim, want Min 1", p.Size())
	}
	// SetMax.
	if err := p.SetMax(0); !errors.Is(err, ErrConfig) {
		t.Errorf("SetMax(0): %v, want ErrConfig", err)
	}
	if err := p.SetMax(5); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for range 5 {
		p.Acquire(take)
	}
	run(t, k, 32*time.Second)
	if len(got) != 5 || p.Size() != 5 {
		t.Errorf("after SetMax(5): %d lent, size %d", len(got), p.Size())
	}
	if err := p.SetMax(2); err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		p.Release(c)
	}
	if p.Size() != 2 {
		t.Errorf("after SetMax(2) and every release: size %d, want 2", p.Size())
	}
}

// TestRestartProcess: waiting borrowers fail with ErrProcessRestarted,
// connections are closed, Min fresh ones opened, and releases of old
// connections are dropped.
func TestRestartProcess(t *testing.T) {
	k := newKernel(1)
	d := mustNew(t, k, baseConfig())
	p := mustPool(t, k, d, "app", PoolConfig{Min: 2, Max: 2, AcquireTimeout: time.Minute})
	var lent []Conn
	var errs []error
	for range 3 {
		p.Acquire(func(c Conn, err error) {
			if err != nil {
				errs = append(errs, err)
				return
			}
			lent = append(lent, c)
		})
	}
	run(t, k, time.Second)
	p.RestartProcess()
	run(t, k, 2*time.Second)
	if len(lent) != 2 || len(errs) != 1 || !errors.Is(errs[0], ErrProcessRestarted) {
		t.Fatalf("lent %d, errors %v; want 2 lent and the waiter failed with ErrProcessRestarted", len(lent), errs)
	}
	if p.Size() != 2 || p.InUse() != 0 || d.Connections() != 2 {
		t.Errorf("size %d, in use %d, db connections %d; want 2, 0, 2", p.Size(), p.InUse(), d.Connections())
	}
	p.Release(lent[0])
	if p.Stats().Dropped != 1 || p.Idle() != 2 {
		t.Errorf("release of a connection from before: dropped %d, idle %d", p.Stats().Dropped, p.Idle())
	}
}

// TestNoReconnectOpenRefused: a NoReconnect pool growing on demand passes
// the instance's refusal to the borrower; an AutoReconnect one makes the
// borrower wait while it retries and serves it when the instance is back.
func TestNoReconnectOpenRefused(t *testing.T) {
	for _, rc := range []Reconnect{NoReconnect, AutoReconnect} {
		k := newKernel(1)
		d := mustNew(t, k, baseConfig())
		p := mustPool(t, k, d, "app", PoolConfig{Max: 2, AcquireTimeout: time.Minute, Reconnect: rc, ReconnectDelay: time.Second})
		d.Restart(5 * time.Second)
		var err error = errors.New("not called")
		var at time.Duration
		p.Acquire(func(_ Conn, e error) { err, at = e, k.Now() })
		run(t, k, time.Minute)
		switch rc {
		case NoReconnect:
			if !errors.Is(err, ErrDown) || at != 0 {
				t.Errorf("none: %v at %v, want ErrDown at 0", err, at)
			}
		case AutoReconnect:
			if err != nil || at != 5*time.Second {
				t.Errorf("auto: %v at %v, want a connection at 5s", err, at)
			}
		}
	}
}

// TestPoolFIFO: waiting borrowers are served first come, first served,
// and one that gave up is skipped.
func TestPoolFIFO(t *testing.T) {
	k := newKernel(1)
	d := mustNew(t, k, baseConfig())
	p := mustPool(t, k, d, "app", PoolConfig{Min: 1, Max: 1, AcquireTimeout: 10 * time.Second})
	var held Conn
	p.Acquire(func(c Conn, _ error) { held = c })
	var order []int
	// Asked at 1, 2, 3, 4 s; each gives up 10 s later. The first is
	// served at 5 s and holds until 12.5 s, after borrower 1 gave up at
	// 12 s; borrower 2 holds 0.5 s, so 3 is served at 13 s.
	hold := []time.Duration{7500 * time.Millisecond, 0, 500 * time.Millisecond, time.Second}
	for i := range 4 {
		k.AtFunc(time.Duration(i+1)*time.Second, func() {
			if i == 1 {
				p.Acquire(func(_ Conn, err error) {
					if !errors.Is(err, ErrAcquireTimeout) {
						t.Errorf("borrower 1: %v, want a timeout", err)
					}
				})
				return
			}
			p.Acquire(func(c Conn, err error) {
				if err != nil {
					t.Errorf("borrower %d: %v", i, err)
					return
				}
				order = append(order, i)
				k.AfterFunc(hold[i], func() { p.Release(c) })
			})
		})
	}
	k.AtFunc(5*time.Second, func() { p.Release(held) })
	run(t, k, time.Minute)
	if len(order) != 3 || order[0] != 0 || order[1] != 2 || order[2] != 3 {
		t.Errorf("served %v, want [0 2 3]", order)
	}
	if st := p.Stats(); st.Waited != 4 || st.Timeouts != 1 || st.PeakWaiting != 4 {
		t.Errorf("stats %+v: want 4 waited, 1 timeout, 4 waiting at the peak", st)
	}
}
