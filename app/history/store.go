package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3"
)

// DefaultBusyTimeout is how long a write waits for another writer.
const DefaultBusyTimeout = 5 * time.Second

// Check is how thoroughly Open checks an existing database.
type Check int

const (
	// CheckQuick runs PRAGMA quick_check: every page and b-tree is read
	// and checked, but indexes are not compared with their tables. It
	// costs about a sequential read of the file.
	CheckQuick Check = iota
	// CheckFull runs PRAGMA integrity_check, which also checks that
	// every index matches its table.
	CheckFull
	// CheckNone checks only the header and the schema version; damage
	// is then found when a read or write reaches it (ErrCorrupt).
	CheckNone
)

// Options adjust Open.
type Options struct {
	// ReadOnly opens the database for reading only: it is never
	// written, not even to mark dead runs interrupted, and every write
	// returns ErrReadOnly. A database the user cannot write is opened
	// read-only whatever this says.
	ReadOnly bool
	// BusyTimeout is how long a write waits for another writer before
	// failing with ErrLocked; 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// Check is the check run on open; the zero value is CheckQuick.
	Check Check
}

// Store is an open run history. It is safe for concurrent use.
type Store struct {
	path     string
	busy     time.Duration
	w        *sql.DB // the writer, one connection; nil when read-only
	r        *sql.DB // readers
	readOnly string  // why the store is read-only, or ""
	self     proc
	closed   atomic.Bool
}

// proc identifies a process: a run's owner.
type proc struct {
	host   string
	pid    int
	marker string // boot id and start time where the platform has them
}

// Open opens the history at path, creating it if it does not exist, with
// the default options.
func Open(path string) (*Store, error) { return OpenOptions(path, Options{}) }

// OpenOptions opens the history at path, creating it if it does not exist
// (unless read-only). An existing file is checked before anything writes
// to it; see the package documentation for what is refused and why.
func OpenOptions(path string, opt Options) (*Store, error) {
	ctx := context.Background()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history database %s: %w", path, err)
	}
	s := &Store{path: abs, busy: opt.BusyTimeout, self: self()}
	if s.busy <= 0 {
		s.busy = DefaultBusyTimeout
	}
	if opt.ReadOnly {
		s.readOnly = "opened read-only"
	}

	exists, err := s.inspect()
	if err != nil {
		return nil, err
	}
	if exists {
		if why := writable(abs); why != "" && s.readOnly == "" {
			s.readOnly = why
		}
		if why := writable(filepath.Dir(abs)); why != "" && s.readOnly == "" {
			s.readOnly = why + " (SQLite needs it for the -wal and -shm files)"
		}
		if err := s.check(ctx, opt.Check); err != nil {
			return nil, err
		}
	} else {
		if s.readOnly != "" {
			return nil, fmt.Errorf("history database %s: %w: the file does not exist and the store is %s", abs, ErrReadOnly, s.readOnly)
		}
		if why := writable(filepath.Dir(abs)); why != "" {
			return nil, fmt.Errorf("history database %s: %w: cannot create it: %s", abs, ErrReadOnly, why)
		}
	}

	if s.readOnly == "" {
		s.w, err = sql.Open("sqlite3", s.dsn("rwc", "_journal_mode=WAL", "_foreign_keys=on", "_synchronous=NORMAL", "_txlock=immediate"))
		if err != nil {
			return nil, s.wrap("opening", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetConnMaxIdleTime(0)
		if err := s.migrate(ctx); err != nil {
			s.w.Close()
			return nil, err
		}
	}
	s.r, err = sql.Open("sqlite3", s.dsn("ro", "_foreign_keys=on", "_query_only=on"))
	if err != nil {
		s.closeDBs()
		return nil, s.wrap("opening", err)
	}
	if s.readOnly != "" {
		s.r.SetMaxOpenConns(1) // the check's connection only; one suffices
		var v int
		if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			s.closeDBs()
			return nil, s.wrap("reading the schema version", err)
		}
		if v < SchemaVersion {
			s.closeDBs()
			return nil, fmt.Errorf("history database %s: %w (%s): its schema (version %d) needs upgrading to version %d, which needs writing", abs, ErrReadOnly, s.readOnly, v, SchemaVersion)
		}
	}
	if s.w != nil {
		if err := s.sweep(ctx); err != nil {
			s.closeDBs()
			return nil, err
		}
	}
	return s, nil
}

