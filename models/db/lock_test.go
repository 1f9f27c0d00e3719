package db

import (
	"errors"
	"math"
	"testing"
	"time"

	"stormglass/sim"
	"stormglass/sim/queueing"
)

// hotRow starts Poisson transactions (rate lambda) that each lock row 1
// with the given timeout, hold it for hold once granted, and unlock it:
// SELECT … FOR UPDATE on the hot item's stock, decrement, commit. Each
// transaction runs on a connection of its own, reused once it is done.
// onGrant, if set, sees each request's time and outcome.
func hotRow(t testing.TB, k *sim.Kernel, d *Instance, s sim.Streams, lambda float64, hold, timeout time.Duration,
	onGrant func(asked time.Duration, err error)) *sim.Source {
	var free []Conn
	src := sim.NewSource(k, exponential(lambda, s, "txn"), func(int64) {
		var c Conn
		if n := len(free); n > 0 {
			c, free = free[n-1], free[:n-1]
		} else {
			c = mustOpen(t, d)
		}
		asked := k.Now()
		d.Lock(c, 1, timeout, func(err error) {
			if onGrant != nil {
				onGrant(asked, err)
			}
			if err != nil {
				free = append(free, c)
				return
			}
			k.AfterFunc(hold, func() {
				d.Unlock(c, 1)
				free = append(free, c)
			})
		})
	})
	src.Start()
	return src
}

// TestLockMD1: transactions arriving as a Poisson stream and holding one
// hot row for a fixed time D queue on its lock as M/D/1: the mean wait is
// Pollaczek–Khinchine's λD²/(2(1 − λD)), and the mean number waiting is
// λ times that.
func TestLockMD1(t *testing.T) {
	const lambda, hold = 70.0, 0.01 // ρ = 0.7
	want, err := queueing.MD1(lambda, hold)
	if err != nil {
		t.Fatal(err)
	}
	const txns = 30000
	horizon := secs(txns / lambda)
	res := replicate(t, 30, 20, func(s sim.Streams) map[string]float64 {
		k := sim.NewKernel(sim.Config{Seed: s.Seed()})
		d := mustNew(t, k, baseConfig())
		hotRow(t, k, d, s, lambda, secs(hold), time.Minute, nil)
		run(t, k, horizon/10)
		d.ResetStats()
		run(t, k, horizon/10+horizon)
		st := d.Stats()
		if st.LockTimeouts != 0 {
			t.Errorf("%d lock timeouts with a minute's patience", st.LockTimeouts)
		}
		return map[string]float64{"Wq": st.LockWait.Mean(), "Lq": st.LockWaitMean,
			"PWait": float64(st.LockWaits) / float64(st.LockRequests)}
	})
	inW := checkCI(t, "mean lock wait vs M/D/1", res["Wq"], want.Wq, 0.04)
	inL := checkCI(t, "mean lock waiters vs λ·Wq", res["Lq"], want.Lq, 0.04)
	inP := checkCI(t, "share that waits vs ρ", res["PWait"], want.PWait, 0.02)
	if !inW && !inL && !inP {
		t.Error("every closed form outside its 95% CI")
	}
}

