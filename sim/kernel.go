package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Event is what a Handler receives: the kind and argument given when the
// event was scheduled. Both are the model's to interpret (a kind per
// transition, an argument naming a customer, server or connection), so that
// scheduling needs no allocation.
type Event struct {
	Kind int32
	Arg  int64
}

// Handler is implemented by long-lived model components. Scheduling an event
// for a Handler stores an interface value that already exists, so it
// allocates nothing, unlike a closure that captures per-event state.
type Handler interface {
	Handle(ev Event)
}

// EventID names a scheduled event, for Cancel and Pending. The zero EventID
// names no event.
type EventID struct {
	seq  uint64
	slot uint32
}

// slot holds the payload of one pending event. seq is the schedule number of
// the event that owns it, or 0 when the slot is free; a heap entry whose seq
// differs from its slot's is a cancelled event, skipped when it surfaces.
type slot struct {
	seq  uint64
	h    Handler
	arg  int64
	kind int32
}

// funcHandler lets a plain function stand where a Handler is expected. A
// func value is a single pointer, so the conversion allocates nothing and
// a slot needs no separate field for functions.
type funcHandler func()

func (f funcHandler) Handle(Event) { f() }

// Config sets up a Kernel.
type Config struct {
	// Seed is the run seed from which every random stream is derived.
	Seed uint64
	// Epoch is the wall-clock instant that virtual time zero stands for, as
	// seen by production code through Clock().Now(). The zero value means
	// 2000-01-01T00:00:00Z; scenarios set the incident's own date.
	Epoch time.Time
	// Limits stop a runaway run with a clear error.
	Limits Limits
}

// Limits are guards against a run that would never end or would exhaust the
// machine. Zero means no limit.
type Limits struct {
	MaxEvents    uint64        // events dispatched over the kernel's life
	MaxWall      time.Duration // wall time spent inside Run calls
	MaxHeapBytes uint64        // live Go heap of the whole process
}

// LimitError reports which guard stopped a run, and where.
type LimitError struct {
	Limit  string // "events", "wall time" or "heap"
	Value  string // what was measured
	Max    string // the configured limit
	At     time.Duration
	Events uint64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("sim: run stopped by the %s limit: %s exceeds %s (virtual time %v, %d events)",
		e.Limit, e.Value, e.Max, e.At, e.Events)
}

// ErrPaused is returned by a Run call that Pause interrupted. The kernel is
// intact and the next Run call resumes where it left off.
var ErrPaused = errors.New("sim: run paused")

// Progress is what a progress callback sees.
type Progress struct {
	Now     time.Duration // virtual time reached
	Until   time.Duration // virtual time the current run aims for (math.MaxInt64 if none)
	Events  uint64        // events dispatched so far
	Pending int           // events waiting
	Wall    time.Duration // wall time spent in Run calls so far
}

// Fraction returns how far the run is towards Until, in [0, 1], or 0 when
// the run has no time target.
func (p Progress) Fraction() float64 {
	if p.Until <= 0 || p.Until == math.MaxInt64 {
		return 0
	}
	return min(1, max(0, float64(p.Now)/float64(p.Until)))
}

// checkEvery is how many events pass between looks at the context, the
// pause flag, the guards and the progress callback. Looking at every event
// would cost more than dispatching it; 4,096 events are well under a
// millisecond of wall time, which is all the responsiveness a GUI needs.
const checkEvery = 4096

// Kernel is a discrete-event simulation kernel: a virtual clock and the
// events pending on it. It is not safe for concurrent use, except Pause,
// which any goroutine may call. Independent kernels share nothing, so
// replications run in parallel, one kernel per goroutine.
type Kernel struct {
	now        time.Duration
	heap       eventHeap
	slots      []slot
	free       []uint32
	seq        uint64
	live       int // pending events that have not been cancelled
	dispatched uint64
	stopped    bool

	paused atomic.Bool

	epoch   time.Time
	streams Streams
	limits  Limits
	wall    time.Duration

	progressEvery time.Duration
	progress      func(Progress)
}

// DefaultEpoch is the instant virtual time zero stands for when Config.Epoch
// is unset.
var DefaultEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// NewKernel returns a kernel at virtual time zero with nothing scheduled.
func NewKernel(cfg Config) *Kernel {
	epoch := cfg.Epoch
	if epoch.IsZero() {
		epoch = DefaultEpoch
	}
	return &Kernel{
		epoch:   epoch,
		streams: NewStreams(cfg.Seed),
		limits:  cfg.Limits,
	}
}

// Now returns the virtual time since the start of the run.
func (k *Kernel) Now() time.Duration { return k.now }

