package desktop

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"stormglass/app/history"
	"stormglass/app/jobs"
	"stormglass/app/runner"
	"stormglass/export"
	"stormglass/knob"
	"stormglass/scenarios"
)

// The smallest window the app is laid out for: a 1366×768 laptop screen
// less its panels.
const (
	MinWidth  = 1024
	MinHeight = 700
)

// Options configure the main window.
type Options struct {
	// HistoryPath is the run history's database; "" is the preference
	// "history.path", else history.DefaultPath().
	HistoryPath string
	// Fonts are the charts' and the report's; nil loads
	// export.DefaultFonts(), and when they are missing the window says so
	// (exports need them).
	Fonts *export.Fonts
}

// Window is the app's main window: the scenario library, the replay with
// its knobs, the comparison of runs and the run history, one tab each,
// with the menus and shortcuts that reach them.
//
// Everything on it is used from the UI goroutine. Runs, exports and
// history reads run on goroutines of their own and come back through do.
type Window struct {
	app   fyne.App
	win   fyne.Window
	do    func(func())
	prefs fyne.Preferences
	fonts *export.Fonts

	store    *history.Store // nil when the history could not be opened
	storeErr error

	// planOptions, when set, adjusts every plan the window makes; tests
	// use it to keep runs short.
	planOptions func(*scenarios.Scenario, *scenarios.PlanOptions)

	tabs                                       *container.AppTabs
	libraryTab, replayTab, compareTab, histTab *container.TabItem
	library                                    *LibraryView
	compare                                    *CompareView
	history                                    *HistoryView
	status                                     *widget.Label

	// The replay on the Replay tab, if any.
	replay      *ReplayView
	knobs       *KnobPanel
	scenario    *scenarios.Scenario
	variant     string
	plan        *scenarios.Plan
	overrides   []scenarios.Assignment // knobs set before the replay started
	replayBar   *replayHeader
	knobPane    *container.Scroll
	replaySplit *container.Split

	// shown are the results on the Compare tab, for export.
	shown *jobs.Results

	job *jobState // the run or export in progress, if any
	// exportAfterJob opens the export dialog when the job ends well.
	exportAfterJob bool

	closed    atomic.Bool
	closeOnce sync.Once
}

// New builds the main window's content, menus and shortcuts in win.
func New(a fyne.App, win fyne.Window, opt Options) (*Window, error) {
	return newWindow(a, win, opt, fyne.Do)
}

func newWindow(a fyne.App, win fyne.Window, opt Options, uiDo func(func())) (*Window, error) {
	w := &Window{app: a, win: win, prefs: a.Preferences(), fonts: opt.Fonts}
	// Once the window is closed, work that finishes late (a chart drawn,
	// a job's last progress) is dropped: the app's loop may have stopped,
	// and fyne.Do would then run it on the worker's goroutine.
	do := func(f func()) {
		if !w.closed.Load() {
			uiDo(f)
		}
	}
	w.do = do
	applyTheme(a, w.prefs.StringWithFallback(prefTheme, themeSystem))
	if w.fonts == nil {
		fonts, err := export.DefaultFonts()
		if err != nil {
			// The window still works; charts fall back and exports say why.
			w.fonts = nil
		} else {
			w.fonts = fonts
		}
	}
	w.status = widget.NewLabel("")
	w.status.Truncation = fyne.TextTruncateEllipsis

	lib, err := newLibraryView(w.prefs, win, w.openReplay, w.compareVariants)
	if err != nil {
		return nil, fmt.Errorf("desktop: %w", err)
	}
	w.library = lib
	w.compare = newCompareView(w.fonts, do)
	w.openHistory(opt.HistoryPath)
	w.history = newHistoryView(w.store, win, HistoryActions{
		Open:    func(r *history.Run) { w.showStored(r) },
		Compare: func(a, b *history.Run) { w.showStored(a, b) },
		Export:  func(runs []*history.Run) { w.exportStored(runs) },
	}, do)
	if w.store == nil {
		w.history.SetStore(nil, w.storeErr)
	}

	w.libraryTab = container.NewTabItemWithIcon("Library", theme.FolderOpenIcon(), lib.Object())
	w.replayTab = container.NewTabItemWithIcon("Replay", theme.MediaPlayIcon(), emptyState(
		"No replay yet", "Pick a scenario in the Library and press Replay."))
	w.compareTab = container.NewTabItemWithIcon("Compare", theme.ListIcon(), w.compare.Object())
	w.histTab = container.NewTabItemWithIcon("History", theme.HistoryIcon(), w.history.Object())
	w.tabs = container.NewAppTabs(w.libraryTab, w.replayTab, w.compareTab, w.histTab)
	w.tabs.OnSelected = func(t *container.TabItem) {
		if t == w.histTab {
			w.history.Reload()
		}
	}
	win.SetContent(container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), w.status), nil, nil, w.tabs))
	win.SetMainMenu(w.mainMenu())
	w.addShortcuts()
	if w.store == nil && w.storeErr != nil {
		w.setStatus("Run history unavailable: " + w.storeErr.Error())
	}
	return w, nil
}

