// Package sim is Stormglass's discrete-event simulation kernel.
//
// # The model
//
// A simulation is a set of components whose state changes only at discrete
// instants, events, kept in a queue ordered by virtual time. The kernel pops
// the earliest event, moves its clock to that instant and hands the event to
// its component, which changes state and schedules further events. Nothing
// happens between events, so an hour of a quiet system costs nothing and a
// second of a storm costs exactly its events. Virtual time is a
// time.Duration since the start of the run: nanosecond resolution over 292
// years.
//
// Events at the same instant run in the order they were scheduled (FIFO).
// Together with seeded randomness this makes a run a pure function of its
// model, knobs and seed: the same inputs give byte-identical results on any
// machine and any GOMAXPROCS. Nothing on the simulation path reads the wall
// clock, iterates a map, or depends on goroutine scheduling. (The wall clock
// is read only to pace progress reports and enforce wall-time guards, which
// never change what the model does.)
//
// # Production code on virtual time
//
// Kernel.Clock returns a realtime/clock.Clock. The production libraries
// under realtime/ take their time from that interface, so the simulator runs
// the same reconnect, heartbeat and invalidation code a service ships: a
// timer armed with AfterFunc becomes a kernel event and its callback runs on
// the simulation goroutine.
//
// # Events without allocation
//
// Models schedule events for a Handler — a long-lived component such as a
// Station — with a kind and an integer argument (At, After). The kernel
// stores them in a table of value-typed slots and orders them in a 4-ary
// heap of 24-byte entries; nothing is allocated per event once the queue
// has reached its working size. Scheduling and dispatch are O(log n).
// Cancelling is O(1) by EventID (never a scan): the entry is left in the
// heap and skipped when it surfaces, and the heap is compacted whenever
// cancelled entries outnumber live ones. AtFunc and AfterFunc take
// closures, which are convenient but allocate when they capture.
//
// # Randomness
//
// Streams derives independent generators from the run seed by name
// (Streams.Rand, Streams.Source). A component draws only from its own
// streams, so adding a component never changes another's draws. gonum's
// distuv distributions take a stream as their Src; Seconds turns one into a
// sampler of durations.
//
// # Building blocks
//
// Source generates renewal (for example Poisson) arrivals. Station is a
// c-server FCFS queue with optional finite capacity (G/G/c/K). CPU is a
// processor-sharing server of n cores at a speed factor, for
// services whose requests slow down together under load. Queue is a bounded
// FIFO buffer. Pool is a counting semaphore whose waiters time out, for
// connection pools and concurrency limits. Each keeps its measurements
// (package stats) and supports warm-up deletion with ResetStats.
//
// A scenario can change capacity mid-run (Station.SetServers and
// SetCapacity, CPU.SetCapacity with zero for an outage) without interrupting
// or dropping any job already admitted; a Station's and a CPU's utilisation
// is busy time over capacity time provided, ∫busy dt / ∫servers dt, so it
// stays right as the capacity varies.
//
// # Running and measuring
//
// RunUntil, RunEvents, Run and Step advance the kernel; a run can be
// cancelled through its context, paused from another goroutine (Pause) and
// resumed, and reports progress through OnProgress. Limits stop a runaway
// run (events, wall time, heap) with a *LimitError.
//
// Estimates come from independent replications, not from one long run
// whose observations are correlated: Replicate runs them in parallel on all
// cores, replication i always with the streams of Streams.Replication(i),
// and summarises each metric with a Student-t confidence interval. It can
// also add replications until a target relative half-width is reached.
//
// The package's tests check the kernel against queueing theory (package
// queueing): M/M/1, M/M/c (Erlang C), M/D/1 (Pollaczek–Khinchine), M/M/c/K
// and M/M/1 processor sharing at loads up to ρ = 0.95, with Little's law on
// every station.
package sim
