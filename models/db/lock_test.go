package db

import (
	"errors"
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