// openHistory opens the run history; without one, runs are not kept and
// the History tab says why.
func (w *Window) openHistory(path string) {
	if path == "" {
		path = w.prefs.String(prefHistoryPath)
	}
	if path == "" {
		p, err := history.DefaultPath()
		if err != nil {
			w.storeErr = err
			return
		}
		path = p
	}
	w.store, w.storeErr = history.Open(path)
}

// Close stops the replay, cancels a job in progress and closes the run
// history: call it when the window closes.
func (w *Window) Close() {
	w.closeOnce.Do(func() {
		w.closed.Store(true)
		if w.job != nil {
			w.job.cancel()
			w.job.wait()
		}
		if w.replay != nil {
			w.replay.Close()
		}
		w.compare.Close()
		if w.store != nil {
			w.store.Close()
		}
	})
}

// setStatus shows a line in the status bar.
func (w *Window) setStatus(text string) { w.status.SetText(text) }

// showError shows err in a dialog and in the status bar, as a sentence:
// Go's errors start in lower case, a message to a person does not.
func (w *Window) showError(err error) {
	text := sentence(err.Error())
	w.setStatus(text)
	dialog.ShowError(errors.New(text), w.win)
}

// sentence starts text with a capital letter.
func sentence(text string) string {
	r, n := utf8.DecodeRuneInString(text)
	if r == utf8.RuneError {
		return text
	}
	return string(unicode.ToUpper(r)) + text[n:]
}

// emptyState is what a tab shows before it has anything.
func emptyState(title, hint string) fyne.CanvasObject {
	t := widget.NewLabelWithStyle(title, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	h := widget.NewLabelWithStyle(hint, fyne.TextAlignCenter, fyne.TextStyle{})
	h.Wrapping = fyne.TextWrapWord
	return container.NewCenter(container.NewVBox(t, h))
}

// windowTitle is the app's name, as FyneApp.toml gives it.
func windowTitle(a fyne.App) string {
	if name := a.Metadata().Name; name != "" {
		return name
	}
	return "Stormglass"
}

// makePlan resolves a plan of sc's variant with the window's adjustments.
func (w *Window) makePlan(sc *scenarios.Scenario, opt scenarios.PlanOptions) (*scenarios.Plan, error) {
	if w.planOptions != nil {
		w.planOptions(sc, &opt)
	}
	plan, err := sc.Plan(opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sc.File, err)
	}
	return plan, nil
}

// --- Replay -----------------------------------------------------------

// replayHeader is the Replay tab's top row: what is replayed and the
// variant, with the actions on it.
type replayHeader struct {
	title   *widget.Label
	variant *widget.Select
	run     *widget.Button
}

// openReplay shows a replay of sc's variant on the Replay tab, paused at
// its start, with its knobs beside it.
func (w *Window) openReplay(sc *scenarios.Scenario, variant string) {
	if err := w.replayVariant(sc, variant); err != nil {
		w.showError(err)
	}
}

// replayVariant replays sc's variant from its start, as the scenario
// declares it, and shows the Replay tab.
func (w *Window) replayVariant(sc *scenarios.Scenario, variant string) error {
	w.overrides = nil
	if err := w.startReplay(sc, variant, false); err != nil {
		return err
	}
	w.tabs.Select(w.replayTab)
	return nil
}

