package main

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim"
)

// Model A's parameters: M/M/8 at ρ = 0.9, where Erlang C gives Wq = 0.8769.
const (
	mmcServers = 8
	mmcLambda  = 7.2
	mmcMu      = 1.0
)

// result is what one measurement reports; a child prints it as one JSON
// line. Events are everything the engine dispatched; Work is the unit that
// means the same in every engine (customers served, hold operations), so
// engines whose events are finer or coarser are still compared fairly.
type result struct {
	Model  string  `json:"model"`
	Engine string  `json:"engine"`
	Events uint64  `json:"events"`
	Work   uint64  `json:"work"`
	WallS  float64 `json:"wall_s"`
	Wq     float64 `json:"wq,omitempty"`
	// AllocsPerEvent is heap allocations per dispatched event during the
	// timed section (Go engines only): an engine that allocates per event
	// pays for it in garbage collection as the run gets longer.
	AllocsPerEvent float64 `json:"allocs_per_event"`
	Version        string  `json:"version,omitempty"`
}

// measure times run and counts the heap allocations it makes. The two
// ReadMemStats calls stop the world once each, outside the timed section.
func measure(run func()) (wall time.Duration, mallocs uint64) {
	var before, after runtime.MemStats
	runtime.GC() // start the timed section without the setup's garbage
	runtime.ReadMemStats(&before)
	start := time.Now()
	run()
	wall = time.Since(start)
	runtime.ReadMemStats(&after)
	return wall, after.Mallocs - before.Mallocs
}

func finish(r result, wall time.Duration, mallocs uint64) result {
	r.WallS = wall.Seconds()
	if r.Events > 0 {
		r.AllocsPerEvent = float64(mallocs) / float64(r.Events)
	}
	r.Version = runtime.Version()
	return r
}

// --- Stormglass ---

// mmcStormglass runs Model A on the kernel and its Station, the way a
// Stormglass model is built, so the figure includes the Station's own
// statistics (tallies, time-weighted means, response histogram).
func mmcStormglass(n int, seed uint64) result {
	k := sim.NewKernel(sim.Config{Seed: seed})
	streams := k.Streams()
	st := sim.NewStation(k, "mmc", mmcServers, 0,
		sim.Seconds(distuv.Exponential{Rate: mmcMu, Src: streams.Source("service")}))
	// Exactly n customers, so the run drains and every engine serves the same.
	src := sim.NewSource(k, sim.Seconds(distuv.Exponential{Rate: mmcLambda, Src: streams.Source("arrivals")}),
		func(id int64) { st.Arrive(id) })
	src.SetLimit(int64(n))
	src.Start()
	var err error
	wall, mallocs := measure(func() { err = k.Run(context.Background()) })
	if err != nil {
		panic(err)
	}
	r := result{Model: "mmc", Engine: "stormglass", Events: k.Events(),
		Work: uint64(st.Stats.Completed.Count()), Wq: st.Stats.Wait.Mean()}
	return finish(r, wall, mallocs)
}

// mmcKernel is Model A on the bare kernel: the hand-written loop's
// bookkeeping (a busy count, a FIFO of arrival times, a wait sum) in a
// sim.Handler, without sim.Station. It is a diagnostic row: the gap between
// it and the stormglass row is what the Station's statistics cost, the gap
// between it and the hand-written row is what the kernel costs.
type mmcKernel struct {
	k              *sim.Kernel
	inter, service *rand.Rand
	queue          []time.Duration
	head           int
	busy           int
	arrived, n     int64
	served         uint64
	waitSum        time.Duration
}

const (
	kindArrival int32 = iota
	kindDeparture
)

func (m *mmcKernel) Handle(ev sim.Event) {
	now := m.k.Now()
	switch ev.Kind {
	case kindArrival:
		m.arrived++
		if m.arrived < m.n {
			m.k.After(sim.DurationOf(m.inter.ExpFloat64()/mmcLambda), m, kindArrival, 0)
		}
		if m.busy < mmcServers {
			m.busy++
			m.served++
			m.k.After(sim.DurationOf(m.service.ExpFloat64()/mmcMu), m, kindDeparture, 0)
		} else {
			m.queue = append(m.queue, now)
		}
	case kindDeparture:
		if m.head < len(m.queue) {
			m.waitSum += now - m.queue[m.head]
			m.head++
			if m.head == len(m.queue) {
				m.queue, m.head = m.queue[:0], 0
			}
			m.served++
			m.k.After(sim.DurationOf(m.service.ExpFloat64()/mmcMu), m, kindDeparture, 0)
		} else {
			m.busy--
		}
	}
}

func mmcKernelOnly(n int, seed uint64) result {
	k := sim.NewKernel(sim.Config{Seed: seed})
	m := &mmcKernel{k: k, n: int64(n), inter: k.Rand("arrivals"), service: k.Rand("service")}
	k.After(0, m, kindArrival, 0)
	var err error
	wall, mallocs := measure(func() { err = k.Run(context.Background()) })
	if err != nil {
		panic(err)
	}
	r := result{Model: "mmc", Engine: "kernel-only", Events: k.Events(), Work: m.served,
		Wq: m.waitSum.Seconds() / float64(m.served)}
	return finish(r, wall, mallocs)
}

