package desktop

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"stormglass/app/runner"
	"stormglass/export"
)

// compareEmptyText is what the view says before it has runs to show: how
// to get some, since this screen runs nothing itself.
const compareEmptyText = "Nothing to compare yet.\n\n" +
	"In the library, pick a scenario and press Compare to run two of its variants side by side; " +
	"on the Replay tab, Run replications runs the replay's plan for its figures. " +
	"In the history, tick one run and press Open to read its results, or two runs of one scenario and press Compare."

// significantMark follows a difference that is significant at 95 %; the
// caption under the table says what it means.
const significantMark = " *"

// Widths of the figures table's columns, in pixels. A metric or
// objective name longer than the first column is cut with an ellipsis
// and read in full under the table when its row is selected: Fyne has no
// tooltips, and a first column wide enough for the longest objective
// would push the B − A column off a 1024-pixel window.
const (
	nameColumnMax  = 250
	valueColumnMax = 300
)

// objectivesShownMax is how many objectives the header shows without
// scrolling: three fit beside the title and the two run lines.
const objectivesShownMax = 4

// objectiveNameMax is the widest an objective's name and target may be
// beside the run lines; a longer one is cut with an ellipsis.
const objectiveNameMax = 340

// Split of the compare view's height between the charts and the table:
// the charts get one full row of cells at 1024×700.
const compareSplitOffset = 0.55

// CompareView shows runs that have finished: one run's results, or two
// runs of one scenario side by side (two variants run on the same random
// numbers, or two stored runs). A header names the scenario and the runs;
// a table gives each objective's verdict and each figure with its
// interval, and for two paired runs the difference B − A; the report's
// charts overlay the two runs. The view runs nothing itself: the main
// window runs or loads the results and hands them to Show.
//
// A CompareView is used from the UI goroutine, like any widget; charts
// are drawn on a goroutine of its own, at their size on screen.
type CompareView struct {
	fonts *export.Fonts
	// do runs a function on the UI goroutine: fyne.Do, or a queue the
	// tests drain on theirs.
	do func(func())

	// shown is what Show put on screen, nil when the view is empty.
	shown  *comparison
	closed bool
	// closing counts the renderers of comparisons replaced, closed off
	// the UI goroutine, which Close waits for.
	closing sync.WaitGroup

	// empty is the message shown when there is nothing to show.
	empty fyne.CanvasObject
	root  *fyne.Container
}

// NewCompareView builds an empty compare view. fonts are the charts'
// fonts, loaded once by the caller (nil loads the defaults on each
// chart). Close it to stop its chart drawing.
func NewCompareView(fonts *export.Fonts) *CompareView {
	return newCompareView(fonts, fyne.Do)
}

func newCompareView(fonts *export.Fonts, do func(func())) *CompareView {
	v := &CompareView{fonts: fonts, do: do}
	msg := widget.NewLabel(compareEmptyText)
	msg.Wrapping = fyne.TextWrapWord
	msg.Alignment = fyne.TextAlignCenter
	// A bounded width: a message across the whole of a wide window is
	// hard to read.
	width := canvas.NewRectangle(color.Transparent)
	width.SetMinSize(fyne.NewSize(520, 0))
	v.empty = container.NewCenter(container.NewStack(width, msg))
	v.root = container.NewStack(v.empty)
	return v
}

// Object is the view, to put in a window.
func (v *CompareView) Object() fyne.CanvasObject { return v.root }

// Show shows one run, or two runs of one scenario overlaid. diff holds
// the paired differences B − A (runner.Differences), or is nil when the
// two runs cannot be paired; note says why not (e.g. "seeds 1 and 2
// differ") and is shown in the header. No run, more than two, or two
// runs of different scenarios are refused with an error and the view
// stays as it was.
func (v *CompareView) Show(runs []*runner.Result, diff map[string]*runner.Diff, note string) error {
	if err := checkRuns(runs); err != nil {
		return err
	}
	if v.closed {
		return errors.New("compare: the view is closed")
	}
	if len(runs) == 1 {
		diff = nil
	}
	c := newComparison(v, runs, diff, note)
	v.replace(c)
	return nil
}

