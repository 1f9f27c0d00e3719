package gc

import (
	"errors"
	"fmt"
	"math"
	"time"

	"stormglass/sim"
)

// ErrConfig is wrapped by every error about a Config's values.
var ErrConfig = errors.New("invalid garbage collector configuration")

// GiB is a gibibyte, in bytes.
const GiB = 1 << 30

// Config describes one Go process's collector.
type Config struct {
	// GOGC is the heap growth allowed between cycles, in percent of the
	// live heap marked by the last cycle (100 by default in Go); 0 or
	// less turns the collector off.
	GOGC int
	// MinHeap is the smallest heap goal (Go's 4 MiB), in bytes.
	MinHeap float64
	// GOMAXPROCS is the number of Ps; BackgroundShare of them (Go's 25 %)
	// run the background mark workers during a cycle.
	GOMAXPROCS      int
	BackgroundShare float64
	// MarkRate is the live heap one P marks per second, in bytes.
	MarkRate float64
	// A stop-the-world pause lasts PauseBase + PausePerGoroutine per
	// goroutine + PausePerGiB per GiB of heap; a cycle has two, at the
	// start and at the end of marking.
	PauseBase, PausePerGoroutine, PausePerGiB time.Duration
	// MarkRunway is the share of the heap growth GOGC allows that is left
	// for marking: a cycle starts when the heap reaches
	// goal − MarkRunway × (goal − marked), Go's trigger, and assists pace
	// the mark to end by the goal. Go's trigger lies at 70 % to 95 % of
	// the way; 0.3 is its lower bound, where the mark has the most room.
	// 0 starts a cycle at the goal itself, the mark then having the growth
	// beyond the live heap as its runway (the model before calibration).
	// In [0, 1).
	MarkRunway float64
	// AssistCap bounds the share of the mutator's CPU mark assists take
	// (AssistShare only).
	AssistCap float64
	// ZeroRate is how fast one goroutine zeroes (or copies into) a fresh
	// large allocation, in bytes per second; it sets how long a burst's
	// Chunk keeps the world from stopping. Required (> 0) when a burst has
	// a Chunk; ignored otherwise.
	ZeroRate float64
	// Bursts are background jobs that allocate heavily for a while (log
	// rotation, metric aggregation at a time of night).
	Bursts []Burst
}

// Burst is a background job: from At for Over it allocates Bytes evenly
// and holds Live more bytes live (the buffers or maps it builds).
//
// Chunk is the largest single allocation the job makes, in bytes: a
// bytes.Buffer grown by append, a map's new bucket array. The runtime
// zeroes such an allocation (or copies the old contents into it) without a
// preemption point, so a stop-the-world requested meanwhile waits until it
// is done: Chunk/ZeroRate at most. 0 means the job allocates in pieces
// small enough not to matter.
type Burst struct {
	At, Over    time.Duration
	Bytes, Live float64
	Chunk       float64
}

// burstSteps is how many allocations a burst is spread over, unless its
// chunks are fewer and larger (then one step per chunk).
const burstSteps = 100

// steps returns how many allocations b is made of, and the bytes and the
// non-preemptible window of each.
func (b Burst) steps(zeroRate float64) (n int, bytes float64, window time.Duration) {
	n = burstSteps
	if b.Chunk > 0 && b.Chunk*burstSteps > b.Bytes {
		n = max(1, int(math.Ceil(b.Bytes/b.Chunk)))
	}
	bytes = b.Bytes / float64(n)
	if b.Chunk > 0 && zeroRate > 0 {
		window = min(sim.DurationOf(min(b.Chunk, bytes)/zeroRate), b.Over/time.Duration(n))
	}
	return n, bytes, window
}

