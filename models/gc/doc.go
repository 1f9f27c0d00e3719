// Package gc models the garbage collector of a Go process, the runtime's
// pacer reduced to the quantities that decide latency: when a cycle starts,
// how long the world stops, and how much of the mutator's CPU marking
// takes. It is the model behind the GC half of incident 2 of Stormglass's
// INCIDENTS.md, the Go WebSocket service that dies at 3 a.m.
//
// # The model
//
// The process reports what it holds live (LiveHeap: its connections'
// buffers, in-flight work, caches) and what it allocates (Allocate). Each
// cycle ends with a goal
//
//	goal = max(MinHeap, marked × (1 + GOGC/100))
//
// where marked is what the cycle found live (at the start, the live heap),
// and the next cycle starts at the trigger
//
//	trigger = goal − MarkRunway × (goal − marked)
//
// Go places its trigger between 70 % and 95 % of the way to the goal;
// Default uses the lower bound (MarkRunway 0.3). With MarkRunway 0 a cycle
// starts at the goal itself (the model before its calibration, kept for
// what-ifs and the older tests). A cycle stops the world, marks the live
// heap and stops the world again. Each pause lasts
//
//	StopWait + PauseBase + PausePerGoroutine × goroutines + PausePerGiB × heap
//
// The goroutine term is the runtime's per-goroutine work while the world
// is stopped (it resets every goroutine's mark state); Default sets no
// heap term, since Go's stop-the-world phases do not scan the heap.
// StopWait is the wait for the world to stop (see Bursts below). Every
// timer of the process waits out a pause (PausedUntil, OnPause): a
// heartbeat due during one is late by the rest of it.
//
// # Marking and assists
//
// The mark work is the live heap at the start. The background workers
// (BackgroundShare of GOMAXPROCS, 25 % in Go) do MarkRate bytes of it per
// P per second. An allocation made while marking pays Go's assist: mark
// work in proportion to the work left over the runway left,
//
//	assist work = bytes × work left / (runway − allocated since the start)
//
// where the runway is the growth up to the goal from the trigger (or,
// with MarkRunway 0, the growth the goal allows beyond the live heap):
// GOGC % of the live heap when it is steady. Past the runway the
// allocating goroutine does all the work left. Allocate returns the
// assist's CPU seconds (work over MarkRate). The mark ends when the
// background workers and the assists together have done the work: a
// process that allocates fast marks in less time, and spends more of its
// CPU assisting. AssistShare is the share of the mutator's CPU an
// allocation rate costs now (capped at AssistCap). Bytes allocated while
// marking survive the cycle (allocated black) and count towards the next
// goal. A lower GOGC means more frequent cycles and more assist per byte,
// a smaller heap, and (without a heap term) pauses no shorter.
//
// # Bursts
//
// Bursts are background jobs (log rotation, metric aggregation at a time
// of night): from a time, for a while, they allocate evenly and hold more
// bytes live, so cycles come one after another. A job that grows buffers
// by append, or a map's bucket array, makes allocations of up to Chunk
// bytes. The runtime counts such an allocation in the heap before zeroing
// it (or copying the old contents into it), and does that without a
// preemption point (golang/go#31222, #35825, and #69327 for append and
// bytes.Buffer, still open), so a stop-the-world requested meanwhile waits
// for it: Chunk/ZeroRate at most, 62.5 ms for a 256 MiB buffer at
// 4 GiB/s. The goroutines that reached a safe point stay stopped, so the
// whole process sees the wait as pause. A cycle triggered by a chunk's
// allocation waits nearly all of it. This, not the size of the heap, is
// how the model gets the incident's pauses over 50 ms; NightBurst is the
// incident's job as assumed here and Burst.Pooled the same job with
// buffer pools (a quarter of the bytes, half the live, nothing fresh over
// 4 MiB). A burst whose start is past when the collector is made (a
// process restarted after the job's time) does not run.
//
// # Calibration
//
// Default(gomaxprocs) is calibrated to the write-up's measurements with
// the workloads HTTPAPI and WebSocket10k (each states its assumptions:
// Ps, live heap, goroutines, allocation rate, busy cores), which Measure
// runs: the short-lived HTTP API pauses 85 µs and spends 3.2 % of its CPU
// in mark assist; 10,000 WebSocket connections pause 192 µs and assist
// 18.7 %. The pause terms come from the two goroutine counts (600 and
// 22,000): 82 µs + 5 ns per goroutine. The assist share does not depend
// on the live heap (the mark work and the runway grow together); it
// follows the allocation rate over the mark rate and the busy cores, so
// MarkRate (512 MiB per P per second, a pointer-rich heap) and the two
// allocation rates (130 and 560 MiB/s) were fitted together. The tests
// hold both within 2 % (pause) and 5 % (assist). With NightBurst, GOGC=100
// and GOGC=50 both pause 62.6 ms; GOGC=50 with pools, 1.1 ms.
//
// # Driving it
//
// A Collector runs on a sim.Kernel, from the kernel's goroutine. SetGOGC
// changes GOGC live (debug.SetGCPercent); Stop ends the collector with its
// process (a kill): its pending phases and bursts then do nothing.
package gc