// checkRuns refuses what the view cannot show.
func checkRuns(runs []*runner.Result) error {
	switch {
	case len(runs) == 0:
		return errors.New("compare: no run to show")
	case len(runs) > 2:
		return fmt.Errorf("compare: %d runs: pick one run, or two runs of one scenario", len(runs))
	}
	for i, r := range runs {
		if r == nil {
			return fmt.Errorf("compare: run %d is missing", i+1)
		}
	}
	if len(runs) == 2 && runs[0].Scenario != runs[1].Scenario {
		return fmt.Errorf("compare: runs of scenarios %s and %s: only runs of one scenario can be compared", runs[0].Scenario, runs[1].Scenario)
	}
	return nil
}

// Runs returns the runs shown: none when the view is empty.
func (v *CompareView) Runs() []*runner.Result {
	if v.shown == nil {
		return nil
	}
	return append([]*runner.Result(nil), v.shown.runs...)
}

// Clear returns the view to its empty state, which says how to get runs
// to compare.
func (v *CompareView) Clear() { v.replace(nil) }

// Close stops the chart drawing, waiting for charts being drawn. The view
// stays on screen as it was, but shows nothing new.
func (v *CompareView) Close() {
	if v.closed {
		return
	}
	v.closed = true
	if v.shown != nil {
		v.shown.render.close()
	}
	v.closing.Wait()
}

// replace puts c on screen in place of what is there, or the empty
// message when c is nil.
func (v *CompareView) replace(c *comparison) {
	if old := v.shown; old != nil {
		// Off the UI goroutine: closing waits for the chart being drawn.
		// What the old renderer still shows goes to the old charts, no
		// longer on screen.
		v.closing.Add(1)
		go func() {
			defer v.closing.Done()
			old.render.close()
		}()
	}
	v.shown = c
	if c == nil {
		v.root.Objects = []fyne.CanvasObject{v.empty}
	} else {
		v.root.Objects = []fyne.CanvasObject{c.content}
	}
	v.root.Refresh()
}

// comparison is what one Show put on screen: the runs, their charts, the
// renderer drawing them and the table.
type comparison struct {
	runs    []*runner.Result
	diff    map[string]*runner.Diff
	note    string
	content fyne.CanvasObject

	title    *widget.Label
	runLines []*widget.Label
	noteText *widget.Label
	// objectives is the objectives' block, nil when the runs have none;
	// verdicts holds each objective's verdict label per run.
	objectives     fyne.CanvasObject
	objectiveNames []string
	verdicts       [][]*widget.Label

	exported    []export.Chart
	charts      []*chartView
	chartChecks *widget.CheckGroup
	grid        *fyne.Container
	render      *chartRenderer

	columns []string
	rows    []compareRow
	table   *widget.Table
	caption *widget.Label
	// rowText shows the selected row in full: names are cut to fit their
	// column.
	rowText  *widget.Label
	tableBox *fyne.Container
}

// compareRow is a metric's row of the figures table.
type compareRow struct {
	// cells holds the text of each column.
	cells []string
	// significant marks a difference whose interval excludes zero.
	significant bool
	// full is the row in one line, for the readout under the table.
	full string
}

func newComparison(v *CompareView, runs []*runner.Result, diff map[string]*runner.Diff, note string) *comparison {
	c := &comparison{runs: runs, diff: diff, note: note}
	c.buildHeader()
	c.buildObjectives()
	c.buildTable()
	c.buildCharts(v)
	c.content = c.layout()
	return c
}

// variantName is a run's variant as the report names it.
func variantName(r *runner.Result) string {
	if r.Variant != "" {
		return r.Variant
	}
	return "base"
}

