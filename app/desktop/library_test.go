package desktop

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"stormglass/export"
	"stormglass/scenarios"
)

// libraryCalls records the library's callbacks.
type libraryCalls struct {
	replays  []string // scenario/variant
	compares []string // scenario/a/b
}

// newTestLibrary builds a library over prefs in a 1024×700 window, the
// smallest the app supports, recording its callbacks.
func newTestLibrary(t *testing.T, prefs fyne.Preferences) (*LibraryView, fyne.Window, *libraryCalls) {
	t.Helper()
	calls := &libraryCalls{}
	w := test.NewTempWindow(t, widget.NewLabel(""))
	l, err := newLibraryView(prefs, w,
		func(sc *scenarios.Scenario, v string) { calls.replays = append(calls.replays, sc.File+"/"+v) },
		func(sc *scenarios.Scenario, a, b string) {
			calls.compares = append(calls.compares, sc.File+"/"+a+"/"+b)
		})
	if err != nil {
		t.Fatal(err)
	}
	w.SetContent(l.Object())
	w.Resize(fyne.NewSize(1024, 700))
	return l, w, calls
}

// writeScenario writes a built-in's text to a file in dir.
func writeScenario(t *testing.T, dir, builtin, file string) string {
	t.Helper()
	sc, err := scenarios.Builtin(builtin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, sc.Text, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func hasLabel(w fyne.Window, text string) bool { return slices.Contains(labelTexts(w), text) }

func selectedFile(l *LibraryView) string {
	if sc, _ := l.Selected(); sc != nil {
		return sc.File
	}
	return ""
}

// TestLibraryListsBuiltins checks that the list starts with every
// built-in, each row showing its title and, under it, its name.
func TestLibraryListsBuiltins(t *testing.T) {
	app := test.NewTempApp(t)
	l, w, _ := newTestLibrary(t, app.Preferences())
	names := scenarios.BuiltinNames()
	if len(l.items) != len(names) {
		t.Fatalf("%d rows, want the %d built-ins", len(l.items), len(names))
	}
	for i, name := range names {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if l.items[i].ref != "builtin:"+name {
			t.Errorf("row %d is %s, want builtin:%s", i, l.items[i].ref, name)
		}
		l.list.ScrollTo(i)
		if !hasLabel(w, sc.Meta.Title) || !hasLabel(w, name) {
			t.Errorf("row of %s does not show its title %q and name", name, sc.Meta.Title)
		}
	}
}

// TestLibraryShowsDetails selects every built-in and checks that the
// details show its title, source, description, run settings and every
// entry of its default variant's timeline at its time of day.
func TestLibraryShowsDetails(t *testing.T) {
	app := test.NewTempApp(t)
	l, w, _ := newTestLibrary(t, app.Preferences())
	for _, name := range scenarios.BuiltinNames() {
		if !l.Select("builtin:" + name) {
			t.Fatalf("Select(builtin:%s) = false", name)
		}
		sc, v := l.Selected()
		if sc == nil || sc.Meta.Name != name || v != sc.DefaultVariant() {
			t.Fatalf("after Select(builtin:%s): Selected() = %v, %q", name, sc, v)
		}
		texts := labelTexts(w)
		want := []string{sc.Meta.Title, strings.TrimSpace(sc.Meta.Description), strings.TrimSpace(sc.Meta.Source), runText(sc)}
		for _, s := range want {
			if s != "" && !slices.Contains(texts, s) {
				t.Errorf("%s: %q is not shown", name, s)
			}
		}
		if !strings.Contains(runText(sc), export.Clock(sc.Run.Clock.Seconds())) || !strings.Contains(runText(sc), export.Duration(sc.Run.Horizon.Seconds())) {
			t.Errorf("%s: run text %q lacks the start time or horizon", name, runText(sc))
		}
		plan, err := sc.Plan(scenarios.PlanOptions{Variant: v})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.timelineRows) != len(plan.Timeline) {
			t.Errorf("%s: %d timeline rows, want %d", name, len(l.timelineRows), len(plan.Timeline))
		}
		for _, e := range plan.Timeline {
			kind, text := e.Describe()
			clock := export.Clock(sc.Run.Clock.Seconds() + e.At.Seconds())
			for _, s := range []string{clock, kind, text} {
				if !slices.Contains(texts, s) {
					t.Errorf("%s: timeline entry at %s: %q is not shown", name, clock, s)
				}
			}
		}
		for _, o := range sc.SLOs {
			if !slices.Contains(texts, "• "+sloText(o)) {
				t.Errorf("%s: objective %q is not shown", name, o.Name)
			}
		}
	}
}

// TestLibraryVariantChangesTimeline picks another variant of the outage:
// the operators' actions leave the timeline and its notes stay.
func TestLibraryVariantChangesTimeline(t *testing.T) {
	app := test.NewTempApp(t)
	l, w, _ := newTestLibrary(t, app.Preferences())
	if !l.Select("builtin:reactive-outage-2025") {
		t.Fatal("no reactive-outage-2025")
	}
	hasRowText := func(text string) bool {
		return slices.ContainsFunc(l.timelineRows, func(r [3]string) bool { return r[2] == text })
	}
	if _, v := l.Selected(); v != "incident" || !hasRowText("queue_limit = 100000") || !hasLabel(w, "queue_limit = 100000") {
		t.Fatalf("incident (%s) does not show the queue raised: %q", v, l.timelineRows)
	}
	l.variantSel.SetSelected("no-action")
	if _, v := l.Selected(); v != "no-action" {
		t.Errorf("Selected() variant = %q after picking no-action", v)
	}
	if hasRowText("queue_limit = 100000") || hasLabel(w, "queue_limit = 100000") {
		t.Errorf("no-action still shows the queue raised: %q", l.timelineRows)
	}
	if len(l.timelineRows) != 2 || l.timelineRows[0][1] != "note" {
		t.Errorf("no-action timeline = %q, want its two notes", l.timelineRows)
	}
	if !hasLabel(w, "Nobody intervenes: the bug, the old client and the small queue all day") ||
		!hasLabel(w, "The baseline each single fix is measured against, at the same load.") {
		t.Error("the variant's title and description are not shown")
	}
	l.variantSel.SetSelected("remediated")
	if want := "Starts with queue_limit = 100000 updates, metadata_bug = false, client_release = after, open_tabs_version = after"; !hasLabel(w, want) {
		t.Errorf("remediated does not say %q", want)
	}
}

// TestLibraryOpenFile opens a scenario file: it comes first in the recent
// files, is selected, and a new view over the same preferences lists and
// selects it again. Opening it again does not list it twice, and the list
// keeps the ten newest.
func TestLibraryOpenFile(t *testing.T) {
	app := test.NewTempApp(t)
	prefs := app.Preferences()
	l, w, _ := newTestLibrary(t, prefs)
	dir := t.TempDir()
	first := writeScenario(t, dir, "mm1", "first.yaml")
	path := writeScenario(t, dir, "checkout", "my-checkout.yaml")
	for _, p := range []string{first, path} {
		if err := l.OpenFile(p); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Recent(); !slices.Equal(got, []string{path, first}) {
		t.Errorf("Recent() = %q, want %q", got, []string{path, first})
	}
	if got := prefs.StringList("library.recent"); !slices.Equal(got, []string{path, first}) {
		t.Errorf("prefs library.recent = %q", got)
	}
	if selectedFile(l) != path || !hasLabel(w, "checkout · "+path) {
		t.Errorf("selected %q after opening %s", selectedFile(l), path)
	}
	if l.removeBtn == nil || !shows(w, l.removeBtn) {
		t.Error("a recent file offers no Remove from recent")
	}
	// The file's row is right after the built-ins.
	if i := len(scenarios.BuiltinNames()); l.items[i].ref != path || l.list.Length() != i+2 {
		t.Errorf("row %d is %s, want %s", i, l.items[i].ref, path)
	}

	again, w2, _ := newTestLibrary(t, prefs)
	if got := again.Recent(); !slices.Equal(got, []string{path, first}) {
		t.Errorf("a new view's Recent() = %q", got)
	}
	checkout, err := scenarios.Builtin("checkout")
	if err != nil {
		t.Fatal(err)
	}
	if selectedFile(again) != path || !hasLabel(w2, checkout.Meta.Title) {
		t.Errorf("a new view starts on %q, want the file selected last", selectedFile(again))
	}

	if err := l.OpenFile(first); err != nil {
		t.Fatal(err)
	}
	if got := l.Recent(); !slices.Equal(got, []string{first, path}) {
		t.Errorf("after opening %s again: Recent() = %q", first, got)
	}
	var opened []string
	for i := range 11 {
		p := writeScenario(t, dir, "mm1", fmt.Sprintf("mm1-%d.yaml", i))
		opened = append(opened, p)
		if err := l.OpenFile(p); err != nil {
			t.Fatal(err)
		}
	}
	slices.Reverse(opened)
	if got := l.Recent(); !slices.Equal(got, opened[:10]) {
		t.Errorf("after 13 files: Recent() = %q, want the newest ten", got)
	}
	if len(l.items) != len(scenarios.BuiltinNames())+10 {
		t.Errorf("%d rows, want the built-ins and ten files", len(l.items))
	}
}

// TestLibraryOpenMalformed opens a file with a mistake: the error names
// the file, line and field, and nothing changes.
func TestLibraryOpenMalformed(t *testing.T) {
	app := test.NewTempApp(t)
	prefs := app.Preferences()
	l, _, _ := newTestLibrary(t, prefs)
	dir := t.TempDir()
	good := writeScenario(t, dir, "mm1", "good.yaml")
	if err := l.OpenFile(good); err != nil {
		t.Fatal(err)
	}
	l.Select("builtin:checkout")
	sc, err := scenarios.Builtin("mm1")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(sc.Text), "\n")
	line := slices.IndexFunc(lines, func(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "horizon:") })
	if line < 0 {
		t.Fatal("mm1 has no horizon line")
	}
	lines[line] = "  horizon: a while"
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	before, beforePrefs := l.Recent(), prefs.StringList("library.recent")
	err = l.OpenFile(bad)
	if err == nil {
		t.Fatal("OpenFile took a malformed file")
	}
	at := fmt.Sprintf("%s:%d:", bad, line+1)
	if !strings.Contains(err.Error(), at) || !strings.Contains(err.Error(), "horizon") {
		t.Errorf("error %q does not name %s and the field", err, at)
	}
	if !slices.Equal(l.Recent(), before) || !slices.Equal(prefs.StringList("library.recent"), beforePrefs) {
		t.Errorf("recent files changed: %q, was %q", l.Recent(), before)
	}
	if selectedFile(l) != "builtin:checkout" {
		t.Errorf("selection moved to %q", selectedFile(l))
	}
	if err := l.OpenFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("opening a missing file: %v", err)
	}
}

