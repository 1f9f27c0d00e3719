package history

import (
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The errors a Store wraps; test for them with errors.Is.
var (
	// ErrNotDatabase: the file is not a SQLite database, or is another
	// program's.
	ErrNotDatabase = errors.New("not a Stormglass history database")
	// ErrCorrupt: the file is a SQLite database but damaged.
	ErrCorrupt = errors.New("the database is corrupt")
	// ErrNewerSchema: a newer Stormglass made the database.
	ErrNewerSchema = errors.New("the database was made by a newer Stormglass")
	// ErrReadOnly: the store cannot write (file, directory or file system
	// not writable, or opened with Options.ReadOnly).
	ErrReadOnly = errors.New("the database is read-only")
	// ErrLocked: another writer held the database past the busy timeout.
	ErrLocked = errors.New("the database is locked by another writer")
	// ErrNotFound: no run has that id.
	ErrNotFound = errors.New("no such run")
	// ErrNotRunning: Finish, Fail or Interrupt of a run that is no longer
	// running (finished, failed, or marked interrupted).
	ErrNotRunning = errors.New("the run is not running")
	// ErrNoResult: Export of a run that has no result (not done).
	ErrNoResult = errors.New("the run has no result")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("the store is closed")
)

// classify maps a SQLite error to a sentinel, or nil.
func classify(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return ErrLocked
	case sqlite3.ErrReadonly, sqlite3.ErrPerm:
		return ErrReadOnly
	case sqlite3.ErrCorrupt:
		return ErrCorrupt
	case sqlite3.ErrNotADB:
		return ErrNotDatabase
	case sqlite3.ErrCantOpen:
		return nil
	}
	return nil
}

// wrap names the file and the operation, and adds the sentinel that
// matches a SQLite error.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return wrapPath(s.path, op, err, s.busy)
}

func wrapPath(path, op string, err error, busy time.Duration) error {
	if kind := classify(err); kind != nil && !errors.Is(err, kind) {
		switch kind {
		case ErrLocked:
			return fmt.Errorf("history database %s: %s: %w (waited %s): %w", path, op, kind, busy, err)
		case ErrCorrupt:
			return fmt.Errorf("history database %s: %s: %w: %w; move the file aside to start a new history", path, op, kind, err)
		}
		return fmt.Errorf("history database %s: %s: %w: %w", path, op, kind, err)
	}
	return fmt.Errorf("history database %s: %s: %w", path, op, err)
}
