package db

import (
	"fmt"
	"math"
	"slices"
	"time"

	"stormglass/sim"
	"stormglass/sim/stats"
)

// Conn names a connection to an instance. It is a small value: compare it
// with ==, keep it in maps. The zero Conn names no connection.
//
// A Conn carries the instance's generation at the time it was opened; a
// restart starts a new generation, which is how a connection knows it was
// broken (and answers ErrReset) even though nobody told its holder.
type Conn struct {
	id  uint64 // serial<<32 | slot; 0 for no connection
	gen uint32 // the instance's generation when it was opened
}

// IsZero reports whether c names no connection.
func (c Conn) IsZero() bool { return c.id == 0 }

// ID identifies the connection among every connection the instance has
// ever opened.
func (c Conn) ID() uint64 { return c.id }

// Generation is the number of restarts the instance had gone through when
// the connection was opened.
func (c Conn) Generation() uint32 { return c.gen }

func (c Conn) slot() uint32   { return uint32(c.id) }
func (c Conn) serial() uint32 { return uint32(c.id >> 32) }

func (c Conn) String() string {
	if c.id == 0 {
		return "conn(none)"
	}
	return fmt.Sprintf("conn(%d.%d@%d)", c.slot(), c.serial(), c.gen)
}

// connSlot is the server side of one connection. Slots are reused; serial
// tells one use from the next.
type connSlot struct {
	serial    uint32
	open      bool
	footprint float64 // bytes
	locks     []int64 // rows this connection's transaction holds
	waits     int     // its lock requests still waiting
}

// query is one Exec: executing (in the heap) or with its outcome decided
// and waiting for the event that delivers it. A query with no done
// function is a deadlock check, run for lock request waiter (of that
// serial) and answering nobody.
type query struct {
	seq     uint64
	conn    Conn
	done    func(error)
	arrived time.Duration
	cost    float64
	err     error
	waiter  int32
	wserial uint32
}

// tagged is a query in the processor-sharing heap: it finishes when the
// attained service reaches tag.
type tagged struct {
	tag  float64
	slot int32
}

// tagHeap is a binary min-heap on tag, typed (unlike container/heap) so
// that pushing allocates nothing.
type tagHeap []tagged

func (h *tagHeap) push(t tagged) {
	*h = append(*h, t)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].tag <= t.tag {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = t
}

func (h *tagHeap) pop() tagged {
	s := *h
	top := s[0]
	n := len(s) - 1
	last := s[n]
	s = s[:n]
	*h = s
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].tag < s[c].tag {
			c++
		}
		if last.tag <= s[c].tag {
			break
		}
		s[i] = s[c]
		i = c
	}
	s[i] = last
	return top
}

// Event kinds of an Instance.
const (
	evComplete    int32 = iota // the query with the smallest tag is done
	evQueryDone                // deliver a decided query outcome; Arg: query slot
	evLockDone                 // deliver a decided lock outcome; Arg: waiter slot
	evLockTimeout              // a lock waiter gives up; Arg: waiter slot
	evUp                       // a restart ends
	evNotify                   // tell OnRestart subscribers; Arg: cause
	evAge                      // age every open connection by AgingStep
)

// Causes of going down, as OnRestart reports them.
const (
	CauseOOM     = "oom"
	CauseRestart = "restart"
)

var causes = [...]string{CauseOOM, CauseRestart}

// InstanceStats are an instance's measurements since New or the last
// ResetStats. Times are in seconds unless they are Durations.
type InstanceStats struct {
	Since time.Duration

	Queries   int64       // Exec calls
	Completed int64       // queries that ran to the end and returned a result
	Failed    int64       // queries that ended in an error (ErrReset, ErrClosed)
	Work      float64     // work units of the completed queries
	Response  stats.Tally // seconds from Exec to the result, completed queries
	// ResponseP50 and ResponseP99 are percentiles of Response (1 %
	// relative accuracy); 0 with no completed query.
	ResponseP50, ResponseP99 float64
	ExecutingMean            float64 // time average of the queries executing
	PeakExecuting            int

	Opens          int64 // connections opened
	Closes         int64 // connections closed by their side
	RefusedTooMany int64 // opens refused at MaxConnections
	RefusedDown    int64 // opens refused while down (or killed by the OOM they caused)

	Restarts int64         // times the instance went down, OOMs included
	OOMs     int64         // of which for memory
	Downtime time.Duration // total time down

	LockRequests int64
	LockGrants   int64
	LockWaits    int64 // requests that found the row held and queued
	LockTimeouts int64
	LockFailures int64       // requests ended by a restart or by closing their connection
	LockWait     stats.Tally // seconds from Lock to the grant, every grant (0 for a free row)
	LockWaitMean float64     // time average of the lock waiters
	PeakLockWait int         // most lock waiters at once

	// DeadlockChecks counts the deadlock checks started (requests that
	// queued behind another waiter, with Config.DeadlockCheck above 0);
	// DeadlockWork is the work units of those that ran to their end. The
	// checks are not queries: Queries, Completed, Work and Response leave
	// them out, ExecutingMean and PeakExecuting count them.
	DeadlockChecks int64
	DeadlockWork   float64

	PeakConnections int
	PeakMemory      float64
}

