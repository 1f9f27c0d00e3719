// Package jobs is the work both faces of Stormglass ask for, done one
// way: the command line (app/cli) and the desktop app (app/desktop) call
// it, and neither re-implements it.
//
// A job runs one plan, or two variants of one scenario paired on common
// random numbers (runner.Compare), and keeps each run in the run history
// (app/history) as it starts and as it ends: done with its result, failed
// with its error, or interrupted when its context is cancelled. Trouble
// with the history never stops a run: the run goes on and the trouble is
// reported through Options.Warn.
//
// Results, fresh or read back from history (Stored), are written as
// files in the formats a planner hands on: the capacity report (PDF),
// the result or comparison as JSON, the figures as CSV, each run's time
// series as CSV, and the charts as PNG and SVG. Every file is written
// whole or not at all: into a temporary file beside it, renamed into
// place when complete, so a cancelled export or a full disk never leaves
// half a report where the last good one was.
package jobs