// Validate reports every value the collector cannot run with, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if c.MinHeap < 0 {
		bad("min heap %g bytes, expected ≥ 0", c.MinHeap)
	}
	if c.GOMAXPROCS < 1 {
		bad("GOMAXPROCS %d, expected at least 1", c.GOMAXPROCS)
	}
	if !(c.BackgroundShare > 0 && c.BackgroundShare <= 1) {
		bad("background share %g, expected in (0, 1]", c.BackgroundShare)
	}
	if !(c.MarkRate > 0) {
		bad("mark rate %g bytes/s, expected above 0", c.MarkRate)
	}
	if c.PauseBase < 0 || c.PausePerGoroutine < 0 || c.PausePerGiB < 0 {
		bad("pause terms %v + %v/goroutine + %v/GiB, expected ≥ 0", c.PauseBase, c.PausePerGoroutine, c.PausePerGiB)
	}
	if !(c.MarkRunway >= 0 && c.MarkRunway < 1) {
		bad("mark runway %g, expected in [0, 1)", c.MarkRunway)
	}
	if !(c.AssistCap >= 0 && c.AssistCap <= 1) {
		bad("assist cap %g, expected in [0, 1]", c.AssistCap)
	}
	if !(c.ZeroRate >= 0) {
		bad("zero rate %g bytes/s, expected ≥ 0", c.ZeroRate)
	}
	for i, b := range c.Bursts {
		if b.At < 0 || b.Over <= 0 || !(b.Bytes >= 0) || !(b.Live >= 0) || !(b.Chunk >= 0) {
			bad("bursts[%d] %+v: expected a start ≥ 0, a positive length, bytes, live and chunk ≥ 0", i, b)
		}
		if b.Chunk > 0 && !(c.ZeroRate > 0) {
			bad("bursts[%d] has a chunk of %g bytes: expected a zero rate above 0", i, b.Chunk)
		}
	}
	return errors.Join(errs...)
}

// Process is what the collector reads of the process it runs in.
type Process interface {
	// LiveHeap is the heap the process holds live now, in bytes: its
	// connections' buffers, in-flight work, caches.
	LiveHeap() float64
	// Goroutines is how many goroutines it runs now.
	Goroutines() int
}

// Pause is one stop-the-world pause.
type Pause struct {
	Start  time.Duration
	Length time.Duration
	Cycle  int // the cycle it belongs to, from 1
}

// Stats are the collector's counters since New.
type Stats struct {
	Cycles         int
	Pauses         int
	PauseTotal     time.Duration
	PauseMax       time.Duration
	Allocated      float64 // bytes
	AssistCPU      float64 // CPU seconds of mark assist
	BackgroundCPU  float64 // CPU seconds of background marking
	MarkTime       time.Duration
	LastGoal       float64 // bytes
	LastLiveMarked float64 // bytes
}

// Event kinds.
const (
	evMarkStart int32 = iota + 1
	evMarkEnd
	evPauseEnd
	evBurstStart
	evBurstStep
	evBurstEnd
)

// Collector is the garbage collector of one Go process on a simulation
// kernel. The process reports its allocations; the collector runs cycles
// when the heap reaches its trigger, stops the world twice per cycle and
// charges mark assist to allocations made while it marks. It is driven
// from the kernel's goroutine.
type Collector struct {
	k    *sim.Kernel
	cfg  Config
	proc Process

	heap      float64 // bytes allocated and not yet collected, live included
	goal      float64
	trigger   float64 // heap at which the next cycle starts
	marking   bool    // from the cycle's first pause to the end of its second
	markDone  bool    // the mark work is done: the second pause is on
	cycle     int
	markLive  float64       // live heap when marking began: the mark work
	runway    float64       // heap growth the goal allowed when marking began
	black     float64       // bytes allocated during marking: they survive it
	markStart time.Duration // when the background workers start (the first pause's end)
	assisted  float64       // mark work done by assists this cycle, in bytes
	pausedTo  time.Duration // the world is stopped until then
	burstLive float64       // live bytes the running bursts hold
	// zeroUntil is when the large allocation a burst is zeroing ends: a
	// stop-the-world requested before then waits for it.
	zeroUntil time.Duration
	stopped   bool
	onPause   func(Pause)
	stats     Stats
}

// New makes a collector for proc; the first goal is set from proc's live
// heap as if a cycle had just ended.
func New(k *sim.Kernel, cfg Config, proc Process) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Collector{k: k, cfg: cfg, proc: proc}
	live := proc.LiveHeap()
	c.heap = live
	c.setGoal(live)
	for i, b := range cfg.Bursts {
		// A process started after a job's time (a restart) does not run
		// that job.
		if b.At >= k.Now() {
			k.At(b.At, c, evBurstStart, int64(i))
		}
	}
	return c, nil
}

// Stop ends the collector with its process (a kill): pending phases and
// bursts do nothing more, no pause is reported, and Allocate does nothing.
func (c *Collector) Stop() {
	c.stopped = true
	c.marking = false
	c.pausedTo = c.k.Now()
}

// SetGOGC changes GOGC from now on, as debug.SetGCPercent does: the goal
// is recomputed from the heap the last cycle marked (0 or less turns the
// collector off). A cycle already marking finishes with its own pacing.
func (c *Collector) SetGOGC(gogc int) {
	c.cfg.GOGC = gogc
	c.setGoal(c.stats.LastLiveMarked)
	if !c.marking && gogc > 0 && c.heap >= c.trigger && !c.stopped {
		c.startCycle()
	}
}

