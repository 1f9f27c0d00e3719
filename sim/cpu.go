package sim

import (
	"math"
	"time"

	"stormglass/sim/stats"
)

// CPU is a processor-sharing server: n cores, each running at speed s (work
// per second, 1 for the reference core), shared equally by every job
// present. With N jobs, each progresses at rate s·min(1, n/N): up to n jobs
// run at full speed, beyond that they slow down together. This is how a CPU
// under many runnable threads behaves at the time scale of requests, and
// why an overloaded service grows slow for everyone instead of queueing.
//
// The implementation tracks attained service per job V(t) = ∫ s·min(1, n/N)
// dt. A job submitted when V = v with w units of work finishes when V
// reaches v + w, its tag; only the smallest tag needs a pending event, so
// each arrival, departure or change of cores costs O(log N).
//
// SetCapacity with zero cores is an outage: jobs stay, V stands still and
// no completion is pending until cores return.
type CPU struct {
	k     *Kernel
	name  string
	cores float64
	speed float64
	// background is runnable threads outside the model's jobs (a batch
	// job hogging the machine): they share the cores like jobs, never
	// finish, and count as busy.
	background float64

	jobs     jobHeap
	attained float64 // V at time last
	last     time.Duration
	next     EventID
	done     []job // reused by Handle

	// OnDone, if set, is called when a job finishes.
	OnDone func(id int64, arrived time.Duration)

	Stats CPUStats
}

// CPUStats are a CPU's measurements since the last ResetStats.
type CPUStats struct {
	Since        time.Duration
	Submitted    stats.Counter
	Completed    stats.Counter
	Response     stats.Tally // seconds
	ResponseHist *stats.Histogram
	Jobs         *stats.TimeWeighted // jobs present
	BusyCores    *stats.TimeWeighted // min(N, cores)
	Cores        *stats.TimeWeighted // cores provided, the utilisation's denominator
}

type job struct {
	tag     float64
	id      int64
	arrived time.Duration
}

// jobHeap is a binary min-heap on tag. It is typed rather than built on
// container/heap, whose interface boxes every pushed job.
type jobHeap []job

func (h *jobHeap) push(j job) {
	*h = append(*h, j)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].tag <= j.tag {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = j
}

