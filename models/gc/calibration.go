package gc

import (
	"context"
	"fmt"
	"time"

	"stormglass/sim"
)

// MiB is a mebibyte, in bytes.
const MiB = 1 << 20

// Default returns the collector of a Go 1.22+ process with gomaxprocs Ps,
// calibrated to the measurements of incident 2 (see the package doc and
// HTTPAPI, WebSocket10k): GOGC 100, a 4 MiB minimum heap, 25 % of the Ps
// marking in the background at 512 MiB of live heap per P per second, a
// cycle triggered with 30 % of the growth left for the mark, pauses of
// 82 µs plus 5 ns per goroutine (and nothing per byte of heap: Go's
// stop-the-world phases do not scan the heap), assists capped at half the
// mutator, and fresh large allocations zeroed at 4 GiB/s.
func Default(gomaxprocs int) Config {
	return Config{
		GOGC: 100, MinHeap: 4 * MiB, GOMAXPROCS: gomaxprocs, BackgroundShare: 0.25,
		MarkRate: 512 * MiB, MarkRunway: 0.3,
		PauseBase: 82 * time.Microsecond, PausePerGoroutine: 5 * time.Nanosecond,
		AssistCap: 0.5, ZeroRate: 4 * GiB,
	}
}

// Workload is a steady process the calibration runs: a live heap and
// goroutine count that do not change, a steady allocation rate, and the
// cores its own work keeps busy.
type Workload struct {
	Name         string
	GOMAXPROCS   int
	LiveHeap     float64 // bytes
	Goroutines   int
	AllocRate    float64 // bytes per second
	MutatorCores float64 // cores busy with the process's own work
}

// HTTPAPI is the short-lived HTTP API of incident 2's measurements (STW
// 85 µs, mark assist 3.2 % of CPU), as assumed here: 4 Ps, half of them
// busy serving, 48 MiB live (caches and in-flight requests; responses are
// garbage at once), 600 goroutines (a keep-alive connection's each and
// the requests in flight), 130 MiB/s allocated: 65 MiB per busy core-second.
func HTTPAPI() Workload {
	return Workload{Name: "http-api", GOMAXPROCS: 4, LiveHeap: 48 * MiB, Goroutines: 600,
		AllocRate: 130 * MiB, MutatorCores: 2}
}

// WebSocket10k is the WebSocket service with 10,000 connections of
// incident 2's measurements (STW 192 µs, mark assist 18.7 % of CPU), as
// assumed here: the same 4 Ps half busy, 40 KiB live per connection
// (read and write buffers, TLS state, session) plus 20 MiB, two goroutines
// per connection (reader and writer) plus 2,000, and 560 MiB/s allocated:
// 56 KiB/s per connection, say 5 pushes a second of 11 KiB each (encode,
// frame, compress), 280 MiB per busy core-second.
func WebSocket10k() Workload {
	const conns = 10_000
	return Workload{Name: "websocket-10k", GOMAXPROCS: 4, LiveHeap: conns*40*1024 + 20*MiB,
		Goroutines: 2*conns + 2000, AllocRate: 560 * MiB, MutatorCores: 2}
}

// Measurement is what Measure finds.
type Measurement struct {
	Cycles int
	// MeanPause is the mean stop-the-world pause; MaxPause the longest.
	MeanPause, MaxPause time.Duration
	// AssistShare is the process's CPU time spent in mark assist over all
	// its CPU time (its own work, background marking and assists): the
	// share a CPU profile would show.
	AssistShare float64
	// GCShare is background marking and assists over all CPU time.
	GCShare float64
}

// Measure runs w under cfg (GOMAXPROCS taken from w) for d of virtual
// time, allocating in 1 ms slices, and measures its pauses and CPU.
func Measure(cfg Config, w Workload, d time.Duration) (Measurement, error) {
	cfg.GOMAXPROCS = w.GOMAXPROCS
	k := sim.NewKernel(sim.Config{})
	col, err := New(k, cfg, steady{w})
	if err != nil {
		return Measurement{}, err
	}
	const slice = time.Millisecond
	var tick func()
	tick = func() {
		col.Allocate(w.AllocRate * slice.Seconds())
		k.AfterFunc(slice, tick)
	}
	k.AtFunc(0, tick)
	if err := k.RunUntil(context.Background(), d); err != nil {
		return Measurement{}, fmt.Errorf("gc: measuring %s: %w", w.Name, err)
	}
	s := col.Stats()
	total := w.MutatorCores*d.Seconds() + s.BackgroundCPU + s.AssistCPU
	m := Measurement{Cycles: s.Cycles, MaxPause: s.PauseMax}
	if s.Pauses > 0 {
		m.MeanPause = s.PauseTotal / time.Duration(s.Pauses)
	}
	if total > 0 {
		m.AssistShare = s.AssistCPU / total
		m.GCShare = (s.AssistCPU + s.BackgroundCPU) / total
	}
	return m, nil
}

type steady struct{ w Workload }

func (p steady) LiveHeap() float64 { return p.w.LiveHeap }
func (p steady) Goroutines() int   { return p.w.Goroutines }

// NightBurst is the nightly job of incident 2 (log rotation and metric
// aggregation at a time of night), as assumed here: from at, for two
// minutes, it allocates 8 GiB and holds 1 GiB live, growing buffers by
// append up to 256 MiB. Zeroed at 4 GiB/s, such a buffer keeps the world
// from stopping for 62.5 ms: any cycle it triggers pauses longer than
// 50 ms.
func NightBurst(at time.Duration) Burst {
	return Burst{At: at, Over: 2 * time.Minute, Bytes: 8 * GiB, Live: 1 * GiB, Chunk: 256 * MiB}
}

// Pooled is b with its buffers taken from a sync.Pool, as assumed here:
// buffers come back at the size they grew to, so the job allocates a
// quarter of the bytes, holds half as much live, and allocates nothing
// fresh larger than 4 MiB (a 1 ms wait to stop the world at 4 GiB/s).
func (b Burst) Pooled() Burst {
	b.Bytes /= 4
	b.Live /= 2
	if b.Chunk > 4*MiB {
		b.Chunk = 4 * MiB
	}
	return b
}
