package desktop

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"stormglass/app/history"
	"stormglass/export"
)

// HistoryActions are what the history view asks the main window to do
// with the runs a planner ticked. Each is given the runs in full, read
// off the UI goroutine, their results decoded; each is called on the UI
// goroutine. A nil action's button is not shown.
type HistoryActions struct {
	Open    func(run *history.Run)    // show one finished run's results
	Compare func(a, b *history.Run)   // compare two finished runs
	Export  func(runs []*history.Run) // export one or two finished runs (the main window shows the save dialog)
}

// The table's columns, in order.
const (
	colTick = iota
	colID
	colStarted
	colScenario
	colVariant
	colSeed
	colStatus
	colOutcome
	colWall
	historyCols
)

// historyColumns are the columns' titles and widths: wide enough for
// their usual content at the default text size. The outcome column takes
// what the window leaves, down to its width here.
var historyColumns = [historyCols]struct {
	title string
	width float32
}{
	colTick:     {"", 0}, // the check box's own width
	colID:       {"ID", 52},
	colStarted:  {"Started", 136},
	colScenario: {"Scenario", 220},
	colVariant:  {"Variant", 96},
	colSeed:     {"Seed", 64},
	colStatus:   {"Status", 96},
	colOutcome:  {"Outcome", 180},
	colWall:     {"Wall time", 84},
}

// startedLayout is how the list and the detail show a time.
const startedLayout = "2006-01-02 15:04"

// Filter choices meaning "no filter".
const (
	allScenarios = "All scenarios"
	allStatuses  = "All statuses"
)

// historyStatuses are the statuses the status filter offers.
var historyStatuses = []history.Status{history.Done, history.Failed, history.Interrupted, history.Running}

// HistoryView lets a planner find past runs in the run history and act
// on them: a table of runs, newest first, filtered by scenario and
// status; the detail of the run ticked last; and Open, Compare, Export
// and Delete for the runs ticked, each disabled with the reason shown
// when it cannot apply to them.
//
// Every store call runs off the UI goroutine: a done run's Get carries
// its series, megabytes for a day-long run. Their results come back
// through do. Apart from Reload, which may be called from any goroutine,
// a HistoryView is used from the UI goroutine, like any widget.
type HistoryView struct {
	window  fyne.Window
	actions HistoryActions
	do      func(func())
	// loc is where times are shown: the planner's time zone, fixed in
	// tests so that goldens do not depend on the machine's.
	loc *time.Location

	mu       sync.Mutex
	store    *history.Store
	listGen  int // bumped by Reload and SetStore: only the newest listing is shown
	inflight atomic.Int64

	// The rest belongs to the UI goroutine.
	storeErr   error
	all        []history.Summary  // every run, newest first, as listed last
	listedOnce bool               // a listing of this store has been shown
	rows       []history.Summary  // those the filters let through
	ticked     []int64            // in the order ticked: the last is the detail's
	listErr    bool               // the status line shows a listing's error
	busy       string             // an action reading or deleting runs; the actions wait for it
	detailGen  int                // bumped by each detail asked for: only the newest read is shown
	detailID   int64              // the run the detail shows or is reading; 0 for none
	detail     *history.Run       // the detail's run, once read
	cancelGet  context.CancelFunc // stops the detail's read when another run is wanted
	reasons    [4]string          // why Open, Compare, Export, Delete are disabled; "" when enabled

	scenarioSel, statusSel *widget.Select
	refresh                *widget.Button
	count                  *widget.Label
	top                    *fyne.Container // the filters and the count
	table                  *widget.Table
	tickWidth              float32 // the tick column's: a check box's
	empty                  *widget.Label
	detailBox              *fyne.Container
	openBtn, compareBtn    *widget.Button
	exportBtn, deleteBtn   *widget.Button
	hint, status           *widget.Label
	main                   fyne.CanvasObject // the list and detail
	errPanel               *fyne.Container   // why there is no history, in place of main
	errText                *widget.Label
	content                fyne.CanvasObject
}

// The action indexes of reasons.
const (
	actOpen = iota
	actCompare
	actExport
	actDelete
)

// NewHistoryView builds the view of store's runs, which it starts
// listing at once. store may be nil until SetStore gives one. window is
// the one the confirm dialogs show over.
func NewHistoryView(store *history.Store, window fyne.Window, actions HistoryActions) *HistoryView {
	return newHistoryView(store, window, actions, fyne.Do)
}

