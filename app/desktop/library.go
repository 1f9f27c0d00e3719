package desktop

import (
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"stormglass/export"
	"stormglass/scenarios"
)

// Preference keys the library reads and writes.
const (
	// prefRecent lists the scenario files opened, newest first.
	prefRecent = "library.recent"
	// prefSelected is the ref of the scenario last selected, shown again
	// at the next start.
	prefSelected = "library.selected"
	// prefScenarioFolder is where the open dialog starts, when a planner
	// keeps scenarios in one place (set in the app's settings).
	prefScenarioFolder = "folders.scenarios"
)

// maxRecent is how many opened files the library remembers: enough for
// the scenarios of an engagement, few enough to scan at a glance.
const maxRecent = 10

// builtinPrefix starts the ref of a built-in scenario, as in its File.
const builtinPrefix = "builtin:"

// startScenario is shown when no selection is remembered: the flagship
// incident replay.
const startScenario = "reactive-outage-2025"

// libraryItem is one row of the library: a built-in scenario or a file
// opened before, loaded or with the reason it does not load.
type libraryItem struct {
	ref     string // builtin:NAME or the file's absolute path
	builtin bool
	sc      *scenarios.Scenario // nil when err is set
	err     error
}

// LibraryView is the screen a planner starts from: the built-in scenarios
// and the files opened before on the left, the selected scenario's
// details, variants and timeline on the right, and the buttons that
// replay a variant or compare two.
//
// Like every widget, a LibraryView is used from the UI goroutine. Loading
// a scenario takes milliseconds, so it happens there too.
type LibraryView struct {
	prefs     fyne.Preferences
	window    fyne.Window
	onReplay  func(sc *scenarios.Scenario, variant string)
	onCompare func(sc *scenarios.Scenario, a, b string)

	items []*libraryItem // the built-ins, then the recent files, newest first
	cur   int            // the selected item; -1 before the first selection

	// What the details show of the selected scenario.
	variant, compareWith string
	plan                 *scenarios.Plan // of variant; nil when it does not resolve
	planErr              error

	openBtn *widget.Button
	list    *widget.List
	details *container.Scroll // its content is rebuilt for each selection
	actions *fyne.Container   // the replay and compare bar under the details
	right   *fyne.Container   // the details and the bar

	// The details' widgets that change with the variant.
	variantHead, variantTitle *widget.Label
	variantDesc, variantSet   *widget.Label
	variantBox                *fyne.Container // the variant's part of the details
	timeline                  *fyne.Container
	timelineRows              [][3]string // clock, kind, text: what timeline shows
	removeBtn                 *widget.Button
	failure                   *widget.Label // why a recent file does not load

	// The bar under the details: the variant to replay, and the one to
	// compare it with.
	variantSel, compareSel *widget.Select
	replayBtn, compareBtn  *widget.Button
	compareWhy             *widget.Label
	barTitle               *widget.Label // the variant's title, beside Replay

	content fyne.CanvasObject
}

// NewLibraryView builds the library: the built-in scenarios, loaded now,
// and the files in prefs' recent list. onReplay is called with the
// scenario and variant to replay, onCompare with two variants to run and
// compare. window hosts the open and error dialogs. An error means a
// built-in scenario does not load: a broken build.
func NewLibraryView(prefs fyne.Preferences, window fyne.Window,
	onReplay func(sc *scenarios.Scenario, variant string),
	onCompare func(sc *scenarios.Scenario, a, b string)) (*LibraryView, error) {
	return newLibraryView(prefs, window, onReplay, onCompare)
}