// Instance is a database instance on the simulation kernel. It is not safe
// for concurrent use; everything runs on the kernel's goroutine.
type Instance struct {
	k    *sim.Kernel
	name string
	cfg  Config

	up        bool
	gen       uint32 // generation: restarts so far
	downSince time.Duration
	upAt      time.Duration
	upEvent   sim.EventID
	onRestart []func(cause string)

	conns     []connSlot
	freeConns []int32
	nConns    int
	memory    float64 // MemoryBase + Σ footprints while up; 0 while down

	// Processor sharing: attained is V(t) = ∫ rate(n) dt at time last.
	running  tagHeap
	attained float64
	last     time.Duration
	next     sim.EventID
	queries  []query
	freeQ    []int32
	qseq     uint64
	finished []int32 // reused by complete

	locks lockTable

	st        InstanceStats
	executing *stats.TimeWeighted
	lockWait  *stats.TimeWeighted
	respHist  *stats.Histogram
}

// New returns an instance that is up, with no connection.
func New(k *sim.Kernel, name string, cfg Config) (*Instance, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: database %q needs a kernel", ErrConfig, name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("database %q: %w", name, err)
	}
	now := k.Now()
	d := &Instance{k: k, name: name, cfg: cfg, up: true, memory: cfg.MemoryBase, last: now,
		executing: stats.NewTimeWeighted(now, 0),
		lockWait:  stats.NewTimeWeighted(now, 0),
		respHist:  stats.NewHistogram(0.01),
	}
	d.locks.init()
	d.st.Since = now
	d.st.PeakMemory = d.memory
	if cfg.MemoryAging > 0 {
		d.k.After(AgingStep, d, evAge, 0)
	}
	return d, nil
}

// AgingStep is how often MemoryAging is applied: an OOM it causes comes
// at most this late.
const AgingStep = 10 * time.Second

// age grows every open connection's footprint by a step of MemoryAging.
func (d *Instance) age() {
	d.k.After(AgingStep, d, evAge, 0)
	if !d.up {
		return
	}
	step := d.cfg.MemoryAging * AgingStep.Seconds()
	total := 0.0
	for i := range d.conns {
		s := &d.conns[i]
		if !s.open {
			continue
		}
		g := min(s.footprint+step, d.cfg.MemoryPerConnectionMax) - s.footprint
		if g > 0 {
			s.footprint += g
			total += g
		}
	}
	d.grow(total)
}

// Name returns the instance's name.
func (d *Instance) Name() string { return d.name }

// Config returns the configuration in force.
func (d *Instance) Config() Config { return d.cfg }

// Up reports whether the instance accepts connections.
func (d *Instance) Up() bool { return d.up }

// Generation returns the number of times the instance has gone down.
func (d *Instance) Generation() uint32 { return d.gen }

// Connections returns the connections open.
func (d *Instance) Connections() int { return d.nConns }

// Executing returns the queries executing.
func (d *Instance) Executing() int { return len(d.running) }

// LockWaiters returns the lock requests waiting for a row.
func (d *Instance) LockWaiters() int { return d.locks.nWaiting }

// Memory returns the bytes the instance holds: MemoryBase plus every open
// connection's footprint while up, 0 while down (the process is gone).
func (d *Instance) Memory() float64 { return d.memory }

// OnRestart adds f to the functions called when the instance goes down,
// with CauseOOM or CauseRestart. They run from a kernel event at the
// instant it goes down.
func (d *Instance) OnRestart(f func(cause string)) {
	if f != nil {
		d.onRestart = append(d.onRestart, f)
	}
}

