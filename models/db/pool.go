package db

import (
	"fmt"
	"time"

	"stormglass/sim"
	"stormglass/sim/stats"
)

// Pool event kinds.
const (
	pvDeliver int32 = iota // hand the oldest pending outcome to its borrower
	pvTimeout              // a waiting borrower gives up; Arg: its sequence number
	pvLeak                 // a borrow outlived LeakDetection; Arg: serial<<32 | record
	pvIdle                 // the oldest idle connection may have idled too long
	pvRetry                // AutoReconnect: try opening again
)

type pconnState uint8

const (
	pcFree   pconnState = iota // record slot unused
	pcIdle                     // in the pool, ready to lend
	pcBusy                     // lent
	pcLeaked                   // lent and lost by its borrower
)

// pconn is a connection the pool holds.
type pconn struct {
	c      Conn
	state  pconnState
	serial uint32        // tells this loan (and use of the record) from the next
	since  time.Duration // lent at, or idle since
	leak   sim.EventID
}

type pwaiter struct {
	got   func(Conn, error)
	since time.Duration
	live  bool
}

// delivery is an Acquire's outcome on its way to the borrower.
type delivery struct {
	got   func(Conn, error)
	c     Conn
	err   error
	epoch uint32
}

// PoolStats are a pool's measurements since NewPool or the last
// ResetStats.
type PoolStats struct {
	Since time.Duration

	Requests   int64       // Acquire calls
	Acquired   int64       // borrowers given a connection
	Waited     int64       // borrowers that found none free and queued
	Timeouts   int64       // borrowers that gave up after AcquireTimeout
	OpenErrors int64       // borrowers given the instance's refusal (NoReconnect)
	Aborted    int64       // waiting borrowers failed by RestartProcess
	Wait       stats.Tally // seconds from Acquire to the connection, every grant (0 at once)

	Released  int64 // connections given back
	Dropped   int64 // Releases of a connection the pool no longer holds
	Leaks     int64 // Leak calls
	Reclaimed int64 // borrowed connections closed by leak detection
	Resets    int64 // broken connections found and discarded (AutoReconnect)

	Opens           int64 // connections opened
	OpenFailures    int64 // opens the instance refused
	IdleClosed      int64 // connections closed after IdleTimeout
	ProcessRestarts int64

	InUseMean   float64 // time average of the connections lent (leaked included)
	WaitingMean float64 // time average of the borrowers waiting
	PeakSize    int
	PeakInUse   int
	PeakWaiting int
}

// Pool is one application process's pool of connections to an Instance.
// It is not safe for concurrent use; everything runs on the kernel's
// goroutine.
type Pool struct {
	k     *sim.Kernel
	name  string
	d     *Instance
	cfg   PoolConfig
	epoch uint32 // process restarts so far

	recs   []pconn
	free   []int32
	byConn map[Conn]int32 // looked up, never iterated
	size   int
	inUse  int // lent, leaked included
	leaked int
	idle   []int32 // oldest first; lent from the end (LIFO)

	waiters  sim.Ring[pwaiter]
	headSeq  uint64 // sequence number of the oldest entry in waiters
	nextSeq  uint64
	nWaiting int
	// waitTimer is the one pending timeout, the oldest waiter's: every
	// borrower waits the same AcquireTimeout and waiters are served
	// first come, first served, so they time out in the order they came,
	// and one kernel event serves them all instead of one each.
	waitTimer sim.EventID

	deliveries sim.Ring[delivery]
	retry      sim.EventID
	idleTimer  sim.EventID

	st        PoolStats
	inUseTW   *stats.TimeWeighted
	waitingTW *stats.TimeWeighted
}

