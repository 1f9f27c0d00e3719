package gc

import (
	"errors"
	"fmt"
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
	// AssistCap bounds the share of the mutator's CPU mark assists take.
	AssistCap float64
	// Bursts are background jobs that allocate heavily for a while (log
	// rotation, metric aggregation at a time of night).
	Bursts []Burst
}

// Burst is a background job: from At for Over it allocates Bytes evenly
// and holds Live more bytes live (the buffers or maps it builds).
type Burst struct {
	At, Over    time.Duration
	Bytes, Live float64
}

// burstSteps is how many allocations a burst is spread over.
const burstSteps = 100

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
	if !(c.AssistCap >= 0 && c.AssistCap <= 1) {
		bad("assist cap %g, expected in [0, 1]", c.AssistCap)
	}
	for i, b := range c.Bursts {
		if b.At < 0 || b.Over <= 0 || b.Bytes < 0 || b.Live < 0 {
			bad("bursts[%d] %+v: expected a start ≥ 0, a positive length, bytes and live ≥ 0", i, b)
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
// when the heap reaches its goal, stops the world twice per cycle and
// charges mark assist to allocations made while it marks. It is driven
// from the kernel's goroutine.
type Collector struct {
	k    *sim.Kernel
	cfg  Config
	proc Process

	heap      float64 // bytes allocated and not yet collected, live included
	goal      float64
	marking   bool
	cycle     int
	markLive  float64       // live heap when marking began
	runway    float64       // heap growth the goal allowed when marking began
	black     float64       // bytes allocated during marking: they survive it
	pausedTo  time.Duration // the world is stopped until then
	burstLive float64       // live bytes the running bursts hold
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
		k.At(b.At, c, evBurstStart, int64(i))
	}
	return c, nil
}

// live is what the process and its running bursts hold live.
func (c *Collector) live() float64 { return c.proc.LiveHeap() + c.burstLive }

// OnPause sets a function called at the start of every stop-the-world
// pause, for the process to delay what it would do meanwhile.
func (c *Collector) OnPause(f func(Pause)) { c.onPause = f }

func (c *Collector) setGoal(marked float64) {
	c.stats.LastLiveMarked = marked
	c.goal = max(c.cfg.MinHeap, marked*(1+float64(c.cfg.GOGC)/100))
	c.stats.LastGoal = c.goal
}

// Goal is the heap size at which the next cycle starts, in bytes.
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
// proportion to the live heap still to mark over the heap growth left,
// Go's assist ratio. A heap that reaches its goal starts a cycle.
func (c *Collector) Allocate(bytes float64) (assist float64) {
	if bytes <= 0 {
		return 0
	}
	c.heap += bytes
	c.stats.Allocated += bytes
	if c.marking {
		c.black += bytes
		ratio := c.markLive / max(c.runway, 1)
		assist = bytes * ratio / c.cfg.MarkRate
		c.stats.AssistCPU += assist
		return assist
	}
	if c.cfg.GOGC > 0 && c.heap >= c.goal {
		c.startCycle()
	}
	return 0
}

// AssistShare is the share of a mutator's CPU that allocating at rate
// bytes per second costs during marking, capped at AssistCap: the
// allocation rate times the assist ratio over the mark rate and the Ps.
func (c *Collector) AssistShare(rate float64) float64 {
	if !c.marking {
		return 0
	}
	ratio := c.markLive / max(c.runway, 1)
	return min(c.cfg.AssistCap, rate*ratio/c.cfg.MarkRate/float64(c.cfg.GOMAXPROCS))
}

// PauseLength is the length of one stop-the-world pause with the process
// as it is now.
func (c *Collector) PauseLength() time.Duration {
	return c.cfg.PauseBase + time.Duration(c.proc.Goroutines())*c.cfg.PausePerGoroutine +
		time.Duration(c.heap/GiB*float64(c.cfg.PausePerGiB))
}

// MarkDuration is how long marking the live heap takes with the
// background workers alone.
func (c *Collector) MarkDuration(live float64) time.Duration {
	return sim.DurationOf(live / (c.cfg.MarkRate * c.cfg.BackgroundShare * float64(c.cfg.GOMAXPROCS)))
}

func (c *Collector) startCycle() {
	c.marking = true
	c.cycle++
	c.stats.Cycles++
	c.markLive = c.live()
	c.black = 0
	// The growth the goal allows beyond the live heap: GOGC % of it when
	// the live heap has not moved since the last cycle.
	c.runway = c.goal - c.markLive
	if c.runway <= 0 {
		c.runway = c.markLive * float64(c.cfg.GOGC) / 100
	}
	p := c.pause()
	c.k.After(p, c, evMarkStart, int64(c.cycle))
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
	switch ev.Kind {
	case evMarkStart:
		d := c.MarkDuration(c.markLive)
		c.stats.MarkTime += d
		c.stats.BackgroundCPU += d.Seconds() * c.cfg.BackgroundShare * float64(c.cfg.GOMAXPROCS)
		c.k.After(d, c, evMarkEnd, ev.Arg)
	case evMarkEnd:
		p := c.pause()
		c.k.After(p, c, evPauseEnd, ev.Arg)
	case evBurstStart:
		b := c.cfg.Bursts[ev.Arg]
		c.burstLive += b.Live
		c.Allocate(b.Live) // what it holds, it allocated first
		for i := range burstSteps {
			c.k.After(time.Duration(i)*b.Over/burstSteps, c, evBurstStep, ev.Arg)
		}
		c.k.After(b.Over, c, evBurstEnd, ev.Arg)
	case evBurstStep:
		c.Allocate(c.cfg.Bursts[ev.Arg].Bytes / burstSteps)
	case evBurstEnd:
		c.burstLive -= c.cfg.Bursts[ev.Arg].Live
	case evPauseEnd:
		// What survives is what the process holds live and what was
		// allocated while marking (allocated black, as Go does).
		c.marking = false
		marked := c.live() + c.black
		c.heap = marked
		c.setGoal(marked)
	}
}

// Stats returns the counters.
func (c *Collector) Stats() Stats { return c.stats }