// runLetters name the runs in the header and the table's columns.
var runLetters = [2]string{"A", "B"}

// runLine describes a run for the header: "A: incident (seed 1, 5
// replications) — As it happened". The seed comes before the variant's
// title, so that a long title, cut to fit, does not hide it.
func runLine(prefix string, r *runner.Result) string {
	s := fmt.Sprintf("%s%s (seed %d, %s)", prefix, variantName(r), r.Seed, replications(r.Replications))
	if r.VariantTitle != "" {
		s += " — " + r.VariantTitle
	}
	return s
}

func replications(n int) string {
	if n == 1 {
		return "1 replication"
	}
	return strconv.Itoa(n) + " replications"
}

func (c *comparison) buildHeader() {
	a := c.runs[0]
	title := a.Title
	if title == "" {
		title = a.Scenario
	}
	c.title = widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.title.Truncation = fyne.TextTruncateEllipsis
	for i, r := range c.runs {
		prefix := ""
		if len(c.runs) == 2 {
			prefix = runLetters[i] + ": "
		}
		l := widget.NewLabel(runLine(prefix, r))
		l.Truncation = fyne.TextTruncateEllipsis
		c.runLines = append(c.runLines, l)
	}
	note := c.note
	if len(c.runs) == 2 && c.diff == nil {
		if note == "" {
			note = "The runs cannot be paired: no differences are shown."
		} else {
			note = "No paired differences: " + note + "."
		}
	}
	c.noteText = widget.NewLabel(note)
	c.noteText.Importance = widget.WarningImportance
	c.noteText.Wrapping = fyne.TextWrapWord
	if note == "" {
		c.noteText.Hide()
	}
}

// paired reports whether the table has the difference columns.
func (c *comparison) paired() bool { return len(c.runs) == 2 && c.diff != nil }

func (c *comparison) buildTable() {
	c.columns = []string{"Metric"}
	if len(c.runs) == 1 {
		c.columns = append(c.columns, "Value [95 % CI]")
	} else {
		for i, r := range c.runs {
			c.columns = append(c.columns, runLetters[i]+": "+variantName(r))
		}
		if c.paired() {
			c.columns = append(c.columns, "B − A [95 % CI]", "Change")
		}
	}
	c.rows = c.metricRows()

	c.table = widget.NewTable(
		func() (int, int) { return len(c.rows), len(c.columns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) { c.updateCell(id, o.(*widget.Label)) },
	)
	c.table.ShowHeaderRow = true
	c.table.CreateHeader = newHeaderLabel
	c.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.Alignment = columnAlign(id.Col)
		if id.Col >= 0 && id.Col < len(c.columns) {
			l.SetText(c.columns[id.Col])
		}
	}
	for i, w := range c.columnWidths() {
		c.table.SetColumnWidth(i, w)
	}
	// Shown once a row is selected: until then the caption says how.
	c.rowText = widget.NewLabel("")
	c.rowText.Wrapping = fyne.TextWrapWord
	c.rowText.Hide()
	c.table.OnSelected = func(id widget.TableCellID) {
		if id.Row < 0 || id.Row >= len(c.rows) {
			return
		}
		c.rowText.SetText(c.rows[id.Row].full)
		if !c.rowText.Visible() {
			c.rowText.Show()
			// Containers do not notice a child's visibility: lay the
			// table out again above the readout.
			if c.tableBox != nil {
				c.tableBox.Refresh()
			}
		}
	}

	caption := "Means over the replications [95 % CI]."
	if c.paired() {
		caption += " B − A from paired replications;" + significantMark + " and bold: significant at 95 % (the interval excludes 0)."
	}
	caption += " Select a row to read it in full."
	c.caption = widget.NewLabel(caption)
	c.caption.SizeName = theme.SizeNameCaptionText
	c.caption.Wrapping = fyne.TextWrapWord
}

