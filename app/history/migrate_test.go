package history

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
)

// schemaV1 is version 1 as it shipped, written out here (not taken from
// migrations) so that a change to the migration cannot hide in the test.
const schemaV1 = `CREATE TABLE runs (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	status          TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
	scenario        TEXT    NOT NULL,
	title           TEXT    NOT NULL DEFAULT '',
	file            TEXT    NOT NULL DEFAULT '',
	scenario_text   BLOB    NOT NULL,
	scenario_sha256 TEXT    NOT NULL,
	variant         TEXT    NOT NULL DEFAULT '',
	seed            INTEGER NOT NULL,
	replications    INTEGER NOT NULL,
	horizon_s       REAL    NOT NULL,
	version         TEXT    NOT NULL,
	knobs           TEXT    NOT NULL DEFAULT '[]',
	started_at      INTEGER NOT NULL,
	finished_at     INTEGER,
	wall_ms         INTEGER,
	host            TEXT    NOT NULL DEFAULT '',
	pid             INTEGER NOT NULL DEFAULT 0,
	proc_start      TEXT    NOT NULL DEFAULT '',
	error           TEXT    NOT NULL DEFAULT '',
	headline        TEXT    NOT NULL DEFAULT '',
	result          BLOB,
	CHECK ((status = 'done') = (result IS NOT NULL))
);
CREATE INDEX runs_started ON runs (started_at, id);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
PRAGMA application_id = 1397181523;
PRAGMA user_version = 1;`

func TestMigrateFromVersion1(t *testing.T) {
	plan, res := checkout(t)
	path := filepath.Join(t.TempDir(), "h.db")
	db := raw(t, path, "")
	if _, err := db.Exec(schemaV1); err != nil {
		t.Fatal(err)
	}
	knobs, _ := json.Marshal(res.Knobs)
	blob, _ := json.Marshal(res)
	for i, status := range []string{"done", "failed"} {
		var result any
		if status == "done" {
			result = blob
		}
		if _, err := db.Exec(`INSERT INTO runs (status, scenario, title, file, scenario_text, scenario_sha256, variant,
			seed, replications, horizon_s, version, knobs, started_at, finished_at, wall_ms, headline, result)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			status, res.Scenario, res.Title, res.File, plan.Scenario.Text, res.ScenarioSHA256, res.Variant,
			int64(res.Seed), res.Replications, res.HorizonS, res.Version, string(knobs), 1000*(i+1), 2000*(i+1), 1234, "h", result); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, path, Options{})
	var v int
	if err := s.r.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("user_version %d after opening, want %d (%v)", v, SchemaVersion, err)
	}
	list, err := s.List(ctx, Filter{})
	if err != nil || len(list) != 2 {
		t.Fatalf("List after migrating: %d runs, %v", len(list), err)
	}
	for _, sum := range list {
		r, err := s.Get(ctx, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Knobs, res.Knobs) {
			t.Fatalf("run %d's knobs after migrating: %+v, want %+v", r.ID, r.Knobs, res.Knobs)
		}
		if (r.Status == Done) != reflect.DeepEqual(r.Result, res) {
			t.Fatalf("run %d (%s): result after migrating differs", r.ID, r.Status)
		}
	}
	// And the migrated store works.
	record(t, s, plan, res, list[0].Started.Add(1))
}