// TestLockSaturation: past λD = 1 the lock's queue grows, waits grow
// with it until they reach the lock wait timeout, and timeouts appear.
func TestLockSaturation(t *testing.T) {
	const lambda = 120.0
	hold, timeout := 10*time.Millisecond, 2*time.Second
	k := newKernel(11)
	d := mustNew(t, k, baseConfig())
	var early, late []float64
	maxWait, timeouts := 0.0, 0
	hotRow(t, k, d, k.Streams(), lambda, hold, timeout, func(asked time.Duration, err error) {
		w := (k.Now() - asked).Seconds()
		maxWait = max(maxWait, w)
		if err != nil {
			if !errors.Is(err, ErrLockTimeout) || k.Now()-asked != timeout {
				t.Errorf("lock failed with %v after %v, want ErrLockTimeout after %v", err, k.Now()-asked, timeout)
			}
			timeouts++
			return
		}
		switch {
		case asked < time.Second:
			early = append(early, w)
		case asked >= 20*time.Second && asked < 30*time.Second:
			late = append(late, w)
		}
	})
	run(t, k, 40*time.Second)
	me, ml := mean(early), mean(late)
	st := d.Stats()
	t.Logf("ρ = %.1f: mean wait %.3f s for requests in the first second, %.3f s in 20–30 s; %d timeouts; max wait %.3f s; %d waiting at the end",
		lambda*hold.Seconds(), me, ml, timeouts, maxWait, d.LockWaiters())
	if !(ml > 5*me) || ml < 0.5*timeout.Seconds() {
		t.Errorf("waits did not grow towards the timeout: %.3f s early, %.3f s late", me, ml)
	}
	if timeouts == 0 || st.LockTimeouts != int64(timeouts) {
		t.Errorf("timeouts seen %d, counted %d: want some, and the same", timeouts, st.LockTimeouts)
	}
	if maxWait > timeout.Seconds() {
		t.Errorf("a request waited %.3f s, beyond the %v timeout", maxWait, timeout)
	}
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestLockSemantics walks one row through FIFO hand-over, re-entry,
// NOWAIT, a timeout, release on close, and a restart.
func TestLockSemantics(t *testing.T) {
	k := newKernel(1)
	d := mustNew(t, k, baseConfig())
	c := make([]Conn, 9)
	for i := range c {
		c[i] = mustOpen(t, d)
	}
	type ev struct {
		who int
		at  time.Duration
		err error
	}
	var log []ev
	inside := false
	lock := func(who int, row int64, timeout time.Duration) {
		inside = true
		d.Lock(c[who], row, timeout, func(err error) {
			if inside {
				t.Error("granted ran inside Lock")
			}
			log = append(log, ev{who, k.Now(), err})
		})
		inside = false
	}
	expect := func(want ...ev) {
		t.Helper()
		if len(log) != len(want) {
			t.Fatalf("outcomes %v, want %v", log, want)
		}
		for i := range want {
			if log[i].who != want[i].who || log[i].at != want[i].at || !errors.Is(log[i].err, want[i].err) && log[i].err != want[i].err {
				t.Fatalf("outcome %d: %+v, want %+v", i, log[i], want[i])
			}
		}
		log = log[:0]
	}
	lock(1, 1, time.Minute) // free: granted at once
	lock(2, 1, time.Second) // waits, gives up at 1 s
	lock(3, 1, time.Minute) // waits
	lock(1, 1, time.Minute) // re-entry: granted at once
	lock(4, 1, 0)           // NOWAIT: refused at once
	run(t, k, 0)
	expect(ev{1, 0, nil}, ev{1, 0, nil}, ev{4, 0, ErrLockTimeout})
	if d.LockWaiters() != 2 {
		t.Fatalf("%d waiters, want 2", d.LockWaiters())
	}
	run(t, k, 2*time.Second)
	expect(ev{2, time.Second, ErrLockTimeout})
	d.Unlock(c[2], 1) // not the holder: nothing
	d.Unlock(c[1], 1) // hands over to 3, skipping 2, who gave up
	run(t, k, 2*time.Second)
	expect(ev{3, 2 * time.Second, nil})

	lock(6, 2, time.Minute) // 6 holds row 2
	lock(5, 1, -1)          // waits for ever on row 1 (3 holds it)
	run(t, k, 2*time.Second)
	expect(ev{6, 2 * time.Second, nil})
	run(t, k, 3*time.Second)
	d.Close(c[3]) // a rollback on disconnect: row 1 passes to 5
	run(t, k, 3*time.Second)
	expect(ev{5, 3 * time.Second, nil})
	run(t, k, 4*time.Second)
	lock(7, 1, time.Minute) // waits behind 5 on row 1
	lock(5, 2, time.Minute) // 5 waits for row 2 too
	d.Close(c[5])           // 5's wait fails; row 1 passes to 7
	run(t, k, 4*time.Second)
	expect(ev{5, 4 * time.Second, ErrClosed}, ev{7, 4 * time.Second, nil})

	lock(8, 2, time.Minute) // waits behind 6
	run(t, k, 5*time.Second)
	d.Restart(time.Second)
	if d.LockWaiters() != 0 {
		t.Errorf("%d lock waiters after the restart, want 0", d.LockWaiters())
	}
	run(t, k, 5*time.Second)
	expect(ev{8, 5 * time.Second, ErrReset})
	d.Unlock(c[6], 2) // broken: nothing
	run(t, k, 7*time.Second)
	c0 := mustOpen(t, d)
	lock(0, 2, 0)
	c[0] = c0
	run(t, k, 7*time.Second)
	expect(ev{0, 7 * time.Second, ErrReset}) // c[0] was the old, broken one when asked
	lock(0, 2, 0)
	run(t, k, 7*time.Second)
	expect(ev{0, 7 * time.Second, nil}) // row 2 is free after the restart
	st := d.Stats()
	if st.LockTimeouts != 2 || st.LockFailures != 3 || st.LockWaits != 6 {
		t.Errorf("lock stats: timeouts %d, failures %d, waits %d; want 2, 3, 6", st.LockTimeouts, st.LockFailures, st.LockWaits)
	}
}

// deadlockConfig is one core of speed speed that never thrashes, with
// deadlock checks of check per waiter ahead.
func deadlockConfig(speed float64, check time.Duration) Config {
	cfg := baseConfig()
	cfg.Cores, cfg.Speed, cfg.Knee, cfg.Thrash = 1, speed, 1000, 0
	cfg.DeadlockCheck = check
	return cfg
}

// TestDeadlockCheckBusyTime: N requests queuing one by one on a held row,
// far enough apart that no two checks overlap, keep one core busy for
// DeadlockCheck·N(N−1)/2 / Speed in all: the k-th (from 0) finds k
// waiters ahead. The checks are not queries.
func TestDeadlockCheckBusyTime(t *testing.T) {
	const n, speed = 30, 2.0
	check := time.Millisecond
	k := newKernel(1)
	d := mustNew(t, k, deadlockConfig(speed, check))
	holder := mustOpen(t, d)
	var order []int
	d.Lock(holder, 7, -1, func(err error) {
		if err != nil {
			t.Errorf("holder: %v", err)
		}
	})
	conns := make([]Conn, n)
	for i := range n {
		conns[i] = mustOpen(t, d)
		k.AtFunc(time.Duration(i)*100*time.Millisecond, func() {
			d.Lock(conns[i], 7, -1, func(err error) {
				if err != nil {
					t.Errorf("waiter %d: %v", i, err)
				}
				order = append(order, i)
				d.Unlock(conns[i], 7)
			})
		})
	}
	end := time.Duration(n) * 100 * time.Millisecond
	run(t, k, end)
	st := d.Stats()
	want := check.Seconds() * n * (n - 1) / 2
	busy := st.ExecutingMean * end.Seconds() // 0 or 1 executing at any time
	t.Logf("%d waiters: %d checks, work %.6f (want %.6f), busy %.6f s (want %.6f s)", n, st.DeadlockChecks, st.DeadlockWork, want, busy, want/speed)
	if st.DeadlockChecks != n-1 || math.Abs(st.DeadlockWork-want) > 1e-9 {
		t.Errorf("%d checks of total work %.9f, want %d of %.9f", st.DeadlockChecks, st.DeadlockWork, n-1, want)
	}
	if math.Abs(busy-want/speed) > 1e-6 || st.PeakExecuting != 1 {
		t.Errorf("busy %.9f s with at most %d executing, want %.9f s with 1", busy, st.PeakExecuting, want/speed)
	}
	if st.Queries != 0 || st.Completed != 0 || st.Work != 0 || st.Response.N() != 0 {
		t.Errorf("checks counted as queries: %+v", st)
	}
	if d.LockWaiters() != n || d.Executing() != 0 {
		t.Errorf("%d waiting and %d executing at the end, want %d and 0", d.LockWaiters(), d.Executing(), n)
	}
	// The checks do not change the order: first come, first served.
	d.Unlock(holder, 7)
	run(t, k, end+time.Second)
	for i, w := range order {
		if w != i {
			t.Fatalf("grant order %v, want first come, first served", order)
		}
	}
	if len(order) != n {
		t.Errorf("%d grants, want %d", len(order), n)
	}
}

// TestDeadlockCheckSlowsQueries: N requests queuing at one instant on a
// held row share one core with a query of cost 1 under processor sharing;
// the query is the longest job, so it ends when all the work is done, at
// 1 + DeadlockCheck·N(N−1)/2 seconds. Without checks it takes 1 s.
func TestDeadlockCheckSlowsQueries(t *testing.T) {
	const n = 20
	for _, check := range []time.Duration{0, time.Millisecond} {
		k := newKernel(1)
		d := mustNew(t, k, deadlockConfig(1, check))
		holder, q := mustOpen(t, d), mustOpen(t, d)
		d.Lock(holder, 1, -1, func(error) {})
		var took time.Duration = -1
		d.Exec(q, 1, func(err error) {
			if err != nil {
				t.Errorf("query: %v", err)
			}
			took = k.Now()
		})
		for range n {
			d.Lock(mustOpen(t, d), 1, -1, func(err error) { t.Errorf("a waiter was answered (%v)", err) })
		}
		wantExec := 1
		if check > 0 {
			wantExec += n - 1
		}
		if d.Executing() != wantExec {
			t.Errorf("check %v: %d executing, want the query and %d checks", check, d.Executing(), wantExec-1)
		}
		run(t, k, 10*time.Second)
		want := 1 + check.Seconds()*n*(n-1)/2
		t.Logf("check %v: the query took %v, want %.6f s", check, took, want)
		if math.Abs(took.Seconds()-want) > 1e-6 {
			t.Errorf("check %v: the query took %v, want %.6f s", check, took, want)
		}
		if st := d.Stats(); st.PeakExecuting != wantExec || st.Completed != 1 {
			t.Errorf("check %v: peak executing %d and %d completed, want %d and 1", check, st.PeakExecuting, st.Completed, wantExec)
		}
	}
}

// TestDeadlockCheckThrashes: the checks count past the knee like queries.
// With Knee 1 and Thrash 1 a query alone takes its cost; with one check
// beside it the instance runs at 1/(1 + 1) of its speed, shared by two.
func TestDeadlockCheckThrashes(t *testing.T) {
	cfg := deadlockConfig(1, time.Second)
	cfg.Cores, cfg.Knee, cfg.Thrash = 4, 1, 1
	k := newKernel(1)
	d := mustNew(t, k, cfg)
	holder, a, b, q := mustOpen(t, d), mustOpen(t, d), mustOpen(t, d), mustOpen(t, d)
	d.Lock(holder, 1, -1, func(error) {})
	d.Lock(a, 1, -1, func(error) {})
	d.Lock(b, 1, -1, func(error) {}) // one ahead: a check of 1 s
	var took time.Duration
	d.Exec(q, 0.5, func(error) { took = k.Now() })
	run(t, k, 10*time.Second)
	// rate(2) = Speed/(1 + Thrash·(2 − Knee)) = 0.5: the query's 0.5 takes 1 s.
	if math.Abs(took.Seconds()-1) > 1e-6 {
		t.Errorf("the query beside a check took %v, want 1 s (the knee crossed)", took)
	}
}

// TestDeadlockCheckSemantics walks the checks through a grant that waits
// for its check, timeouts and closes during a check (the check runs on,
// the stale requests are not counted ahead), and a restart.
func TestDeadlockCheckSemantics(t *testing.T) {
	k := newKernel(1)
	d := mustNew(t, k, deadlockConfig(1, time.Second))
	c := make([]Conn, 12)
	for i := range 7 {
		c[i] = mustOpen(t, d)
	}
	type ev struct {
		who int
		at  time.Duration
		err error
	}
	var log []ev
	lock := func(who int, timeout time.Duration) {
		d.Lock(c[who], 1, timeout, func(err error) { log = append(log, ev{who, k.Now(), err}) })
	}
	expect := func(want ...ev) {
		t.Helper()
		if len(log) != len(want) {
			t.Fatalf("outcomes %v, want %v", log, want)
		}
		for i := range want {
			if log[i].who != want[i].who || log[i].at != want[i].at || !errors.Is(log[i].err, want[i].err) && log[i].err != want[i].err {
				t.Fatalf("outcome %d: %+v, want %+v", i, log[i], want[i])
			}
		}
		log = log[:0]
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	executing := func(want int) {
		t.Helper()
		if d.Executing() != want {
			t.Fatalf("at %v: %d executing, want %d", k.Now(), d.Executing(), want)
		}
	}

	lock(0, time.Minute) // granted
	lock(1, time.Minute) // no one ahead: no check
	lock(2, time.Minute) // one ahead: a check of 1 s
	executing(1)
	run(t, k, ms(100))
	expect(ev{0, 0, nil})
	d.Unlock(c[0], 1)
	run(t, k, ms(200))
	expect(ev{1, ms(100), nil})
	d.Unlock(c[1], 1) // 2's turn, but its check runs until 1 s
	run(t, k, ms(999))
	expect()
	if d.LockWaiters() != 0 {
		t.Errorf("%d waiters once 2 holds the row, want 0", d.LockWaiters())
	}
	run(t, k, time.Second)
	expect(ev{2, time.Second, nil})
	executing(0)

	run(t, k, 2*time.Second)
	lock(3, ms(500)) // behind 2, no check
	lock(4, ms(500)) // a check of 1 s
	run(t, k, ms(2600))
	expect(ev{3, ms(2500), ErrLockTimeout}, ev{4, ms(2500), ErrLockTimeout})
	executing(1) // 4's check runs on
	run(t, k, 3*time.Second)
	executing(0)
	lock(5, time.Minute) // 3 and 4 gave up: no one ahead, no check
	executing(0)
	lock(6, time.Minute) // behind 5: a check until 4 s
	executing(1)
	run(t, k, ms(3100))
	d.Unlock(c[2], 1)
	run(t, k, ms(3200))
	expect(ev{5, ms(3100), nil})
	d.Unlock(c[5], 1) // 6's grant waits for its check …
	run(t, k, ms(3500))
	d.Restart(time.Second) // … which the restart ends: the grant is delivered as decided
	executing(0)
	run(t, k, ms(3500))
	expect(ev{6, ms(3500), nil})

	run(t, k, ms(4500))
	for i := 7; i < 10; i++ {
		c[i] = mustOpen(t, d)
	}
	lock(7, time.Minute)
	lock(8, time.Minute)
	lock(9, time.Minute) // a check of 1 s
	d.Close(c[9])        // its wait fails; its check runs on
	run(t, k, ms(4500))
	expect(ev{7, ms(4500), nil}, ev{9, ms(4500), ErrClosed})
	executing(1)
	c[10] = mustOpen(t, d)
	lock(10, time.Minute) // only 8 is ahead: a check of 1 s, sharing the core
	executing(2)
	run(t, k, ms(6500))
	executing(0)
	expect()
	st := d.Stats()
	// Checks started: 2, 4, 6, 9, 10; ended: 2, 4, 9, 10 (6's by the restart).
	if st.DeadlockChecks != 5 || math.Abs(st.DeadlockWork-4) > 1e-9 {
		t.Errorf("%d checks of work %.9f, want 5 of 4", st.DeadlockChecks, st.DeadlockWork)
	}
	if st.LockWait.Max() != 1 {
		t.Errorf("longest lock wait %.9f s, want 2's 1 s (granted at the end of its check)", st.LockWait.Max())
	}
}