// columnAlign puts names at the leading edge and figures at the trailing
// one, where their digits line up.
func columnAlign(col int) fyne.TextAlign {
	if col == 0 {
		return fyne.TextAlignLeading
	}
	return fyne.TextAlignTrailing
}

// sloNames are the objectives of either run, the first run's first.
func (c *comparison) sloNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range c.runs {
		for _, s := range r.SLOs {
			if !seen[s.Name] {
				seen[s.Name] = true
				names = append(names, s.Name)
			}
		}
	}
	return names
}

// buildObjectives builds the objectives' block: each objective with its
// target, and its verdict in each run, coloured as the report shades it.
// It sits beside the run lines, where it costs no height of its own.
func (c *comparison) buildObjectives() {
	names := c.sloNames()
	if len(names) == 0 {
		return
	}
	size := theme.Size(theme.SizeNameCaptionText)
	// The label's insets, and a padding more: a text measured to the
	// pixel is cut by the label's rounding.
	pad := 2*theme.InnerPadding() + theme.Padding()
	bold := fyne.TextStyle{Bold: true}
	nameW := fyne.MeasureText("Objective", size, bold).Width + pad
	texts := make([]string, len(names))
	for i, name := range names {
		var s *runner.SLOResult
		for _, r := range c.runs {
			if s = findSLO(r, name); s != nil {
				break
			}
		}
		texts[i] = name + " (" + export.SLOTarget(*s) + ")"
		nameW = max(nameW, fyne.MeasureText(texts[i], size, fyne.TextStyle{}).Width+pad)
	}
	nameW = min(nameW, objectiveNameMax)
	verdictW := float32(0)
	for _, v := range []string{runner.VerdictMet, runner.VerdictViolated, runner.VerdictUncertain, "Verdict"} {
		verdictW = max(verdictW, fyne.MeasureText(v, size, bold).Width+pad)
	}
	cell := func(text string, w float32, style fyne.TextStyle, align fyne.TextAlign) (*widget.Label, fyne.CanvasObject) {
		l := widget.NewLabelWithStyle(text, align, style)
		l.SizeName = theme.SizeNameCaptionText
		l.Truncation = fyne.TextTruncateEllipsis
		return l, container.New(fixedWidth(w), l)
	}
	row := func(name fyne.CanvasObject, verdicts []fyne.CanvasObject) fyne.CanvasObject {
		return container.NewBorder(nil, nil, nil, container.NewHBox(verdicts...), name)
	}
	var heads []fyne.CanvasObject
	for i := range c.runs {
		head := "Verdict"
		if len(c.runs) == 2 {
			head = runLetters[i]
		}
		_, o := cell(head, verdictW, bold, fyne.TextAlignCenter)
		heads = append(heads, o)
	}
	_, nameHead := cell("Objective", nameW, bold, fyne.TextAlignLeading)
	box := container.New(compactRows{}, row(nameHead, heads))
	for i, name := range names {
		var verdicts []fyne.CanvasObject
		var labels []*widget.Label
		for _, r := range c.runs {
			verdict := "–"
			if s := findSLO(r, name); s != nil {
				verdict = s.Verdict
			}
			l, o := cell(verdict, verdictW, bold, fyne.TextAlignCenter)
			l.Importance = verdictImportance(verdict)
			labels = append(labels, l)
			verdicts = append(verdicts, o)
		}
		_, n := cell(texts[i], nameW, fyne.TextStyle{}, fyne.TextAlignLeading)
		box.Add(row(n, verdicts))
		c.verdicts = append(c.verdicts, labels)
		c.objectiveNames = append(c.objectiveNames, texts[i])
	}
	c.objectives = box
	if len(names) > objectivesShownMax {
		// Many objectives scroll rather than push the charts and the
		// table off the window; the half row shown last says there is
		// more.
		rowH := box.Objects[0].MinSize().Height
		scroll := container.NewVScroll(box)
		scroll.SetMinSize(fyne.NewSize(box.MinSize().Width+theme.Size(theme.SizeNameScrollBar), rowH*(objectivesShownMax+0.5)))
		c.objectives = scroll
	}
}