// newLibraryView builds the view. Nothing in it runs off the UI
// goroutine, so unlike the replay it needs no do hook: the exported
// constructor exists for the same shape of API as the other views.
func newLibraryView(prefs fyne.Preferences, window fyne.Window,
	onReplay func(sc *scenarios.Scenario, variant string),
	onCompare func(sc *scenarios.Scenario, a, b string)) (*LibraryView, error) {
	if prefs == nil {
		return nil, errors.New("library: no preferences")
	}
	l := &LibraryView{prefs: prefs, window: window, onReplay: onReplay, onCompare: onCompare, cur: -1}
	for _, name := range scenarios.BuiltinNames() {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			return nil, fmt.Errorf("library: built-in scenario %s: %w", name, err)
		}
		l.items = append(l.items, &libraryItem{ref: builtinPrefix + name, builtin: true, sc: sc})
	}
	seen := map[string]bool{}
	for _, path := range prefs.StringList(prefRecent) {
		// The list may have been edited by hand: keep it as OpenFile would.
		if path == "" || seen[path] || len(seen) == maxRecent {
			continue
		}
		seen[path] = true
		it := &libraryItem{ref: path}
		it.sc, it.err = scenarios.LoadFile(path)
		l.items = append(l.items, it)
	}

	l.openBtn = widget.NewButtonWithIcon("Open scenario file…", theme.FolderOpenIcon(), l.ShowOpenDialog)
	l.list = widget.NewList(
		func() int { return len(l.items) },
		newLibraryRow,
		func(id widget.ListItemID, o fyne.CanvasObject) { l.updateRow(id, o) },
	)
	l.list.OnSelected = func(id widget.ListItemID) {
		if id != l.cur {
			l.selectIndex(id)
		}
	}
	l.buildActions()
	l.details = container.NewVScroll(widget.NewLabel(""))
	l.content = l.layout()

	start := prefs.String(prefSelected)
	if l.index(start) < 0 {
		start = builtinPrefix + startScenario
	}
	if !l.Select(start) && len(l.items) > 0 {
		l.selectIndex(0)
	}
	return l, nil
}

// layout splits the list and the details, the list about a third of the
// width: enough for most titles, while the details need the room to wrap
// their paragraphs into readable lines.
func (l *LibraryView) layout() fyne.CanvasObject {
	left := container.NewBorder(container.NewPadded(l.openBtn), nil, nil, nil, l.list)
	l.right = container.NewBorder(nil, l.actions, nil, nil, l.details)
	split := container.NewHSplit(left, l.right)
	split.Offset = 0.3
	return split
}

// Object is the view, to put in a window.
func (l *LibraryView) Object() fyne.CanvasObject { return l.content }

// Recent returns the files opened before, newest first, as kept in the
// preferences.
func (l *LibraryView) Recent() []string {
	var out []string
	for _, it := range l.items {
		if !it.builtin {
			out = append(out, it.ref)
		}
	}
	return out
}

// Selected returns the scenario shown and its variant picked; nil and ""
// when the selection is a file that does not load.
func (l *LibraryView) Selected() (sc *scenarios.Scenario, variant string) {
	if l.cur < 0 || l.items[l.cur].sc == nil {
		return nil, ""
	}
	return l.items[l.cur].sc, l.variant
}

// Select shows the scenario ref names: builtin:NAME or a recent file's
// path. A recent file is read again, so that edits made since show. It
// returns false, and changes nothing, when ref is not in the list.
func (l *LibraryView) Select(ref string) bool {
	i := l.index(ref)
	if i < 0 {
		return false
	}
	l.selectIndex(i)
	return true
}

func (l *LibraryView) index(ref string) int {
	if ref == "" {
		return -1
	}
	return slices.IndexFunc(l.items, func(it *libraryItem) bool { return it.ref == ref })
}

// OpenFile loads the scenario file at path, puts it first in the recent
// files and selects it. When it does not load, the loader's error (which
// names the file, line and field) is returned and nothing changes.
func (l *LibraryView) OpenFile(path string) error {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	sc, err := scenarios.LoadFile(path)
	if err != nil {
		return err
	}
	if i := l.index(path); i >= 0 {
		l.items = slices.Delete(l.items, i, i+1)
	}
	first := l.builtinCount()
	l.items = slices.Insert(l.items, first, &libraryItem{ref: path, sc: sc})
	if n := len(l.items) - first; n > maxRecent {
		l.items = l.items[:first+maxRecent]
	}
	l.saveRecent()
	l.cur = -1 // the indices moved: the list's selection must be set again
	l.list.UnselectAll()
	l.list.Refresh()
	l.selectIndex(first)
	return nil
}

