package jobs

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"stormglass/app/history"
	"stormglass/app/runner"
	"stormglass/scenarios"
)

// plans are mm1's base variant and a second with a higher arrival rate,
// short enough to run in a blink, with three paired replications.
func plans(t *testing.T) []*scenarios.Plan {
	t.Helper()
	sc, err := scenarios.Builtin("mm1")
	if err != nil {
		t.Fatal(err)
	}
	var out []*scenarios.Plan
	faster, err := sc.Knobs.Parse("arrival_rate", "9/s")
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]scenarios.Assignment{nil, {{Knob: "arrival_rate", Value: faster}}} {
		p, err := sc.Plan(scenarios.PlanOptions{Set: set, Replications: 3, Horizon: 2000 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func openStore(t *testing.T) *history.Store {
	t.Helper()
	s, err := history.Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Two plans run paired, as runner.Compare runs them, and both are kept
// in history with their results, under the ids Execute reports.
func TestExecuteKeepsBothRuns(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	ps := plans(t)
	var progress []float64
	res, err := Execute(ctx, ps, Options{Store: store, Progress: func(x float64) { progress = append(progress, x) }})
	if err != nil {
		t.Fatal(err)
	}
	want, err := runner.Compare(ctx, ps[0], ps[1], runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[1].Lookup("response").Mean != want.B.Lookup("response").Mean || res.Diff["response"].Mean != want.Diff["response"].Mean {
		t.Errorf("Execute's comparison differs from runner.Compare's")
	}
	if len(progress) == 0 || !slices.IsSorted(progress) || progress[len(progress)-1] != 1 {
		t.Errorf("progress %v: want rising to 1", progress)
	}
	if len(res.Kept) != 2 || res.Kept[0] == 0 || res.Kept[0] == res.Kept[1] {
		t.Fatalf("kept as %v: want two run ids", res.Kept)
	}
	for i, id := range res.Kept {
		run, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != history.Done || run.Result == nil || run.Result.Lookup("response").Mean != res.Runs[i].Lookup("response").Mean {
			t.Errorf("run %d is %s, its result not the one returned", id, run.Status)
		}
	}
}

// A cancelled job is kept as interrupted, and returns the context's error.
func TestExecuteCancelledIsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := openStore(t)
	_, err := Execute(ctx, plans(t)[:1], Options{Store: store, Progress: func(x float64) {
		if x > 0.3 {
			cancel() // halfway through, as a planner presses Cancel
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	runs, err := store.List(context.Background(), history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != history.Interrupted {
		t.Errorf("kept %+v, want one interrupted run", runs)
	}
}

// A history that cannot keep the run warns and the run goes on.
func TestExecuteWarnsWhenHistoryFails(t *testing.T) {
	store := openStore(t)
	store.Close() // every call now fails
	var warned []error
	res, err := Execute(context.Background(), plans(t)[:1], Options{Store: store, Warn: func(e error) { warned = append(warned, e) }})
	if err != nil || len(res.Runs) != 1 {
		t.Fatalf("the run should go on: %v", err)
	}
	if len(warned) == 0 || !strings.Contains(warned[0].Error(), "not kept in run history") || res.Kept[0] != 0 {
		t.Errorf("warned %v, kept %v: want a warning and no id", warned, res.Kept)
	}
}

// Stored pairs two runs made with the same seed and replications, says
// why two others cannot be paired, and refuses a run without a result.
func TestStored(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	ps := plans(t)
	res, err := Execute(ctx, ps, Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := store.Get(ctx, res.Kept[0])
	b, _ := store.Get(ctx, res.Kept[1])
	paired, err := Stored(a, b)
	if err != nil || paired.Diff == nil || paired.Diff["response"].Mean != res.Diff["response"].Mean || paired.NotPaired != "" {
		t.Fatalf("stored pair: %v, %+v", err, paired)
	}
	seed := ps[1].Seed + 1
	other, _ := ps[1].Scenario.Plan(scenarios.PlanOptions{Seed: &seed, Replications: 3, Horizon: ps[1].Horizon})
	more, err := Execute(ctx, []*scenarios.Plan{other}, Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := store.Get(ctx, more.Kept[0])
	unpaired, err := Stored(a, c)
	if err != nil || unpaired.Diff != nil || !strings.Contains(unpaired.NotPaired, "seeds") {
		t.Errorf("unpaired: %v, %+v: want no differences and the reason", err, unpaired)
	}
	if _, err := Stored(a, a); err == nil {
		t.Error("a run compared with itself was accepted")
	}
	id, _ := store.Start(ctx, history.MetaFromPlan(ps[0]))
	store.Fail(id, errors.New("boom"))
	failed, _ := store.Get(ctx, id)
	if _, err := Stored(failed); !errors.Is(err, ErrNoResult) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a failed run: %v, want ErrNoResult with its error", err)
	}
}

// WriteDir writes every format; each file is complete and none is left
// half-written; a path that cannot be written fails before anything runs.
func TestWriteDirAndAtomicFiles(t *testing.T) {
	res, err := Execute(context.Background(), plans(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	files, err := WriteDir(dir, res, WriteOptions{Generated: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	labels := RunLabels(res.Runs)
	for _, name := range []string{"report.pdf", "comparison.json", "figures.csv", "series-" + labels[0] + ".csv", "series-" + labels[1] + ".csv"} {
		if !slices.Contains(files, name) {
			t.Errorf("%s not written: %v", name, files)
		}
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Size() == 0 || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v (mode %v)", name, err, st)
		}
	}
	pdf, _ := os.ReadFile(filepath.Join(dir, "report.pdf"))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[len(pdf)-64:], []byte("%%EOF")) {
		t.Error("report.pdf is not a whole PDF")
	}
	rows, err := csv.NewReader(bytes.NewReader(must(os.ReadFile(filepath.Join(dir, "figures.csv"))))).ReadAll()
	if err != nil || len(rows) != len(res.Runs[0].MetricOrder)+1 || rows[0][0] != "metric" {
		t.Errorf("figures.csv: %v, %d rows, want a header and one per metric", err, len(rows))
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A failed write leaves the previous file as it was.
	good := filepath.Join(dir, "figures.csv")
	before := must(os.ReadFile(good))
	boom := errors.New("disk full")
	if err := WriteFile(good, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the writer's", err)
	}
	if after := must(os.ReadFile(good)); !bytes.Equal(before, after) {
		t.Error("a failed write changed the file")
	}
	if err := CheckDir("/proc/stormglass-cannot-exist"); err == nil {
		t.Error("an unwritable directory passed the check")
	}
	if _, err := Create(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Create(dir) = %v, want a directory refused", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A variant's name in a file name keeps its letters, in any script, and
// cannot climb out of the directory.
func TestFileSafe(t *testing.T) {
	for in, want := range map[string]string{"incident": "incident", "../x y": "___x_y", "事故-2": "事故-2", "": "run", "a/b": "a_b"} {
		if got := FileSafe(in); got != want {
			t.Errorf("FileSafe(%q) = %q, want %q", in, got, want)
		}
	}
	if got := RunLabels([]*runner.Result{{Variant: "base"}, {Variant: "base"}}); got[0] != "base-1" || got[1] != "base-2" {
		t.Errorf("two runs of one variant are labelled %v, want base-1 and base-2", got)
	}
	res := &Results{Runs: []*runner.Result{{Scenario: "reactive-outage-2025", Variant: "incident"}, {Scenario: "reactive-outage-2025", Variant: "remediated"}}}
	if got := DefaultName(res, ".pdf"); got != "reactive-outage-2025-incident-vs-remediated.pdf" {
		t.Errorf("DefaultName = %q", got)
	}
}
