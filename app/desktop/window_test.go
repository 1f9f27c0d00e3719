package desktop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"stormglass/app/history"
	"stormglass/app/jobs"
	"stormglass/export"
	"stormglass/knob"
	"stormglass/scenarios"
)

// newTestWindow builds the main window over a fresh run history in a
// 1024×700 window (the smallest the app supports), with plans cut to two
// replications of at most five simulated minutes so that runs take a
// moment.
func newTestWindow(t *testing.T) (*Window, fyne.Window, *uiQueue) {
	t.Helper()
	a := test.NewTempApp(t)
	fonts, err := export.DefaultFonts()
	if err != nil {
		t.Fatal(err)
	}
	q := &uiQueue{}
	fw := test.NewTempWindow(t, nil)
	w, err := newWindow(a, fw, Options{HistoryPath: filepath.Join(t.TempDir(), "history.db"), Fonts: fonts}, q.do)
	if err != nil {
		t.Fatal(err)
	}
	w.planOptions = func(sc *scenarios.Scenario, o *scenarios.PlanOptions) {
		if o.Replications == 0 || o.Replications > 2 {
			o.Replications = 2
		}
		o.Horizon = sc.Run.Warmup + 5*time.Minute
	}
	t.Cleanup(func() {
		w.Close()
		q.run()
	})
	fw.Resize(fyne.NewSize(MinWidth, MinHeight))
	return w, fw, q
}

// waitIdle waits for the job in progress to end.
func waitIdle(t *testing.T, w *Window, q *uiQueue) {
	t.Helper()
	waitFor(t, q, "the job to end", func() bool { return !w.Busy() })
}

