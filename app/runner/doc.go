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
package runner
