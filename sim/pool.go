package sim

import (
	"time"

	"stormglass/sim/stats"
)

// Pool is a counting semaphore whose waiters give up after a timeout: a
// database connection pool (size 50, acquire timeout 3 s), a per-instance
// query concurrency limit, a worker pool. Waiters are served first come,
// first served.
//
// Outcomes are reported through callbacks set once on the pool, not per
// call, so that acquiring allocates nothing.
type Pool struct {
	k     *Kernel
	name  string
	size  int
	inUse int

	waiters  Ring[waiter]
	headSeq  uint64 // sequence number of waiters' oldest entry
	nextSeq  uint64
	nWaiting int // live waiters (the ring also holds ones that timed out)

	// OnGrant is called when a queued Acquire obtains a permit, with the
	// time it waited. It is not called for an Acquire that returned Granted.
	OnGrant func(tag int64, waited time.Duration)
	// OnTimeout is called when a queued Acquire gives up.
	OnTimeout func(tag int64, waited time.Duration)

	Stats PoolStats
}

type waiter struct {
	tag     int64
	since   time.Duration
	timeout EventID
	live    bool
}

// PoolStats are a pool's measurements since the last ResetStats.
type PoolStats struct {
	Since    time.Duration
	Granted  stats.Counter // at once or after waiting
	Queued   stats.Counter
	Rejected stats.Counter // no permit and no waiting allowed
	TimedOut stats.Counter
	Wait     stats.Tally // seconds, of every grant (0 for an immediate one)
	InUse    *stats.TimeWeighted
	Waiting  *stats.TimeWeighted
}

// Acquisition is the immediate outcome of Acquire.
type Acquisition int

const (
	Granted  Acquisition = iota // a permit is held; call Release when done
	Queued                      // OnGrant or OnTimeout will follow
	Rejected                    // no permit free and the caller would not wait
)

// NewPool returns a pool of size permits.
func NewPool(k *Kernel, name string, size int) *Pool {
	if size < 0 {
		panic("sim: a pool's size must not be negative")
	}
	now := k.Now()
	return &Pool{k: k, name: name, size: size, Stats: PoolStats{Since: now,
		InUse: stats.NewTimeWeighted(now, 0), Waiting: stats.NewTimeWeighted(now, 0)}}
}

// Name returns the pool's name.
func (p *Pool) Name() string { return p.name }

// Size returns the number of permits.
func (p *Pool) Size() int { return p.size }

// InUse returns the permits held.
func (p *Pool) InUse() int { return p.inUse }

// Waiting returns the callers waiting for a permit.
func (p *Pool) Waiting() int { return p.nWaiting }

// Acquire asks for a permit on behalf of tag. With none free it waits up to
// timeout (forever if timeout < 0, not at all if timeout is 0).
func (p *Pool) Acquire(tag int64, timeout time.Duration) Acquisition {
	now := p.k.Now()
	if p.inUse < p.size && p.nWaiting == 0 {
		p.grant(now)
		p.Stats.Wait.Record(0)
		return Granted
	}
	if timeout == 0 {
		p.Stats.Rejected.Inc()
		return Rejected
	}
	w := waiter{tag: tag, since: now, live: true}
	if timeout > 0 {
		w.timeout = p.k.After(timeout, p, 0, int64(p.nextSeq))
	}
	p.waiters.Push(w)
	p.nextSeq++
	p.nWaiting++
	p.Stats.Queued.Inc()
	p.Stats.Waiting.Set(now, float64(p.nWaiting))
	return Queued
}

func (p *Pool) grant(now time.Duration) {
	p.inUse++
	p.Stats.Granted.Inc()
	p.Stats.InUse.Set(now, float64(p.inUse))
}

// Release returns a permit and hands it to the oldest waiter, if any.
func (p *Pool) Release() {
	if p.inUse == 0 {
		panic("sim: Release of a pool with no permit in use")
	}
	p.inUse--
	p.Stats.InUse.Set(p.k.Now(), float64(p.inUse))
	p.serve()
}

// SetSize changes the number of permits. Shrinking revokes nothing: permits
// in use above the new size are simply not handed out again.
func (p *Pool) SetSize(size int) {
	if size < 0 {
		panic("sim: a pool's size must not be negative")
	}
	p.size = size
	p.serve()
}

func (p *Pool) serve() {
	now := p.k.Now()
	for p.inUse < p.size && p.waiters.Len() > 0 {
		w := p.waiters.Pop()
		p.headSeq++
		if !w.live {
			continue
		}
		p.k.Cancel(w.timeout)
		p.nWaiting--
		p.Stats.Waiting.Set(now, float64(p.nWaiting))
		p.grant(now)
		waited := now - w.since
		p.Stats.Wait.Record(seconds(waited))
		if p.OnGrant != nil {
			p.OnGrant(w.tag, waited)
		}
	}
	p.trimFront()
}

// trimFront drops waiters that timed out from the front, so the ring holds
// no more than the live waiters and the dead ones queued between them.
func (p *Pool) trimFront() {
	for p.waiters.Len() > 0 && !p.waiters.At(0).live {
		p.waiters.Pop()
		p.headSeq++
	}
}

// Handle times out the waiter whose sequence number is ev.Arg.
func (p *Pool) Handle(ev Event) {
	i := int(uint64(ev.Arg) - p.headSeq)
	if uint64(ev.Arg) < p.headSeq || i >= p.waiters.Len() {
		return // already served
	}
	w := p.waiters.At(i)
	if !w.live {
		return
	}
	w.live = false
	tag, waited := w.tag, p.k.Now()-w.since
	p.nWaiting--
	p.Stats.TimedOut.Inc()
	p.Stats.Waiting.Set(p.k.Now(), float64(p.nWaiting))
	p.trimFront()
	if p.OnTimeout != nil {
		p.OnTimeout(tag, waited)
	}
}

// ResetStats forgets the measurements so far (warm-up deletion).
func (p *Pool) ResetStats() {
	now := p.k.Now()
	st := &p.Stats
	st.Since = now
	st.Granted.Reset()
	st.Queued.Reset()
	st.Rejected.Reset()
	st.TimedOut.Reset()
	st.Wait.Reset()
	st.InUse.Reset(now)
	st.Waiting.Reset(now)
}