// compactRows stacks rows without the padding between them: the
// objectives' labels carry their own.
type compactRows struct{}

func (compactRows) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objects {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
	}
	return s
}

func (compactRows) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objects {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h
	}
}

// metricRows are the metrics of the first run in the scenario's order,
// then any only the second has (a scenario edited between two stored
// runs).
func (c *comparison) metricRows() []compareRow {
	names := append([]string(nil), c.runs[0].MetricOrder...)
	if len(c.runs) == 2 {
		seen := map[string]bool{}
		for _, n := range names {
			seen[n] = true
		}
		for _, n := range c.runs[1].MetricOrder {
			if !seen[n] {
				names = append(names, n)
			}
		}
	}
	rows := make([]compareRow, 0, len(names))
	for _, name := range names {
		row := compareRow{cells: make([]string, len(c.columns))}
		row.cells[0] = name
		unit := ""
		var parts []string
		for i, r := range c.runs {
			st := r.Lookup(name)
			row.cells[1+i] = export.FormatStat(st)
			if st != nil && unit == "" {
				unit = st.Unit
			}
			parts = append(parts, c.runLabel(i)+row.cells[1+i])
		}
		if c.paired() {
			d := c.diff[name]
			row.cells[3], row.cells[4] = diffText(d, unit), changeText(d)
			row.significant = d != nil && d.Significant
			if d != nil {
				parts = append(parts, "B − A: "+diffFull(d, unit))
			}
		}
		row.full = name + " — " + strings.Join(parts, " · ")
		rows = append(rows, row)
	}
	return rows
}

// runName names a run in a chart's readout: its variant, or its letter
// when both runs are of one variant (two stored runs of different seeds).
func (c *comparison) runName(i int) string {
	if len(c.runs) == 2 && variantName(c.runs[0]) == variantName(c.runs[1]) {
		return runLetters[i]
	}
	return variantName(c.runs[i])
}

// runLabel prefixes a run's figure in a row's readout.
func (c *comparison) runLabel(i int) string {
	if len(c.runs) == 1 {
		return ""
	}
	return runLetters[i] + ": "
}

// diffText is a paired difference as the report prints its mean and
// interval, a rise with its sign, and the mark of a significant one.
func diffText(d *runner.Diff, unit string) string {
	if d == nil {
		return "–"
	}
	s := export.FormatStat(&runner.Stat{Mean: d.Mean, CI95: d.CI95, Unit: unit})
	if d.Mean > 0 {
		s = "+" + s
	}
	if d.Significant {
		s += significantMark
	}
	return s
}

// changeText is a difference relative to the first run's figure, "–"
// when that figure is zero.
func changeText(d *runner.Diff) string {
	if d == nil || d.Relative == nil || math.IsNaN(*d.Relative) || math.IsInf(*d.Relative, 0) {
		return "–"
	}
	p := export.FormatPercent(*d.Relative)
	if *d.Relative > 0 {
		p = "+" + p
	}
	return p
}

// diffFull is a difference in words for the row's readout.
func diffFull(d *runner.Diff, unit string) string {
	s := strings.TrimSuffix(diffText(d, unit), significantMark)
	if ch := changeText(d); ch != "–" {
		s += " (" + ch + ")"
	}
	if d.Significant {
		s += ", significant at 95 %"
	} else if d.CI95 != nil {
		s += ", not significant at 95 %"
	}
	return s
}

// sloMetric is the metric an objective judges, as named in the paired
// differences: the metric itself for its mean, else METRIC.STAT.
func sloMetric(s runner.SLOResult) string {
	if s.Stat == "" || s.Stat == "mean" {
		return s.Metric
	}
	return s.Metric + "." + s.Stat
}