// holdTimer is the hold model's participant: on firing it re-arms itself at
// now + Exp(1) s, so the pending count stays p and each operation is one
// dispatch plus one schedule (as in sim/kernel_bench_test.go).
type holdTimer struct {
	k   *sim.Kernel
	rng *rand.Rand
}

func (h *holdTimer) Handle(sim.Event) {
	h.k.After(time.Duration(h.rng.ExpFloat64()*1e9), h, 0, 0)
}

func holdStormglass(p, ops int, seed uint64) result {
	k := sim.NewKernel(sim.Config{Seed: seed})
	h := &holdTimer{k: k, rng: k.Rand("hold")}
	for range p {
		k.After(time.Duration(h.rng.ExpFloat64()*1e9), h, 0, 0)
	}
	var err error
	wall, mallocs := measure(func() { err = k.RunEvents(context.Background(), uint64(ops)) })
	if err != nil {
		panic(err)
	}
	r := result{Model: holdModel(p), Engine: "stormglass", Events: k.Events(), Work: k.Events()}
	return finish(r, wall, mallocs)
}

// --- Hand-written ceiling ---
//
// The least a Go event loop can do for these models: events are plain
// 16-byte values in a binary heap ordered by time, no handler dispatch, no
// cancellation, no statistics beyond the one the model reports. Stormglass
// does more per event (a generic handler, cancellable IDs, FIFO order at
// equal times, run limits), so this is a ceiling, not a rival.

type hwEvent struct {
	t    float64
	kind int8
}

type hwHeap []hwEvent

func (h *hwHeap) push(e hwEvent) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].t <= e.t {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = e
}

func (h *hwHeap) pop() hwEvent {
	s := *h
	top := s[0]
	n := len(s) - 1
	e := s[n]
	s = s[:n]
	*h = s
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].t < s[c].t {
			c++
		}
		if e.t <= s[c].t {
			break
		}
		s[i] = s[c]
		i = c
	}
	if n > 0 {
		s[i] = e
	}
	return top
}

// fifo is a queue of arrival times; it rewinds whenever it empties, which
// at ρ = 0.9 is often, so it never grows beyond the longest queue.
type fifo struct {
	buf  []float64
	head int
}

func (f *fifo) push(t float64) { f.buf = append(f.buf, t) }
func (f *fifo) len() int       { return len(f.buf) - f.head }
func (f *fifo) pop() float64 {
	t := f.buf[f.head]
	f.head++
	if f.head == len(f.buf) {
		f.buf, f.head = f.buf[:0], 0
	}
	return t
}

const (
	hwArrival int8 = iota
	hwDeparture
)

func mmcHandwritten(n int, seed uint64) result {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := make(hwHeap, 0, 64)
	var q fifo
	var events, arrived, served uint64
	var busy int
	var waitSum float64
	h.push(hwEvent{t: 0, kind: hwArrival})
	wall, mallocs := measure(func() {
		for len(h) > 0 {
			e := h.pop()
			now := e.t
			events++
			switch e.kind {
			case hwArrival:
				arrived++
				if arrived < uint64(n) {
					h.push(hwEvent{t: now + rng.ExpFloat64()/mmcLambda, kind: hwArrival})
				}
				if busy < mmcServers {
					busy++
					served++
					h.push(hwEvent{t: now + rng.ExpFloat64()/mmcMu, kind: hwDeparture})
				} else {
					q.push(now)
				}
			case hwDeparture:
				if q.len() > 0 {
					waitSum += now - q.pop()
					served++
					h.push(hwEvent{t: now + rng.ExpFloat64()/mmcMu, kind: hwDeparture})
				} else {
					busy--
				}
			}
		}
	})
	r := result{Model: "mmc", Engine: "handwritten", Events: events, Work: served, Wq: waitSum / float64(served)}
	return finish(r, wall, mallocs)
}

// holdHandwritten pops and pushes rather than replacing the top in place:
// a general event loop cannot know that a handler schedules exactly one
// event, and Stormglass's kernel does not either.
func holdHandwritten(p, ops int, seed uint64) result {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := make(hwHeap, 0, p)
	for range p {
		h.push(hwEvent{t: rng.ExpFloat64()})
	}
	wall, mallocs := measure(func() {
		for range ops {
			e := h.pop()
			h.push(hwEvent{t: e.t + rng.ExpFloat64()})
		}
	})
	r := result{Model: holdModel(p), Engine: "handwritten", Events: uint64(ops), Work: uint64(ops)}
	return finish(r, wall, mallocs)
}

func holdModel(p int) string {
	switch p {
	case 1_000:
		return "hold-1e3"
	case 1_000_000:
		return "hold-1e6"
	}
	return "hold-" + strconv.Itoa(p)
}