// GOGC returns the GOGC in force.
func (c *Collector) GOGC() int { return c.cfg.GOGC }

// live is what the process and its running bursts hold live.
func (c *Collector) live() float64 { return c.proc.LiveHeap() + c.burstLive }

// OnPause sets a function called at the start of every stop-the-world
// pause, for the process to delay what it would do meanwhile.
func (c *Collector) OnPause(f func(Pause)) { c.onPause = f }

func (c *Collector) setGoal(marked float64) {
	c.stats.LastLiveMarked = marked
	c.goal = max(c.cfg.MinHeap, marked*(1+float64(c.cfg.GOGC)/100))
	c.trigger = c.goal - c.cfg.MarkRunway*max(0, c.goal-marked)
	c.stats.LastGoal = c.goal
}

// Trigger is the heap size at which the next cycle starts, in bytes: the
// goal, less MarkRunway of the growth.
func (c *Collector) Trigger() float64 { return c.trigger }

// Goal is the heap size the pacer aims to end the next cycle's mark at
// (with MarkRunway 0, the size at which it starts), in bytes.
func (c *Collector) Goal() float64 { return c.goal }

// Heap is the heap now: live and not yet collected, in bytes.
func (c *Collector) Heap() float64 { return c.heap }

// Marking reports whether a cycle is marking.
func (c *Collector) Marking() bool { return c.marking }

// PausedUntil reports whether the world is stopped now, and until when.
// Every timer of the process (heartbeats included) fires no earlier.
func (c *Collector) PausedUntil() (time.Duration, bool) {
	now := c.k.Now()
	return c.pausedTo, c.pausedTo > now
}

// Allocate records bytes the process allocated now. It returns the CPU
// seconds of mark assist the allocation costs the allocating goroutine: a
// cycle that is marking makes each allocated byte pay for marking in
// proportion to the mark work left over the runway left, Go's assist
// ratio; the assist that does the last of the work ends the mark. A heap
// that reaches the trigger starts a cycle.
func (c *Collector) Allocate(bytes float64) (assist float64) {
	if bytes <= 0 || c.stopped {
		return 0
	}
	c.heap += bytes
	c.stats.Allocated += bytes
	if c.marking {
		ratio := c.ratio()
		c.black += bytes
		if c.markDone {
			return 0
		}
		left := c.markLeft()
		work := min(bytes*ratio, left)
		c.assisted += work
		assist = work / c.cfg.MarkRate
		c.stats.AssistCPU += assist
		if work >= left {
			// The assist did the last of the mark work: the allocating
			// goroutine ends the mark, as in Go.
			c.endMark()
		}
		return assist
	}
	if c.cfg.GOGC > 0 && c.heap >= c.trigger {
		c.startCycle()
	}
	return 0
}

// AssistShare is the share of a mutator's CPU that allocating at rate
// bytes per second costs during marking, capped at AssistCap: the
// allocation rate times the assist ratio over the mark rate and the Ps.
func (c *Collector) AssistShare(rate float64) float64 {
	if !c.marking || c.markDone {
		return 0
	}
	return min(c.cfg.AssistCap, rate*c.ratio()/c.cfg.MarkRate/float64(c.cfg.GOMAXPROCS))
}

// ratio is Go's assist ratio: the mark work left per byte of runway left.
// Past the runway a goroutine that allocates does all the work left.
func (c *Collector) ratio() float64 { return c.markLeft() / max(c.runway-c.black, 1) }

// backgroundRate is the mark work the background workers do per second.
func (c *Collector) backgroundRate() float64 {
	return c.cfg.MarkRate * c.cfg.BackgroundShare * float64(c.cfg.GOMAXPROCS)
}

// markLeft is the mark work not yet done now, in bytes.
func (c *Collector) markLeft() float64 {
	bg := c.backgroundRate() * max(0, c.k.Now()-c.markStart).Seconds()
	return max(0, c.markLive-bg-c.assisted)
}

// PauseLength is the length of one stop-the-world pause with the process
// as it is now: the wait for the world to stop (StopWait) and the work
// done while it is stopped.
func (c *Collector) PauseLength() time.Duration {
	return c.StopWait() + c.cfg.PauseBase + time.Duration(c.proc.Goroutines())*c.cfg.PausePerGoroutine +
		time.Duration(c.heap/GiB*float64(c.cfg.PausePerGiB))
}