// ShowOpenDialog asks for a scenario file to open, starting in the
// scenarios folder of the settings, or else the folder of the file opened
// last. A file that does not load is reported in an error dialog.
func (l *LibraryView) ShowOpenDialog() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			dialog.ShowError(fmt.Errorf("open scenario: %w", err), l.window)
			return
		}
		if r == nil {
			return // cancelled
		}
		path := r.URI().Path()
		_ = r.Close() // the loader reads the file by its path
		if err := l.OpenFile(path); err != nil {
			dialog.ShowError(err, l.window)
		}
	}, l.window)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".yaml", ".yml"}))
	if dir := l.openFolder(); dir != "" {
		if lu, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
			d.SetLocation(lu)
		}
	}
	d.Show()
}

// openFolder is where the open dialog starts: the scenarios folder of the
// settings when it exists, else the folder of the file opened last when
// that exists, else "" for the dialog's own choice.
func (l *LibraryView) openFolder() string {
	isDir := func(dir string) bool {
		st, err := os.Stat(dir)
		return err == nil && st.IsDir()
	}
	if dir := l.prefs.String(prefScenarioFolder); dir != "" && isDir(dir) {
		return dir
	}
	if recent := l.Recent(); len(recent) > 0 && isDir(filepath.Dir(recent[0])) {
		return filepath.Dir(recent[0])
	}
	return ""
}

func (l *LibraryView) builtinCount() int {
	n := 0
	for _, it := range l.items {
		if it.builtin {
			n++
		}
	}
	return n
}

func (l *LibraryView) saveRecent() {
	recent := l.Recent()
	if recent == nil {
		recent = []string{}
	}
	l.prefs.SetStringList(prefRecent, recent)
}

// removeRecent drops a file from the recent list and shows the start
// scenario in its place.
func (l *LibraryView) removeRecent(ref string) {
	i := l.index(ref)
	if i < 0 || l.items[i].builtin {
		return
	}
	l.items = slices.Delete(l.items, i, i+1)
	l.saveRecent()
	l.cur = -1
	l.list.UnselectAll()
	l.list.Refresh()
	if !l.Select(builtinPrefix+startScenario) && len(l.items) > 0 {
		l.selectIndex(0)
	}
}

// selectIndex shows item i, reading a file again, and remembers it.
func (l *LibraryView) selectIndex(i int) {
	it := l.items[i]
	if !it.builtin {
		it.sc, it.err = scenarios.LoadFile(it.ref)
		l.list.RefreshItem(i)
	}
	l.cur = i
	l.prefs.SetString(prefSelected, it.ref)
	l.list.Select(i)
	if it.sc == nil {
		l.showFailure(it)
		return
	}
	sc := it.sc
	l.variant = sc.DefaultVariant()
	l.compareWith = otherVariant(sc, l.variant)
	l.showScenario(it)
}

// otherVariant is the variant to compare v with at first: the one after
// it, or else the one before (the first declared variant is usually what
// happened, the next a fix); "" when there is none.
func otherVariant(sc *scenarios.Scenario, v string) string {
	names := sc.VariantNames()
	i := slices.Index(names, v)
	switch {
	case i >= 0 && i+1 < len(names):
		return names[i+1]
	case i > 0:
		return names[i-1]
	}
	return ""
}

// newLibraryRow is a list row: a title, and under it, smaller, the
// built-in's name or the file's path; an icon marks files.
func newLibraryRow() fyne.CanvasObject {
	title := widget.NewLabel("Scenario title")
	title.Truncation = fyne.TextTruncateEllipsis
	sub := widget.NewLabel("name")
	sub.SizeName = theme.SizeNameCaptionText
	sub.Truncation = fyne.TextTruncateEllipsis
	icon := widget.NewIcon(theme.DocumentIcon())
	// The labels' own padding apart is close enough for a title and its
	// caption.
	text := container.New(layout.NewCustomPaddedVBoxLayout(-theme.InnerPadding()), title, sub)
	return container.NewBorder(nil, nil, icon, nil, text)
}

