package db

import (
	"time"

	"stormglass/sim"
)

// waitRef is a lock waiter's place in a row's queue. A waiter that timed
// out or failed leaves its reference behind (removing from the middle of a
// FIFO is costly); serial tells a stale reference from the slot's next use.
type waitRef struct {
	slot   int32
	serial uint32
}

// rowLock is a locked row: its holder and the requests queued behind it.
// A row is in the table exactly while some transaction holds it.
type rowLock struct {
	row     int64
	holder  Conn
	queue   sim.Ring[waitRef]
	waiting int // live requests in queue (it may hold stale ones too)
}

// Lock request states.
const (
	wFree       uint8 = iota
	wWaiting          // queued behind the holder
	wDelivering       // outcome decided; an event will call granted
)

type lockWaiter struct {
	serial  uint32
	state   uint8
	conn    Conn
	row     int64
	granted func(error)
	since   time.Duration
	timer   sim.EventID
	err     error
	// checking: its deadlock check is still executing. deferred: it was
	// granted the row meanwhile, and the grant is delivered when the
	// check ends.
	checking, deferred bool
}

// lockTable holds the instance's row locks. rows is only looked up, never
// iterated, so map order cannot reach the simulation.
type lockTable struct {
	rows     map[int64]int32 // row → index in locks
	locks    []rowLock
	freeL    []int32
	waiters  []lockWaiter
	freeW    []int32
	nWaiting int
}

func (lt *lockTable) init() { lt.rows = make(map[int64]int32) }

// Lock asks for row's lock for c's transaction (SELECT … FOR UPDATE) and
// calls granted from a kernel event, never inside Lock:
//
//   - granted(nil) when c holds the row: at once if the row is free or c
//     holds it already, else when every request before it has been served
//     (first come, first served) and its deadlock check, if it runs one,
//     has ended;
//   - granted(ErrLockTimeout) if it is still waiting after timeout; with
//     timeout 0 at once if the row is held (NOWAIT), with timeout < 0 it
//     waits for ever;
//   - granted(ErrReset) if c was broken by a restart, or if the instance
//     restarts while it waits; granted(ErrClosed) if c is (or gets) closed.
//
// A request that queues behind k > 0 other waiters runs a deadlock check
// of cost Config.DeadlockCheck·k on the instance's cores (see the package
// documentation). c keeps the row until Unlock or until c closes.
func (d *Instance) Lock(c Conn, row int64, timeout time.Duration, granted func(err error)) {
	if granted == nil {
		panic("db: Lock with a nil granted function")
	}
	lt := &d.locks
	d.st.LockRequests++
	s, err := d.lookup(c)
	if err != nil {
		d.st.LockFailures++
		lt.decide(d, lt.newWaiter(c, row, granted, d.k.Now()), err)
		return
	}
	li, held := lt.rows[row]
	if !held {
		li = lt.newLock(row, c)
		s.locks = append(s.locks, row)
	}
	if !held || lt.locks[li].holder == c {
		d.st.LockGrants++
		d.st.LockWait.Record(0)
		lt.decide(d, lt.newWaiter(c, row, granted, d.k.Now()), nil)
		return
	}
	if timeout == 0 {
		d.st.LockTimeouts++
		lt.decide(d, lt.newWaiter(c, row, granted, d.k.Now()), ErrLockTimeout)
		return
	}
	wi := lt.newWaiter(c, row, granted, d.k.Now())
	w := &lt.waiters[wi]
	w.state = wWaiting
	if timeout > 0 {
		w.timer = d.k.After(timeout, d, evLockTimeout, int64(wi))
	}
	rl := &lt.locks[li]
	ahead := rl.waiting
	rl.queue.Push(waitRef{slot: wi, serial: w.serial})
	rl.waiting++
	s.waits++
	lt.nWaiting++
	d.st.LockWaits++
	d.lockGauge()
	if d.cfg.DeadlockCheck > 0 && ahead > 0 {
		d.startCheck(wi, float64(ahead)*d.cfg.DeadlockCheck.Seconds())
	}
}

// Unlock releases row if c's transaction holds it and hands it to the
// next waiter (whose granted runs from an event). Otherwise it does
// nothing.
func (d *Instance) Unlock(c Conn, row int64) {
	s, err := d.lookup(c)
	if err != nil {
		return
	}
	lt := &d.locks
	li, ok := lt.rows[row]
	if !ok || lt.locks[li].holder != c {
		return
	}
	for i, r := range s.locks {
		if r == row {
			s.locks[i] = s.locks[len(s.locks)-1]
			s.locks = s.locks[:len(s.locks)-1]
			break
		}
	}
	lt.handoff(d, li)
}

func (d *Instance) lockGauge() {
	d.lockWait.Set(d.k.Now(), float64(d.locks.nWaiting))
	d.st.PeakLockWait = max(d.st.PeakLockWait, d.locks.nWaiting)
}

func (lt *lockTable) newLock(row int64, holder Conn) int32 {
	var li int32
	if n := len(lt.freeL); n > 0 {
		li = lt.freeL[n-1]
		lt.freeL = lt.freeL[:n-1]
	} else {
		lt.locks = append(lt.locks, rowLock{})
		li = int32(len(lt.locks) - 1)
	}
	rl := &lt.locks[li]
	rl.row, rl.holder, rl.waiting = row, holder, 0
	lt.rows[row] = li
	return li
}