// StopWait is how long a stop-the-world requested now waits for the world
// to stop: the rest of the large allocation a burst is zeroing, if any.
// Goroutines that reach a safe point meanwhile stay stopped, so the wait
// is part of the pause every other goroutine sees.
func (c *Collector) StopWait() time.Duration {
	return max(0, c.zeroUntil-c.k.Now())
}

// MarkDuration is how long marking the live heap takes with the
// background workers alone.
func (c *Collector) MarkDuration(live float64) time.Duration {
	return sim.DurationOf(live / (c.cfg.MarkRate * c.cfg.BackgroundShare * float64(c.cfg.GOMAXPROCS)))
}

func (c *Collector) startCycle() {
	c.marking, c.markDone = true, false
	c.cycle++
	c.stats.Cycles++
	c.markLive = c.live()
	c.black, c.assisted = 0, 0
	// The allocation the mark may take: up to the goal from the trigger
	// (MarkRunway > 0); else the growth the goal allows beyond the live
	// heap, GOGC % of it when the live heap has not moved since the last
	// cycle.
	if c.cfg.MarkRunway > 0 {
		c.runway = c.goal - c.heap
	} else {
		c.runway = c.goal - c.markLive
	}
	if c.runway <= 0 {
		c.runway = c.markLive * float64(c.cfg.GOGC) / 100 * max(c.cfg.MarkRunway, 1e-3)
	}
	p := c.pause()
	c.markStart = c.k.Now() + p
	c.k.After(p, c, evMarkStart, int64(c.cycle))
}

// endMark ends marking now: the second pause begins.
func (c *Collector) endMark() {
	c.markDone = true
	d := max(0, c.k.Now()-c.markStart)
	c.stats.MarkTime += d
	c.stats.BackgroundCPU += d.Seconds() * c.cfg.BackgroundShare * float64(c.cfg.GOMAXPROCS)
	p := c.pause()
	c.k.After(p, c, evPauseEnd, int64(c.cycle))
}

// pause stops the world now for PauseLength.
func (c *Collector) pause() time.Duration {
	now := c.k.Now()
	length := c.PauseLength()
	c.pausedTo = max(c.pausedTo, now+length)
	c.stats.Pauses++
	c.stats.PauseTotal += length
	c.stats.PauseMax = max(c.stats.PauseMax, length)
	if c.onPause != nil {
		c.onPause(Pause{Start: now, Length: length, Cycle: c.cycle})
	}
	return length
}

// Handle runs the collector's phases.
func (c *Collector) Handle(ev sim.Event) {
	if c.stopped {
		return
	}
	switch ev.Kind {
	case evMarkStart:
		// The background workers finish what the assists leave, unless
		// assists finish first (then the cycle is past marking already).
		if c.marking && !c.markDone && ev.Arg == int64(c.cycle) {
			c.k.After(sim.DurationOf(c.markLeft()/c.backgroundRate()), c, evMarkEnd, ev.Arg)
		}
	case evMarkEnd:
		if c.marking && !c.markDone && ev.Arg == int64(c.cycle) {
			c.endMark()
		}
	case evBurstStart:
		b := c.cfg.Bursts[ev.Arg]
		n, _, window := b.steps(c.cfg.ZeroRate)
		c.burstLive += b.Live
		if b.Chunk > 0 && b.Live > 0 {
			c.zeroing(min(sim.DurationOf(min(b.Chunk, b.Live)/c.cfg.ZeroRate), window))
		}
		c.Allocate(b.Live) // what it holds, it allocated first
		for i := range n {
			c.k.After(time.Duration(i)*b.Over/time.Duration(n), c, evBurstStep, ev.Arg)
		}
		c.k.After(b.Over, c, evBurstEnd, ev.Arg)
	case evBurstStep:
		_, bytes, window := c.cfg.Bursts[ev.Arg].steps(c.cfg.ZeroRate)
		// The runtime counts a large allocation in the heap before it
		// zeroes it: a cycle it triggers waits for the zeroing to stop
		// the world.
		c.zeroing(window)
		c.Allocate(bytes)
	case evBurstEnd:
		c.burstLive -= c.cfg.Bursts[ev.Arg].Live
	case evPauseEnd:
		// What survives is what the process holds live and what was
		// allocated while marking (allocated black, as Go does).
		c.marking, c.markDone = false, false
		marked := c.live() + c.black
		c.heap = marked
		c.setGoal(marked)
	}
}

// zeroing records a non-preemptible allocation of length d starting now.
func (c *Collector) zeroing(d time.Duration) {
	c.zeroUntil = max(c.zeroUntil, c.k.Now()+d)
}

// Stats returns the counters.
func (c *Collector) Stats() Stats { return c.stats }