func (l *LibraryView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id < 0 || id >= len(l.items) {
		return
	}
	it := l.items[id]
	row := o.(*fyne.Container)
	text := row.Objects[0].(*fyne.Container)
	icon := row.Objects[1].(*widget.Icon)
	title, sub := text.Objects[0].(*widget.Label), text.Objects[1].(*widget.Label)
	t, s := libraryRowText(it)
	title.SetText(t)
	sub.SetText(s)
	switch {
	case it.builtin:
		icon.Hide()
	case it.err != nil:
		icon.SetResource(theme.NewErrorThemedResource(theme.WarningIcon()))
		icon.Show()
	default:
		icon.SetResource(theme.DocumentIcon())
		icon.Show()
	}
	if it.err != nil {
		sub.Importance = widget.DangerImportance
	} else {
		sub.Importance = widget.MediumImportance
	}
	sub.Refresh()
	row.Refresh()
}

// libraryRowText is a row's title and the line under it.
func libraryRowText(it *libraryItem) (title, sub string) {
	switch {
	case it.builtin:
		return it.sc.Meta.Title, it.sc.Meta.Name
	case it.err != nil:
		return filepath.Base(it.ref), "Does not load · " + it.ref
	}
	return it.sc.Meta.Title, it.ref
}

// showFailure shows why a recent file does not load, and offers to
// forget it.
func (l *LibraryView) showFailure(it *libraryItem) {
	l.plan, l.planErr = nil, nil
	l.variant, l.compareWith = "", ""
	title := headingLabel(filepath.Base(it.ref) + " does not load")
	path := captionLabel(it.ref, widget.MediumImportance)
	l.failure = widget.NewLabel(it.err.Error())
	l.failure.Wrapping = fyne.TextWrapWord
	l.failure.Importance = widget.DangerImportance
	l.removeBtn = widget.NewButtonWithIcon("Remove from recent", theme.DeleteIcon(), func() { l.removeRecent(it.ref) })
	hint := captionLabel("Fix the file and select it again, or open it anew; or remove it from the list.", widget.MediumImportance)
	l.timelineRows = nil
	l.setDetails(container.NewVBox(title, path, l.failure, container.NewHBox(l.removeBtn), hint))
	l.showActions(false)
}

// showActions shows or hides the bar under the details.
func (l *LibraryView) showActions(show bool) {
	if show == l.actions.Visible() {
		return
	}
	showIf(l.actions, show)
	// A container does not notice a child's visibility change.
	if l.right != nil {
		l.right.Refresh()
	}
}