// Open opens a connection. It fails with ErrDown while the instance is
// down, with ErrTooManyConnections at MaxConnections, and with ErrDown if
// the connection's memory is what pushes the instance over its limit.
func (d *Instance) Open() (Conn, error) {
	if !d.up {
		d.st.RefusedDown++
		return Conn{}, ErrDown
	}
	if d.nConns >= d.cfg.MaxConnections {
		d.st.RefusedTooMany++
		return Conn{}, ErrTooManyConnections
	}
	var i int32
	if n := len(d.freeConns); n > 0 {
		i = d.freeConns[n-1]
		d.freeConns = d.freeConns[:n-1]
	} else {
		if len(d.conns) >= math.MaxInt32 {
			panic("db: more than 2^31-1 connection slots")
		}
		d.conns = append(d.conns, connSlot{})
		i = int32(len(d.conns) - 1)
	}
	s := &d.conns[i]
	s.serial++
	if s.serial == 0 { // wrapped: 0 would make the zero Conn's id
		s.serial = 1
	}
	s.open = true
	s.footprint = d.cfg.MemoryPerConnection
	s.locks = s.locks[:0]
	s.waits = 0
	d.nConns++
	d.st.Opens++
	d.st.PeakConnections = max(d.st.PeakConnections, d.nConns)
	c := Conn{id: uint64(s.serial)<<32 | uint64(i), gen: d.gen}
	if d.grow(d.cfg.MemoryPerConnection) {
		d.st.RefusedDown++
		return Conn{}, ErrDown
	}
	return c, nil
}

// lookup returns c's slot, or why c cannot be used: ErrReset if a restart
// broke it, ErrClosed if it was closed or never opened.
func (d *Instance) lookup(c Conn) (*connSlot, error) {
	if c.id == 0 {
		return nil, ErrClosed
	}
	if c.gen != d.gen {
		return nil, ErrReset
	}
	i := c.slot()
	if int(i) >= len(d.conns) {
		return nil, ErrClosed
	}
	s := &d.conns[i]
	if !s.open || s.serial != c.serial() {
		return nil, ErrClosed
	}
	return s, nil
}

// Broken reports whether a restart of the instance broke c. It is what a
// driver learns from a fatal error on the connection; an AutoReconnect
// pool asks, a NoReconnect one never does.
func (d *Instance) Broken(c Conn) bool { return c.id != 0 && c.gen != d.gen }

// Close closes c: its transaction's row locks are released (a rollback on
// disconnect) and its waiting lock requests fail with ErrClosed. A query
// still executing on it runs to its end (the server notices the client is
// gone only when it answers) and then fails with ErrClosed. Closing a
// connection that is closed already, or that a restart broke, does
// nothing.
func (d *Instance) Close(c Conn) {
	s, err := d.lookup(c)
	if err != nil {
		return
	}
	d.st.Closes++
	d.locks.dropConn(d, c, s)
	s.open = false
	d.nConns--
	d.memory -= s.footprint
	s.footprint = 0
	d.freeConns = append(d.freeConns, int32(c.slot()))
}

// grow adds bytes to the instance's memory and reports whether that killed
// it (an OOM, which takes it down at once).
func (d *Instance) grow(bytes float64) bool {
	if bytes <= 0 {
		return false
	}
	d.memory += bytes
	d.st.PeakMemory = max(d.st.PeakMemory, d.memory)
	if d.cfg.MemoryLimit > 0 && d.memory > d.cfg.MemoryLimit {
		d.goDown(0, d.cfg.RestartTime)
		return true
	}
	return false
}

// Exec runs a query of cost work units (seconds alone on a core of speed
// 1) on c, then calls done from a kernel event: done(nil) when it
// finishes; done(ErrReset) at the next event if c was broken by a
// restart, or at the restart if the instance goes down while it executes;
// done(ErrClosed) if c is closed. done is never called inside Exec.
//
// Running the query grows c's footprint by MemoryGrowth (up to
// MemoryPerConnectionMax), which may kill the instance; the query then
// fails with ErrReset like every other.
func (d *Instance) Exec(c Conn, cost float64, done func(err error)) {
	if done == nil {
		panic("db: Exec with a nil done function")
	}
	d.st.Queries++
	if !(cost > 0) {
		cost = 0 // negative or NaN: NaN would break the heap's order
	}
	now := d.k.Now()
	s, err := d.lookup(c)
	qi := d.newQuery(query{conn: c, done: done, arrived: now, cost: cost})
	if err != nil {
		d.fail(qi, err)
		return
	}
	d.start(qi)
	g := min(s.footprint+d.cfg.MemoryGrowth, d.cfg.MemoryPerConnectionMax) - s.footprint
	if g > 0 {
		s.footprint += g
		d.grow(g) // an OOM fails this query with the rest
	}
}

// start puts query i among the executing ones.
func (d *Instance) start(i int32) {
	d.advance()
	d.running.push(tagged{tag: d.attained + d.queries[i].cost, slot: i})
	d.st.PeakExecuting = max(d.st.PeakExecuting, len(d.running))
	d.reschedule()
}