// newHistoryView builds the view; do runs a function on the UI goroutine.
func newHistoryView(store *history.Store, window fyne.Window, actions HistoryActions, do func(func())) *HistoryView {
	v := &HistoryView{window: window, actions: actions, do: do, loc: time.Local, store: store}
	v.build()
	v.syncStore()
	v.Reload()
	return v
}

// Object is the view, to put in a window.
func (v *HistoryView) Object() fyne.CanvasObject { return v.content }

// Reload lists the runs again, off the UI goroutine; the ticks of runs
// still listed stay. The main window calls it after a run is kept. It may
// be called from any goroutine.
func (v *HistoryView) Reload() {
	v.mu.Lock()
	store := v.store
	v.listGen++
	gen := v.listGen
	v.mu.Unlock()
	if store == nil {
		return
	}
	v.background(func() func() {
		runs, err := store.List(context.Background(), history.Filter{})
		return func() { v.listed(gen, runs, err) }
	})
}

// SetStore gives the view a store opened after it was built, or why there
// is none: err is shown in place of the list (a corrupt database's error
// names the file and what is wrong).
func (v *HistoryView) SetStore(store *history.Store, err error) {
	v.mu.Lock()
	v.store = store
	v.listGen++
	v.mu.Unlock()
	v.storeErr = err
	v.all, v.rows, v.ticked, v.listedOnce = nil, nil, nil, false
	v.busy = ""
	v.showStatus("")
	v.syncStore()
	v.refilter()
	v.Reload()
}

// Selected returns the ids of the runs ticked, in list order.
func (v *HistoryView) Selected() []int64 {
	var ids []int64
	for _, r := range v.rows {
		if slices.Contains(v.ticked, r.ID) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// Select ticks exactly the runs of ids that the list shows; the detail
// shows the last of them.
func (v *HistoryView) Select(ids ...int64) {
	v.ticked = nil
	for _, id := range ids {
		if v.rowOf(id) >= 0 && !slices.Contains(v.ticked, id) {
			v.ticked = append(v.ticked, id)
		}
	}
	v.ticksChanged()
}

// currentStore is the store the view lists.
func (v *HistoryView) currentStore() *history.Store {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.store
}

// background runs work off the UI goroutine and what it returns on it.
func (v *HistoryView) background(work func() func()) {
	v.inflight.Add(1)
	go func() {
		ui := work()
		v.do(func() {
			defer v.inflight.Add(-1)
			ui()
		})
	}()
}

// build makes the widgets.
func (v *HistoryView) build() {
	v.scenarioSel = widget.NewSelect([]string{allScenarios}, func(string) { v.refilter() })
	v.scenarioSel.Selected = allScenarios
	statuses := []string{allStatuses}
	for _, s := range historyStatuses {
		statuses = append(statuses, string(s))
	}
	v.statusSel = widget.NewSelect(statuses, func(string) { v.refilter() })
	v.statusSel.Selected = allStatuses
	v.refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), v.Reload)
	v.count = widget.NewLabel("")

	v.table = widget.NewTable(
		func() (int, int) { return len(v.rows), historyCols },
		newHistoryCell,
		v.updateCell,
	)
	v.table.ShowHeaderRow = true
	v.table.CreateHeader = newHeaderLabel
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < historyCols {
			o.(*widget.Label).SetText(historyColumns[id.Col].title)
		}
	}
	// A tap on a row, off its check box, shows that run alone, as in a
	// file manager; the boxes tick several.
	v.table.OnSelected = func(id widget.TableCellID) {
		v.table.UnselectAll()
		if id.Row >= 0 && id.Row < len(v.rows) {
			v.Select(v.rows[id.Row].ID)
		}
	}
	v.tickWidth = widget.NewCheck("", nil).MinSize().Width
	v.table.SetColumnWidth(colTick, v.tickWidth)
	for c, col := range historyColumns {
		if col.width > 0 {
			v.table.SetColumnWidth(c, col.width)
		}
	}
	v.empty = widget.NewLabel("")
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Wrapping = fyne.TextWrapWord
	v.empty.Hide()
	tableArea := container.NewStack(container.New(&fillColumn{v: v}, v.table), container.NewCenter(v.empty))

	v.detailBox = container.NewVBox()
	// The scroll bar is drawn over the content's right edge.
	gutter := canvas.NewRectangle(color.Transparent)
	gutter.SetMinSize(fyne.NewSize(theme.Size(theme.SizeNameScrollBarSmall)+theme.Padding(), 0))
	detail := container.NewVScroll(container.NewBorder(nil, nil, nil, gutter, v.detailBox))
	split := container.NewVSplit(tableArea, detail)
	split.Offset = 0.55
	v.main = split

	v.errText = widget.NewLabel("")
	v.errText.Wrapping = fyne.TextWrapWord
	v.errText.Selectable = true
	errTitle := widget.NewLabelWithStyle("The run history cannot be read", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.errPanel = container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(theme.ErrorIcon()), nil, errTitle), v.errText)
	v.errPanel.Hide()

	v.openBtn = widget.NewButtonWithIcon("Open", theme.DocumentIcon(), v.openTapped)
	v.openBtn.Importance = widget.HighImportance
	v.compareBtn = widget.NewButtonWithIcon("Compare", theme.ViewRestoreIcon(), v.compareTapped)
	v.exportBtn = widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), v.exportTapped)
	v.deleteBtn = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), v.deleteTapped)
	if v.actions.Open == nil {
		v.openBtn.Hide()
	}
	if v.actions.Compare == nil {
		v.compareBtn.Hide()
	}
	if v.actions.Export == nil {
		v.exportBtn.Hide()
	}
	v.hint = widget.NewLabel("")
	v.hint.Wrapping = fyne.TextWrapWord
	v.hint.Importance = widget.LowImportance
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Importance = widget.DangerImportance
	v.status.Hide()

	filters := container.NewHBox(
		widget.NewLabel("Scenario"), container.New(fixedWidth(220), v.scenarioSel),
		widget.NewLabel("Status"), container.New(fixedWidth(150), v.statusSel),
		v.refresh,
	)
	v.top = container.NewBorder(nil, nil, filters, v.count)
	buttons := container.NewHBox(v.openBtn, v.compareBtn, v.exportBtn, v.deleteBtn)
	bottom := container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, buttons, nil, v.hint), v.status)
	v.content = container.NewBorder(v.top, bottom, nil, nil, container.NewStack(v.main, v.errPanel))
	v.showDetail()
}

