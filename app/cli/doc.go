// Package cli is Stormglass's headless face: the commands that run without
// a display, for scripts, CI and machines with no screen. It is a thin
// layer over app/runner, the orchestration the desktop app shares.
//
//	stormglass run [SCENARIO] [--variant V] [--set knob=value]... [--seed N]
//	               [--replications R] [--until DURATION]
//	               [--format table|json|csv|series|pdf] [--out PATH|DIR/]
//	               [--quiet] [--db PATH] [--no-history]
//	stormglass compare SCENARIO --variant A --variant B [same flags]
//	stormglass report [SCENARIO [--variant A [--variant B]]] [same flags]
//	stormglass report RUN-ID [RUN-ID] [--out PATH|DIR/] [--db PATH]
//	stormglass history [list|show ID|delete ID|export ID] [--db PATH]
//	stormglass validate FILE...
//	stormglass scenarios
//	stormglass knobs SCENARIO [--variant V]
//	stormglass demo | backoff-study
//
// SCENARIO is a built-in name or a YAML file; run with none replays the
// default built-in scenario. Flags may come before or after the scenario.
// Exit codes: 0 success, 1 the run failed, 2 bad usage or input (a
// malformed scenario, a knob out of range, an unknown variant, a path that
// cannot be written). Results go to standard output or, with --out, to a
// file written whole or not at all, in the format its extension names:
// .json the result, .csv the figures, .pdf the capacity report (export/);
// --format series gives every series as CSV. An --out that is a directory
// (ending in /) gets every format at once: report.pdf, result.json (or
// comparison.json), figures.csv, series.csv (one per run) and
// charts/NAME.png and .svg. The path and the report's fonts are checked
// before the run, so a long run never ends in "cannot write".
//
// report writes the capacity report: of a scenario's run, of two variants
// run on common random numbers (with each figure's paired difference), or
// again from one or two runs kept in history, without running anything;
// the same stored runs give the same report, byte for byte, when
// SOURCE_DATE_EPOCH fixes its date. Two stored runs of one scenario with
// the same seed and replications pair up; others are reported side by
// side without differences, and the command says why.
//
// A progress bar is drawn on standard error when it is a terminal, for
// jobs longer than a second (a run, then the report's charts), unless
// --quiet.
//
// Every run is kept in run history (app/history, SQLite in the user's
// data directory, or --db): started before it runs, finished, failed or
// interrupted after. A history that cannot be opened or written (not a
// history file, corrupt, locked, read-only, newer) is reported as a
// warning and left untouched; the run goes on.
//
// The table shows each metric's mean with its 95 % confidence interval and,
// when the network has a closed form, the theoretical value and whether it
// lies inside the interval; then the stations, the objectives' verdicts and
// the timeline as it happened. compare runs both variants on common random
// numbers and reports the paired difference of every metric.
package cli