func (lt *lockTable) newWaiter(c Conn, row int64, granted func(error), now time.Duration) int32 {
	var wi int32
	if n := len(lt.freeW); n > 0 {
		wi = lt.freeW[n-1]
		lt.freeW = lt.freeW[:n-1]
	} else {
		lt.waiters = append(lt.waiters, lockWaiter{})
		wi = int32(len(lt.waiters) - 1)
	}
	w := &lt.waiters[wi]
	w.serial++
	w.conn, w.row, w.granted, w.err, w.since = c, row, granted, nil, now
	w.timer = sim.EventID{}
	w.checking, w.deferred = false, false
	return wi
}

// decide fixes request wi's outcome and schedules its delivery now.
func (lt *lockTable) decide(d *Instance, wi int32, err error) {
	w := &lt.waiters[wi]
	w.state, w.err = wDelivering, err
	d.k.After(0, d, evLockDone, int64(wi))
}

// deliver frees request wi and calls its granted function.
func (lt *lockTable) deliver(wi int32) {
	w := &lt.waiters[wi]
	granted, err := w.granted, w.err
	w.state, w.granted, w.err, w.conn = wFree, nil, nil, Conn{}
	lt.freeW = append(lt.freeW, wi)
	granted(err)
}

func (lt *lockTable) stale(r waitRef) bool {
	w := &lt.waiters[r.slot]
	return w.serial != r.serial || w.state != wWaiting
}

// timeout gives up waiter wi, which is waiting: its timer is cancelled
// whenever it stops waiting.
func (lt *lockTable) timeout(d *Instance, wi int32) {
	w := &lt.waiters[wi]
	w.timer = sim.EventID{}
	if w.state != wWaiting {
		return
	}
	if s, err := d.lookup(w.conn); err == nil {
		s.waits--
	}
	lt.nWaiting--
	d.st.LockTimeouts++
	d.lockGauge()
	row := w.row
	w.state = wDelivering
	w.err = ErrLockTimeout
	if li, ok := lt.rows[row]; ok {
		lt.locks[li].waiting--
		q := &lt.locks[li].queue
		for q.Len() > 0 && lt.stale(*q.At(0)) {
			q.Pop()
		}
	}
	// Already in an event: deliver now rather than one event later.
	lt.deliver(wi)
}

// handoff gives row lock li to its oldest live waiter, or removes it from
// the table when none is left.
func (lt *lockTable) handoff(d *Instance, li int32) {
	rl := &lt.locks[li]
	now := d.k.Now()
	for rl.queue.Len() > 0 {
		ref := rl.queue.Pop()
		if lt.stale(ref) {
			continue
		}
		w := &lt.waiters[ref.slot]
		d.k.Cancel(w.timer)
		w.timer = sim.EventID{}
		rl.holder = w.conn
		if s, err := d.lookup(w.conn); err == nil {
			s.waits--
			s.locks = append(s.locks, rl.row)
		}
		lt.nWaiting--
		rl.waiting--
		d.st.LockGrants++
		if w.checking {
			// Its deadlock check still runs (InnoDB grants under the
			// mutex the check holds): the grant waits for its end.
			w.state, w.err, w.deferred = wDelivering, nil, true
			d.lockGauge()
			return
		}
		d.st.LockWait.Record(float64(now-w.since) * 1e-9)
		d.lockGauge()
		lt.decide(d, ref.slot, nil)
		return
	}
	delete(lt.rows, rl.row)
	rl.holder, rl.waiting = Conn{}, 0
	rl.queue.Clear()
	lt.freeL = append(lt.freeL, li)
}

// checked hears that request wi's deadlock check has ended, and delivers
// the grant it held back, if any. A request that has ended meanwhile (its
// slot's serial moved on, or it is free) needs nothing.
func (lt *lockTable) checked(d *Instance, wi int32, serial uint32) {
	w := &lt.waiters[wi]
	if w.serial != serial {
		return
	}
	w.checking = false
	if w.deferred {
		w.deferred = false
		d.st.LockWait.Record(float64(d.k.Now()-w.since) * 1e-9)
		d.k.After(0, d, evLockDone, int64(wi))
	}
}

// dropConn ends c's part in the lock table as c closes: its waiting
// requests fail with ErrClosed, then its rows pass to their next waiters.
func (lt *lockTable) dropConn(d *Instance, c Conn, s *connSlot) {
	if s.waits > 0 {
		for i := range lt.waiters {
			w := &lt.waiters[i]
			if w.state != wWaiting || w.conn != c {
				continue
			}
			d.k.Cancel(w.timer)
			w.timer = sim.EventID{}
			if li, ok := lt.rows[w.row]; ok {
				lt.locks[li].waiting--
			}
			lt.nWaiting--
			d.st.LockFailures++
			lt.decide(d, int32(i), ErrClosed)
		}
		s.waits = 0
		d.lockGauge()
	}
	for _, row := range s.locks {
		if li, ok := lt.rows[row]; ok && lt.locks[li].holder == c {
			lt.handoff(d, li)
		}
	}
	s.locks = s.locks[:0]
}

// reset empties the table as the instance goes down: every waiter fails
// with ErrReset, in slot order (deterministic), and every lock is gone.
func (lt *lockTable) reset(d *Instance) {
	for i := range lt.waiters {
		w := &lt.waiters[i]
		if w.state != wWaiting {
			continue
		}
		d.k.Cancel(w.timer)
		w.timer = sim.EventID{}
		d.st.LockFailures++
		lt.decide(d, int32(i), ErrReset)
	}
	lt.nWaiting = 0
	d.lockGauge()
	clear(lt.rows)
	for i := range lt.locks {
		lt.locks[i].queue.Clear()
		lt.locks[i].holder = Conn{}
	}
	lt.locks = lt.locks[:0]
	lt.freeL = lt.freeL[:0]
}