// syncStore shows the list, or why there is no history.
func (v *HistoryView) syncStore() {
	store := v.currentStore()
	if store == nil {
		text := "No run history is open."
		if v.storeErr != nil {
			text = v.storeErr.Error()
		}
		v.errText.SetText(text)
		v.errPanel.Show()
		v.main.Hide()
		v.scenarioSel.Disable()
		v.statusSel.Disable()
		v.refresh.Disable()
	} else {
		v.errPanel.Hide()
		v.main.Show()
		v.scenarioSel.Enable()
		v.statusSel.Enable()
		v.refresh.Enable()
	}
}

// listed shows a listing, unless a newer one was asked for. A failed
// listing leaves the list as it was, with the error shown.
func (v *HistoryView) listed(gen int, runs []history.Summary, err error) {
	v.mu.Lock()
	stale := gen != v.listGen
	v.mu.Unlock()
	if stale {
		return
	}
	if err != nil {
		v.listErr = true
		v.showStatus(fmt.Sprintf("Could not list the runs: %v", err))
		return
	}
	if v.listErr {
		v.listErr = false
		v.showStatus("")
	}
	v.all, v.listedOnce = runs, true
	// A run shown in detail that has since ended, or gone, is read again.
	if v.detail != nil {
		i := slices.IndexFunc(runs, func(r history.Summary) bool { return r.ID == v.detail.ID })
		if i < 0 || runs[i].Status != v.detail.Status {
			v.detail, v.detailID = nil, 0
		}
	}
	v.syncScenarios()
	v.refilter()
}

// syncScenarios offers the scenarios present in the listing. A filter on
// a scenario whose runs are all gone falls back to all.
func (v *HistoryView) syncScenarios() {
	var names []string
	for _, r := range v.all {
		if !slices.Contains(names, r.Scenario) {
			names = append(names, r.Scenario)
		}
	}
	slices.Sort(names)
	v.scenarioSel.Options = append([]string{allScenarios}, names...)
	if !slices.Contains(v.scenarioSel.Options, v.scenarioSel.Selected) {
		v.scenarioSel.Selected = allScenarios
	}
	v.scenarioSel.Refresh()
}

