package history

import (
	"context"
	"database/sql"
	"fmt"
)

// applicationID marks a Stormglass history file ("SGLS").
const applicationID = 0x53474C53

// migrations[i] brings a database from version i to version i+1.
var migrations = []string{
	// 1: runs, with the knobs as JSON.
	`CREATE TABLE runs (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		status          TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
		scenario        TEXT    NOT NULL,
		title           TEXT    NOT NULL DEFAULT '',
		file            TEXT    NOT NULL DEFAULT '',
		scenario_text   BLOB    NOT NULL,
		scenario_sha256 TEXT    NOT NULL,
		variant         TEXT    NOT NULL DEFAULT '',
		seed            INTEGER NOT NULL, -- the uint64 seed's bits as a signed integer
		replications    INTEGER NOT NULL,
		horizon_s       REAL    NOT NULL,
		version         TEXT    NOT NULL,
		knobs           TEXT    NOT NULL DEFAULT '[]', -- JSON [{name, value, default, unit, changed}]
		started_at      INTEGER NOT NULL, -- Unix milliseconds
		finished_at     INTEGER,          -- Unix milliseconds, once done, failed or interrupted
		wall_ms         INTEGER,          -- the run's wall time, once done
		host            TEXT    NOT NULL DEFAULT '',
		pid             INTEGER NOT NULL DEFAULT 0,
		proc_start      TEXT    NOT NULL DEFAULT '', -- boot id and process start time, where known
		error           TEXT    NOT NULL DEFAULT '',
		headline        TEXT    NOT NULL DEFAULT '',
		result          BLOB,             -- runner.Result as JSON; NULL unless status is done
		CHECK ((status = 'done') = (result IS NOT NULL))
	);
	CREATE INDEX runs_started ON runs (started_at, id);
	CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
	PRAGMA application_id = 1397181523;`,

	// 2: one row per knob, so a list can say which knobs a run changed
	// and a future query can find runs by knob; an index for the
	// per-scenario list.
	`CREATE TABLE run_knobs (
		run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		pos           INTEGER NOT NULL,
		name          TEXT    NOT NULL,
		value         TEXT    NOT NULL,
		default_value TEXT    NOT NULL,
		unit          TEXT    NOT NULL DEFAULT '',
		changed       INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (run_id, pos)
	) WITHOUT ROWID;
	INSERT INTO run_knobs (run_id, pos, name, value, default_value, unit, changed)
		SELECT runs.id, k.key, json_extract(k.value, '$.name'), json_extract(k.value, '$.value'),
			json_extract(k.value, '$.default'), coalesce(json_extract(k.value, '$.unit'), ''),
			coalesce(json_extract(k.value, '$.changed'), 0)
		FROM runs, json_each(runs.knobs) AS k;
	ALTER TABLE runs DROP COLUMN knobs;
	CREATE INDEX runs_scenario ON runs (scenario, started_at);`,
}

// SchemaVersion is the schema version this build writes and the newest it
// can read.
var SchemaVersion = len(migrations)

// migrate brings the database to SchemaVersion in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	// Read first: an up-to-date database needs no write lock, so it opens
	// while another process is writing.
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return s.wrap("reading the schema version", err)
	}
	if v == SchemaVersion {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn)
	if err != nil {
		return s.wrap("upgrading the schema", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return s.wrap("reading the schema version", err)
	}
	if v > SchemaVersion {
		return newerError(s.path, v)
	}
	if v == 0 {
		if err := checkEmpty(ctx, tx, s.path); err != nil {
			return err
		}
	}
	if v == SchemaVersion {
		return nil
	}
	for i := v; i < SchemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return s.wrap(fmt.Sprintf("upgrading the schema from version %d to %d", i, i+1), err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return s.wrap("recording the schema version", err)
	}
	var fk int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&fk); err != nil || fk != 0 {
		return s.wrap("checking foreign keys after the upgrade", fmt.Errorf("%d violations (%v)", fk, err))
	}
	return s.wrap("upgrading the schema", tx.Commit())
}

// checkEmpty refuses a version-0 database that already has tables: it
// is some other program's.
func checkEmpty(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, path string) error {
	var n int
	var first sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT count(*), min(name) FROM sqlite_schema").Scan(&n, &first); err != nil {
		return wrapPath(path, "reading the schema", err, 0)
	}
	if n > 0 {
		return fmt.Errorf("history database %s: %w: a SQLite database with other tables (%s, ...) and no Stormglass schema version; it was left unchanged", path, ErrNotDatabase, first.String)
	}
	return nil
}

func newerError(path string, v int) error {
	return fmt.Errorf("history database %s: %w (schema %d, this build knows up to %d); it was left unchanged: use a newer Stormglass or another --db", path, ErrNewerSchema, v, SchemaVersion)
}