// dsn is the connection string for the store's file.
func (s *Store) dsn(mode string, params ...string) string {
	u := url.URL{Path: filepath.ToSlash(s.path)}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	if mode == "ro" && s.immutable() {
		params = append(params, "immutable=1")
	}
	q := append([]string{"mode=" + mode, "_busy_timeout=" + strconv.FormatInt(s.busy.Milliseconds(), 10)}, params...)
	return "file:" + p + "?" + strings.Join(q, "&")
}

// immutable reports whether a read-only store must open the file as
// immutable: SQLite reads a WAL-mode file through its -shm file, and
// cannot create one in a directory it cannot write. Immutable, it reads
// the main file alone, without locks: the last checkpoint's state. (Runs
// a writer has committed since then, still in its -wal file, are not
// seen; a writer checkpointing while the store reads can give ErrCorrupt
// on that read. Neither can harm the file.)
func (s *Store) immutable() bool {
	if s.readOnly == "" || writable(filepath.Dir(s.path)) == "" {
		return false
	}
	_, err := os.Stat(s.path + "-shm")
	return errors.Is(err, os.ErrNotExist)
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// inspect reads an existing file's header without SQLite: is it a SQLite
// database, ours, and not newer? It reports whether the file exists and
// has content (an empty file is a new database to SQLite).
func (s *Store) inspect() (bool, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return false, fmt.Errorf("history database %s: %w: cannot even read it: %w", s.path, ErrReadOnly, err)
		}
		return false, fmt.Errorf("history database %s: %w", s.path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("history database %s: %w", s.path, err)
	}
	if fi.IsDir() {
		return false, fmt.Errorf("history database %s: %w: it is a directory", s.path, ErrNotDatabase)
	}
	if fi.Size() == 0 {
		return true, nil
	}
	hdr := make([]byte, 100)
	n, err := io.ReadFull(f, hdr)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, fmt.Errorf("history database %s: reading the header: %w", s.path, err)
	}
	hdr = hdr[:n]
	if !bytes.HasPrefix(hdr, []byte(sqliteMagic)) {
		return false, fmt.Errorf("history database %s: %w: the file is not a SQLite database (it starts with %s); it was left unchanged", s.path, ErrNotDatabase, describe(hdr))
	}
	if n < 100 {
		return false, fmt.Errorf("history database %s: %w: the file is %d bytes, shorter than a SQLite header; it was left unchanged", s.path, ErrCorrupt, fi.Size())
	}
	// Fields every valid header has (sqlite.org/fileformat.html): the
	// page size a power of two from 512 to 65536 (stored as 1), and the
	// payload fractions 64, 32, 32. Without them the rest of the header,
	// the schema version included, means nothing.
	ps := int(binary.BigEndian.Uint16(hdr[16:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 || hdr[21] != 64 || hdr[22] != 32 || hdr[23] != 32 {
		return false, fmt.Errorf("history database %s: %w: the SQLite header is damaged (page size %d, payload fractions %d/%d/%d); it was left unchanged", s.path, ErrCorrupt, ps, hdr[21], hdr[22], hdr[23])
	}
	if v := binary.BigEndian.Uint32(hdr[60:]); v > uint32(SchemaVersion) {
		return false, newerError(s.path, int(v))
	}
	if app := binary.BigEndian.Uint32(hdr[68:]); app != 0 && app != applicationID {
		return false, fmt.Errorf("history database %s: %w: it is another program's SQLite database (application id %#x); it was left unchanged", s.path, ErrNotDatabase, app)
	}
	return true, nil
}

// describe quotes a file's first bytes for a message.
func describe(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return strconv.Quote(string(b))
}

// check opens the file read-only and checks the schema version and the
// file's integrity, so that nothing writes to a database that is newer or
// damaged.
func (s *Store) check(ctx context.Context, how Check) error {
	db, err := sql.Open("sqlite3", s.dsn("ro"))
	if err != nil {
		return s.wrap("opening to check", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var v, app int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return s.checkErr("reading the schema version", err)
	}
	if v > SchemaVersion {
		return newerError(s.path, v)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return s.checkErr("reading the application id", err)
	}
	if app != 0 && app != applicationID {
		return fmt.Errorf("history database %s: %w: it is another program's SQLite database (application id %#x); it was left unchanged", s.path, ErrNotDatabase, app)
	}
	if v == 0 {
		if err := checkEmpty(ctx, db, s.path); err != nil {
			return err
		}
	}
	var name string
	switch how {
	case CheckQuick:
		name = "quick_check"
	case CheckFull:
		name = "integrity_check"
	default:
		return nil
	}
	rows, err := db.QueryContext(ctx, "PRAGMA "+name+"(5)")
	if err != nil {
		return s.checkErr("checking integrity", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.checkErr("checking integrity", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.checkErr("checking integrity", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("history database %s: %w: %s found: %s; it was left unchanged: move it aside to start a new history", s.path, ErrCorrupt, name, strings.Join(problems, "; "))
	}
	return nil
}

// checkErr words an error from the check: the database is refused and
// left as it was.
func (s *Store) checkErr(op string, err error) error {
	return fmt.Errorf("%w; it was left unchanged", s.wrap(op, err))
}

// sweep marks interrupted the runs this host's dead processes left
// running.
func (s *Store) sweep(ctx context.Context) error {
	rows, err := s.w.QueryContext(ctx, "SELECT id, pid, proc_start FROM runs WHERE status = 'running' AND host = ?", s.self.host)
	if err != nil {
		return s.wrap("looking for interrupted runs", err)
	}
	var dead []int64
	var pids []int
	for rows.Next() {
		var id int64
		var p proc
		if err := rows.Scan(&id, &p.pid, &p.marker); err != nil {
			rows.Close()
			return s.wrap("looking for interrupted runs", err)
		}
		p.host = s.self.host
		if !s.alive(p) {
			dead, pids = append(dead, id), append(pids, p.pid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s.wrap("looking for interrupted runs", err)
	}
	if len(dead) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("marking interrupted runs", err)
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	for i, id := range dead {
		msg := fmt.Sprintf("the process that ran it (pid %d) ended before the run finished", pids[i])
		if _, err := tx.ExecContext(ctx, "UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running'", msg, now, id); err != nil {
			return s.wrap("marking interrupted runs", err)
		}
	}
	return s.wrap("marking interrupted runs", tx.Commit())
}

// alive reports whether a run's owner may still be running it: a process
// on another host is given the benefit of the doubt.
func (s *Store) alive(p proc) bool {
	if p.host != s.self.host {
		return true
	}
	if p.pid == s.self.pid && p.marker == s.self.marker {
		return true
	}
	return processAlive(p.pid, p.marker)
}

// Path is the database file's absolute path.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store is read-only, and why (for example
// "the file /x/history.db is not writable by uid 1000").
func (s *Store) ReadOnly() (bool, string) { return s.readOnly != "", s.readOnly }

// Close closes the store. Runs it started and did not finish stay
// running until their process ends.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return s.wrap("closing", err)
	}
	return nil
}

// writer returns the writing pool, or why there is none.
func (s *Store) writer(op string) (*sql.DB, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("history database %s: %s: %w", s.path, op, ErrClosed)
	}
	if s.readOnly != "" {
		return nil, fmt.Errorf("history database %s: %s: %w: %s", s.path, op, ErrReadOnly, s.readOnly)
	}
	return s.w, nil
}

func (s *Store) reader(op string) (*sql.DB, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("history database %s: %s: %w", s.path, op, ErrClosed)
	}
	return s.r, nil
}