// refilter shows the runs the filters let through. Ticks on runs no
// longer shown are dropped, so that no action reaches a run out of sight.
func (v *HistoryView) refilter() {
	scenario, status := v.scenarioSel.Selected, v.statusSel.Selected
	v.rows = v.rows[:0:0]
	for _, r := range v.all {
		if scenario != allScenarios && scenario != "" && r.Scenario != scenario {
			continue
		}
		if status != allStatuses && status != "" && string(r.Status) != status {
			continue
		}
		v.rows = append(v.rows, r)
	}
	v.ticked = slices.DeleteFunc(v.ticked, func(id int64) bool { return v.rowOf(id) < 0 })

	switch n, total := len(v.rows), len(v.all); {
	case v.currentStore() == nil:
		v.count.SetText("")
	case total == 0:
		v.count.SetText("No runs")
	case n == total:
		v.count.SetText(plural(n, "run", "runs"))
	default:
		v.count.SetText(fmt.Sprintf("%d of %s", n, plural(total, "run", "runs")))
	}
	// The bar does not lay itself out again when the count's text grows.
	v.top.Refresh()
	switch {
	case len(v.rows) > 0:
		v.empty.Hide()
	case !v.listedOnce:
		v.empty.SetText("Reading the run history…")
		v.empty.Show()
	case len(v.all) == 0:
		v.empty.SetText("No runs kept yet: the runs you make appear here.")
		v.empty.Show()
	default:
		v.empty.SetText("No runs match these filters.")
		v.empty.Show()
	}
	v.ticksChanged()
}

// plural counts things: "1 run", "42 runs".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// rowOf is the row showing run id, or -1.
func (v *HistoryView) rowOf(id int64) int {
	return slices.IndexFunc(v.rows, func(r history.Summary) bool { return r.ID == id })
}

// summary is the listed run id.
func (v *HistoryView) summary(id int64) (history.Summary, bool) {
	if i := v.rowOf(id); i >= 0 {
		return v.rows[i], true
	}
	return history.Summary{}, false
}

// setTicked ticks or unticks a run, from its check box.
func (v *HistoryView) setTicked(id int64, on bool) {
	has := slices.Contains(v.ticked, id)
	switch {
	case on && !has:
		v.ticked = append(v.ticked, id)
	case !on && has:
		v.ticked = slices.DeleteFunc(v.ticked, func(t int64) bool { return t == id })
	default:
		return
	}
	v.ticksChanged()
}

// ticksChanged brings the table, the actions and the detail up to date.
func (v *HistoryView) ticksChanged() {
	v.table.Refresh()
	v.syncActions()
	v.showDetail()
}

// newHistoryCell is a table cell's template: a tick box or a label, over
// a background that marks the ticked rows across every column.
func newHistoryCell() fyne.CanvasObject {
	bg := canvas.NewRectangle(color.Transparent)
	check := widget.NewCheck("", nil)
	label := widget.NewLabel("")
	label.Truncation = fyne.TextTruncateEllipsis
	return container.NewStack(bg, check, label)
}

// updateCell shows a run's cell: its tick box, or its text for the column.
func (v *HistoryView) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	if id.Row < 0 || id.Row >= len(v.rows) {
		return
	}
	r := v.rows[id.Row]
	objs := o.(*fyne.Container).Objects
	bg, check, label := objs[0].(*canvas.Rectangle), objs[1].(*widget.Check), objs[2].(*widget.Label)
	ticked := slices.Contains(v.ticked, r.ID)
	fill := color.Color(color.Transparent)
	if ticked {
		fill = theme.Color(theme.ColorNameSelection)
	}
	if bg.FillColor != fill {
		bg.FillColor = fill
		bg.Refresh()
	}
	if id.Col == colTick {
		label.Hide()
		check.Show()
		// Set the field, not SetChecked, which would call OnChanged.
		check.OnChanged = nil
		check.Checked = ticked
		check.Refresh()
		runID := r.ID
		check.OnChanged = func(on bool) { v.setTicked(runID, on) }
		return
	}
	check.Hide()
	label.Show()
	text, imp := v.cellText(r, id.Col)
	if label.Text != text || label.Importance != imp {
		label.Text, label.Importance = text, imp
		label.Refresh()
	}
}