// startReplay builds the replay of sc's variant with w.overrides set
// over it, replacing the one on screen. keepKnobs keeps the knob panel,
// as when a knob turned before the start rebuilds the replay: the
// planner's place in the panel stays where it was.
func (w *Window) startReplay(sc *scenarios.Scenario, variant string, keepKnobs bool) error {
	plan, err := w.makePlan(sc, scenarios.PlanOptions{Variant: variant, Set: w.overrides, Replications: 1})
	if err != nil {
		return err
	}
	view, err := newReplayView(plan, w.fonts, w.do)
	if err != nil {
		return err
	}
	if w.replay != nil {
		w.replay.Close()
	}
	w.replay, w.scenario, w.variant, w.plan = view, sc, plan.Variant, plan
	view.OnDraw(w.replayDrawn)
	w.win.SetTitle(windowTitle(w.app) + " — " + sc.Meta.Title)
	if keepKnobs && w.knobs != nil && w.knobPane != nil {
		w.replaySplit.Trailing = view.Object()
		w.replaySplit.Refresh()
		w.setStatus(fmt.Sprintf("Replaying %s, variant %s, seed %d.", sc.Meta.Name, plan.Variant, plan.Seed))
		return nil
	}
	panel, err := NewKnobPanel(sc, plan.Values, w.knobChanged)
	if err != nil {
		return fmt.Errorf("%s: %w", sc.File, err)
	}
	w.knobs = panel

	if w.replayBar == nil {
		h := &replayHeader{title: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
		h.title.Truncation = fyne.TextTruncateEllipsis
		h.variant = widget.NewSelect(nil, nil)
		h.run = widget.NewButtonWithIcon("Run replications", theme.MediaFastForwardIcon(), w.runReplications)
		w.replayBar = h
	}
	h := w.replayBar
	h.title.SetText(sc.Meta.Title)
	h.variant.OnChanged = nil
	h.variant.SetOptions(sc.VariantNames())
	h.variant.SetSelected(plan.Variant)
	h.variant.OnChanged = w.variantPicked
	save := widget.NewButtonWithIcon("Save scenario…", theme.DocumentSaveIcon(), w.saveScenarioDialog)
	export := widget.NewButtonWithIcon("Export…", theme.DownloadIcon(), w.exportDialog)
	top := container.NewBorder(nil, nil,
		container.NewHBox(widget.NewLabel("Variant"), h.variant),
		container.NewHBox(h.run, save, export), h.title)
	w.knobPane = container.NewVScroll(panel)
	w.replaySplit = container.NewHSplit(w.knobPane, view.Object())
	w.replaySplit.Offset = 0.3
	w.replayTab.Content = container.NewBorder(container.NewVBox(top, widget.NewSeparator()), nil, nil, nil, w.replaySplit)
	w.tabs.Refresh()
	w.setStatus(fmt.Sprintf("Replaying %s, variant %s, seed %d.", sc.Meta.Name, plan.Variant, plan.Seed))
	return nil
}

// variantPicked replays another variant from its start.
func (w *Window) variantPicked(v string) {
	if w.scenario == nil || v == w.variant {
		return
	}
	w.overrides = nil
	if err := w.startReplay(w.scenario, v, false); err != nil {
		w.showError(err)
	}
}

// replayDrawn follows the replay's frames: knobs that cannot change
// mid-run are locked once it has started, and the panel shows the values
// in effect, timeline sets included.
func (w *Window) replayDrawn(f runner.Frame) {
	if w.knobs == nil {
		return
	}
	w.knobs.SetLive(f.Now > 0)
	if f.Values != nil && !sameValues(w.knobs.Values(), f.Values) {
		w.knobs.SetValues(f.Values)
	}
}

func sameValues(a, b knob.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// knobChanged is the knob panel's onChange. Before the replay starts, a
// turned knob becomes part of the plan (as --set would), so the run and
// its report start with it; once it has started, the knob turns at the
// current simulated time and the turn is recorded on the timeline.
func (w *Window) knobChanged(name string, v knob.Value) {
	if w.replay == nil {
		return
	}
	if w.replay.Now() > 0 {
		if err := w.replay.SetKnob(name, v); err != nil {
			w.showError(err)
			w.knobs.SetValues(w.replay.frame.Values)
			return
		}
		w.setStatus(fmt.Sprintf("%s set to %s at %s.", name, v, export.Clock(w.plan.Scenario.Run.Clock.Seconds()+w.replay.Now().Seconds())))
		return
	}
	var set []scenarios.Assignment
	for _, a := range w.overrides {
		if a.Knob != name {
			set = append(set, a)
		}
	}
	w.overrides = append(set, scenarios.Assignment{Knob: name, Value: v})
	if err := w.startReplay(w.scenario, w.variant, true); err != nil {
		w.overrides = set
		w.showError(err)
		return
	}
	w.setStatus(fmt.Sprintf("%s set to %s from the start.", name, v))
}

// runReplications runs the replay's plan with the scenario's
// replications (for intervals) as a job, and shows the result on the
// Compare tab.
func (w *Window) runReplications() {
	if w.scenario == nil {
		return
	}
	plan, err := w.makePlan(w.scenario, scenarios.PlanOptions{Variant: w.variant, Set: w.overrides})
	if err != nil {
		w.showError(err)
		return
	}
	w.runPlans("Running "+w.scenario.Meta.Name, []*scenarios.Plan{plan})
}

// --- Compare ----------------------------------------------------------

// compareVariants runs variants a and b of sc paired on common random
// numbers, and shows them on the Compare tab.
func (w *Window) compareVariants(sc *scenarios.Scenario, a, b string) {
	var plans []*scenarios.Plan
	for _, v := range []string{a, b} {
		p, err := w.makePlan(sc, scenarios.PlanOptions{Variant: v})
		if err != nil {
			w.showError(err)
			return
		}
		plans = append(plans, p)
	}
	w.runPlans(fmt.Sprintf("Comparing %s: %s and %s", sc.Meta.Name, a, b), plans)
}

// runPlans runs one plan or two paired as a job, keeps them in history
// and shows them on the Compare tab.
func (w *Window) runPlans(title string, plans []*scenarios.Plan) {
	var warnings []string
	var mu sync.Mutex
	w.startJob(title, func(ctx context.Context, progress func(float64)) (func(), error) {
		res, err := jobs.Execute(ctx, plans, jobs.Options{Store: w.store, Progress: progress, Warn: func(err error) {
			mu.Lock()
			warnings = append(warnings, err.Error())
			mu.Unlock()
		}})
		if err != nil {
			return nil, err
		}
		return func() {
			w.showResults(res)
			mu.Lock()
			msg := keptText(res.Kept)
			if len(warnings) > 0 {
				msg += " " + strings.Join(warnings, "; ")
			}
			mu.Unlock()
			w.setStatus(msg)
			w.history.Reload()
		}, nil
	})
}

// keptText says where runs were kept: "Kept as runs 12 and 13 in history."
func keptText(ids []int64) string {
	var kept []string
	for _, id := range ids {
		if id != 0 {
			kept = append(kept, fmt.Sprint(id))
		}
	}
	switch len(kept) {
	case 0:
		return "Not kept in run history."
	case 1:
		return "Kept as run " + kept[0] + " in history."
	}
	return "Kept as runs " + strings.Join(kept, " and ") + " in history."
}

// showResults puts results on the Compare tab.
func (w *Window) showResults(res *jobs.Results) {
	if err := w.compare.Show(res.Runs, res.Diff, res.NotPaired); err != nil {
		w.showError(err)
		return
	}
	w.shown = res
	w.tabs.Select(w.compareTab)
}

// showStored reads runs back from history and shows them.
func (w *Window) showStored(runs ...*history.Run) {
	res, err := jobs.Stored(runs...)
	if err != nil {
		w.showError(err)
		return
	}
	w.showResults(res)
}

// --- Jobs -------------------------------------------------------------

// jobState is a run or an export in progress, shown in a dialog with its
// progress and a Cancel button.
type jobState struct {
	cancel context.CancelFunc
	done   chan struct{}
	dialog dialog.Dialog
	bar    *widget.ProgressBar

	mu      sync.Mutex
	latest  float64
	pending bool // a progress update is queued on the UI goroutine
}

func (j *jobState) wait() { <-j.done }

// startJob runs work off the UI goroutine with a progress dialog. work
// reports progress from 0 to 1 and returns what to do on the UI goroutine
// when it succeeds. One job runs at a time.
func (w *Window) startJob(title string, work func(ctx context.Context, progress func(float64)) (func(), error)) {
	if w.job != nil {
		w.showError(errors.New("another job is running: wait for it, or cancel it"))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &jobState{cancel: cancel, done: make(chan struct{}), bar: widget.NewProgressBar()}
	label := widget.NewLabel(title)
	label.Wrapping = fyne.TextWrapWord
	eta := widget.NewLabel("Starting…")
	eta.SizeName = theme.SizeNameCaptionText
	stop := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), cancel)
	content := container.NewVBox(label, j.bar, container.NewBorder(nil, nil, nil, stop, eta))
	j.dialog = dialog.NewCustomWithoutButtons("In progress", content, w.win)
	j.dialog.Resize(fyne.NewSize(460, 0))
	w.job = j
	j.dialog.Show()
	w.setStatus(title + "…")
	start := time.Now()
	progress := func(x float64) {
		j.mu.Lock()
		j.latest = x
		queued := j.pending
		j.pending = true
		j.mu.Unlock()
		if !queued {
			w.do(func() {
				j.mu.Lock()
				x := j.latest
				j.pending = false
				j.mu.Unlock()
				j.bar.SetValue(x)
				eta.SetText(remaining(time.Since(start), x))
			})
		}
	}
	go func() {
		defer close(j.done)
		then, err := work(ctx, progress)
		w.do(func() {
			j.dialog.Hide()
			w.job = nil
			switch {
			case errors.Is(err, context.Canceled):
				w.setStatus(title + ": cancelled.")
			case err != nil:
				w.showError(fmt.Errorf("%s: %w", title, err))
			default:
				// then may say more (where runs were kept, what was
				// written) over this.
				w.setStatus(fmt.Sprintf("%s: done in %s.", title, export.Duration(time.Since(start).Seconds())))
				then()
				if w.exportAfterJob {
					w.exportAfterJob = false
					w.exportDialog()
				}
			}
		})
	}()
}

// remaining says how long a job has run and, once it has done enough to
// tell, how long it has left at the pace so far.
func remaining(elapsed time.Duration, done float64) string {
	text := export.Duration(math.Round(elapsed.Seconds())) + " so far"
	if done >= 0.05 && done < 1 && elapsed > time.Second {
		left := elapsed.Seconds() * (1 - done) / done
		text += ", about " + export.Duration(math.Max(1, math.Round(left))) + " left"
	}
	return text
}

// Busy reports whether a job is running.
func (w *Window) Busy() bool { return w.job != nil }

// --- Starting in a state ----------------------------------------------

// selectScenario selects ref in the library, a built-in's name or a
// scenario file (added to the recent files), and returns it.
func (w *Window) selectScenario(ref string) (*scenarios.Scenario, error) {
	ok := false
	for _, n := range scenarios.BuiltinNames() {
		if n == ref {
			ok = w.library.Select("builtin:" + ref)
		}
	}
	if !ok {
		if err := w.library.OpenFile(ref); err != nil {
			return nil, err
		}
	}
	sc, _ := w.library.Selected()
	if sc == nil {
		return nil, fmt.Errorf("%s: not in the library", ref)
	}
	return sc, nil
}

// OpenReplay opens a replay of ref's variant ("" for its default), as
// the library's Replay button does: for a trainer who starts a game-day
// from a script.
func (w *Window) OpenReplay(ref, variant string) error {
	sc, err := w.selectScenario(ref)
	if err != nil {
		return err
	}
	return w.replayVariant(sc, variant)
}

// Play starts the replay on screen, at speed ("" keeps the speed shown;
// else a label of the speed menu, such as "3600×").
func (w *Window) Play(speed string) error {
	if w.replay == nil {
		return errors.New("no replay to play: open one first")
	}
	if speed != "" {
		found := false
		for _, s := range replaySpeeds {
			found = found || s.label == speed
		}
		if !found {
			return fmt.Errorf("speed %q: expected one of the speed menu's", speed)
		}
		w.replay.speed.SetSelected(speed)
	}
	if !w.replay.frame.Playing {
		w.replay.playTapped()
	}
	return nil
}

// CompareVariants runs variants a and b of ref paired and shows them on
// the Compare tab, as the library's Compare button does.
func (w *Window) CompareVariants(ref, a, b string) error {
	sc, err := w.selectScenario(ref)
	if err != nil {
		return err
	}
	w.compareVariants(sc, a, b)
	return nil
}

// ShowTab shows a tab by its name: library, replay, compare or history.
func (w *Window) ShowTab(name string) error {
	for _, t := range w.tabs.Items {
		if strings.EqualFold(t.Text, name) {
			w.tabs.Select(t)
			return nil
		}
	}
	return fmt.Errorf("tab %q: expected library, replay, compare or history", name)
}

// ShowExportWhenReady opens the export dialog for what is on screen, or,
// while a run is in progress, once it has finished.
func (w *Window) ShowExportWhenReady() {
	if w.job != nil {
		w.exportAfterJob = true
		return
	}
	w.exportDialog()
}