func findSLO(r *runner.Result, name string) *runner.SLOResult {
	for i := range r.SLOs {
		if r.SLOs[i].Name == name {
			return &r.SLOs[i]
		}
	}
	return nil
}

// verdictImportance colours a verdict as the report shades it: green
// when met, red when violated, amber when uncertain.
func verdictImportance(verdict string) widget.Importance {
	switch verdict {
	case runner.VerdictMet:
		return widget.SuccessImportance
	case runner.VerdictViolated:
		return widget.DangerImportance
	case runner.VerdictUncertain:
		return widget.WarningImportance
	}
	return widget.MediumImportance
}

func (c *comparison) updateCell(id widget.TableCellID, l *widget.Label) {
	if id.Row < 0 || id.Row >= len(c.rows) || id.Col < 0 || id.Col >= len(c.columns) {
		return
	}
	row := c.rows[id.Row]
	l.Alignment = columnAlign(id.Col)
	// The row's name and its difference are bold when the difference is
	// significant, as in the report, and the difference is in the
	// primary colour, as the report shades it.
	bold := row.significant && (id.Col == 0 || id.Col >= 3)
	l.TextStyle.Bold = bold
	l.Importance = widget.MediumImportance
	if bold && id.Col >= 3 {
		l.Importance = widget.HighImportance
	}
	l.SetText(row.cells[id.Col])
	l.Refresh()
}

// columnWidths fits each column to its widest text, the name column up to
// nameColumnMax and figures up to valueColumnMax.
func (c *comparison) columnWidths() []float32 {
	// The label's insets, and a padding more: a text measured to the
	// pixel is cut by the label's rounding.
	pad := 2*theme.InnerPadding() + theme.Padding()
	size := theme.TextSize()
	bold := fyne.TextStyle{Bold: true}
	widths := make([]float32, len(c.columns))
	for i, h := range c.columns {
		widths[i] = fyne.MeasureText(h, size, bold).Width + pad
	}
	for _, r := range c.rows {
		for i, text := range r.cells {
			w := fyne.MeasureText(text, size, fyne.TextStyle{Bold: r.significant}).Width + pad
			widths[i] = max(widths[i], w)
		}
	}
	widths[0] = min(widths[0], nameColumnMax)
	for i := 1; i < len(widths); i++ {
		widths[i] = min(widths[i], valueColumnMax)
	}
	return widths
}

func (c *comparison) buildCharts(v *CompareView) {
	c.exported = export.Charts(c.runs...)
	var names []string
	for _, ch := range c.exported {
		cv := newChartView(ch.Name, c.requestRender)
		label := chartLabels[ch.Name]
		if label == "" {
			label = ch.Title
		}
		cv.label = label
		if len(c.runs) == 2 {
			cv.format = c.readout
		}
		names = append(names, label)
		c.charts = append(c.charts, cv)
	}
	c.grid = container.New(&chartGrid{}, chartObjects(c.charts)...)
	c.chartChecks = widget.NewCheckGroup(names, nil)
	c.chartChecks.Horizontal = true
	c.chartChecks.Selected = append([]string(nil), names...)
	c.chartChecks.OnChanged = c.chartsChosen

	horizon := 0.0
	for _, r := range c.runs {
		horizon = max(horizon, r.HorizonS)
	}
	charts, fonts := c.exported, v.fonts
	draw := func(job renderJob) map[string]rendered {
		out := map[string]rendered{}
		opt := export.RenderOptions{HorizonS: horizon}
		for _, ch := range charts {
			size, ok := job.sizes[ch.Name]
			if !ok {
				continue
			}
			img, frame, err := export.RenderChart(ch, size.X, size.Y, fonts, opt)
			if err != nil {
				err = fmt.Errorf("compare: %w", err)
			}
			out[ch.Name] = rendered{img: img, frame: frame, err: err}
		}
		return out
	}
	views := c.charts
	c.render = newChartRenderer(v.do, draw, func(out map[string]rendered) { showRendered(views, out) })
}