// cellText is what a run's row shows in column col, and how.
func (v *HistoryView) cellText(r history.Summary, col int) (string, widget.Importance) {
	switch col {
	case colID:
		return strconv.FormatInt(r.ID, 10), widget.MediumImportance
	case colStarted:
		return r.Started.In(v.loc).Format(startedLayout), widget.MediumImportance
	case colScenario:
		return scenarioText(r.Scenario, r.Title), widget.MediumImportance
	case colVariant:
		return runVariantText(r.Variant), widget.MediumImportance
	case colSeed:
		return strconv.FormatUint(r.Seed, 10), widget.MediumImportance
	case colStatus:
		return string(r.Status), statusImportance(r.Status)
	case colOutcome:
		imp := widget.MediumImportance
		if r.Status != history.Done {
			imp = statusImportance(r.Status)
		}
		return r.Headline, imp
	case colWall:
		if r.Status != history.Done {
			return "–", widget.MediumImportance
		}
		return wallText(r.Wall), widget.MediumImportance
	}
	return "", widget.MediumImportance
}

// scenarioText names a scenario by its name, which the filter offers, then
// its title.
func scenarioText(name, title string) string {
	if title == "" || title == name {
		return name
	}
	return name + " · " + title
}

// runVariantText names a plan's variant: the empty one is the scenario as
// written.
func runVariantText(variant string) string {
	if variant == "" {
		return "base"
	}
	return variant
}

// statusImportance colours a status: failed as danger, interrupted as a warning.
func statusImportance(s history.Status) widget.Importance {
	switch s {
	case history.Failed:
		return widget.DangerImportance
	case history.Interrupted:
		return widget.WarningImportance
	}
	return widget.MediumImportance
}

