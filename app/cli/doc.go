// Package cli is Stormglass's headless face: the commands that run without
// a display, for scripts, CI and machines with no screen.
//
// Today it has one command, demo, which checks the simulation kernel
// against queueing theory in front of the user: it simulates an M/M/c
// queue (by default the capacity-planning textbook case of 8 servers at
// 90 % load) with independent replications in parallel and prints each
// measured mean beside its closed form, with a 95 % confidence interval.
// The scenario commands (run, validate, compare, ...) arrive with the
// scenario format.
package cli