// readout writes a readout of two runs' chart by series, each run's
// value side by side, the series whose line is nearest the pointer first:
// "06:10:00  queries: incident 158 /s, remediated 23 /s · connects: …".
// The replay's form, a label per line, would cut the second run's values
// off a chart half the window wide.
func (c *comparison) readout(r export.Readout) string {
	type group struct {
		series string
		parts  []string
		dist   float64 // from the pointer to the nearest line, in the chart's unit
	}
	var groups []*group
	bySeries := map[string]*group{}
	for _, lv := range r.Values {
		g := bySeries[lv.Series]
		if g == nil {
			g = &group{series: lv.Series, dist: math.Inf(1)}
			bySeries[lv.Series] = g
			groups = append(groups, g)
		}
		run := lv.Label
		if lv.Run >= 0 && lv.Run < len(c.runs) {
			run = c.runName(lv.Run)
		}
		g.parts = append(g.parts, run+" "+lv.Text)
		if !math.IsNaN(lv.Value) {
			g.dist = min(g.dist, math.Abs(lv.Value-r.Y))
		}
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return cmp.Compare(a.dist, b.dist) })
	var b strings.Builder
	b.WriteString(r.Clock)
	for i, g := range groups {
		if i == 0 {
			b.WriteString("  ")
		} else {
			b.WriteString(" · ")
		}
		b.WriteString(g.series + ": " + strings.Join(g.parts, ", "))
	}
	if e := r.Event; e != nil {
		fmt.Fprintf(&b, "  ⚑ %s %s: %s", e.Label, e.Kind, e.Text)
	}
	return b.String()
}

// requestRender asks for the charts shown at their sizes on screen: after
// a resize or a change of the charts shown.
func (c *comparison) requestRender() {
	if c.render == nil {
		return // still being built: the first layout asks again
	}
	if sizes := chartSizes(c.charts); len(sizes) > 0 {
		c.render.request(renderJob{sizes: sizes})
	}
}

// chartsChosen shows the charts whose boxes are ticked.
func (c *comparison) chartsChosen(selected []string) {
	on := map[string]bool{}
	for _, s := range selected {
		on[s] = true
	}
	for _, cv := range c.charts {
		if on[cv.label] {
			cv.Show()
		} else {
			cv.Hide()
		}
	}
	c.grid.Refresh()
	c.requestRender()
}

// layout puts the header on top and splits the rest between the charts
// and the table. The split is vertical: the table needs the window's
// width for two figures with their intervals and the difference, and
// the charts need it for two columns of cells.
func (c *comparison) layout() fyne.CanvasObject {
	runs := container.NewVBox(c.title)
	for _, l := range c.runLines {
		runs.Add(l)
	}
	var header fyne.CanvasObject = runs
	if c.objectives != nil {
		header = container.NewBorder(nil, nil, nil, c.objectives, runs)
	}
	header = container.NewVBox(header, c.noteText)

	var charts fyne.CanvasObject
	if len(c.charts) == 0 {
		charts = widget.NewLabel("These runs record no series to chart.")
	} else {
		// The scroll bar is drawn over the content's right edge: keep the
		// charts' axes clear of it.
		gutter := canvas.NewRectangle(color.Transparent)
		gutter.SetMinSize(fyne.NewSize(theme.Size(theme.SizeNameScrollBarSmall)+theme.Padding(), 0))
		scroll := container.NewVScroll(container.NewBorder(nil, nil, nil, gutter, c.grid))
		charts = container.NewBorder(c.chartChecks, nil, nil, nil, scroll)
	}
	c.tableBox = container.NewBorder(nil, container.NewVBox(c.rowText, c.caption), nil, nil, c.table)
	split := container.NewVSplit(charts, c.tableBox)
	split.Offset = compareSplitOffset
	return container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil, split)
}