func parse(t *testing.T, sc *scenarios.Scenario, name, text string) knob.Value {
	t.Helper()
	v, err := sc.Knobs.Parse(name, text)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A replay opened from the library plays, steps and pauses; a knob
// turned before the start becomes part of the plan, one turned later is
// logged at the time it turned, and the panel locks what cannot change
// mid-run.
func TestWindowReplayAndKnobs(t *testing.T) {
	w, _, q := newTestWindow(t)
	if err := w.OpenReplay("mm1", ""); err != nil {
		t.Fatal(err)
	}
	if w.tabs.Selected() != w.replayTab {
		t.Fatal("the Replay tab is not shown")
	}
	waitFor(t, q, "the first frame", func() bool { return w.replay.drawn })
	panel := w.knobs

	// Before the start: the plan itself changes, and the panel stays.
	w.knobChanged("arrival_rate", parse(t, w.scenario, "arrival_rate", "9/s"))
	if got := w.plan.Values["arrival_rate"].String(); got != "9/s" {
		t.Errorf("plan's arrival_rate = %s after a turn before the start, want 9/s", got)
	}
	if w.knobs != panel {
		t.Error("a turn before the start rebuilt the knob panel")
	}
	waitFor(t, q, "the rebuilt replay's first frame", func() bool { return w.replay.drawn })
	if panel.live {
		t.Error("knobs are locked before the replay starts")
	}

	// After a step: the turn is logged at the current time.
	w.step()
	waitFor(t, q, "a step", func() bool { return w.replay.frame.Now > 0 })
	at := w.replay.frame.Now
	if !panel.live {
		t.Error("knobs that cannot change mid-run are not locked once the replay has started")
	}
	w.knobChanged("arrival_rate", parse(t, w.scenario, "arrival_rate", "5/s"))
	waitFor(t, q, "the turn in the event log", func() bool {
		for _, r := range w.replay.rows {
			if strings.Contains(r, "arrival_rate") && strings.HasPrefix(r, export.Clock(w.scenario.Run.Clock.Seconds()+at.Seconds())) {
				return true
			}
		}
		return false
	})
	if got := w.plan.Values["arrival_rate"].String(); got != "9/s" {
		t.Errorf("a turn mid-run changed the plan's start value to %s", got)
	}

	// Play, then pause: time moves, then stops.
	w.playPause()
	waitFor(t, q, "playing", func() bool { return w.replay.frame.Playing && w.replay.frame.Now > at })
	w.playPause()
	waitFor(t, q, "paused", func() bool { return !w.replay.frame.Playing })
	stopped := w.replay.frame.Now
	time.Sleep(100 * time.Millisecond)
	q.run()
	if w.replay.frame.Now != stopped {
		t.Errorf("time moved from %v to %v while paused", stopped, w.replay.frame.Now)
	}
}

// Two variants compared from the library run paired, land on the Compare
// tab and in history; the comparison exports as a valid PDF, as CSV and
// as a folder of every format, and a path that cannot be written is
// refused with nothing left behind.
func TestWindowCompareKeepAndExport(t *testing.T) {
	w, _, q := newTestWindow(t)
	if err := w.CompareVariants("checkout", "incident", "remediated"); err != nil {
		t.Fatal(err)
	}
	if !w.Busy() {
		t.Fatal("the comparison did not start as a job")
	}
	waitIdle(t, w, q)
	if w.shown == nil || len(w.shown.Runs) != 2 || w.shown.Diff == nil {
		t.Fatalf("compare shows %+v, want two paired runs", w.shown)
	}
	if w.tabs.Selected() != w.compareTab {
		t.Error("the Compare tab is not shown after the comparison")
	}
	if got := w.compare.Runs(); len(got) != 2 || got[1].Variant != "remediated" {
		t.Errorf("the compare view shows %d runs", len(got))
	}
	runs, err := w.store.List(context.Background(), history.Filter{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("history holds %d runs (%v), want both", len(runs), err)
	}
	if !strings.Contains(w.status.Text, "Kept as runs") {
		t.Errorf("status %q does not say where the runs were kept", w.status.Text)
	}

	dir := t.TempDir()
	pdf := filepath.Join(dir, "cmp.pdf")
	w.exportTo(w.shown, exportPDF, pdf)
	waitIdle(t, w, q)
	data, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("the PDF export: %v", err)
	}
	if info, err := exec.LookPath("pdfinfo"); err == nil {
		if out, err := exec.Command(info, pdf).CombinedOutput(); err != nil || !strings.Contains(string(out), "Pages:") {
			t.Errorf("pdfinfo refuses the export: %v\n%s", err, out)
		}
	}
	csvPath := filepath.Join(dir, "cmp.csv")
	w.exportTo(w.shown, exportFigures, csvPath)
	waitIdle(t, w, q)
	if data, err := os.ReadFile(csvPath); err != nil || !strings.HasPrefix(string(data), "metric,unit,a_mean,b_mean") {
		t.Errorf("the figures export: %v %.60q", err, data)
	}
	all := filepath.Join(dir, "all")
	w.exportTo(w.shown, exportAll, all)
	waitIdle(t, w, q)
	for _, name := range []string{"report.pdf", "comparison.json", "figures.csv", "charts"} {
		if _, err := os.Stat(filepath.Join(all, name)); err != nil {
			t.Errorf("everything export: %v", err)
		}
	}
	if !strings.Contains(w.status.Text, "Wrote") {
		t.Errorf("status %q does not say what was written", w.status.Text)
	}

	bad := filepath.Join(dir, "no-such-dir", "x.pdf")
	w.exportTo(w.shown, exportPDF, bad)
	waitIdle(t, w, q)
	if !strings.Contains(w.status.Text, "no-such-dir") {
		t.Errorf("status %q does not name the path that failed", w.status.Text)
	}
	if _, err := os.Stat(filepath.Join(dir, "no-such-dir")); err == nil {
		t.Error("a failed export left something behind")
	}
}

// Runs kept in history reopen and compare on the Compare tab; a failed
// run is refused with its error.
func TestWindowHistoryReopen(t *testing.T) {
	w, _, q := newTestWindow(t)
	ctx := context.Background()
	sc, err := scenarios.Builtin("mm1")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := w.makePlan(sc, scenarios.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Execute(ctx, []*scenarios.Plan{plan, plan}, jobs.Options{Store: w.store})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := w.store.Get(ctx, res.Kept[0])
	b, _ := w.store.Get(ctx, res.Kept[1])
	w.showStored(a)
	if got := w.compare.Runs(); len(got) != 1 || w.tabs.Selected() != w.compareTab {
		t.Fatalf("reopened run: the compare view shows %d runs", len(got))
	}
	w.showStored(a, b)
	if w.shown == nil || len(w.shown.Runs) != 2 || w.shown.Diff == nil {
		t.Fatalf("two stored runs: %+v, want paired", w.shown)
	}
	id, _ := w.store.Start(ctx, history.MetaFromPlan(plan))
	w.store.Fail(id, context.DeadlineExceeded)
	failed, _ := w.store.Get(ctx, id)
	w.showStored(failed)
	q.run()
	if !strings.Contains(w.status.Text, "failed") || len(w.shown.Runs) != 2 {
		t.Errorf("a failed run: status %q; the view should keep the last results", w.status.Text)
	}
}

// Every shortcut in the menus works from the keyboard: the View menu's
// switch tabs.
func TestWindowShortcuts(t *testing.T) {
	w, fw, _ := newTestWindow(t)
	typed := shortcutHandler(t, fw.Canvas())
	for _, c := range []struct {
		key  fyne.KeyName
		want string
	}{{fyne.Key4, "History"}, {fyne.Key3, "Compare"}, {fyne.Key1, "Library"}, {fyne.Key2, "Replay"}} {
		typed.TypedShortcut(shortcut(c.key))
		if got := w.tabs.Selected().Text; got != c.want {
			t.Errorf("Ctrl+%s shows %s, want %s", c.key, got, c.want)
		}
	}
	seen := map[string]bool{}
	for _, m := range fw.MainMenu().Items {
		for _, it := range m.Items {
			if sc, ok := it.Shortcut.(interface{ ShortcutName() string }); ok {
				if seen[sc.ShortcutName()] {
					t.Errorf("%s is bound twice", sc.ShortcutName())
				}
				seen[sc.ShortcutName()] = true
			}
		}
	}
	for _, want := range []string{"Open scenario…", "Save scenario as…", "Export…", "Quit", "Preferences…", "About Stormglass"} {
		found := false
		for _, m := range fw.MainMenu().Items {
			for _, it := range m.Items {
				found = found || it.Label == want
			}
		}
		if !found {
			t.Errorf("no menu item %q", want)
		}
	}
}

// shortcutHandler is what a canvas dispatches shortcuts through, as the
// window's driver does on a key press. The test driver's canvas wraps the
// software canvas, which has it, in an interface that hides it.
func shortcutHandler(t *testing.T, c fyne.Canvas) interface{ TypedShortcut(fyne.Shortcut) } {
	t.Helper()
	if h, ok := c.(interface{ TypedShortcut(fyne.Shortcut) }); ok {
		return h
	}
	v := reflect.ValueOf(c)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if f := v.FieldByName("WindowlessCanvas"); f.IsValid() && f.CanInterface() {
			if h, ok := f.Interface().(interface{ TypedShortcut(fyne.Shortcut) }); ok {
				return h
			}
		}
	}
	t.Fatal("the test canvas takes no shortcuts")
	return nil
}

// Each tab fits the smallest window the app supports.
func TestWindowFitsSmallest(t *testing.T) {
	w, fw, q := newTestWindow(t)
	if err := w.OpenReplay("reactive-outage-2025", "incident"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, q, "the first frame", func() bool { return w.replay.drawn })
	for _, tab := range w.tabs.Items {
		w.tabs.Select(tab)
		min := fw.Content().MinSize()
		if min.Width > MinWidth || min.Height > MinHeight {
			t.Errorf("the %s tab needs %v, more than %d×%d", tab.Text, min, MinWidth, MinHeight)
		}
	}
}

// The about box's facts come from FyneApp.toml, the file packaging reads.
func TestParseMetadata(t *testing.T) {
	data, err := os.ReadFile("../../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMetadata(data, []byte{0x89, 'P', 'N', 'G'})
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "Stormglass" || m.ID == "" || m.Version == "" || m.Icon == nil || !m.Migrations["fyneDo"] {
		t.Errorf("metadata %+v", m)
	}
	if _, err := ParseMetadata([]byte("[Details]\nName = \"x\"\n"), nil); err == nil {
		t.Error("FyneApp.toml without an id and version was accepted")
	}
	if _, err := ParseMetadata([]byte("[Details\n"), nil); err == nil {
		t.Error("malformed FyneApp.toml was accepted")
	}
}

// Preferences apply at once and persist; a folder that does not exist is
// refused and nothing changes.
func TestWindowPreferences(t *testing.T) {
	w, _, _ := newTestWindow(t)
	dir := t.TempDir()
	if err := w.setPreferences(themeDark, dir, dir); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.app.Settings().Theme().(forcedTheme); !ok || w.prefs.String(prefExportFolder) != dir {
		t.Error("the dark theme or the export folder was not applied")
	}
	if err := w.setPreferences(themeLight, filepath.Join(dir, "missing"), dir); err == nil {
		t.Error("a missing folder was accepted")
	}
	if w.prefs.String(prefTheme) != themeDark {
		t.Error("a refused change changed the theme")
	}
	if err := w.setPreferences(themeSystem, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.app.Settings().Theme().(forcedTheme); ok {
		t.Error("System still forces a variant")
	}
}

// Save scenario writes the replayed scenario with the knobs turned before
// the start as a new variant, and the library opens it.
func TestWindowSaveScenario(t *testing.T) {
	w, _, q := newTestWindow(t)
	if err := w.OpenReplay("mm1", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, q, "the first frame", func() bool { return w.replay.drawn })
	w.knobChanged("arrival_rate", parse(t, w.scenario, "arrival_rate", "9/s"))
	path := filepath.Join(t.TempDir(), "tuned.yaml")
	if err := w.saveScenarioTo(path, "busier", ""); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sc.Plan(scenarios.PlanOptions{Variant: "busier"})
	if err != nil || plan.Values["arrival_rate"].String() != "9/s" {
		t.Fatalf("the saved variant: %v", err)
	}
	if got := w.library.Recent(); len(got) == 0 || got[0] != path {
		t.Errorf("recent files %v, want the saved file first", got)
	}
	if err := w.saveScenarioTo(filepath.Join(t.TempDir(), "x", "y.yaml"), "again", ""); err == nil {
		t.Error("saving into a missing folder did not fail")
	}
}

// File › Export during a comparison waits for it, then offers the
// comparison; with nothing to export and nothing running, it says so.
func TestWindowExportWaitsForRun(t *testing.T) {
	w, fw, q := newTestWindow(t)
	w.exportDialog()
	if !strings.Contains(w.status.Text, "Nothing to export yet") {
		t.Errorf("status %q: want the reason nothing can be exported", w.status.Text)
	}
	for _, o := range fw.Canvas().Overlays().List() {
		fw.Canvas().Overlays().Remove(o)
	}
	if err := w.CompareVariants("checkout", "incident", "remediated"); err != nil {
		t.Fatal(err)
	}
	w.exportDialog()
	if !w.exportAfterJob {
		t.Fatal("export during a run was not kept for its end")
	}
	waitIdle(t, w, q)
	if w.exportAfterJob || fw.Canvas().Overlays().Top() == nil {
		t.Error("the export dialog did not open when the run finished")
	}
}