// showScenario builds the details of a scenario that loads.
func (l *LibraryView) showScenario(it *libraryItem) {
	sc := it.sc
	l.failure = nil
	box := container.NewVBox()
	box.Add(headingLabel(sc.Meta.Title))
	ident := sc.Meta.Name + " · built in"
	if !it.builtin {
		ident = sc.Meta.Name + " · " + it.ref
	}
	l.removeBtn = nil
	identLabel := captionLabel(ident, widget.MediumImportance)
	if it.builtin {
		box.Add(identLabel)
	} else {
		l.removeBtn = widget.NewButtonWithIcon("Remove from recent", theme.DeleteIcon(), func() { l.removeRecent(it.ref) })
		l.removeBtn.Importance = widget.LowImportance
		box.Add(container.NewBorder(nil, nil, nil, l.removeBtn, identLabel))
	}
	if d := strings.TrimSpace(sc.Meta.Description); d != "" {
		box.Add(wrappedLabel(d))
	}
	if s := strings.TrimSpace(sc.Meta.Source); s != "" {
		box.Add(section("Source", wrappedLabel(s)))
	}
	box.Add(section("Run", wrappedLabel(runText(sc)), wrappedLabel(knobsText(sc))))
	if len(sc.SLOs) > 0 {
		var objs []fyne.CanvasObject
		for _, o := range sc.SLOs {
			objs = append(objs, wrappedLabel("• "+sloText(o)))
		}
		box.Add(section("Objectives", objs...))
	}

	l.variantHead = sectionLabel("")
	l.variantTitle = wrappedLabel("")
	l.variantTitle.TextStyle.Bold = true
	l.variantDesc = wrappedLabel("")
	l.variantSet = captionLabel("", widget.MediumImportance)
	l.variantBox = container.New(layout.NewCustomPaddedVBoxLayout(-theme.InnerPadding()),
		l.variantHead, l.variantTitle, l.variantDesc, l.variantSet)
	box.Add(l.variantBox)
	l.timeline = container.New(layout.NewCustomPaddedVBoxLayout(-theme.InnerPadding()))
	box.Add(section("Timeline", l.timeline))

	names := sc.VariantNames()
	l.variantSel.Options, l.compareSel.Options = names, names
	// Set the fields, not SetSelected, which would call OnChanged.
	l.variantSel.Selected, l.compareSel.Selected = l.variant, l.compareWith
	l.variantSel.Refresh()
	l.compareSel.Refresh()
	l.showVariant()
	l.setDetails(box)
	l.showActions(true)
}

// section is a part of the details: a heading and what it heads, closer
// together than the parts are to each other.
func section(heading string, objs ...fyne.CanvasObject) *fyne.Container {
	return container.New(layout.NewCustomPaddedVBoxLayout(-theme.InnerPadding()),
		append([]fyne.CanvasObject{sectionLabel(heading)}, objs...)...)
}

// setDetails puts new details in the scroll, at its top.
func (l *LibraryView) setDetails(o fyne.CanvasObject) {
	// The scroll bar is drawn over the content's right edge: keep the
	// text clear of it.
	gutter := canvas.NewRectangle(color.Transparent)
	gutter.SetMinSize(fyne.NewSize(theme.Size(theme.SizeNameScrollBarSmall)+theme.Padding(), 0))
	l.details.Content = container.NewBorder(nil, nil, nil, gutter, o)
	l.details.Offset = fyne.Position{}
	l.details.Refresh()
}

// variantChanged shows another variant's description and timeline.
func (l *LibraryView) variantChanged(v string) {
	if v == l.variant {
		return
	}
	l.variant = v
	l.showVariant()
	// The variant is picked in the bar under the details: bring what
	// changed into view.
	l.details.ScrollToOffset(fyne.NewPos(0, l.variantBox.Position().Y))
}

// showVariant shows the variant picked: its title, description, knob
// changes and timeline, and whether it can be replayed and compared.
func (l *LibraryView) showVariant() {
	sc := l.items[l.cur].sc
	l.plan, l.planErr = sc.Plan(scenarios.PlanOptions{Variant: l.variant})
	title, desc := variantText(sc, l.variant)
	l.variantHead.SetText("Variant: " + l.variant)
	l.variantTitle.SetText(title)
	l.barTitle.SetText(title)
	showIf(l.variantTitle, title != "")
	l.variantDesc.SetText(desc)
	showIf(l.variantDesc, desc != "")

	l.timeline.Objects = nil
	l.timelineRows = nil
	set := ""
	switch {
	case l.planErr != nil:
		fail := wrappedLabel("This variant cannot run: " + l.planErr.Error())
		fail.Importance = widget.DangerImportance
		l.timeline.Add(fail)
	default:
		set = changedText(l.plan)
		clock := sc.Run.Clock.Seconds()
		for _, e := range l.plan.Timeline {
			kind, text := e.Describe()
			row := [3]string{export.Clock(clock + e.At.Seconds()), kind, text}
			l.timelineRows = append(l.timelineRows, row)
			l.timeline.Add(timelineRow(row))
		}
		if len(l.plan.Timeline) == 0 {
			l.timeline.Add(wrappedLabel("Nothing happens during the run: the system runs as set from the start."))
		}
	}
	l.variantSet.SetText(set)
	showIf(l.variantSet, set != "")
	l.timeline.Refresh()
	l.updateActions()
	l.details.Refresh()
}