// Epoch returns the wall-clock instant that virtual time zero stands for.
func (k *Kernel) Epoch() time.Time { return k.epoch }

// Streams returns the random streams of this run.
func (k *Kernel) Streams() Streams { return k.streams }

// Rand returns the named random stream of this run (see Streams.Rand).
func (k *Kernel) Rand(name string) *rand.Rand { return k.streams.Rand(name) }

// Pending returns the number of events waiting to run.
func (k *Kernel) Pending() int { return k.live }

// Events returns the number of events dispatched so far.
func (k *Kernel) Events() uint64 { return k.dispatched }

// At schedules h.Handle(Event{kind, arg}) at virtual time t. Scheduling in
// the past is a bug in the model and panics.
func (k *Kernel) At(t time.Duration, h Handler, kind int32, arg int64) EventID {
	return k.schedule(t, h, kind, arg)
}

// After schedules h.Handle(Event{kind, arg}) d from now; d < 0 counts as 0.
func (k *Kernel) After(d time.Duration, h Handler, kind int32, arg int64) EventID {
	return k.schedule(k.now+max(d, 0), h, kind, arg)
}

// AtFunc schedules fn at virtual time t. A closure that captures state
// allocates; hot paths use At with a Handler.
func (k *Kernel) AtFunc(t time.Duration, fn func()) EventID {
	if fn == nil {
		panic("sim: AtFunc with a nil function")
	}
	return k.schedule(t, funcHandler(fn), 0, 0)
}

// AfterFunc schedules fn d from now; d < 0 counts as 0.
func (k *Kernel) AfterFunc(d time.Duration, fn func()) EventID {
	if fn == nil {
		panic("sim: AfterFunc with a nil function")
	}
	return k.schedule(k.now+max(d, 0), funcHandler(fn), 0, 0)
}

func (k *Kernel) schedule(t time.Duration, h Handler, kind int32, arg int64) EventID {
	if t < k.now {
		panic(fmt.Sprintf("sim: event scheduled at %v, before the current time %v", t, k.now))
	}
	if h == nil {
		panic("sim: event scheduled with a nil Handler")
	}
	var i uint32
	if n := len(k.free); n > 0 {
		i = k.free[n-1]
		k.free = k.free[:n-1]
	} else {
		if len(k.slots) == math.MaxUint32 {
			panic("sim: more than 2^32-1 events pending")
		}
		k.slots = append(k.slots, slot{})
		i = uint32(len(k.slots) - 1)
	}
	k.seq++
	k.slots[i] = slot{seq: k.seq, h: h, kind: kind, arg: arg}
	k.heap.push(entry{at: t, seq: k.seq, slot: i})
	k.live++
	return EventID{seq: k.seq, slot: i}
}

// Cancel removes a pending event. It reports whether the event was pending
// (false if it already ran, was cancelled, or id is zero). The heap entry is
// left behind and skipped when it reaches the top: cancelling is O(1), and
// the heap is compacted in O(n) whenever cancelled entries outnumber live
// ones, so memory stays within twice the live events and every operation
// stays O(log n) amortised.
func (k *Kernel) Cancel(id EventID) bool {
	if !k.IsPending(id) {
		return false
	}
	s := &k.slots[id.slot]
	*s = slot{}
	k.free = append(k.free, id.slot)
	k.live--
	if stale := len(k.heap) - k.live; stale > 1024 && stale > k.live {
		k.compact()
	}
	return true
}

// IsPending reports whether the event id is still waiting to run.
func (k *Kernel) IsPending(id EventID) bool {
	return id.seq != 0 && int(id.slot) < len(k.slots) && k.slots[id.slot].seq == id.seq
}

func (k *Kernel) compact() {
	kept := k.heap[:0]
	for _, e := range k.heap {
		if k.slots[e.slot].seq == e.seq {
			kept = append(kept, e)
		}
	}
	k.heap = kept
	k.heap.heapify()
}

// peek drops cancelled entries from the top and reports the time of the
// next live event.
func (k *Kernel) peek() (time.Duration, bool) {
	for len(k.heap) > 0 {
		e := &k.heap[0]
		if k.slots[e.slot].seq == e.seq {
			return e.at, true
		}
		k.heap.pop()
	}
	return 0, false
}

// NextAt returns the time of the next pending event, if any.
func (k *Kernel) NextAt() (time.Duration, bool) { return k.peek() }

// Step dispatches the next event. It reports false when nothing is pending.
func (k *Kernel) Step() bool {
	for len(k.heap) > 0 {
		e := k.heap.pop()
		s := &k.slots[e.slot]
		if s.seq != e.seq {
			continue // cancelled
		}
		h, ev := s.h, Event{Kind: s.kind, Arg: s.arg}
		*s = slot{}
		k.free = append(k.free, e.slot)
		k.live--
		k.now = e.at
		k.dispatched++
		h.Handle(ev)
		return true
	}
	return false
}

