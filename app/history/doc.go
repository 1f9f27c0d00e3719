// Package history keeps every run a user makes in a SQLite database, so
// that an architect or a trainer can list, compare, export and re-report
// runs months later. It is the only package of Stormglass that imports
// SQLite (github.com/mattn/go-sqlite3, so it needs cgo).
//
// # The storage model
//
// One file, by default DefaultPath (history.db in the user's data
// directory), in WAL mode with a busy timeout, foreign keys on and
// synchronous=NORMAL: a process killed at any moment loses at most the
// transaction it was writing, never one it had committed.
//
// A run is one row of the runs table and goes through a short life:
//
//	Start      running       one transaction: what is about to run (scenario
//	                         name, file, text and hash, variant, knobs, seed,
//	                         replications, horizon, version, start time) and
//	                         who runs it (host, pid, the process's start marker)
//	Finish     done          one transaction: the runner.Result as JSON, the
//	                         columns a list needs (headline, wall time, finish
//	                         time) and the knobs as the run used them
//	Fail       failed        the error's text
//	Interrupt  interrupted   the user stopped it
//
// A run is therefore either without a result (running, failed,
// interrupted) or complete (done): there is no state in between, because
// the result and the "done" status are written by the same transaction.
// A run left "running" by a process that no longer exists (killed, crashed,
// machine rebooted) is marked interrupted when a store is next opened
// read-write, and reported as interrupted by a read-only store; the
// process is identified by its pid and, on Linux, the boot id and the
// process's start time, so a recycled pid is not mistaken for the runner.
// A run started on another host is left as it is: this host cannot tell
// whether that process lives.
//
// The stored JSON is exactly what runner.Result marshals to, so a report
// (PDF, CSV, charts) can be regenerated from a stored run, and Export
// hands those bytes out unchanged.
//
// # Schema and migrations
//
// The schema's version is SQLite's PRAGMA user_version; the file also
// carries PRAGMA application_id 0x53474C53 ("SGLS") so that another
// program's SQLite file is not taken for a history. Open applies the
// missing migrations in one transaction, in order. A database whose
// version is newer than this build knows (see SchemaVersion) is refused
// with ErrNewerSchema and never written to.
//
// Version 1: runs (knobs as a JSON column). Version 2: the run_knobs table
// (one row per knob, deleted with its run by a foreign key), back-filled
// from version 1's JSON column, which it drops, and an index on
// (scenario, started_at).
//
// # Bad databases
//
// Open looks at a file before SQLite writes anything to it: its header
// (magic bytes, schema version, application id) is read directly, then a
// read-only connection checks the schema version again and runs PRAGMA
// quick_check (see Options.Check). A file that is not a SQLite database
// (ErrNotDatabase), is damaged (ErrCorrupt) or is newer (ErrNewerSchema)
// gets an error that names the file and what is wrong, and is left
// byte-for-byte unchanged. A file or directory the user cannot write is
// opened read-only: reading works, and every write returns ErrReadOnly.
// A write that waits longer than the busy timeout for another writer
// returns ErrLocked. Every error wraps its sentinel (test with errors.Is)
// and, where there is one, the SQLite error.
//
// A Store is safe for concurrent use. Writes from one Store are
// serialised; reads do not wait for writes (WAL).
package history