// wallText is a wall-clock time as a planner reads it: 0.4 s, 12 s,
// 3 min 05 s, 1 h 02 min.
func wallText(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s < 10:
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	case s < 60:
		return strconv.FormatFloat(s, 'f', 0, 64) + " s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %02d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// syncActions enables the actions that apply to the runs ticked, and
// says why each other one does not.
func (v *HistoryView) syncActions() {
	var sel []history.Summary
	for _, id := range v.Selected() {
		s, _ := v.summary(id)
		sel = append(sel, s)
	}
	readOnly := ""
	if store := v.currentStore(); store != nil {
		if ro, why := store.ReadOnly(); ro {
			readOnly = why
			if readOnly == "" {
				readOnly = "read-only"
			}
		}
	}
	v.reasons = actionReasons(sel, v.currentStore() != nil, readOnly)
	hint := ""
	switch {
	case v.busy != "":
		hint = v.busy
	case v.currentStore() == nil:
		hint = "No run history to act on."
	case len(sel) == 0:
		hint = "Tick a run to see it and act on it; tick two finished runs to compare them."
	default:
		var parts []string
		for i, r := range v.reasons {
			if r != "" && !slices.Contains(parts, r) && v.actionShown(i) {
				parts = append(parts, r)
			}
		}
		hint = strings.Join(parts, "  ")
	}
	for i, b := range []*widget.Button{v.openBtn, v.compareBtn, v.exportBtn, v.deleteBtn} {
		if v.reasons[i] == "" && v.busy == "" {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if v.hint.Text != hint {
		v.hint.SetText(hint)
	}
}

// actionShown reports whether action i has a button on screen.
func (v *HistoryView) actionShown(i int) bool {
	switch i {
	case actOpen:
		return v.actions.Open != nil
	case actCompare:
		return v.actions.Compare != nil
	case actExport:
		return v.actions.Export != nil
	}
	return true
}

// actionReasons says why Open, Compare, Export and Delete cannot apply to
// the runs ticked, in list order; "" for each that can. readOnly is why
// the store cannot delete, or "".
func actionReasons(sel []history.Summary, haveStore bool, readOnly string) [4]string {
	var r [4]string
	if !haveStore {
		for i := range r {
			r[i] = "No run history is open."
		}
		return r
	}
	n := len(sel)
	if n == 0 {
		r[actOpen] = "Open: tick a finished run."
		r[actCompare] = "Compare: tick two finished runs."
		r[actExport] = "Export: tick one or two finished runs."
		r[actDelete] = "Delete: tick the runs to delete."
		return r
	}
	// One run without results rules out all three: say so once.
	for _, s := range sel {
		if s.Status != history.Done {
			why := fmt.Sprintf("Run %d %s: only finished runs can be opened, compared or exported.", s.ID, statusPhrase(s.Status))
			r[actOpen], r[actCompare], r[actExport] = why, why, why
			break
		}
	}
	if r[actOpen] == "" {
		if n != 1 {
			r[actOpen] = "Open: one run at a time."
		}
		if n != 2 {
			r[actCompare] = "Compare: tick exactly two runs."
		}
		if n > 2 {
			r[actExport] = "Export: one or two runs at a time."
		}
	}
	switch {
	case readOnly != "":
		r[actDelete] = "Delete: the history is read-only (" + readOnly + ")."
	default:
		for _, s := range sel {
			if s.Status == history.Running {
				r[actDelete] = fmt.Sprintf("Delete: run %d is still running.", s.ID)
				break
			}
		}
	}
	return r
}

// statusPhrase is a run's status in a sentence: "run 12 failed".
func statusPhrase(s history.Status) string {
	switch s {
	case history.Failed:
		return "failed"
	case history.Interrupted:
		return "was interrupted"
	case history.Running:
		return "is still running"
	}
	return "is " + string(s)
}

// showStatus shows an error under the actions, or clears the last.
func (v *HistoryView) showStatus(text string) {
	showLine(v.status, text)
}

// showDetail shows the run ticked last, reading it in full off the UI
// goroutine unless it is the one shown already.
func (v *HistoryView) showDetail() {
	var id int64
	if n := len(v.ticked); n > 0 {
		id = v.ticked[n-1]
	}
	if id == v.detailID && id != 0 {
		return
	}
	v.detailID = id
	v.detailGen++
	if v.cancelGet != nil {
		v.cancelGet() // a run no longer wanted: its megabytes need not be read
		v.cancelGet = nil
	}
	if v.detail != nil && v.detail.ID != id {
		v.detail = nil
	}
	sum, ok := v.summary(id)
	if id == 0 || !ok {
		v.detailID = 0
		v.setDetail(detailPlaceholder("Tick a run to see its detail here."))
		return
	}
	if v.detail != nil {
		v.setDetail(v.detailObjects(v.detail))
		return
	}
	v.setDetail(append(v.detailHeader(sum), detailPlaceholder(fmt.Sprintf("Reading run %d…", id))...))
	store := v.currentStore()
	if store == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancelGet = cancel
	gen := v.detailGen
	v.background(func() func() {
		run, err := store.Get(ctx, id)
		return func() {
			if gen != v.detailGen {
				return
			}
			cancel()
			v.cancelGet = nil
			if err != nil {
				v.setDetail(append(v.detailHeader(sum), detailError(fmt.Sprintf("Could not read run %d: %v", id, err))...))
				return
			}
			v.detail = run
			v.setDetail(v.detailObjects(run))
		}
	})
}

// setDetail puts objs in the detail pane.
func (v *HistoryView) setDetail(objs []fyne.CanvasObject) {
	v.detailBox.Objects = objs
	v.detailBox.Refresh()
}

// detailPlaceholder is a quiet line in an otherwise empty detail.
func detailPlaceholder(text string) []fyne.CanvasObject {
	l := widget.NewLabel(text)
	l.Importance = widget.LowImportance
	l.Wrapping = fyne.TextWrapWord
	return []fyne.CanvasObject{l}
}

// detailError is why the detail could not be read.
func detailError(text string) []fyne.CanvasObject {
	l := widget.NewLabel(text)
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Selectable = true
	return []fyne.CanvasObject{l}
}

// detailHeader is the detail's title: what the list knows of the run.
func (v *HistoryView) detailHeader(s history.Summary) []fyne.CanvasObject {
	title := widget.NewLabelWithStyle(fmt.Sprintf("Run %d · %s · %s", s.ID, s.Status, scenarioText(s.Scenario, s.Title)),
		fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	return []fyne.CanvasObject{title}
}

// detailObjects is a run's detail: how it ran, what it ran, and how it
// ended.
func (v *HistoryView) detailObjects(r *history.Run) []fyne.CanvasObject {
	objs := v.detailHeader(r.Summary)
	switch r.Status {
	case history.Done:
		objs = append(objs, detailLine("Outcome: "+r.Headline, widget.MediumImportance))
	case history.Failed, history.Interrupted:
		msg := r.Error
		if msg == "" {
			msg = r.Headline
		}
		objs = append(objs, detailLine(fmt.Sprintf("Run %d %s: %s", r.ID, statusPhrase(r.Status), msg), statusImportance(r.Status)))
	}
	finished, wall := "–", "–"
	if !r.Finished.IsZero() {
		finished = r.Finished.In(v.loc).Format(startedLayout)
	}
	if r.Status == history.Done {
		wall = wallText(r.Wall)
	}
	host := r.Host
	if r.PID > 0 {
		host = fmt.Sprintf("%s (pid %d)", r.Host, r.PID)
	}
	// The short facts in three columns, so that the detail's first
	// screen holds the knobs and the file too.
	facts := container.NewGridWithColumns(3,
		detailForm(
			"Started", r.Started.In(v.loc).Format(startedLayout),
			"Finished", finished,
			"Wall time", wall,
		),
		detailForm(
			"Variant", runVariantText(r.Variant),
			"Seed", strconv.FormatUint(r.Seed, 10),
			"Replications", strconv.Itoa(r.Replications),
		),
		detailForm(
			"Horizon", export.Duration(r.Horizon.Seconds()),
			"Version", r.Version,
			"Host", host,
		),
	)
	full := detailForm(
		"Knobs changed", changedKnobs(r),
		"Scenario file", r.File+" · SHA-256 "+r.ScenarioSHA256,
	)
	return append(objs, facts, full)
}

// detailLine is a wrapped line of the detail.
func detailLine(text string, imp widget.Importance) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	l.Selectable = true
	return l
}

// detailForm lays key, value pairs out in two columns; values wrap, and
// can be selected to copy a hash or a path.
func detailForm(pairs ...string) *fyne.Container {
	var objs []fyne.CanvasObject
	for i := 0; i+1 < len(pairs); i += 2 {
		key := widget.NewLabelWithStyle(pairs[i], fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		objs = append(objs, key, detailLine(pairs[i+1], widget.MediumImportance))
	}
	return container.New(layout.NewFormLayout(), objs...)
}

// changedKnobs lists the knobs a run set away from their defaults.
func changedKnobs(r *history.Run) string {
	var parts []string
	for _, k := range r.Knobs {
		if k.Changed {
			parts = append(parts, fmt.Sprintf("%s %s (default %s)", k.Name, k.Value, k.Default))
		}
	}
	if len(parts) == 0 {
		return "none: every knob at its default"
	}
	return strings.Join(parts, ", ")
}

// openTapped hands the ticked run to the Open action.
func (v *HistoryView) openTapped() {
	ids := v.Selected()
	if v.reasons[actOpen] != "" || len(ids) != 1 || v.actions.Open == nil {
		return
	}
	v.readRuns(ids, func(runs []*history.Run) { v.actions.Open(runs[0]) })
}

// compareTapped hands the two ticked runs, in list order, to Compare.
func (v *HistoryView) compareTapped() {
	ids := v.Selected()
	if v.reasons[actCompare] != "" || len(ids) != 2 || v.actions.Compare == nil {
		return
	}
	v.readRuns(ids, func(runs []*history.Run) { v.actions.Compare(runs[0], runs[1]) })
}

// exportTapped hands the ticked runs, in list order, to Export.
func (v *HistoryView) exportTapped() {
	ids := v.Selected()
	if v.reasons[actExport] != "" || len(ids) == 0 || len(ids) > 2 || v.actions.Export == nil {
		return
	}
	v.readRuns(ids, v.actions.Export)
}

// readRuns reads the runs in full off the UI goroutine, then hands them
// to act on it. The run the detail shows is not read again. Meanwhile
// the actions wait, so that a double click does not read twice.
func (v *HistoryView) readRuns(ids []int64, act func([]*history.Run)) {
	store := v.currentStore()
	if store == nil {
		return
	}
	cached := v.detail
	v.setBusy(fmt.Sprintf("Reading %s…", runsText(ids)))
	v.showStatus("")
	v.listErr = false
	v.background(func() func() {
		runs := make([]*history.Run, len(ids))
		var err error
		for i, id := range ids {
			if cached != nil && cached.ID == id && cached.Result != nil {
				runs[i] = cached
				continue
			}
			var run *history.Run
			if run, err = store.Get(context.Background(), id); err != nil {
				break
			}
			if run.Result == nil {
				err = fmt.Errorf("run %d has no result: it %s", id, statusPhrase(run.Status))
				break
			}
			runs[i] = run
		}
		return func() {
			if v.currentStore() != store {
				return // SetStore came between: these runs are another history's
			}
			v.setBusy("")
			if err != nil {
				v.showStatus(err.Error())
				return
			}
			act(runs)
		}
	})
}

// setBusy holds the actions back while what runs, or lets them go.
func (v *HistoryView) setBusy(what string) {
	v.busy = what
	v.syncActions()
}

// runsText names runs in a sentence: "run 12", "runs 12 and 13", "runs
// 12, 13 and 14"; past ten ids, the first nine and how many more.
func runsText(ids []int64) string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.FormatInt(id, 10)
	}
	switch n := len(strs); {
	case n == 0:
		return "no runs"
	case n == 1:
		return "run " + strs[0]
	case n > 10:
		return fmt.Sprintf("runs %s and %d more", strings.Join(strs[:9], ", "), n-9)
	default:
		return "runs " + strings.Join(strs[:n-1], ", ") + " and " + strs[n-1]
	}
}

// deleteQuestion is the confirm dialog's question.
func deleteQuestion(ids []int64) string {
	t := runsText(ids)
	return strings.ToUpper(t[:1]) + t[1:]
}

// deleteTapped asks the planner to confirm, naming the runs, then deletes them.
func (v *HistoryView) deleteTapped() {
	ids := v.Selected()
	if v.reasons[actDelete] != "" || len(ids) == 0 {
		return
	}
	store := v.currentStore()
	if store == nil {
		return
	}
	if ro, why := store.ReadOnly(); ro {
		v.showStatus("Cannot delete: the history is read-only (" + why + ").")
		return
	}
	if v.window == nil {
		v.showStatus("Cannot delete: no window to confirm in.")
		return
	}
	title := "Delete run"
	if len(ids) > 1 {
		title = "Delete runs"
	}
	d := dialog.NewConfirm(title, "Delete "+runsText(ids)+"? This cannot be undone.", func(ok bool) {
		if ok {
			v.deleteRuns(store, ids)
		}
	}, v.window)
	d.SetConfirmText("Delete")
	d.SetDismissText("Cancel")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

// deleteRuns deletes the runs off the UI goroutine, stopping at the first
// the store refuses, then lists again: the list shows what the store
// holds, whatever happened.
func (v *HistoryView) deleteRuns(store *history.Store, ids []int64) {
	v.setBusy(fmt.Sprintf("Deleting %s…", runsText(ids)))
	v.showStatus("")
	v.listErr = false
	v.background(func() func() {
		var deleted []int64
		var err error
		for _, id := range ids {
			if err = store.Delete(context.Background(), id); err != nil {
				if !errors.Is(err, history.ErrNotFound) {
					break
				}
				err = nil // gone already: what was asked
			}
			deleted = append(deleted, id)
		}
		return func() {
			if v.currentStore() != store {
				return // SetStore came between and listed the new history
			}
			v.ticked = slices.DeleteFunc(v.ticked, func(id int64) bool { return slices.Contains(deleted, id) })
			v.setBusy("")
			if err != nil {
				msg := fmt.Sprintf("Could not delete: %v", err)
				if len(deleted) > 0 {
					msg = fmt.Sprintf("Deleted %s, then could not go on: %v", runsText(deleted), err)
				}
				v.showStatus(msg)
			}
			v.Reload()
		}
	})
}

// fillColumn lays the table out over its whole area and widens the
// outcome column to take the width the other columns leave, so that a
// wide window shows whole outcomes rather than blank space.
type fillColumn struct{ v *HistoryView }

// MinSize is part of fyne.Layout.
func (l *fillColumn) MinSize(objects []fyne.CanvasObject) fyne.Size { return objects[0].MinSize() }

// Layout is part of fyne.Layout.
func (l *fillColumn) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	// The tick column is as wide as a check box; one padding to spare
	// keeps the table from scrolling sideways.
	used := l.v.tickWidth
	for c, col := range historyColumns {
		if c != colTick {
			used += col.width
		}
		used += pad
	}
	// What is left goes to the outcome and, up to a limit, to the
	// scenario, the two texts that are often cut.
	spare := max(0, size.Width-used)
	toScenario := min(spare/2, 160)
	l.v.table.SetColumnWidth(colScenario, historyColumns[colScenario].width+toScenario)
	l.v.table.SetColumnWidth(colOutcome, historyColumns[colOutcome].width+spare-toScenario)
	// Widths first: the table's scroller sizes its content to the widths
	// it knows when resized, and keeps that size when they shrink later.
	objects[0].Move(fyne.NewPos(0, 0))
	objects[0].Resize(size)
}
