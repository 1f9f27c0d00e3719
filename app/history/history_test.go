package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"stormglass/app/runner"
	"stormglass/scenarios"
)

var ctx = context.Background()

var base struct {
	once sync.Once
	plan *scenarios.Plan
	res  *runner.Result
	err  error
}

// checkout is a real run of the cheap checkout built-in, made once.
func checkout(t testing.TB) (*scenarios.Plan, *runner.Result) {
	t.Helper()
	base.once.Do(func() {
		sc, err := scenarios.Builtin("checkout")
		if err != nil {
			base.err = err
			return
		}
		base.plan, base.err = sc.Plan(scenarios.PlanOptions{Replications: 2, Horizon: 5 * time.Minute})
		if base.err != nil {
			return
		}
		base.res, base.err = runner.Run(context.Background(), base.plan, runner.Options{})
	})
	if base.err != nil {
		t.Fatal(base.err)
	}
	return base.plan, base.res
}

// copyResult is a deep copy, through JSON (which the runner's tests prove
// exact).
func copyResult(t testing.TB, r *runner.Result) *runner.Result {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out runner.Result
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func open(t testing.TB, path string, opt Options) *Store {
	t.Helper()
	s, err := OpenOptions(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// record starts and finishes a run of res.
func record(t testing.TB, s *Store, plan *scenarios.Plan, res *runner.Result, started time.Time) int64 {
	t.Helper()
	m := MetaFromPlan(plan)
	m.Seed, m.Started = res.Seed, started
	id, err := s.Start(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(id, res, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return id
}

func hashFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// raw opens the file with the driver alone, as another program would.
func raw(t testing.TB, path string, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?"+params)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestRoundTrip(t *testing.T) {
	plan, res := checkout(t)
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, Options{})
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

	id1 := record(t, s, plan, res, t0)
	other := copyResult(t, res)
	other.Seed = 7
	id2 := record(t, s, plan, other, t0.Add(time.Hour))
	m := MetaFromPlan(plan)
	m.Started = t0.Add(2 * time.Hour)
	id3, err := s.Start(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Fail(id3, errors.New("replication 0: out of memory\nmore")); err != nil {
		t.Fatal(err)
	}
	m.Started = t0.Add(3 * time.Hour)
	id4, err := s.Start(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Interrupt(id4); err != nil {
		t.Fatal(err)
	}

	run, err := s.Get(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(run.Result, res) {
		t.Fatal("Get's result differs from the one stored")
	}
	if run.Status != Done || run.Scenario != "checkout" || run.Seed != res.Seed || run.Replications != 2 ||
		run.Horizon != 5*time.Minute || !run.Started.Equal(t0) || run.Wall != 1500*time.Millisecond ||
		run.ScenarioSHA256 != res.ScenarioSHA256 || !bytes.Equal(run.ScenarioText, plan.Scenario.Text) ||
		run.Finished.IsZero() || run.Version != runner.Version() || run.PID != os.Getpid() {
		t.Fatalf("stored run's fields: %+v", run.Summary)
	}
	if !reflect.DeepEqual(run.Knobs, res.Knobs) {
		t.Fatalf("knobs: %+v, want %+v", run.Knobs, res.Knobs)
	}

	list, err := s.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	if want := []int64{id4, id3, id2, id1}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("List order %v, want newest first %v", ids, want)
	}
	if l := list[3]; l.Status != Done || l.Headline != headline(res) || l.Headline == "" || l.Seed != res.Seed || l.Variant != res.Variant {
		t.Fatalf("list entry %+v", l)
	}
	if l := list[2]; l.Seed != 7 {
		t.Fatalf("second run's seed %d", l.Seed)
	}
	if l := list[1]; l.Status != Failed || l.Headline != "replication 0: out of memory" {
		t.Fatalf("failed entry %+v", l)
	}
	if l := list[0]; l.Status != Interrupted {
		t.Fatalf("interrupted entry %+v", l)
	}
	t.Logf("list: %+v", list[3])
	if got, _ := s.List(ctx, Filter{Status: Done, Limit: 1}); len(got) != 1 || got[0].ID != id2 {
		t.Fatalf("List(done, limit 1) = %+v", got)
	}
	if got, _ := s.List(ctx, Filter{Scenario: "nope"}); len(got) != 0 {
		t.Fatalf("List(other scenario) = %+v", got)
	}
	if r, err := s.Get(ctx, id3); err != nil || r.Result != nil || r.Error != "replication 0: out of memory\nmore" {
		t.Fatalf("failed run: %+v, %v", r, err)
	}

	var buf bytes.Buffer
	if err := s.Export(ctx, id1, &buf); err != nil {
		t.Fatal(err)
	}
	var exported runner.Result
	if err := json.Unmarshal(buf.Bytes(), &exported); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&exported, res) {
		t.Fatal("exported JSON decodes to another result")
	}
	if err := s.Export(ctx, id3, &buf); !errors.Is(err, ErrNoResult) {
		t.Fatalf("Export of a failed run: %v", err)
	}
	if err := s.Finish(id1, res, 0); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Finish of a done run: %v", err)
	}
	if err := s.Interrupt(id3); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Interrupt of a failed run: %v", err)
	}

	if err := s.Delete(ctx, id1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, id1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	} else {
		t.Logf("not found: %v", err)
	}
	if err := s.Delete(ctx, id1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	var knobs int
	if err := s.r.QueryRow("SELECT count(*) FROM run_knobs WHERE run_id = ?", id1).Scan(&knobs); err != nil || knobs != 0 {
		t.Fatalf("a deleted run's knobs remain: %d, %v", knobs, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, Filter{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("List after Close: %v", err)
	}
}

func TestFinishRefusesAnotherScenariosResult(t *testing.T) {
	plan, res := checkout(t)
	s := open(t, filepath.Join(t.TempDir(), "h.db"), Options{})
	id, err := s.Start(ctx, MetaFromPlan(plan))
	if err != nil {
		t.Fatal(err)
	}
	other := copyResult(t, res)
	other.ScenarioSHA256 = strings.Repeat("0", 64)
	if err := s.Finish(id, other, 0); err == nil {
		t.Fatal("Finish stored a result of another scenario file")
	}
	if r, _ := s.Get(ctx, id); r.Status != Running {
		t.Fatalf("status %s after a refused Finish", r.Status)
	}
}

// A run whose process lives stays running for another store; the same
// run, its owner gone, is interrupted.
func TestRunningRunOfALiveProcessStaysRunning(t *testing.T) {
	plan, _ := checkout(t)
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, Options{})
	id, err := s.Start(ctx, MetaFromPlan(plan))
	if err != nil {
		t.Fatal(err)
	}
	s2 := open(t, path, Options{})
	if r, err := s2.Get(ctx, id); err != nil || r.Status != Running {
		t.Fatalf("a live process's run: %+v, %v", r, err)
	}
	// Pretend the owner was a process that has gone.
	if _, err := s.w.Exec("UPDATE runs SET pid = 999999999 WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	if r, err := s2.Get(ctx, id); err != nil || r.Status != Interrupted {
		t.Fatalf("a dead process's run reads as %+v, %v", r, err)
	}
	s3 := open(t, path, Options{})
	var status string
	if err := s3.r.QueryRow("SELECT status FROM runs WHERE id = ?", id).Scan(&status); err != nil || status != "interrupted" {
		t.Fatalf("stored status after reopening: %q, %v", status, err)
	}
	if err := s.Finish(id, base.res, 0); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Finish of an interrupted run: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	p, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "stormglass", "history.db"); p != want {
		t.Fatalf("DefaultPath = %s, want %s", p, want)
	}
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
		t.Fatalf("directory not created: %v", err)
	}
	t.Setenv("XDG_DATA_HOME", "relative/ignored")
	t.Setenv("HOME", dir)
	if p, err := DefaultPath(); err != nil || p != filepath.Join(dir, ".local", "share", "stormglass", "history.db") {
		t.Fatalf("DefaultPath with a relative XDG_DATA_HOME = %s, %v", p, err)
	}
}

func TestConcurrentListWhileWriting(t *testing.T) {
	plan, res := checkout(t)
	s := open(t, filepath.Join(t.TempDir(), "h.db"), Options{})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range n {
			r := copyResult(t, res)
			r.Seed = uint64(i)
			m := MetaFromPlan(plan)
			m.Seed = uint64(i)
			id, err := s.Start(ctx, m)
			if err == nil {
				err = s.Finish(id, r, time.Second)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				list, err := s.List(ctx, Filter{})
				if err != nil {
					errs <- err
					return
				}
				for _, sum := range list {
					if sum.Status != Done && sum.Status != Running {
						errs <- fmt.Errorf("run %d is %s", sum.ID, sum.Status)
						return
					}
					r, err := s.Get(ctx, sum.ID)
					if err != nil {
						errs <- err
						return
					}
					if (r.Status == Done) != (r.Result != nil) {
						errs <- fmt.Errorf("run %d is %s with result %v", r.ID, r.Status, r.Result != nil)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if list, _ := s.List(ctx, Filter{Status: Done}); len(list) != n {
		t.Fatalf("%d runs done, want %d", len(list), n)
	}
}
