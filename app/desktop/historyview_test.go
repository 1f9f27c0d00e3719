package desktop

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"stormglass/app/history"
	"stormglass/app/runner"
	"stormglass/knob"
	"stormglass/scenarios"
)

// histRun is a run the fixture stored, as the list must show it.
type histRun struct {
	id       int64
	started  time.Time
	scenario string
	title    string
	seed     uint64
	status   history.Status
	wall     time.Duration
	err      string // a failed run's
}

// histFixture is a temporary history of four runs, oldest first: mm1 at
// its defaults, md1, mm1 with arrival_rate at 9/s, and a failed mm1.
type histFixture struct {
	path  string
	store *history.Store
	runs  []histRun
	sha   string // the mm1 file's SHA-256
}

// histStart is the first run's start: times are fixed, and shown in UTC.
var histStart = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

const histFailure = "replication 1: the model ran out of memory\nat 00:42:10"

// newHistFixture fills a temporary history with the four runs.
func newHistFixture(t *testing.T) *histFixture {
	t.Helper()
	f := &histFixture{path: filepath.Join(t.TempDir(), "h.db")}
	store, err := history.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	ninePerSecond, err := knob.Parse(knob.Rate, "9/s")
	if err != nil {
		t.Fatal(err)
	}
	f.add(t, "mm1", nil, 1500*time.Millisecond, nil)
	f.add(t, "md1", nil, 2*time.Second, nil)
	f.add(t, "mm1", []scenarios.Assignment{{Knob: "arrival_rate", Value: ninePerSecond}}, 75*time.Second, nil)
	f.add(t, "mm1", nil, 0, errors.New(histFailure))
	sc, err := scenarios.Builtin("mm1")
	if err != nil {
		t.Fatal(err)
	}
	f.sha = fmt.Sprintf("%x", sha256.Sum256(sc.Text))
	return f
}