// Stop, called from inside an event, ends the current Run call after that
// event; Run returns nil. Later Run calls proceed again.
func (k *Kernel) Stop() { k.stopped = true }

// Pause makes the current Run call return ErrPaused within a few thousand
// events. Any goroutine may call it (a GUI's pause button does). A Pause
// with no Run in progress applies to the next one.
func (k *Kernel) Pause() { k.paused.Store(true) }

// OnProgress sets a callback that Run calls about every interval of wall
// time (and once when a Run call returns). The callback runs on the
// simulation goroutine and must not change the model: results do not depend
// on when, or whether, it is called.
func (k *Kernel) OnProgress(interval time.Duration, f func(Progress)) {
	k.progressEvery, k.progress = interval, f
}

// RunUntil dispatches every event scheduled at or before virtual time t, then
// sets the clock to t. It returns early with ctx's error, ErrPaused, or a
// *LimitError; in each case the kernel can be run on later.
func (k *Kernel) RunUntil(ctx context.Context, t time.Duration) error {
	if t < k.now {
		return fmt.Errorf("sim: RunUntil(%v) is before the current time %v", t, k.now)
	}
	done, err := k.run(ctx, t, math.MaxUint64)
	if err == nil && done {
		k.now = t
	}
	return err
}

// RunEvents dispatches at most n events (fewer if the queue empties).
func (k *Kernel) RunEvents(ctx context.Context, n uint64) error {
	_, err := k.run(ctx, math.MaxInt64, n)
	return err
}

// Run dispatches events until none is pending.
func (k *Kernel) Run(ctx context.Context) error {
	_, err := k.run(ctx, math.MaxInt64, math.MaxUint64)
	return err
}

// run is the event loop. It reports done when it stopped because no event
// remains at or before until (as opposed to a stop, pause, error or count).
func (k *Kernel) run(ctx context.Context, until time.Duration, n uint64) (done bool, err error) {
	k.stopped = false
	start := time.Now()
	wall0 := k.wall
	lastProgress := start
	defer func() {
		k.wall = wall0 + time.Since(start)
		if k.progress != nil {
			k.progress(k.progressAt(until))
		}
	}()
	budget := uint64(0)
	for n > 0 {
		at, ok := k.peek()
		if !ok || at > until {
			return true, nil
		}
		if budget == 0 {
			budget = checkEvery
			if l := k.limits.MaxEvents; l > k.dispatched {
				// Check again exactly when the event limit is reached.
				budget = min(budget, l-k.dispatched)
			}
			now := time.Now()
			k.wall = wall0 + now.Sub(start)
			if err := k.check(ctx); err != nil {
				return false, err
			}
			if k.progress != nil && now.Sub(lastProgress) >= k.progressEvery {
				lastProgress = now
				k.progress(k.progressAt(until))
			}
		}
		k.Step()
		n--
		budget--
		if k.stopped {
			return false, nil
		}
	}
	return false, nil
}

func (k *Kernel) progressAt(until time.Duration) Progress {
	return Progress{Now: k.now, Until: until, Events: k.dispatched, Pending: k.live, Wall: k.wall}
}

// heapMetric is read through runtime/metrics, which unlike
// runtime.ReadMemStats does not stop the world.
const heapMetric = "/memory/classes/heap/objects:bytes"

func (k *Kernel) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sim: run cancelled at virtual time %v: %w", k.now, err)
	}
	if k.paused.Swap(false) {
		return ErrPaused
	}
	l := k.limits
	if l.MaxEvents > 0 && k.dispatched >= l.MaxEvents {
		return &LimitError{Limit: "events", Value: fmt.Sprint(k.dispatched), Max: fmt.Sprint(l.MaxEvents), At: k.now, Events: k.dispatched}
	}
	if l.MaxWall > 0 && k.wall > l.MaxWall {
		return &LimitError{Limit: "wall time", Value: k.wall.Round(time.Millisecond).String(), Max: l.MaxWall.String(), At: k.now, Events: k.dispatched}
	}
	if l.MaxHeapBytes > 0 {
		sample := []metrics.Sample{{Name: heapMetric}}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if b := sample[0].Value.Uint64(); b > l.MaxHeapBytes {
				return &LimitError{Limit: "heap", Value: fmt.Sprintf("%d MiB", b>>20), Max: fmt.Sprintf("%d MiB", l.MaxHeapBytes>>20), At: k.now, Events: k.dispatched}
			}
		}
	}
	return nil
}
