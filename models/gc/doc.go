// Package gc models the garbage collector of a Go process, the runtime's
// pacer reduced to the quantities that decide latency: when a cycle starts,
// how long the world stops, and how much of the mutator's CPU marking
// takes. It is the model behind the GC half of incident 2 of Stormglass's
// INCIDENTS.md, the Go WebSocket service that dies at 3 a.m.
//
// # The model
//
// The process reports what it holds live (LiveHeap: its connections'
// buffers, in-flight work, caches) and what it allocates (Allocate). A
// cycle starts when the heap reaches the goal
//
//	goal = max(MinHeap, marked × (1 + GOGC/100))
//
// where marked is what the last cycle found live (at the start, the live
// heap). A cycle stops the world at the start of marking, marks the live
// heap with the background workers (BackgroundShare of GOMAXPROCS, 25 % in
// Go) at MarkRate bytes per P per second, and stops the world again at the
// end. Each pause lasts
//
//	PauseBase + PausePerGoroutine × goroutines + PausePerGiB × heap
//
// so services holding many goroutines (one or two per WebSocket) and large
// heaps pause longer. Every timer of the process waits out a pause
// (PausedUntil, OnPause): a heartbeat due during one is late by the rest of
// it.
//
// While marking, every allocated byte pays for marking in proportion to
// the heap still to mark over the growth left, Go's assist ratio
//
//	ratio = live at the start of marking / (goal − live)  = 100 / GOGC
//
// when the live heap is steady: Allocate returns the assist's CPU seconds,
// and AssistShare the share of the mutator's CPU an allocation rate costs
// (capped at AssistCap). A lower GOGC means more frequent cycles and more
// assist per byte, a smaller heap and shorter pauses. Bytes allocated while
// marking survive the cycle (allocated black) and count towards the next
// goal.
//
// Bursts are background jobs (log rotation, metric aggregation at a time
// of night): from a time, for a while, they allocate evenly and hold more
// bytes live, so cycles come one after another and pauses lengthen with
// the heap.
//
// The scenario wiring and the calibration to the write-up's measurements
// (85 µs of STW and 3.2 % assist for a short-lived HTTP API, 192 µs and
// 18.7 % with 10,000 WebSocket connections, pauses over 50 ms at night)
// come with the replay of incident 2.
package gc