// startCheck runs lock request wi's deadlock check, of cost work units,
// on the instance's cores, as a query answering nobody.
func (d *Instance) startCheck(wi int32, cost float64) {
	w := &d.locks.waiters[wi]
	w.checking = true
	d.st.DeadlockChecks++
	d.start(d.newQuery(query{waiter: wi, wserial: w.serial, arrived: d.k.Now(), cost: cost}))
}

// endCheck frees deadlock check i, which has finished or was cut short by
// a restart, and tells its lock request.
func (d *Instance) endCheck(i int32) {
	q := d.queries[i]
	d.queries[i] = query{}
	d.freeQ = append(d.freeQ, i)
	d.locks.checked(d, q.waiter, q.wserial)
}

func (d *Instance) newQuery(q query) int32 {
	d.qseq++
	q.seq = d.qseq
	var i int32
	if n := len(d.freeQ); n > 0 {
		i = d.freeQ[n-1]
		d.freeQ = d.freeQ[:n-1]
		d.queries[i] = q
	} else {
		d.queries = append(d.queries, q)
		i = int32(len(d.queries) - 1)
	}
	return i
}

// fail decides query i's outcome and delivers it from an event at the
// current instant, so that done never runs inside the caller's call.
func (d *Instance) fail(i int32, err error) {
	d.queries[i].err = err
	d.st.Failed++
	d.k.After(0, d, evQueryDone, int64(i))
}

// takeQuery frees query slot i and returns what its caller needs.
func (d *Instance) takeQuery(i int32) (done func(error), err error) {
	q := &d.queries[i]
	done, err = q.done, q.err
	*q = query{}
	d.freeQ = append(d.freeQ, i)
	return done, err
}

// advance brings the attained service up to now.
func (d *Instance) advance() {
	now := d.k.Now()
	if n := len(d.running); n > 0 {
		d.attained += d.cfg.rate(n) * float64(now-d.last) * 1e-9
	}
	d.last = now
}

// reschedule re-arms the one completion event for the smallest tag, at the
// rate that holds from now until n next changes.
func (d *Instance) reschedule() {
	d.k.Cancel(d.next)
	d.next = sim.EventID{}
	n := len(d.running)
	d.executing.Set(d.k.Now(), float64(n))
	if n == 0 {
		// Restarting the clock of attained service keeps its magnitude,
		// and so its rounding error, small over a long run.
		d.attained = 0
		return
	}
	r := d.cfg.rate(n)
	// Round up so that at the event the query's work is certainly done.
	left := math.Ceil(max(0, d.running[0].tag-d.attained) / r * 1e9)
	if left >= float64(math.MaxInt64-d.k.Now()) {
		return // a rate so small the query would end beyond time's end
	}
	d.next = d.k.After(time.Duration(left), d, evComplete, 0)
}

// finishSlack absorbs floating-point error in attained service: a query
// whose tag is within a nanosecond of progress of V is done.
const finishSlack = 1e-9

// complete finishes every query whose work is done.
func (d *Instance) complete() {
	d.next = sim.EventID{}
	d.advance()
	now := d.k.Now()
	slack := finishSlack * d.cfg.rate(max(1, len(d.running)))
	fin := d.finished[:0]
	for len(d.running) > 0 && d.running[0].tag <= d.attained+slack {
		t := d.running.pop()
		d.attained = max(d.attained, t.tag)
		fin = append(fin, t.slot)
	}
	d.finished = fin
	d.reschedule()
	for _, i := range fin {
		q := &d.queries[i]
		if q.done == nil { // a deadlock check
			d.st.DeadlockWork += q.cost
			continue
		}
		if _, err := d.lookup(q.conn); err != nil {
			// Closed while it ran: the work was done, the answer is lost.
			q.err = err
			d.st.Failed++
		} else {
			d.st.Completed++
			d.st.Work += q.cost
			r := float64(now-q.arrived) * 1e-9
			d.st.Response.Record(r)
			d.respHist.Record(r)
		}
	}
	// The callbacks run last: one may Exec or Restart, which must find the
	// instance's state settled.
	for _, i := range fin {
		if d.queries[i].done == nil {
			d.endCheck(i)
			continue
		}
		done, err := d.takeQuery(i)
		done(err)
	}
}