// variantText is a variant's title and description for the details.
func variantText(sc *scenarios.Scenario, v string) (title, desc string) {
	if v == scenarios.BaseVariant {
		if len(sc.Variants) == 0 {
			return "The scenario as written", ""
		}
		return "The scenario as written, without any variant's changes", ""
	}
	for _, vr := range sc.Variants {
		if vr.Name == v {
			return vr.Title, strings.TrimSpace(vr.Description)
		}
	}
	return "", ""
}

// changedText lists the knobs a plan starts away from their defaults.
func changedText(p *scenarios.Plan) string {
	if len(p.Changed) == 0 {
		return ""
	}
	parts := make([]string, len(p.Changed))
	for i, name := range p.Changed {
		k, _ := p.Scenario.Knobs.Lookup(name)
		parts[i] = name + " = " + k.Format(p.Values[name])
	}
	return "Starts with " + strings.Join(parts, ", ")
}

// timelineRow is an entry of the timeline: its time of day, kind and
// text, the kinds in a column of their own so that the texts align.
func timelineRow(row [3]string) fyne.CanvasObject {
	clock := widget.NewLabel(row[0])
	clock.TextStyle.Monospace = true
	kind := widget.NewLabel(row[1])
	kind.TextStyle.Bold = true
	kind.Importance = kindImportance(row[1])
	text := wrappedLabel(row[2])
	lead := container.New(layout.NewCustomPaddedHBoxLayout(0), clock, container.New(fixedWidth(70), kind))
	return container.NewBorder(nil, nil, lead, nil, text)
}

// kindImportance colours an entry by what it does: faults stand out,
// notes recede.
func kindImportance(kind string) widget.Importance {
	switch kind {
	case "fault":
		return widget.DangerImportance
	case "deploy":
		return widget.WarningImportance
	case "set":
		return widget.HighImportance
	}
	return widget.LowImportance
}

// buildActions builds the bar under the details: replay the variant
// picked, or compare it with another.
func (l *LibraryView) buildActions() {
	l.variantSel = widget.NewSelect(nil, l.variantChanged)
	l.replayBtn = widget.NewButtonWithIcon("Replay", theme.MediaPlayIcon(), l.replayTapped)
	l.replayBtn.Importance = widget.HighImportance
	l.compareSel = widget.NewSelect(nil, func(v string) {
		l.compareWith = v
		l.updateActions()
	})
	l.compareSel.PlaceHolder = "(another variant)"
	l.compareBtn = widget.NewButtonWithIcon("Compare", theme.ViewRestoreIcon(), l.compareTapped)
	l.compareWhy = captionLabel("", widget.MediumImportance)
	l.compareWhy.Hide()
	// Both selects as wide, so that the buttons line up; wide enough for
	// the built-ins' variant names.
	const selectWidth = 180
	// The variant's title, for when the details are scrolled past it.
	l.barTitle = widget.NewLabel("")
	l.barTitle.Truncation = fyne.TextTruncateEllipsis
	replay := container.NewBorder(nil, nil,
		container.NewHBox(container.New(fixedWidth(selectWidth), l.variantSel), l.replayBtn), nil, l.barTitle)
	compare := container.NewHBox(container.New(fixedWidth(selectWidth), l.compareSel), l.compareBtn)
	// The reason Compare is off goes on a row of its own, under the
	// compare controls, which it would squeeze beside them; the form
	// leaves the row out while both its cells are hidden.
	gap := widget.NewLabel("")
	gap.Hide()
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Variant"), replay,
		widget.NewLabel("Compare with…"), compare,
		gap, l.compareWhy)
	l.actions = container.NewVBox(widget.NewSeparator(), form)
}

