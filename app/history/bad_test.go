package history

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// filled makes a closed history of n runs and returns its path.
func filled(t testing.TB, n int) string {
	t.Helper()
	plan, res := checkout(t)
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		record(t, s, plan, res, time.UnixMilli(int64(i)))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// refused opens path expecting the sentinel, and checks that the file's
// bytes did not change.
func refused(t *testing.T, path string, want error, says string) {
	t.Helper()
	before := hashFile(t, path)
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatalf("Open accepted the file (want %v)", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("Open: %v; want an error wrapping %q", err, want)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), says) {
		t.Fatalf("error %q does not name the file and say %q", err, says)
	}
	if after := hashFile(t, path); after != before {
		t.Fatal("the file changed")
	}
	t.Logf("%v", err)
}

func TestBadFilesAreRefusedAndLeftUnchanged(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	write := func(t *testing.T, b []byte) string {
		path := filepath.Join(t.TempDir(), "h.db")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Run("garbage", func(t *testing.T) {
		refused(t, write(t, garbage(64<<10)), ErrNotDatabase, "not a SQLite database")
	})
	t.Run("text", func(t *testing.T) {
		refused(t, write(t, []byte("name: checkout\ntitle: a scenario, not a database\n")), ErrNotDatabase, "not a SQLite database")
	})
	t.Run("header-then-garbage", func(t *testing.T) {
		refused(t, write(t, append([]byte(sqliteMagic), garbage(64<<10)...)), ErrCorrupt, "header is damaged")
	})
	t.Run("truncated-header", func(t *testing.T) {
		refused(t, write(t, []byte(sqliteMagic+"\x10\x00")), ErrCorrupt, "shorter than a SQLite header")
	})
	for _, page := range []int{2, 5} {
		t.Run("page-overwritten-"+string(rune('0'+page)), func(t *testing.T) {
			path := filled(t, 12)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			const ps = 4096
			if len(b) < (page+1)*ps {
				t.Fatalf("database has %d bytes", len(b))
			}
			copy(b[(page-1)*ps:page*ps], garbage(ps))
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			refused(t, path, ErrCorrupt, "left unchanged")
		})
	}
	t.Run("truncated-file", func(t *testing.T) {
		path := filled(t, 12)
		fi, _ := os.Stat(path)
		if err := os.Truncate(path, fi.Size()/2); err != nil {
			t.Fatal(err)
		}
		refused(t, path, ErrCorrupt, "left unchanged")
	})
	t.Run("newer-schema", func(t *testing.T) {
		path := filled(t, 2)
		db := raw(t, path, "")
		if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		db.Close() // the last connection: checkpoints into the file
		refused(t, path, ErrNewerSchema, "made by a newer Stormglass (schema 99, this build knows up to 2)")
	})
	t.Run("newer-schema-in-the-wal", func(t *testing.T) {
		// The version change is still in the -wal file, not the main
		// file's header: the read-only check must see it.
		path := filled(t, 2)
		db := raw(t, path, "_journal_mode=WAL")
		db.SetMaxOpenConns(1)
		if _, err := db.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("PRAGMA user_version = 42"); err != nil {
			t.Fatal(err)
		}
		refused(t, path, ErrNewerSchema, "(schema 42, this build knows up to 2)")
	})
	t.Run("another-programs-database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "h.db")
		db := raw(t, path, "")
		if _, err := db.Exec("CREATE TABLE photos (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		refused(t, path, ErrNotDatabase, "other tables (photos")
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Open(dir); !errors.Is(err, ErrNotDatabase) {
			t.Fatalf("Open of a directory: %v", err)
		}
	})
}

func TestEmptyFileBecomesAHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, path, Options{})
	if _, err := s.List(ctx, Filter{}); err != nil {
		t.Fatal(err)
	}
}

func TestLockedByAnotherWriter(t *testing.T) {
	plan, res := checkout(t)
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, Options{BusyTimeout: 200 * time.Millisecond})
	id := record(t, s, plan, res, time.Now())
	id2, err := s.Start(ctx, MetaFromPlan(plan))
	if err != nil {
		t.Fatal(err)
	}

	other := raw(t, path, "_busy_timeout=100")
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO runs (status, scenario, scenario_text, scenario_sha256, seed, replications, horizon_s, version, started_at) VALUES ('failed', 'x', '', '', 0, 1, 1, 'v', 0)"); err != nil {
		t.Fatal(err) // now holds the write lock
	}
	t0 := time.Now()
	_, err = s.Start(ctx, MetaFromPlan(plan))
	waited := time.Since(t0)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "waited 200ms") {
		t.Fatalf("Start while another writer holds the lock: %v", err)
	}
	if waited < 150*time.Millisecond {
		t.Fatalf("gave up after %s, before the busy timeout", waited)
	}
	t.Logf("after %s: %v", waited.Round(time.Millisecond), err)
	if err := s.Finish(id2, res, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("Finish while locked: %v", err)
	}
	// Reads do not wait for the writer.
	if r, err := s.Get(ctx, id); err != nil || r.Result == nil {
		t.Fatalf("Get while locked: %v", err)
	}
	// Opening needs no write when nothing is to be done.
	if s2, err := OpenOptions(path, Options{BusyTimeout: 100 * time.Millisecond}); err != nil {
		t.Fatalf("Open while another writer holds the lock: %v", err)
	} else {
		s2.Close()
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(id2, res, 0); err != nil {
		t.Fatalf("Finish once the lock is free: %v", err)
	}
}