// NewPool makes a pool on d and opens its Min connections now. If d
// refuses them, an AutoReconnect pool keeps trying every ReconnectDelay; a
// NoReconnect pool opens them on demand later.
func NewPool(k *sim.Kernel, name string, d *Instance, cfg PoolConfig) (*Pool, error) {
	if k == nil || d == nil {
		return nil, fmt.Errorf("%w: pool %q needs a kernel and an instance", ErrConfig, name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pool %q: %w", name, err)
	}
	now := k.Now()
	p := &Pool{k: k, name: name, d: d, cfg: cfg, byConn: make(map[Conn]int32),
		inUseTW: stats.NewTimeWeighted(now, 0), waitingTW: stats.NewTimeWeighted(now, 0)}
	p.st.Since = now
	p.fill()
	p.gauge()
	return p, nil
}

// Name returns the pool's name.
func (p *Pool) Name() string { return p.name }

// Config returns the configuration in force.
func (p *Pool) Config() PoolConfig { return p.cfg }

// Size returns the connections the pool holds: Idle() + InUse().
func (p *Pool) Size() int { return p.size }

// InUse returns the connections lent, leaked ones included.
func (p *Pool) InUse() int { return p.inUse }

// Idle returns the connections ready to lend.
func (p *Pool) Idle() int { return len(p.idle) }

// Waiting returns the borrowers waiting for a connection.
func (p *Pool) Waiting() int { return p.nWaiting }

// Leaked returns the lent connections their borrowers lost.
func (p *Pool) Leaked() int { return p.leaked }

// Acquire lends a connection and calls got(c, nil) from a kernel event,
// never inside Acquire. A borrower that finds none idle opens one if the
// pool holds fewer than Max; otherwise it waits, first come first served,
// and after AcquireTimeout gets got(Conn{}, ErrAcquireTimeout). A
// NoReconnect pool whose open the instance refuses passes the refusal on
// (ErrDown, ErrTooManyConnections); an AutoReconnect pool makes the
// borrower wait while it retries. The connection lent may be broken: a
// NoReconnect pool cannot tell.
func (p *Pool) Acquire(got func(c Conn, err error)) {
	if got == nil {
		panic("db: Acquire with a nil function")
	}
	p.st.Requests++
	defer p.gauge()
	if p.nWaiting == 0 {
		if ri, ok := p.takeIdle(); ok {
			p.lend(ri, got, 0)
			return
		}
		if p.size < p.cfg.Max && !p.k.IsPending(p.retry) {
			ri, err := p.open()
			if err == nil {
				p.lend(ri, got, 0)
				return
			}
			if p.cfg.Reconnect == NoReconnect {
				p.st.OpenErrors++
				p.deliver(got, Conn{}, err)
				return
			}
			p.scheduleRetry()
		}
	}
	now := p.k.Now()
	w := pwaiter{got: got, since: now, live: true}
	p.waiters.Push(w)
	if !p.k.IsPending(p.waitTimer) {
		p.waitTimer = p.k.After(p.cfg.AcquireTimeout, p, pvTimeout, 0)
	}
	p.nextSeq++
	p.nWaiting++
	p.st.Waited++
}

// Release gives c back. A connection the pool no longer holds (reclaimed,
// or from before RestartProcess) is dropped; releasing twice does nothing.
// An AutoReconnect pool discards c if a restart broke it and opens a
// replacement as needed; a NoReconnect pool takes it back as it is.
func (p *Pool) Release(c Conn) {
	ri, ok := p.byConn[c]
	if !ok {
		p.st.Dropped++
		return
	}
	r := &p.recs[ri]
	if r.state != pcBusy && r.state != pcLeaked {
		return
	}
	defer p.gauge()
	p.st.Released++
	p.unlend(ri)
	switch {
	case p.size > p.cfg.Max:
		p.remove(ri)
	case p.cfg.Reconnect == AutoReconnect && p.d.Broken(c):
		p.st.Resets++
		p.remove(ri)
	default:
		r.state, r.since = pcIdle, p.k.Now()
		p.idle = append(p.idle, ri)
	}
	p.fill()
}

// Leak records that the borrower of c lost it on an exception path: it
// will never be released. The pool still counts it in use; only
// LeakDetection gets it back.
func (p *Pool) Leak(c Conn) {
	ri, ok := p.byConn[c]
	if !ok || p.recs[ri].state != pcBusy {
		return
	}
	p.recs[ri].state = pcLeaked
	p.leaked++
	p.st.Leaks++
}

// RestartProcess restarts the application process: every connection the
// pool holds is closed (the broken ones are gone already), every waiting
// borrower fails with ErrProcessRestarted, outcomes on their way are
// voided the same way, and the pool opens Min fresh connections. It is
// the manual fix for a NoReconnect pool after a database restart.
func (p *Pool) RestartProcess() {
	p.epoch++
	p.st.ProcessRestarts++
	for i := range p.recs {
		if p.recs[i].state != pcFree {
			p.k.Cancel(p.recs[i].leak)
			p.d.Close(p.recs[i].c)
			p.freeRec(int32(i))
		}
	}
	p.size, p.inUse, p.leaked = 0, 0, 0
	p.idle = p.idle[:0]
	p.k.Cancel(p.idleTimer)
	p.k.Cancel(p.retry)
	for p.waiters.Len() > 0 {
		w := p.waiters.Pop()
		p.headSeq++
		if w.live {
			p.st.Aborted++
			p.deliver(w.got, Conn{}, ErrProcessRestarted)
		}
	}
	p.nWaiting = 0
	p.k.Cancel(p.waitTimer)
	p.fill()
	p.gauge()
}

// SetMax changes Max from now on (n ≥ max(1, Min)). Shrinking closes idle
// connections above n at once and lent ones as they come back; growing
// serves waiting borrowers.
func (p *Pool) SetMax(n int) error {
	if n < 1 || n < p.cfg.Min {
		return fmt.Errorf("%w: pool %q Max %d, expected at least 1 and at least Min (%d)", ErrConfig, p.name, n, p.cfg.Min)
	}
	p.cfg.Max = n
	for p.size > n && len(p.idle) > 0 {
		ri := p.idle[0]
		p.idle = p.idle[1:]
		p.remove(ri)
	}
	p.fill()
	p.gauge()
	return nil
}

// takeIdle takes the most recently returned idle connection. An
// AutoReconnect pool validates it first and discards it if broken.
func (p *Pool) takeIdle() (int32, bool) {
	for n := len(p.idle); n > 0; n = len(p.idle) {
		ri := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if p.cfg.Reconnect == AutoReconnect && p.d.Broken(p.recs[ri].c) {
			p.st.Resets++
			p.remove(ri)
			continue
		}
		return ri, true
	}
	return 0, false
}

// open opens a connection for the pool, not yet idle or lent.
func (p *Pool) open() (int32, error) {
	c, err := p.d.Open()
	if err != nil {
		p.st.OpenFailures++
		return 0, err
	}
	p.st.Opens++
	var ri int32
	if n := len(p.free); n > 0 {
		ri = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		p.recs = append(p.recs, pconn{})
		ri = int32(len(p.recs) - 1)
	}
	r := &p.recs[ri]
	r.c, r.state, r.since, r.leak = c, pcIdle, p.k.Now(), sim.EventID{}
	p.byConn[c] = ri
	p.size++
	p.st.PeakSize = max(p.st.PeakSize, p.size)
	return ri, nil
}

// lend gives record ri to a borrower who waited waited.
func (p *Pool) lend(ri int32, got func(Conn, error), waited time.Duration) {
	r := &p.recs[ri]
	r.state, r.since = pcBusy, p.k.Now()
	r.serial++ // a new loan: a leak timer of an earlier one can never match it
	if p.cfg.LeakDetection > 0 {
		r.leak = p.k.After(p.cfg.LeakDetection, p, pvLeak, int64(r.serial)<<32|int64(ri))
	}
	p.inUse++
	p.st.Acquired++
	p.st.Wait.Record(float64(waited) * 1e-9)
	p.deliver(got, r.c, nil)
}

// unlend ends record ri's loan.
func (p *Pool) unlend(ri int32) {
	r := &p.recs[ri]
	if r.state == pcLeaked {
		p.leaked--
	}
	p.k.Cancel(r.leak)
	r.leak = sim.EventID{}
	p.inUse--
}

// remove closes record ri's connection and forgets it; ri must be neither
// lent nor in the idle list.
func (p *Pool) remove(ri int32) {
	p.d.Close(p.recs[ri].c)
	p.freeRec(ri)
	p.size--
}

func (p *Pool) freeRec(ri int32) {
	r := &p.recs[ri]
	delete(p.byConn, r.c)
	r.c, r.state, r.leak = Conn{}, pcFree, sim.EventID{}
	r.serial++
	p.free = append(p.free, ri)
}

func (p *Pool) deliver(got func(Conn, error), c Conn, err error) {
	p.deliveries.Push(delivery{got: got, c: c, err: err, epoch: p.epoch})
	p.k.After(0, p, pvDeliver, 0)
}

// popWaiter removes and returns the oldest live waiter.
func (p *Pool) popWaiter() pwaiter {
	for {
		w := p.waiters.Pop()
		p.headSeq++
		if w.live {
			p.nWaiting--
			p.trimFront()
			return w
		}
	}
}

// trimFront drops waiters that timed out from the front, so the ring holds
// no more than the live waiters and the dead ones between them.
func (p *Pool) trimFront() {
	for p.waiters.Len() > 0 && !p.waiters.At(0).live {
		p.waiters.Pop()
		p.headSeq++
	}
}

func (p *Pool) scheduleRetry() {
	if !p.k.IsPending(p.retry) {
		p.retry = p.k.After(p.cfg.ReconnectDelay, p, pvRetry, 0)
	}
}

// fill serves waiting borrowers from idle connections, then from new ones
// while the pool holds fewer than Max, then tops the pool up to Min. A
// refused open stops it: an AutoReconnect pool tries again after
// ReconnectDelay; a NoReconnect pool gives the refusal to the borrower
// whose open it was.
func (p *Pool) fill() {
	now := p.k.Now()
	for p.nWaiting > 0 {
		if ri, ok := p.takeIdle(); ok {
			w := p.popWaiter()
			p.lend(ri, w.got, now-w.since)
			continue
		}
		if p.size >= p.cfg.Max || p.k.IsPending(p.retry) {
			break
		}
		ri, err := p.open()
		if err != nil {
			if p.cfg.Reconnect == AutoReconnect {
				p.scheduleRetry()
				break
			}
			w := p.popWaiter()
			p.st.OpenErrors++
			p.deliver(w.got, Conn{}, err)
			continue
		}
		w := p.popWaiter()
		p.lend(ri, w.got, now-w.since)
	}
	for p.size < p.cfg.Min && !p.k.IsPending(p.retry) {
		ri, err := p.open()
		if err != nil {
			if p.cfg.Reconnect == AutoReconnect {
				p.scheduleRetry()
			}
			break
		}
		p.idle = append(p.idle, ri)
	}
	p.armIdle()
}

// armIdle schedules the check of the oldest idle connection, if one could
// be closed for idling.
func (p *Pool) armIdle() {
	if p.cfg.IdleTimeout <= 0 || len(p.idle) == 0 || p.size <= p.cfg.Min || p.k.IsPending(p.idleTimer) {
		return
	}
	at := max(p.k.Now(), p.recs[p.idle[0]].since+p.cfg.IdleTimeout)
	p.idleTimer = p.k.At(at, p, pvIdle, 0)
}

// Handle dispatches the pool's events.
func (p *Pool) Handle(ev sim.Event) {
	switch ev.Kind {
	case pvDeliver:
		dl := p.deliveries.Pop()
		if dl.epoch != p.epoch && dl.err == nil {
			// Lent by the process that has since restarted.
			dl.c, dl.err = Conn{}, ErrProcessRestarted
		}
		dl.got(dl.c, dl.err)
	case pvTimeout:
		p.expire()
	case pvLeak:
		p.reclaim(int32(ev.Arg&(1<<32-1)), uint32(ev.Arg>>32))
	case pvIdle:
		p.idleTimer = sim.EventID{}
		now := p.k.Now()
		for len(p.idle) > 0 && p.size > p.cfg.Min && p.recs[p.idle[0]].since+p.cfg.IdleTimeout <= now {
			ri := p.idle[0]
			p.idle = p.idle[1:]
			p.st.IdleClosed++
			p.remove(ri)
		}
		p.armIdle()
		p.gauge()
	case pvRetry:
		p.retry = sim.EventID{}
		p.fill()
		p.gauge()
	}
}

// expire gives up the waiters whose acquire timeout has passed (the
// oldest ones) and sets the timer for the next.
func (p *Pool) expire() {
	now := p.k.Now()
	for p.waiters.Len() > 0 {
		w := *p.waiters.At(0) // a copy: Pop clears the slot
		if w.live && w.since+p.cfg.AcquireTimeout > now {
			p.waitTimer = p.k.At(w.since+p.cfg.AcquireTimeout, p, pvTimeout, 0)
			break
		}
		p.waiters.Pop()
		p.headSeq++
		if !w.live {
			continue
		}
		got := w.got
		p.nWaiting--
		p.st.Timeouts++
		p.gauge()
		got(Conn{}, ErrAcquireTimeout)
	}
}

// reclaim closes a connection lent longer than LeakDetection and lets the
// pool replace it.
func (p *Pool) reclaim(ri int32, serial uint32) {
	if int(ri) >= len(p.recs) {
		return
	}
	r := &p.recs[ri]
	if r.serial != serial || (r.state != pcBusy && r.state != pcLeaked) {
		return
	}
	r.leak = sim.EventID{}
	p.st.Reclaimed++
	p.unlend(ri)
	p.remove(ri)
	p.fill()
	p.gauge()
}

func (p *Pool) gauge() {
	now := p.k.Now()
	p.inUseTW.Set(now, float64(p.inUse))
	p.waitingTW.Set(now, float64(p.nWaiting))
	p.st.PeakInUse = max(p.st.PeakInUse, p.inUse)
	p.st.PeakWaiting = max(p.st.PeakWaiting, p.nWaiting)
}

// Stats returns the measurements since NewPool or the last ResetStats.
func (p *Pool) Stats() PoolStats {
	now := p.k.Now()
	s := p.st
	s.InUseMean = p.inUseTW.Mean(now)
	s.WaitingMean = p.waitingTW.Mean(now)
	return s
}

// ResetStats forgets the measurements so far (warm-up deletion); peaks
// start again from the current values.
func (p *Pool) ResetStats() {
	now := p.k.Now()
	p.st = PoolStats{Since: now, PeakSize: p.size, PeakInUse: p.inUse, PeakWaiting: p.nWaiting}
	p.inUseTW.Reset(now)
	p.waitingTW.Reset(now)
}