// compareState says whether the two variants picked can be compared, and
// if not, why.
func (l *LibraryView) compareState() (ok bool, why string) {
	sc, a := l.Selected()
	switch {
	case sc == nil:
		return false, ""
	case len(sc.VariantNames()) < 2:
		return false, "This scenario has a single variant: there is nothing to compare it with."
	case l.compareWith == "":
		return false, "Pick a variant to compare " + a + " with."
	case l.compareWith == a:
		return false, "Both picks are " + a + ": pick another variant to compare it with."
	case l.planErr != nil:
		return false, "Variant " + a + " cannot run."
	}
	return true, ""
}

func (l *LibraryView) updateActions() {
	if l.planErr != nil {
		l.replayBtn.Disable()
	} else {
		l.replayBtn.Enable()
	}
	if sc, _ := l.Selected(); sc != nil && len(sc.VariantNames()) < 2 {
		l.variantSel.Disable()
		l.compareSel.Disable()
	} else {
		l.variantSel.Enable()
		l.compareSel.Enable()
	}
	ok, why := l.compareState()
	if ok {
		l.compareBtn.Enable()
	} else {
		l.compareBtn.Disable()
	}
	l.compareWhy.SetText(why)
	showIf(l.compareWhy, why != "")
	l.actions.Refresh()
	if l.right != nil {
		l.right.Refresh() // the bar's height may have changed
	}
}

func (l *LibraryView) replayTapped() {
	sc, v := l.Selected()
	if sc == nil || l.planErr != nil || l.onReplay == nil {
		return
	}
	l.onReplay(sc, v)
}

func (l *LibraryView) compareTapped() {
	ok, _ := l.compareState()
	sc, a := l.Selected()
	if !ok || l.onCompare == nil {
		return
	}
	l.onCompare(sc, a, l.compareWith)
}

// runText is a scenario's run defaults in a line.
func runText(sc *scenarios.Scenario) string {
	r := sc.Run
	parts := []string{
		"Starts at " + export.Clock(r.Clock.Seconds()),
		"runs " + export.Duration(r.Horizon.Seconds()),
	}
	if r.Warmup > 0 {
		parts = append(parts, "warm-up "+export.Duration(r.Warmup.Seconds()))
	} else {
		parts = append(parts, "no warm-up")
	}
	reps := fmt.Sprintf("%d replications", r.Replications)
	if r.Replications == 1 {
		reps = "1 replication"
	}
	parts = append(parts, reps, fmt.Sprintf("seed %d", r.Seed))
	return strings.Join(parts, " · ")
}

// knobsText counts a scenario's knobs and names them.
func knobsText(sc *scenarios.Scenario) string {
	var names []string
	if sc.Knobs != nil {
		for _, k := range sc.Knobs.All() {
			names = append(names, k.Name)
		}
	}
	switch len(names) {
	case 0:
		return "No knobs to turn."
	case 1:
		return "1 knob: " + names[0]
	}
	return fmt.Sprintf("%d knobs: %s", len(names), strings.Join(names, ", "))
}

// sloText is an objective as a line: its name, then what it bounds.
func sloText(o scenarios.SLO) string {
	what := o.Metric
	if o.Stat != "" && o.Stat != "mean" {
		what += " " + o.Stat
	}
	var bounds []string
	if o.Min != nil {
		bounds = append(bounds, "≥ "+export.FormatValue(*o.Min, o.Unit.String()))
	}
	if o.Max != nil {
		bounds = append(bounds, "≤ "+export.FormatValue(*o.Max, o.Unit.String()))
	}
	return o.Name + ": " + what + " " + strings.Join(bounds, " and ")
}

// headingLabel is a scenario's title: large and bold, wrapped.
func headingLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.SizeName = theme.SizeNameHeadingText
	l.TextStyle.Bold = true
	l.Wrapping = fyne.TextWrapWord
	return l
}

// sectionLabel heads a part of the details.
func sectionLabel(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

func wrappedLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func showIf(o fyne.CanvasObject, show bool) {
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}