// TestLibraryRecentFileGone deletes a recent file: a new view still lists
// it, marked, shows why it fails when selected, and removes it on request.
func TestLibraryRecentFileGone(t *testing.T) {
	app := test.NewTempApp(t)
	prefs := app.Preferences()
	l, _, _ := newTestLibrary(t, prefs)
	dir := t.TempDir()
	keep := writeScenario(t, dir, "mm1", "keep.yaml")
	gone := writeScenario(t, dir, "checkout", "gone.yaml")
	for _, p := range []string{keep, gone} {
		if err := l.OpenFile(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	l2, w2, _ := newTestLibrary(t, prefs)
	if !slices.Equal(l2.Recent(), []string{gone, keep}) {
		t.Fatalf("Recent() = %q, want the deleted file listed still", l2.Recent())
	}
	i := l2.index(gone)
	l2.list.ScrollTo(i)
	if title, sub := libraryRowText(l2.items[i]); title != "gone.yaml" || !strings.HasPrefix(sub, "Does not load") || !hasLabel(w2, sub) {
		t.Errorf("the deleted file's row reads %q / %q", title, sub)
	}
	if sc, v := l2.Selected(); sc != nil || v != "" {
		t.Errorf("Selected() = %v, %q for a file that does not load", sc, v)
	}
	if l2.failure == nil || !strings.Contains(l2.failure.Text, gone) || !hasLabel(w2, l2.failure.Text) {
		t.Fatalf("the failure is not shown")
	}
	if l2.actions.Visible() {
		t.Error("replay and compare are offered for a file that does not load")
	}
	if !shows(w2, l2.removeBtn) {
		t.Fatal("no Remove from recent button")
	}
	test.Tap(l2.removeBtn)
	if !slices.Equal(l2.Recent(), []string{keep}) || !slices.Equal(prefs.StringList("library.recent"), []string{keep}) {
		t.Errorf("after removing: Recent() = %q, prefs %q", l2.Recent(), prefs.StringList("library.recent"))
	}
	if selectedFile(l2) != "builtin:reactive-outage-2025" || l2.Select(gone) {
		t.Errorf("after removing, selected %q", selectedFile(l2))
	}

	// A file that breaks while listed fails when selected again.
	if err := os.WriteFile(keep, []byte("apiVersion: stormglass/v1\nkind: Nonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l2.Select(keep)
	if sc, _ := l2.Selected(); sc != nil || l2.failure == nil || !strings.Contains(l2.failure.Text, keep+":2") {
		t.Errorf("a file broken since it was opened: selected %v, failure %v", sc, l2.failure)
	}
}

// TestLibraryReplayAndCompare taps Replay and Compare: each calls back
// with the scenario and the variants picked.
func TestLibraryReplayAndCompare(t *testing.T) {
	app := test.NewTempApp(t)
	l, w, calls := newTestLibrary(t, app.Preferences())
	l.Select("builtin:checkout")
	if !shows(w, l.replayBtn) || !shows(w, l.compareBtn) {
		t.Fatal("Replay and Compare are not on screen")
	}
	test.Tap(l.replayBtn)
	// At first the second pick is the variant after the first.
	if l.compareSel.Selected != "remediated" {
		t.Errorf("compare with %q at first, want remediated", l.compareSel.Selected)
	}
	test.Tap(l.compareBtn)
	l.variantSel.SetSelected("remediated")
	l.compareSel.SetSelected("more-workers")
	test.Tap(l.replayBtn)
	test.Tap(l.compareBtn)
	wantReplays := []string{"builtin:checkout/incident", "builtin:checkout/remediated"}
	wantCompares := []string{"builtin:checkout/incident/remediated", "builtin:checkout/remediated/more-workers"}
	if !slices.Equal(calls.replays, wantReplays) {
		t.Errorf("replays %q, want %q", calls.replays, wantReplays)
	}
	if !slices.Equal(calls.compares, wantCompares) {
		t.Errorf("compares %q, want %q", calls.compares, wantCompares)
	}
}

// TestLibraryCompareDisabled checks that Compare is off, and says why,
// for a scenario of one variant and for the same variant twice.
func TestLibraryCompareDisabled(t *testing.T) {
	app := test.NewTempApp(t)
	l, w, calls := newTestLibrary(t, app.Preferences())
	l.Select("builtin:mm1")
	if !l.compareBtn.Disabled() || !l.compareSel.Disabled() {
		t.Error("Compare is enabled for mm1, which has a single variant")
	}
	if !shows(w, l.compareWhy) || !strings.Contains(l.compareWhy.Text, "single variant") {
		t.Errorf("no reason shown for mm1: %q", l.compareWhy.Text)
	}
	if l.replayBtn.Disabled() {
		t.Error("Replay is disabled for mm1")
	}

	l.Select("builtin:checkout")
	if l.compareBtn.Disabled() || shows(w, l.compareWhy) {
		t.Errorf("Compare is off for checkout incident/remediated: %q", l.compareWhy.Text)
	}
	l.compareSel.SetSelected("incident")
	if !l.compareBtn.Disabled() || !shows(w, l.compareWhy) || !strings.Contains(l.compareWhy.Text, "Both picks are incident") {
		t.Errorf("Compare of incident with itself: disabled %v, reason %q", l.compareBtn.Disabled(), l.compareWhy.Text)
	}
	l.compareTapped() // as if tapped anyway
	if len(calls.compares) != 0 {
		t.Errorf("compared %q", calls.compares)
	}
	l.variantSel.SetSelected("more-workers")
	if l.compareBtn.Disabled() {
		t.Error("Compare is still off for more-workers/incident")
	}
}

// TestLibraryStartSelection checks which scenario a view starts on.
func TestLibraryStartSelection(t *testing.T) {
	app := test.NewTempApp(t)
	prefs := app.Preferences()
	l, _, _ := newTestLibrary(t, prefs)
	if selectedFile(l) != "builtin:reactive-outage-2025" {
		t.Errorf("starts on %q, want reactive-outage-2025", selectedFile(l))
	}
	l.Select("builtin:tandem")
	if got := prefs.String("library.selected"); got != "builtin:tandem" {
		t.Errorf("prefs library.selected = %q", got)
	}
	l2, _, _ := newTestLibrary(t, prefs)
	if selectedFile(l2) != "builtin:tandem" {
		t.Errorf("a new view starts on %q, want the one selected last", selectedFile(l2))
	}
	prefs.SetString("library.selected", "builtin:no-such")
	l3, _, _ := newTestLibrary(t, prefs)
	if selectedFile(l3) != "builtin:reactive-outage-2025" {
		t.Errorf("with an unknown selection, starts on %q", selectedFile(l3))
	}
	if l3.Select("builtin:no-such") || l3.Select("/no/such/file.yaml") {
		t.Error("Select took a ref that is not listed")
	}
}

// TestLibraryOpenDialog checks where the open dialog starts and that it
// shows.
func TestLibraryOpenDialog(t *testing.T) {
	app := test.NewTempApp(t)
	prefs := app.Preferences()
	l, w, _ := newTestLibrary(t, prefs)
	if got := l.openFolder(); got != "" {
		t.Errorf("with no folder and no file: starts in %q", got)
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "opened")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.OpenFile(writeScenario(t, sub, "mm1", "mm1.yaml")); err != nil {
		t.Fatal(err)
	}
	if got := l.openFolder(); got != sub {
		t.Errorf("after opening a file in %s: starts in %q", sub, got)
	}
	prefs.SetString("folders.scenarios", filepath.Join(dir, "missing"))
	if got := l.openFolder(); got != sub {
		t.Errorf("with a scenarios folder that does not exist: starts in %q, want %s", got, sub)
	}
	prefs.SetString("folders.scenarios", dir)
	if got := l.openFolder(); got != dir {
		t.Errorf("with a scenarios folder: starts in %q, want %s", got, dir)
	}
	l.ShowOpenDialog()
	if w.Canvas().Overlays().Top() == nil {
		t.Error("no dialog shown")
	}
}

// TestLibraryMarkup keeps the library's layout, showing the outage at
// 1024×700, in a golden file.
func TestLibraryMarkup(t *testing.T) {
	app := test.NewTempApp(t)
	l, w, _ := newTestLibrary(t, app.Preferences())
	if selectedFile(l) != "builtin:reactive-outage-2025" {
		t.Fatalf("shows %q", selectedFile(l))
	}
	test.AssertRendersToMarkup(t, "library_outage.xml", w.Canvas())
}

// TestLibraryCapture saves the library as PNGs to look at, at the
// smallest window and a larger one, and checks that it fits the smallest.
func TestLibraryCapture(t *testing.T) {
	app := test.NewTempApp(t)
	l, w, _ := newTestLibrary(t, app.Preferences())
	if m := l.Object().MinSize(); m.Width > 1024 || m.Height > 700 {
		t.Errorf("the library needs %v, more than 1024×700", m)
	}
	dir := os.Getenv("STORMGLASS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	capture(t, w, filepath.Join(dir, "library_outage.png"))
	w.Resize(fyne.NewSize(1280, 900))
	l.Select("builtin:checkout")
	capture(t, w, filepath.Join(dir, "library_checkout_1280.png"))
	file := writeScenario(t, t.TempDir(), "mm1", "gone.yaml")
	if err := l.OpenFile(file); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	l.Select("builtin:mm1")
	w.Resize(fyne.NewSize(1024, 700))
	l.Select(file)
	capture(t, w, filepath.Join(dir, "library_gone.png"))
	l.Select("builtin:mm1")
	capture(t, w, filepath.Join(dir, "library_mm1.png"))
	l.Select("builtin:reactive-outage-2025")
	l.variantSel.SetSelected("trigger-removed")
	l.compareSel.SetSelected("trigger-removed")
	capture(t, w, filepath.Join(dir, "library_outage_variant.png"))
}
