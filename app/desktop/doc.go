// Package desktop is Stormglass's desktop app, built with Fyne: the face
// most planners and trainers meet. It runs the same orchestration as the
// command line (app/runner for replays, app/jobs for runs, comparisons
// and exports, app/history for the run history) and re-implements none
// of it.
//
// # The window
//
// The main window (Window) has four tabs:
//
//   - Library (LibraryView): the built-in scenarios and the planner's own
//     files (an open dialog and the recent files), each with its title,
//     source, description, run settings, objectives, variants and
//     timeline. Replay opens a replay of the chosen variant; Compare runs
//     two variants paired.
//   - Replay (ReplayView beside a KnobPanel): one replication played live,
//     from real time to as fast as the model runs, with play, pause, step,
//     restart with the same or a new seed, a time cursor on live charts,
//     a readout under the pointer and the event log. A knob turned before
//     the start becomes part of the plan, as --set would; once the replay
//     has started, a knob turns at the current simulated time and the
//     turn is recorded on the timeline, and knobs the model cannot follow
//     mid-run are locked with the reason. The panel follows the values in
//     effect, timeline sets included. Run replications runs the plan with
//     the scenario's replications for figures with intervals.
//   - Compare (CompareView): one run, or two of one scenario overlaid on
//     the report's charts, with the figures side by side and the paired
//     differences (significant ones marked) when the runs pair up.
//   - History (HistoryView): every run kept, to reopen, compare, export or
//     delete.
//
// Runs and exports are jobs: they run off the UI goroutine with a
// progress dialog and a Cancel button, one at a time. Exports (the PDF
// report, figures and series as CSV, charts as PNG, or everything into a
// folder) go through save dialogs and are written whole or not at all.
// Save scenario writes the replayed scenario with the knobs set before
// the start as a new variant (scenarios.SaveVariant). The menus carry
// every action with its shortcut; preferences hold the theme and the
// default folders; the about box reads FyneApp.toml (ParseMetadata).
// The window is laid out for 1024×700 and up.
//
// # Threads
//
// Every view is used from the UI goroutine. Work that takes time (a
// replay's simulation, chart rendering, runs, exports, reads of stored
// runs) runs on goroutines of its own and hands its results back through
// a do function: fyne.Do in the app. Tests pass a queue they drain on
// their own goroutine instead, because the test driver's fyne.Do runs
// its function on the caller's goroutine, which would touch widgets from
// the worker's and race.
//
// This package never imports fyne.io/fyne/v2/app, so that it builds and
// tests with Fyne's headless test driver; app/desktop/launch makes the
// real application and opens the window.
package desktop