// Restart takes the instance down for downtime (Config.RestartTime if
// downtime ≤ 0), as a manual restart or an injected fault does: every
// connection breaks, every executing query and lock waiter fails with
// ErrReset, and OnRestart subscribers hear CauseRestart. Restarting an
// instance that is down already only makes it come up no earlier than
// downtime from now.
func (d *Instance) Restart(downtime time.Duration) {
	if downtime <= 0 {
		downtime = d.cfg.RestartTime
	}
	if !d.up {
		if at := d.k.Now() + downtime; at > d.upAt {
			d.k.Cancel(d.upEvent)
			d.upAt = at
			d.upEvent = d.k.At(at, d, evUp, 0)
		}
		return
	}
	d.goDown(1, downtime)
}

// goDown kills the instance: cause indexes causes.
func (d *Instance) goDown(cause int, downtime time.Duration) {
	now := d.k.Now()
	d.up = false
	d.gen++
	d.downSince = now
	d.upAt = now + downtime
	d.st.Restarts++
	if cause == 0 {
		d.st.OOMs++
	}
	// Subscribers hear of it first, then each failure, all at this instant.
	if len(d.onRestart) > 0 {
		d.k.After(0, d, evNotify, int64(cause))
	}
	// Executing queries fail in the order they were submitted.
	// A fresh slice: goDown may run inside complete's callbacks, which
	// are iterating d.finished.
	fin := make([]int32, 0, len(d.running))
	for _, t := range d.running {
		fin = append(fin, t.slot)
	}
	slices.SortFunc(fin, func(a, b int32) int {
		return cmpU64(d.queries[a].seq, d.queries[b].seq)
	})
	d.running = d.running[:0]
	d.reschedule()
	for _, i := range fin {
		if d.queries[i].done == nil {
			// A deadlock check dies with the process; a grant it held
			// back is delivered as decided (the holder's next query
			// fails with ErrReset).
			d.endCheck(i)
			continue
		}
		d.fail(i, ErrReset)
	}
	d.locks.reset(d)
	// Every connection is gone; rebuild the free list in slot order so the
	// reuse order does not depend on history.
	d.freeConns = d.freeConns[:0]
	for i := len(d.conns) - 1; i >= 0; i-- {
		s := &d.conns[i]
		s.open, s.footprint, s.locks, s.waits = false, 0, s.locks[:0], 0
		d.freeConns = append(d.freeConns, int32(i))
	}
	d.nConns = 0
	d.memory = 0
	d.upEvent = d.k.At(d.upAt, d, evUp, 0)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (d *Instance) comeUp() {
	d.upEvent = sim.EventID{}
	d.up = true
	d.memory = d.cfg.MemoryBase
	d.st.Downtime += d.k.Now() - max(d.downSince, d.st.Since)
}

// SetConfig changes the configuration from now on (a resize, a new
// max_connections or memory limit). Work done is kept; connections above a
// lower MaxConnections stay open; footprints stay as they are and grow to
// the new cap. A memory limit now below the memory held kills the
// instance at once.
func (d *Instance) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("database %q: %w", d.name, err)
	}
	d.advance()
	d.cfg = cfg
	d.reschedule()
	if d.up && cfg.MemoryLimit > 0 && d.memory > cfg.MemoryLimit {
		d.goDown(0, cfg.RestartTime)
	}
	return nil
}

// Handle dispatches the instance's events.
func (d *Instance) Handle(ev sim.Event) {
	switch ev.Kind {
	case evComplete:
		d.complete()
	case evQueryDone:
		done, err := d.takeQuery(int32(ev.Arg))
		done(err)
	case evLockDone:
		d.locks.deliver(int32(ev.Arg))
	case evLockTimeout:
		d.locks.timeout(d, int32(ev.Arg))
	case evUp:
		d.comeUp()
	case evAge:
		d.age()
	case evNotify:
		for _, f := range d.onRestart {
			f(causes[ev.Arg])
		}
	}
}

// Stats returns the measurements since New or the last ResetStats.
func (d *Instance) Stats() InstanceStats {
	now := d.k.Now()
	s := d.st
	s.ExecutingMean = d.executing.Mean(now)
	s.LockWaitMean = d.lockWait.Mean(now)
	if d.respHist.Count() > 0 {
		s.ResponseP50, s.ResponseP99 = d.respHist.P50(), d.respHist.P99()
	}
	if !d.up {
		s.Downtime += now - max(d.downSince, s.Since)
	}
	return s
}

// ResetStats forgets the measurements so far (warm-up deletion); peaks
// start again from the current values.
func (d *Instance) ResetStats() {
	now := d.k.Now()
	d.st = InstanceStats{Since: now,
		PeakExecuting: len(d.running), PeakLockWait: d.locks.nWaiting,
		PeakConnections: d.nConns, PeakMemory: d.memory}
	d.executing.Reset(now)
	d.lockWait.Reset(now)
	d.respHist.Reset()
}