func (h *jobHeap) pop() job {
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

// NewCPU returns a processor-sharing CPU with the given cores (> 0, may be
// fractional, e.g. a shared vCPU) and speed (> 0).
func NewCPU(k *Kernel, name string, cores, speed float64) *CPU {
	if !(cores > 0) || !(speed > 0) {
		panic("sim: a CPU needs cores > 0 and speed > 0")
	}
	now := k.Now()
	return &CPU{k: k, name: name, cores: cores, speed: speed, last: now,
		Stats: CPUStats{
			Since:        now,
			ResponseHist: stats.NewHistogram(stats.DefaultRelAccuracy),
			Jobs:         stats.NewTimeWeighted(now, 0),
			BusyCores:    stats.NewTimeWeighted(now, 0),
			Cores:        stats.NewTimeWeighted(now, cores),
		}}
}

// Name returns the CPU's name.
func (c *CPU) Name() string { return c.name }

// Len returns the number of jobs present.
func (c *CPU) Len() int { return len(c.jobs) }

// Cores and Speed return the current capacity.
func (c *CPU) Cores() float64 { return c.cores }

// Speed returns the work done per second by one core.
func (c *CPU) Speed() float64 { return c.speed }

// rate is dV/dt, the progress of each job. It is 0 in an outage (cores = 0
// with jobs present) and never divides by zero: n > cores ≥ 0 below.
func (c *CPU) rate() float64 {
	n := float64(len(c.jobs)) + c.background
	if n <= c.cores {
		return c.speed
	}
	return c.speed * c.cores / n
}

func (c *CPU) advance() {
	now := c.k.Now()
	if len(c.jobs) > 0 {
		c.attained += c.rate() * seconds(now-c.last)
	}
	c.last = now
}

func (c *CPU) reschedule() {
	c.k.Cancel(c.next)
	c.next = EventID{}
	now := c.k.Now()
	c.Stats.Jobs.Set(now, float64(len(c.jobs)))
	c.Stats.BusyCores.Set(now, math.Min(float64(len(c.jobs))+c.background, c.cores))
	r := c.rate()
	if len(c.jobs) == 0 || !(r > 0) {
		// Nothing to finish, or an outage: nothing progresses, so no
		// completion is pending until SetCapacity restores cores.
		return
	}
	// Round up so that at the event the job's work is certainly done.
	left := math.Ceil(max(0, c.jobs[0].tag-c.attained) / r * 1e9)
	if left >= math.MaxInt64-float64(c.k.Now()) {
		// A rate so small (a sliver of a core) that the job would end
		// beyond the last representable instant: it never ends.
		return
	}
	c.next = c.k.After(time.Duration(left), c, 0, 0)
}

// Submit starts a job needing work units (seconds on one core of speed 1).
func (c *CPU) Submit(id int64, work float64) {
	c.advance()
	c.Stats.Submitted.Inc()
	c.jobs.push(job{tag: c.attained + max(work, 0), id: id, arrived: c.k.Now()})
	c.reschedule()
}

// SetCapacity changes cores and speed from now on (a redeploy to another
// hardware tier). Work already done is kept. cores = 0 is an outage: jobs
// stay and are submitted as usual but make no progress until cores return.
// cores < 0 or NaN, and speed ≤ 0 or NaN, panic.
func (c *CPU) SetCapacity(cores, speed float64) {
	if !(cores >= 0) || !(speed > 0) {
		panic("sim: a CPU needs cores ≥ 0 and speed > 0")
	}
	c.advance()
	c.cores, c.speed = cores, speed
	c.Stats.Cores.Set(c.k.Now(), cores)
	c.reschedule()
}

// SetBackground sets the runnable threads of background work from now on:
// a CPU-hogging job with that many threads busy. They take their equal
// share of the cores, so a job alone beside b threads on n cores runs at
// speed·min(1, n/(1+b)); they never finish and count as busy cores.
// threads < 0 or NaN panics.
func (c *CPU) SetBackground(threads float64) {
	if !(threads >= 0) {
		panic("sim: background threads must be ≥ 0")
	}
	c.advance()
	c.background = threads
	c.reschedule()
}

// Background returns the background threads.
func (c *CPU) Background() float64 { return c.background }

// finishSlack absorbs floating-point error in attained service: a job whose
// tag is within a nanosecond of work of V is done.
const finishSlack = 1e-9

// Handle finishes every job whose work is done.
func (c *CPU) Handle(Event) {
	c.next = EventID{}
	c.advance()
	now := c.k.Now()
	done := c.done[:0]
	for len(c.jobs) > 0 && c.jobs[0].tag <= c.attained+finishSlack*c.speed {
		j := c.jobs.pop()
		c.attained = max(c.attained, j.tag)
		done = append(done, j)
	}
	c.done = done
	c.reschedule()
	for _, j := range done {
		c.Stats.Completed.Inc()
		r := seconds(now - j.arrived)
		c.Stats.Response.Record(r)
		c.Stats.ResponseHist.Record(r)
		if c.OnDone != nil {
			c.OnDone(j.id, j.arrived)
		}
	}
}

// ResetStats forgets the measurements so far (warm-up deletion).
func (c *CPU) ResetStats() {
	now := c.k.Now()
	st := &c.Stats
	st.Since = now
	st.Submitted.Reset()
	st.Completed.Reset()
	st.Response.Reset()
	st.ResponseHist.Reset()
	st.Jobs.Reset(now)
	st.BusyCores.Reset(now)
	st.Cores.Reset(now)
}

// Utilization returns ∫busy cores dt / ∫cores dt since Stats.Since: the
// fraction of the core time provided that was used, right across changes
// of capacity and outages. It is 0 if no core time was provided.
func (c *CPU) Utilization() float64 {
	return utilization(c.Stats.BusyCores, c.Stats.Cores, c.k.Now())
}
