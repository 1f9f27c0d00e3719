// Package runner is the orchestration both faces of Stormglass share: it
// runs a scenario plan as independent replications and summarises them as
// a Result, and compares two variants run on common random numbers. The
// CLI prints a Result; the desktop app draws one. Neither re-implements a
// run.
//
// # What a run measures
//
// Each replication builds the plan's world on its own kernel with its own
// random streams (replication i always gets the same streams, so results
// do not depend on the number of cores), runs it to the horizon, discards
// what happened before the warm-up ended, and reports every metric. Across
// replications, a metric's mean has a Student-t 95 % confidence interval;
// its min and max are the extremes over replications, except for metrics
// with a distribution (response time), whose min, max and percentiles
// describe the jobs themselves (percentiles averaged over replications).
//
// Where the network has a closed form (a Jackson network, M/M/c/K, M/G/1)
// and the timeline changes nothing, the Result carries the theoretical
// value beside each metric, so a planner can see the simulator agree with
// queueing theory before trusting it with a system that has no theory.
//
// # Comparing
//
// Compare runs two variants with the same seed, so replication i of each
// sees the same random arrivals where the models allow, and estimates the
// difference of each metric from the paired per-replication differences:
// a tighter interval than comparing two independent means.
//
// # One replication, live
//
// A Session is replication 0 of a plan run by stretches of simulated time
// (AdvanceTo), with knobs turned between stretches (Set) taking effect at
// the current simulated time and recorded on the timeline. Played to the
// horizon with no knob turned, its Result is Run's at one replication, to
// the byte.
//
// # Replaying live
//
// A Player drives a Session on a goroutine of its own, so that the
// desktop app stays responsive while a day-long replay runs. The app
// plays, pauses, steps, changes the speed, turns knobs and restarts
// through the Player's methods, from any goroutine; the Player hands it a
// Frame (a copy of the replay's state, series included) after every
// change and about 15 times a second while playing, for the live charts.
//
// At speed x, simulated time follows wall time × x from where play (or
// the last change of speed) started. The simulation advances in chunks
// sized to take about half a frame of wall time each, and a chunk in
// progress is cancelled when a command arrives, so a pause takes effect
// within a few thousand events however slow the model. When the model cannot keep
// up, the replay runs as fast as it can and frames say Behind; the time
// lost is not made up later, so the replay never races ahead to catch up.
// At speed 0 the replay runs as fast as possible.
//
// How the replay is chunked never changes what it computes: played to the
// horizon with no knob turned, a replay's Result is that of Run with the
// plan at one replication.
package runner