// add runs a built-in briefly and keeps it, or keeps it failed with
// runErr, an hour after the run before.
func (f *histFixture) add(t *testing.T, name string, set []scenarios.Assignment, wall time.Duration, runErr error) int64 {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sc.Plan(scenarios.PlanOptions{Set: set, Horizon: 20 * time.Minute, Replications: 2})
	if err != nil {
		t.Fatal(err)
	}
	meta := history.MetaFromPlan(plan)
	meta.Started = histStart.Add(time.Duration(len(f.runs)) * time.Hour)
	meta.Version = "test"
	ctx := context.Background()
	id, err := f.store.Start(ctx, meta)
	if err != nil {
		t.Fatal(err)
	}
	r := histRun{id: id, started: meta.Started, scenario: name, title: sc.Meta.Title, seed: plan.Seed}
	if runErr != nil {
		if err := f.store.Fail(id, runErr); err != nil {
			t.Fatal(err)
		}
		r.status, r.err = history.Failed, runErr.Error()
	} else {
		res, err := runner.Run(ctx, plan, runner.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.Finish(id, res, wall); err != nil {
			t.Fatal(err)
		}
		r.status, r.wall = history.Done, wall
	}
	f.runs = append(f.runs, r)
	return id
}

// id is the id of the fixture's i-th run, oldest first.
func (f *histFixture) id(i int) int64 { return f.runs[i].id }

// histCalls records the actions' calls.
type histCalls struct {
	open    []*history.Run
	compare [][2]*history.Run
	export  [][]*history.Run
}

// actions records each call in c.
func (c *histCalls) actions() HistoryActions {
	return HistoryActions{
		Open:    func(r *history.Run) { c.open = append(c.open, r) },
		Compare: func(a, b *history.Run) { c.compare = append(c.compare, [2]*history.Run{a, b}) },
		Export:  func(runs []*history.Run) { c.export = append(c.export, runs) },
	}
}

// newTestHistory shows a history view of store in a 1024×700 window,
// times in UTC, its first listing done.
func newTestHistory(t *testing.T, store *history.Store, calls *histCalls) (*HistoryView, fyne.Window, *uiQueue) {
	t.Helper()
	test.NewTempApp(t)
	q := &uiQueue{}
	w := test.NewTempWindow(t, nil)
	v := newHistoryView(store, w, calls.actions(), q.do)
	v.loc = time.UTC
	t.Cleanup(func() { settle(t, v, q) }) // nothing left running behind the test
	w.SetContent(v.Object())
	w.Resize(fyne.NewSize(1024, 700))
	settle(t, v, q)
	return v, w, q
}

// settle waits until every store call the view made is done and shown.
func settle(t *testing.T, v *HistoryView, q *uiQueue) {
	t.Helper()
	waitFor(t, q, "the store calls", func() bool { return v.inflight.Load() == 0 })
}

// rowTexts is every row's cells as the table draws them, from the tick
// column's right.
func rowTexts(v *HistoryView) [][]string {
	var out [][]string
	rows, cols := v.table.Length()
	for r := range rows {
		var line []string
		for c := 1; c < cols; c++ {
			cell := v.table.CreateCell()
			v.table.UpdateCell(widget.TableCellID{Row: r, Col: c}, cell)
			line = append(line, cell.(*fyne.Container).Objects[2].(*widget.Label).Text)
		}
		out = append(out, line)
	}
	return out
}

// rowIDs is the listed runs' ids, in list order.
func rowIDs(v *HistoryView) []int64 {
	var ids []int64
	for _, r := range v.rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// tick taps run id's check box, as the table draws it.
func tick(t *testing.T, v *HistoryView, id int64) {
	t.Helper()
	row := v.rowOf(id)
	if row < 0 {
		t.Fatalf("run %d is not listed", id)
	}
	cell := v.table.CreateCell()
	v.table.UpdateCell(widget.TableCellID{Row: row, Col: colTick}, cell)
	check := cell.(*fyne.Container).Objects[1].(*widget.Check)
	if !check.Visible() {
		t.Fatal("the tick column shows no check box")
	}
	test.Tap(check)
}

// enabled lists which of Open, Compare, Export and Delete are enabled.
func enabled(v *HistoryView) [4]bool {
	var on [4]bool
	for i, b := range []*widget.Button{v.openBtn, v.compareBtn, v.exportBtn, v.deleteBtn} {
		on[i] = !b.Disabled()
	}
	return on
}

// detailTexts is the text of every label in the detail.
func detailTexts(v *HistoryView) string {
	var out []string
	for _, o := range visible(v.detailBox) {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return strings.Join(out, "\n")
}

// waitDetail waits for the detail of run id, read in full.
func waitDetail(t *testing.T, v *HistoryView, q *uiQueue, id int64) {
	t.Helper()
	waitFor(t, q, fmt.Sprintf("run %d's detail", id), func() bool { return v.detail != nil && v.detail.ID == id })
}

// TestHistoryListsRunsNewestFirst checks every run's row, newest first,
// column by column, the headers and the count.
func TestHistoryListsRunsNewestFirst(t *testing.T) {
	f := newHistFixture(t)
	v, _, _ := newTestHistory(t, f.store, &histCalls{})
	listed, err := f.store.List(context.Background(), history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var want [][]string
	for i := len(f.runs) - 1; i >= 0; i-- {
		r := f.runs[i]
		wall := "–"
		if r.status == history.Done {
			wall = wallText(r.wall)
		}
		headline := listed[len(f.runs)-1-i].Headline
		if r.status == history.Failed {
			headline = strings.Split(r.err, "\n")[0]
		} else if headline == "" {
			t.Fatalf("run %d has no headline", r.id)
		}
		want = append(want, []string{
			fmt.Sprint(r.id), r.started.Format("2006-01-02 15:04"), r.scenario + " · " + r.title,
			"base", fmt.Sprint(r.seed), string(r.status), headline, wall,
		})
	}
	got := rowTexts(v)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows:\n%q\nwant:\n%q", got, want)
	}
	if want := []string{"1.5 s", "2.0 s", "1 min 15 s"}; wallText(f.runs[0].wall) != want[0] ||
		wallText(f.runs[1].wall) != want[1] || wallText(f.runs[2].wall) != want[2] {
		t.Errorf("wall times %s, %s, %s; want %q", wallText(f.runs[0].wall), wallText(f.runs[1].wall), wallText(f.runs[2].wall), want)
	}
	if got := v.count.Text; got != "4 runs" {
		t.Errorf("count %q, want 4 runs", got)
	}
	var headers []string
	for c := range historyCols {
		h := v.table.CreateHeader()
		v.table.UpdateHeader(widget.TableCellID{Row: -1, Col: c}, h)
		headers = append(headers, h.(*widget.Label).Text)
	}
	if want := []string{"", "ID", "Started", "Scenario", "Variant", "Seed", "Status", "Outcome", "Wall time"}; !slices.Equal(headers, want) {
		t.Errorf("headers %q, want %q", headers, want)
	}
	if v.empty.Visible() {
		t.Error("the empty-list message shows over four runs")
	}
}

// TestHistoryFilters checks that the scenario and status filters narrow
// the list and the count, and drop the ticks of runs they hide.
func TestHistoryFilters(t *testing.T) {
	f := newHistFixture(t)
	v, _, _ := newTestHistory(t, f.store, &histCalls{})
	if want := []string{allScenarios, "md1", "mm1"}; !slices.Equal(v.scenarioSel.Options, want) {
		t.Errorf("scenario filter offers %q, want %q", v.scenarioSel.Options, want)
	}
	v.Select(f.id(3))
	cases := []struct {
		scenario, status string
		want             []int64
		count            string
	}{
		{"md1", allStatuses, []int64{f.id(1)}, "1 of 4 runs"},
		{"mm1", allStatuses, []int64{f.id(3), f.id(2), f.id(0)}, "3 of 4 runs"},
		{"mm1", "done", []int64{f.id(2), f.id(0)}, "2 of 4 runs"},
		{allScenarios, "failed", []int64{f.id(3)}, "1 of 4 runs"},
		{"md1", "failed", nil, "0 of 4 runs"},
		{allScenarios, allStatuses, []int64{f.id(3), f.id(2), f.id(1), f.id(0)}, "4 runs"},
	}
	for _, c := range cases {
		v.scenarioSel.SetSelected(c.scenario)
		v.statusSel.SetSelected(c.status)
		if got := rowIDs(v); !slices.Equal(got, c.want) {
			t.Errorf("%s, %s: rows %v, want %v", c.scenario, c.status, got, c.want)
		}
		if v.count.Text != c.count {
			t.Errorf("%s, %s: count %q, want %q", c.scenario, c.status, v.count.Text, c.count)
		}
		if len(c.want) == 0 && (!v.empty.Visible() || v.empty.Text != "No runs match these filters.") {
			t.Errorf("%s, %s: no rows, and the empty message is %q (shown %v)", c.scenario, c.status, v.empty.Text, v.empty.Visible())
		}
	}
	// The failed run was filtered out on the way: its tick went with it.
	if got := v.Selected(); len(got) != 0 {
		t.Errorf("ticks %v survived a filter that hid them", got)
	}
}

// TestHistoryActionsFollowTicks checks which actions each set of ticks
// enables, and the reason shown for the others.
func TestHistoryActionsFollowTicks(t *testing.T) {
	f := newHistFixture(t)
	v, _, q := newTestHistory(t, f.store, &histCalls{})
	mm1, md1, mm1Set, failed := f.id(0), f.id(1), f.id(2), f.id(3)
	type on = [4]bool // Open, Compare, Export, Delete
	cases := []struct {
		ticks []int64
		want  on
		hint  string
	}{
		{nil, on{}, "Tick a run"},
		{[]int64{mm1Set}, on{true, false, true, true}, "Compare: tick exactly two runs."},
		{[]int64{mm1Set, md1}, on{false, true, true, true}, "Open: one run at a time."},
		{[]int64{mm1Set, md1, mm1}, on{false, false, false, true}, "Export: one or two runs at a time."},
		{[]int64{failed}, on{false, false, false, true}, fmt.Sprintf("Run %d failed: only finished runs", failed)},
		{[]int64{mm1, failed}, on{false, false, false, true}, fmt.Sprintf("Run %d failed", failed)},
	}
	for _, c := range cases {
		v.Select()
		for _, id := range c.ticks {
			tick(t, v, id)
		}
		settle(t, v, q)
		name := fmt.Sprint(c.ticks)
		if got := v.Selected(); !slices.Equal(got, listOrder(v, c.ticks)) {
			t.Errorf("%s: selected %v", name, got)
		}
		if got := enabled(v); got != c.want {
			t.Errorf("%s: Open, Compare, Export, Delete enabled %v, want %v", name, got, c.want)
		}
		if !strings.Contains(v.hint.Text, c.hint) {
			t.Errorf("%s: hint %q lacks %q", name, v.hint.Text, c.hint)
		}
	}
	// Unticking a box takes the run out again.
	v.Select(mm1, md1)
	tick(t, v, mm1)
	if got := v.Selected(); !slices.Equal(got, []int64{md1}) {
		t.Errorf("after unticking %d: selected %v, want [%d]", mm1, got, md1)
	}
	// A tap on a row, off the box, shows that run alone.
	v.table.Select(widget.TableCellID{Row: v.rowOf(mm1Set), Col: colScenario})
	if got := v.Selected(); !slices.Equal(got, []int64{mm1Set}) {
		t.Errorf("after tapping run %d's row: selected %v", mm1Set, got)
	}
}

// listOrder is ids in the list's order.
func listOrder(v *HistoryView, ids []int64) []int64 {
	var out []int64
	for _, id := range rowIDs(v) {
		if slices.Contains(ids, id) {
			out = append(out, id)
		}
	}
	return out
}

// TestHistoryDetail checks the detail of a done run with a knob changed
// and of a failed one, read in full off the UI goroutine.
func TestHistoryDetail(t *testing.T) {
	f := newHistFixture(t)
	v, _, q := newTestHistory(t, f.store, &histCalls{})
	if got := detailTexts(v); !strings.Contains(got, "Tick a run") {
		t.Errorf("detail with nothing ticked: %q", got)
	}
	set := f.id(2)
	tick(t, v, f.id(0))
	tick(t, v, set)
	waitDetail(t, v, q, set)
	got := detailTexts(v)
	host, _ := os.Hostname()
	for _, want := range []string{
		fmt.Sprintf("Run %d · done · mm1 · %s", set, f.runs[2].title),
		"arrival_rate 9/s (default 8/s)",
		"builtin:mm1", f.sha, "test", // the version
		fmt.Sprintf("%s (pid %d)", host, os.Getpid()),
		"Replications", "2", "20m", "1 min 15 s",
		"2025-03-14 11:30",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("run %d's detail lacks %q:\n%s", set, want, got)
		}
	}

	tick(t, v, f.id(3))
	waitDetail(t, v, q, f.id(3))
	got = detailTexts(v)
	if !strings.Contains(got, fmt.Sprintf("Run %d failed: %s", f.id(3), histFailure)) {
		t.Errorf("the failed run's detail lacks its whole error:\n%s", got)
	}
	if !strings.Contains(got, "none: every knob at its default") {
		t.Errorf("the failed run's detail does not say no knob changed:\n%s", got)
	}
	// Unticking the last goes back to the one ticked before.
	tick(t, v, f.id(3))
	waitDetail(t, v, q, set)
}

// TestHistoryOpenCompareExport checks that the actions get the stored
// runs in full, results decoded, and that disabled ones call nothing.
func TestHistoryOpenCompareExport(t *testing.T) {
	f := newHistFixture(t)
	calls := &histCalls{}
	v, _, q := newTestHistory(t, f.store, calls)
	check := func(what string, r *history.Run, want int) {
		t.Helper()
		if r == nil || r.ID != f.id(want) || r.Result == nil {
			t.Fatalf("%s: got %+v, want run %d with its result", what, r, f.id(want))
		}
		if r.Result.Scenario != f.runs[want].scenario || r.Result.Seed != f.runs[want].seed || r.Result.Replications != 2 {
			t.Errorf("%s: result of %s seed %d ×%d, want %s seed %d ×2", what, r.Result.Scenario, r.Result.Seed,
				r.Result.Replications, f.runs[want].scenario, f.runs[want].seed)
		}
	}

	v.Select(f.id(2))
	test.Tap(v.openBtn)
	settle(t, v, q)
	if len(calls.open) != 1 {
		t.Fatalf("Open called %d times, want once", len(calls.open))
	}
	check("Open", calls.open[0], 2)

	v.Select(f.id(0), f.id(1))
	test.Tap(v.compareBtn)
	settle(t, v, q)
	if len(calls.compare) != 1 {
		t.Fatalf("Compare called %d times, want once", len(calls.compare))
	}
	// In list order: the newer first.
	check("Compare a", calls.compare[0][0], 1)
	check("Compare b", calls.compare[0][1], 0)

	v.Select(f.id(1))
	test.Tap(v.exportBtn)
	settle(t, v, q)
	if len(calls.export) != 1 || len(calls.export[0]) != 1 {
		t.Fatalf("Export calls %v, want one of one run", calls.export)
	}
	check("Export", calls.export[0][0], 1)

	// Disabled actions call nothing, even tapped.
	v.Select(f.id(3))
	test.Tap(v.openBtn)
	test.Tap(v.exportBtn)
	settle(t, v, q)
	if len(calls.open) != 1 || len(calls.export) != 1 {
		t.Errorf("a failed run was opened or exported: %d opens, %d exports", len(calls.open), len(calls.export))
	}
}

// overlayObjects walks the topmost overlay: a dialog.
func overlayObjects(t *testing.T, w fyne.Window) []fyne.CanvasObject {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog shown")
	}
	return visible(top)
}

// overlayButton is the dialog's button labelled text.
func overlayButton(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	for _, o := range overlayObjects(t, w) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("the dialog has no %s button", text)
	return nil
}

// overlayHasText reports whether the dialog shows text.
func overlayHasText(t *testing.T, w fyne.Window, text string) bool {
	t.Helper()
	for _, o := range overlayObjects(t, w) {
		switch o := o.(type) {
		case *widget.Label:
			if o.Text == text {
				return true
			}
		case *widget.RichText:
			if o.String() == text {
				return true
			}
		}
	}
	return false
}

// TestHistoryDeleteAfterConfirming drives the confirm dialog: Cancel
// keeps the runs, Delete removes them from the store and the list.
func TestHistoryDeleteAfterConfirming(t *testing.T) {
	f := newHistFixture(t)
	v, w, q := newTestHistory(t, f.store, &histCalls{})
	a, b := f.id(1), f.id(3)
	v.Select(b, a)
	test.Tap(v.deleteBtn)
	question := fmt.Sprintf("Delete runs %d and %d? This cannot be undone.", a, b)
	if !overlayHasText(t, w, question) {
		t.Fatalf("the dialog does not ask %q", question)
	}
	// Cancelled, nothing goes.
	test.Tap(overlayButton(t, w, "Cancel"))
	settle(t, v, q)
	if got := rowIDs(v); len(got) != 4 {
		t.Fatalf("after Cancel: rows %v, want all four", got)
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("the dialog stayed after Cancel")
	}

	test.Tap(v.deleteBtn)
	test.Tap(overlayButton(t, w, "Delete"))
	settle(t, v, q)
	for _, id := range []int64{a, b} {
		if _, err := f.store.Get(context.Background(), id); !errors.Is(err, history.ErrNotFound) {
			t.Errorf("run %d after Delete: %v, want ErrNotFound", id, err)
		}
	}
	if got, want := rowIDs(v), []int64{f.id(2), f.id(0)}; !slices.Equal(got, want) {
		t.Errorf("rows after Delete %v, want %v", got, want)
	}
	if v.count.Text != "2 runs" || len(v.Selected()) != 0 {
		t.Errorf("after Delete: count %q, ticks %v", v.count.Text, v.Selected())
	}
	// md1's only run went: so did md1 from the filter.
	if want := []string{allScenarios, "mm1"}; !slices.Equal(v.scenarioSel.Options, want) {
		t.Errorf("scenario filter after Delete offers %q, want %q", v.scenarioSel.Options, want)
	}
	if v.status.Visible() {
		t.Errorf("error after a delete that worked: %q", v.status.Text)
	}
}

// TestHistoryReadOnlyRefusesDelete checks that a read-only store lists
// and opens, but refuses to delete with the store's reason.
func TestHistoryReadOnlyRefusesDelete(t *testing.T) {
	f := newHistFixture(t)
	f.store.Close()
	ro, err := history.OpenOptions(f.path, history.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	v, w, q := newTestHistory(t, ro, &histCalls{})
	if len(v.rows) != 4 {
		t.Fatalf("a read-only store lists %d runs, want 4", len(v.rows))
	}
	v.Select(f.id(0))
	settle(t, v, q)
	_, why := ro.ReadOnly()
	if want := [4]bool{true, false, true, false}; enabled(v) != want {
		t.Errorf("Open, Compare, Export, Delete enabled %v on a read-only store, want %v", enabled(v), want)
	}
	if !strings.Contains(v.hint.Text, "Delete: the history is read-only ("+why+").") {
		t.Errorf("hint %q does not give the store's reason %q", v.hint.Text, why)
	}
	test.Tap(v.deleteBtn)
	v.deleteTapped() // as if the button had been enabled
	if w.Canvas().Overlays().Top() != nil {
		t.Error("a read-only store asked to confirm a delete")
	}
	settle(t, v, q)
	if _, err := ro.Get(context.Background(), f.id(0)); err != nil {
		t.Errorf("run %d after a refused delete: %v", f.id(0), err)
	}
}

// TestHistorySetStore checks that a store's error takes the list's
// place, and that a store given late is listed.
func TestHistorySetStore(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(bad, []byte("not a database at all, only text"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, openErr := history.Open(bad)
	if openErr == nil {
		t.Fatal("a text file opened as a history")
	}
	v, w, q := newTestHistory(t, nil, &histCalls{})
	v.SetStore(nil, openErr)
	settle(t, v, q)
	if !v.errPanel.Visible() || v.main.Visible() {
		t.Fatal("the error does not take the list's place")
	}
	if !strings.Contains(v.errText.Text, bad) || v.errText.Text != openErr.Error() {
		t.Errorf("error shown %q, want %q, naming %s", v.errText.Text, openErr.Error(), bad)
	}
	if !slices.Contains(labelTexts(w), openErr.Error()) {
		t.Error("the error is not on screen")
	}
	if enabled(v) != [4]bool{} || !v.refresh.Disabled() {
		t.Error("actions or Refresh enabled without a store")
	}

	// The store, opened late, is listed.
	f := newHistFixture(t)
	v.SetStore(f.store, nil)
	settle(t, v, q)
	if v.errPanel.Visible() || !v.main.Visible() {
		t.Error("the error stays with a store")
	}
	if len(v.rows) != 4 {
		t.Errorf("%d rows from the late store, want 4", len(v.rows))
	}
}

// TestHistoryStoreFailing checks that a store failing after the list was
// shown leaves the list as it was, with the error shown, and no action.
func TestHistoryStoreFailing(t *testing.T) {
	f := newHistFixture(t)
	calls := &histCalls{}
	v, _, q := newTestHistory(t, f.store, calls)
	before := rowTexts(v)
	v.Select(f.id(2))
	settle(t, v, q)
	f.store.Close()

	v.Reload()
	settle(t, v, q)
	if !v.status.Visible() || !strings.Contains(v.status.Text, "closed") || !strings.Contains(v.status.Text, f.path) {
		t.Errorf("status after a failed listing: %q (shown %v), want the store's error naming %s", v.status.Text, v.status.Visible(), f.path)
	}
	if got := rowTexts(v); !slices.EqualFunc(got, before, slices.Equal) {
		t.Errorf("a failed listing changed the list:\n%q\nwas\n%q", got, before)
	}

	// The detail's run is at hand, the other is not: Compare fails whole.
	v.Select(f.id(2), f.id(0))
	test.Tap(v.compareBtn)
	settle(t, v, q)
	if len(calls.compare) != 0 {
		t.Error("Compare called with a store that cannot read")
	}
	if !strings.Contains(v.status.Text, "closed") {
		t.Errorf("status after a failed read: %q", v.status.Text)
	}
	if got := enabled(v); got != [4]bool{false, true, true, true} {
		t.Errorf("actions after a failed read %v: they should be back", got)
	}
}

// TestHistoryReloadShowsNewRun checks that Reload, from another
// goroutine, lists a run kept since, first, and keeps the ticks.
func TestHistoryReloadShowsNewRun(t *testing.T) {
	f := newHistFixture(t)
	v, _, q := newTestHistory(t, f.store, &histCalls{})
	v.Select(f.id(1))
	id := f.add(t, "mm1", nil, time.Second, nil)
	done := make(chan struct{})
	go func() { v.Reload(); close(done) }() // as the main window does, off the UI goroutine
	<-done
	settle(t, v, q)
	if got := rowIDs(v); len(got) != 5 || got[0] != id {
		t.Errorf("rows after Reload %v, want %d first of five", got, id)
	}
	if got := v.Selected(); !slices.Equal(got, []int64{f.id(1)}) {
		t.Errorf("ticks after Reload %v, want [%d]", got, f.id(1))
	}
}

// TestHistoryEmpty checks what an empty history says.
func TestHistoryEmpty(t *testing.T) {
	store, err := history.Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	v, w, _ := newTestHistory(t, store, &histCalls{})
	if !v.empty.Visible() || !strings.HasPrefix(v.empty.Text, "No runs kept yet") || v.count.Text != "No runs" {
		t.Errorf("empty history: message %q (shown %v), count %q", v.empty.Text, v.empty.Visible(), v.count.Text)
	}
	capture(t, w, filepath.Join(artifacts(t), "history_empty.png"))
}

// artifacts is where captures go: $STORMGLASS_ARTIFACTS, or a
// temporary directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STORMGLASS_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHistoryMarkup is the view of four runs at 1024×700.
func TestHistoryMarkup(t *testing.T) {
	f := newHistFixture(t)
	_, w, _ := newTestHistory(t, f.store, &histCalls{})
	test.AssertRendersToMarkup(t, "history_runs.xml", w.Canvas())
}

// TestHistoryCapture saves the view with a run ticked as PNGs to look
// at, and checks that it fits a 1024-pixel window.
func TestHistoryCapture(t *testing.T) {
	f := newHistFixture(t)
	v, w, q := newTestHistory(t, f.store, &histCalls{})
	if mw := v.Object().MinSize().Width; mw > 1024 {
		t.Errorf("view needs %v px of width, want at most 1024", mw)
	}
	v.Select(f.id(0), f.id(2))
	waitDetail(t, v, q, f.id(2))
	dir := artifacts(t)
	capture(t, w, filepath.Join(dir, "history_1024.png"))
	w.Resize(fyne.NewSize(1280, 900))
	capture(t, w, filepath.Join(dir, "history_1280.png"))
	v.Select(f.id(3))
	waitDetail(t, v, q, f.id(3))
	capture(t, w, filepath.Join(dir, "history_failed.png"))
	w.Resize(fyne.NewSize(1024, 700))
	v.Select(f.id(0), f.id(1), f.id(2))
	test.Tap(v.deleteBtn)
	capture(t, w, filepath.Join(dir, "history_delete.png"))
	test.Tap(overlayButton(t, w, "Cancel"))
	v.SetStore(nil, fmt.Errorf("history database %s: %w: quick_check found: *** in database main ***; it was left unchanged: move it aside to start a new history", f.path, history.ErrCorrupt))
	settle(t, v, q)
	capture(t, w, filepath.Join(dir, "history_error.png"))
}
