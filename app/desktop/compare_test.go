package desktop

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"stormglass/app/runner"
	"stormglass/export"
	"stormglass/scenarios"
)

// compareHorizon is the reactive outage's first 70 minutes: past its
// first flush, so that some figures differ significantly between the
// incident and its remediation and others not at all, in under a second.
const compareHorizon = 70 * time.Minute

// outageComparison runs the reactive outage's incident and remediated
// variants once for all the tests, which only read it.
var outageComparison = sync.OnceValues(func() (*runner.Comparison, error) {
	sc, err := scenarios.Builtin("reactive-outage-2025")
	if err != nil {
		return nil, err
	}
	a, err := sc.Plan(scenarios.PlanOptions{Variant: "incident", Horizon: compareHorizon, Replications: 3})
	if err != nil {
		return nil, err
	}
	b, err := sc.Plan(scenarios.PlanOptions{Variant: "remediated", Horizon: compareHorizon, Replications: 3})
	if err != nil {
		return nil, err
	}
	return runner.Compare(context.Background(), a, b, runner.Options{})
})

func testComparison(t *testing.T) *runner.Comparison {
	t.Helper()
	c, err := outageComparison()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newTestCompare builds an empty compare view in a 1024×700 window, the
// smallest the app supports.
func newTestCompare(t *testing.T) (*CompareView, fyne.Window, *uiQueue) {
	t.Helper()
	test.NewTempApp(t)
	fonts, err := export.DefaultFonts()
	if err != nil {
		t.Fatal(err)
	}
	q := &uiQueue{}
	v := newCompareView(fonts, q.do)
	t.Cleanup(func() {
		v.Close()
		q.run() // what the last charts queued, so that nothing is left behind
	})
	w := test.NewTempWindow(t, v.Object())
	w.Resize(fyne.NewSize(1024, 700))
	return v, w, q
}

// showPair shows the outage's two variants with their differences.
func showPair(t *testing.T, v *CompareView) *runner.Comparison {
	t.Helper()
	cmp := testComparison(t)
	if err := v.Show([]*runner.Result{cmp.A, cmp.B}, cmp.Diff, ""); err != nil {
		t.Fatal(err)
	}
	return cmp
}

// chartsDrawn reports whether every chart on screen shows an image drawn
// at the image's size.
func chartsDrawn(c *comparison) bool {
	for _, cv := range c.charts {
		if !cv.Visible() {
			continue
		}
		s := cv.img.Size()
		if cv.img.Image == nil || cv.img.Image.Bounds().Dx() != int(s.Width) || cv.img.Image.Bounds().Dy() != int(s.Height) {
			return false
		}
	}
	return true
}

// cell is the text and style the table shows in a cell, through the
// table's own functions.
func cell(t *testing.T, c *comparison, row, col int) *widget.Label {
	t.Helper()
	o := c.table.CreateCell()
	c.table.UpdateCell(widget.TableCellID{Row: row, Col: col}, o)
	return o.(*widget.Label)
}

// tableText is every cell of the table, as shown.
func tableText(t *testing.T, c *comparison) [][]string {
	t.Helper()
	rows, cols := c.table.Length()
	out := make([][]string, rows)
	for r := range rows {
		for col := range cols {
			out[r] = append(out[r], cell(t, c, r, col).Text)
		}
	}
	return out
}

// headers is the table's header row, as shown.
func headers(c *comparison) []string {
	_, cols := c.table.Length()
	var out []string
	for col := range cols {
		o := c.table.CreateHeader()
		c.table.UpdateHeader(widget.TableCellID{Row: -1, Col: col}, o)
		out = append(out, o.(*widget.Label).Text)
	}
	return out
}

// metricRow finds a metric's row in the table.
func metricRow(t *testing.T, text [][]string, name string) []string {
	t.Helper()
	for _, r := range text {
		if r[0] == name {
			return r
		}
	}
	t.Fatalf("no row for %s", name)
	return nil
}

// emptyShown reports whether the window shows the empty view's message.
func emptyShown(w fyne.Window) bool { return slices.Contains(labelTexts(w), compareEmptyText) }

func TestCompareHeaderNamesRunsAndSeeds(t *testing.T) {
	v, w, _ := newTestCompare(t)
	cmp := showPair(t, v)
	c := v.shown
	if c.title.Text != cmp.A.Title || cmp.A.Title == "" {
		t.Errorf("title %q, want the scenario's, %q", c.title.Text, cmp.A.Title)
	}
	if len(c.runLines) != 2 {
		t.Fatalf("%d run lines, want 2", len(c.runLines))
	}
	for i, r := range []*runner.Result{cmp.A, cmp.B} {
		line := c.runLines[i].Text
		for _, want := range []string{
			[]string{"A: ", "B: "}[i] + r.Variant,
			fmt.Sprintf("seed %d", r.Seed),
			fmt.Sprintf("%d replications", r.Replications),
			r.VariantTitle,
		} {
			if !strings.Contains(line, want) {
				t.Errorf("run line %q lacks %q", line, want)
			}
		}
		if !shows(w, c.runLines[i]) {
			t.Errorf("run line %q is not on screen", line)
		}
	}
	if c.noteText.Visible() {
		t.Errorf("note %q shown for paired runs without a note", c.noteText.Text)
	}
	if !slices.Equal(v.Runs(), []*runner.Result{cmp.A, cmp.B}) {
		t.Errorf("Runs() = %v, want A and B", v.Runs())
	}
}

func TestCompareObjectiveVerdicts(t *testing.T) {
	v, w, _ := newTestCompare(t)
	cmp := testComparison(t)
	// The short run meets every objective: give B the other verdicts, so
	// that each verdict's colour shows.
	b := *cmp.B
	b.SLOs = slices.Clone(cmp.B.SLOs)
	if len(b.SLOs) < 3 {
		t.Fatalf("%d objectives, want the outage's 3", len(b.SLOs))
	}
	b.SLOs[0].Verdict = runner.VerdictViolated
	b.SLOs[1].Verdict = runner.VerdictUncertain
	if err := v.Show([]*runner.Result{cmp.A, &b}, cmp.Diff, ""); err != nil {
		t.Fatal(err)
	}
	c := v.shown
	if len(c.verdicts) != len(cmp.A.SLOs) {
		t.Fatalf("%d objectives shown, want %d", len(c.verdicts), len(cmp.A.SLOs))
	}
	colours := map[string]widget.Importance{
		runner.VerdictMet:       widget.SuccessImportance,
		runner.VerdictViolated:  widget.DangerImportance,
		runner.VerdictUncertain: widget.WarningImportance,
	}
	for i, s := range cmp.A.SLOs {
		if !strings.HasPrefix(c.objectiveNames[i], s.Name+" (") {
			t.Errorf("objective %d shown as %q, want %s with its target", i, c.objectiveNames[i], s.Name)
		}
		for j, r := range []*runner.Result{cmp.A, &b} {
			want := r.SLOs[i].Verdict
			l := c.verdicts[i][j]
			if l.Text != want || l.Importance != colours[want] {
				t.Errorf("%s in run %d: %q in importance %v, want %q in %v", s.Name, j, l.Text, l.Importance, want, colours[want])
			}
			if !shows(w, l) {
				t.Errorf("verdict of %s in run %d is not on screen", s.Name, j)
			}
		}
	}
	if !strings.Contains(c.objectiveNames[1], "≤ 0 s") {
		t.Errorf("objective %q lacks its target, ≤ 0 s", c.objectiveNames[1])
	}
}

func TestCompareTableTwoRuns(t *testing.T) {
	v, _, _ := newTestCompare(t)
	cmp := showPair(t, v)
	c := v.shown
	if got, want := headers(c), []string{"Metric", "A: incident", "B: remediated", "B − A [95 % CI]", "Change"}; !slices.Equal(got, want) {
		t.Errorf("headers %q, want %q", got, want)
	}
	text := tableText(t, c)
	if len(text) != len(cmp.A.MetricOrder) {
		t.Errorf("%d rows, want one per metric, %d", len(text), len(cmp.A.MetricOrder))
	}
	significant, plain := 0, 0
	for i, name := range cmp.A.MetricOrder {
		row := metricRow(t, text, name)
		if want := export.FormatStat(cmp.A.Lookup(name)); row[1] != want {
			t.Errorf("%s: A shows %q, want %q", name, row[1], want)
		}
		if want := export.FormatStat(cmp.B.Lookup(name)); row[2] != want {
			t.Errorf("%s: B shows %q, want %q", name, row[2], want)
		}
		d := cmp.Diff[name]
		if d == nil {
			t.Fatalf("no difference for %s", name)
		}
		want := export.FormatStat(&runner.Stat{Mean: d.Mean, CI95: d.CI95, Unit: cmp.A.Lookup(name).Unit})
		if d.Mean > 0 {
			want = "+" + want
		}
		if d.Significant {
			want += " *"
		}
		if row[3] != want {
			t.Errorf("%s: B − A shows %q, want %q", name, row[3], want)
		}
		for _, col := range []int{0, 3} {
			if l := cell(t, c, i, col); l.TextStyle.Bold != d.Significant {
				t.Errorf("%s: column %d bold %v, want %v (significant)", name, col, l.TextStyle.Bold, d.Significant)
			}
		}
		if d.Significant {
			significant++
		} else {
			plain++
		}
	}
	if significant == 0 || plain == 0 {
		t.Fatalf("%d significant differences and %d others: the test needs both", significant, plain)
	}
	if !strings.Contains(c.caption.Text, "* and bold: significant at 95 %") {
		t.Errorf("caption %q does not say what the mark means", c.caption.Text)
	}
	// The change is relative to A: the peak of queries falls by nearly
	// all of it.
	d := cmp.Diff["queries_peak"]
	if want := fmt.Sprintf("%.1f\u00a0%%", *d.Relative*100); metricRow(t, text, "queries_peak")[4] != want {
		t.Errorf("change of queries_peak %q, want %q", metricRow(t, text, "queries_peak")[4], want)
	}
}

func TestCompareSelectedRowInFull(t *testing.T) {
	v, _, _ := newTestCompare(t)
	cmp := showPair(t, v)
	c := v.shown
	if c.rowText.Visible() {
		t.Error("row readout shown before a row is selected")
	}
	i := slices.Index(cmp.A.MetricOrder, "disconnects_overloaded")
	if i < 0 {
		t.Fatal("no disconnects_overloaded")
	}
	c.table.Select(widget.TableCellID{Row: i, Col: 2})
	got := c.rowText.Text
	if !c.rowText.Visible() || !strings.HasPrefix(got, "disconnects_overloaded — ") {
		t.Fatalf("row readout %q (shown %v), want the metric's full name first", got, c.rowText.Visible())
	}
	for _, want := range []string{"A: " + export.FormatStat(cmp.A.Lookup("disconnects_overloaded")), "B: " + export.FormatStat(cmp.B.Lookup("disconnects_overloaded")), "B − A: "} {
		if !strings.Contains(got, want) {
			t.Errorf("row readout %q lacks %q", got, want)
		}
	}
}

func TestCompareUnpaired(t *testing.T) {
	v, w, _ := newTestCompare(t)
	cmp := testComparison(t)
	if err := v.Show([]*runner.Result{cmp.A, cmp.B}, nil, "seeds 1 and 2 differ"); err != nil {
		t.Fatal(err)
	}
	c := v.shown
	if got, want := headers(c), []string{"Metric", "A: incident", "B: remediated"}; !slices.Equal(got, want) {
		t.Errorf("headers %q, want %q: no difference without pairs", got, want)
	}
	if !c.noteText.Visible() || !strings.Contains(c.noteText.Text, "seeds 1 and 2 differ") || !shows(w, c.noteText) {
		t.Errorf("note %q (shown %v), want the reason the runs cannot be paired", c.noteText.Text, c.noteText.Visible())
	}
	text := tableText(t, c)
	for _, name := range cmp.A.MetricOrder {
		row := metricRow(t, text, name)
		if row[1] != export.FormatStat(cmp.A.Lookup(name)) || row[2] != export.FormatStat(cmp.B.Lookup(name)) {
			t.Errorf("%s: %q", name, row)
		}
	}
	if strings.Contains(c.caption.Text, "*") {
		t.Errorf("caption %q explains a mark the table cannot show", c.caption.Text)
	}
}

func TestCompareOneRun(t *testing.T) {
	v, _, q := newTestCompare(t)
	cmp := testComparison(t)
	// A difference handed over with one run has nothing to pair.
	if err := v.Show([]*runner.Result{cmp.A}, cmp.Diff, ""); err != nil {
		t.Fatal(err)
	}
	c := v.shown
	if got, want := headers(c), []string{"Metric", "Value [95 % CI]"}; !slices.Equal(got, want) {
		t.Errorf("headers %q, want %q", got, want)
	}
	text := tableText(t, c)
	if len(text) != len(cmp.A.MetricOrder) {
		t.Errorf("%d rows, want %d", len(text), len(cmp.A.MetricOrder))
	}
	for _, name := range cmp.A.MetricOrder {
		if row := metricRow(t, text, name); row[1] != export.FormatStat(cmp.A.Lookup(name)) {
			t.Errorf("%s shows %q, want %q", name, row[1], export.FormatStat(cmp.A.Lookup(name)))
		}
	}
	if len(c.runLines) != 1 || strings.HasPrefix(c.runLines[0].Text, "A:") || !strings.HasPrefix(c.runLines[0].Text, "incident (seed ") {
		t.Errorf("run lines %v, want one, for the incident, without a letter", c.runLines)
	}
	if len(c.verdicts) != len(cmp.A.SLOs) || len(c.verdicts[0]) != 1 || c.verdicts[0][0].Text != cmp.A.SLOs[0].Verdict {
		t.Errorf("verdicts %v, want one per objective of the one run", c.verdicts)
	}
	if len(c.charts) == 0 || len(c.exported[0].Lines) != len(export.Charts(cmp.A)[0].Lines) {
		t.Error("the charts are not the one run's")
	}
	waitFor(t, q, "the charts", func() bool { return chartsDrawn(c) })
}

func TestCompareChartsDrawnAndRead(t *testing.T) {
	v, w, q := newTestCompare(t)
	cmp := showPair(t, v)
	c := v.shown
	want := export.Charts(cmp.A, cmp.B)
	if len(c.charts) != len(want) {
		t.Fatalf("%d charts, want the report's %d", len(c.charts), len(want))
	}
	waitFor(t, q, "the charts", func() bool { return chartsDrawn(c) })
	first := c.charts[0]
	size := first.img.Size()
	if size.Width < export.MinLiveWidth || size.Height < export.MinLiveHeight {
		t.Fatalf("chart image %v, smaller than a chart", size)
	}

	f := first.frame
	if f.XMaxS < cmp.A.HorizonS {
		t.Errorf("time axis ends at %vs, want the horizon, %vs", f.XMaxS, cmp.A.HorizonS)
	}
	// Halfway through the run, halfway up the data area.
	x := int(f.PixelX(cmp.A.HorizonS / 2))
	y := (f.Data.Min.Y + f.Data.Max.Y) / 2
	r, ok := f.At(x, y)
	if !ok || len(r.Values) == 0 {
		t.Fatalf("nothing to read at (%d, %d): %+v", x, y, r)
	}
	sx, sy := size.Width/float32(f.Size.X), size.Height/float32(f.Size.Y)
	test.TapAt(first, first.img.Position().Add(fyne.NewPos((float32(x)+0.5)*sx, (float32(y)+0.5)*sy)))
	got := first.readout.Text
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d  `).MatchString(got) || !strings.HasPrefix(got, r.Clock) {
		t.Errorf("readout %q does not start with the time %s", got, r.Clock)
	}
	// Each series once, with both runs' values beside each other.
	runs := []*runner.Result{cmp.A, cmp.B}
	for _, lv := range r.Values {
		if lv.Run != 0 {
			continue
		}
		bText := ""
		for _, o := range r.Values {
			if o.Series == lv.Series && o.Run == 1 {
				bText = o.Text
			}
		}
		want := fmt.Sprintf("%s: %s %s, %s %s", lv.Series, runs[0].Variant, lv.Text, runs[1].Variant, bText)
		if !strings.Contains(got, want) {
			t.Errorf("readout %q lacks %q", got, want)
		}
	}
	// The series whose line is nearest the pointer comes first.
	nearest, dist := "", math.Inf(1)
	for _, lv := range r.Values {
		if d := math.Abs(lv.Value - r.Y); d < dist {
			nearest, dist = lv.Series, d
		}
	}
	if !strings.HasPrefix(got, r.Clock+"  "+nearest+": ") {
		t.Errorf("readout %q does not start with the series nearest the pointer, %s", got, nearest)
	}

	// A wider window: the charts are drawn again at their new size.
	w.Resize(fyne.NewSize(1280, 900))
	if first.img.Size() == size {
		t.Fatal("the chart kept its size in a wider window")
	}
	waitFor(t, q, "the charts at 1280×900", func() bool { return chartsDrawn(c) })

	// Unticking a chart hides it; the next takes its cell.
	var rest []string
	for _, cv := range c.charts[1:] {
		rest = append(rest, cv.label)
	}
	c.chartChecks.SetSelected(rest)
	if first.Visible() {
		t.Errorf("chart %s shown after its box was cleared", first.label)
	}
	if p := c.charts[1].Position(); p != (fyne.Position{}) {
		t.Errorf("chart %s at %v, want the first cell", c.charts[1].label, p)
	}
	waitFor(t, q, "the charts redrawn", func() bool { return chartsDrawn(c) })
}

func TestCompareRefuses(t *testing.T) {
	v, w, _ := newTestCompare(t)
	cmp := showPair(t, v)
	shown := v.shown
	other := *cmp.B
	other.Scenario = "mm1"
	for name, runs := range map[string][]*runner.Result{
		"no run":          nil,
		"three runs":      {cmp.A, cmp.B, cmp.A},
		"mixed scenarios": {cmp.A, &other},
		"a missing run":   {cmp.A, nil},
	} {
		if err := v.Show(runs, cmp.Diff, ""); err == nil {
			t.Errorf("%s: Show took it", name)
		}
		if v.shown != shown || !slices.Equal(v.Runs(), []*runner.Result{cmp.A, cmp.B}) || !shows(w, shown.table) {
			t.Fatalf("%s: the refused Show changed the view", name)
		}
	}
}

func TestCompareClear(t *testing.T) {
	v, w, q := newTestCompare(t)
	if !emptyShown(w) || v.Runs() != nil {
		t.Fatal("a new view does not say how to get runs to compare")
	}
	showPair(t, v)
	table := v.shown.table
	if emptyShown(w) || !shows(w, table) {
		t.Fatal("Show left the empty message on screen")
	}
	// A second Show replaces the first, whose charts stop being drawn.
	first := v.shown
	cmp := testComparison(t)
	if err := v.Show([]*runner.Result{cmp.B}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if shows(w, first.table) || !shows(w, v.shown.table) {
		t.Error("the second Show did not replace the first")
	}
	waitFor(t, q, "the second run's charts", func() bool { return chartsDrawn(v.shown) })
	v.Clear()
	if !emptyShown(w) || v.Runs() != nil || shows(w, table) {
		t.Error("Clear did not return to the empty message")
	}
	if !strings.Contains(compareEmptyText, "library") || !strings.Contains(compareEmptyText, "history") {
		t.Errorf("empty message %q does not say where to compare from", compareEmptyText)
	}
}

// TestCompareCloseStopsDrawing checks that charts asked for after Close
// are not drawn.
func TestCompareCloseStopsDrawing(t *testing.T) {
	v, w, q := newTestCompare(t)
	showPair(t, v)
	c := v.shown
	waitFor(t, q, "the charts", func() bool { return chartsDrawn(c) })
	v.Close()
	q.run()
	w.Resize(fyne.NewSize(1280, 900))
	time.Sleep(300 * time.Millisecond)
	q.run()
	if chartsDrawn(c) {
		t.Error("charts were drawn after Close")
	}
	if err := v.Show([]*runner.Result{testComparison(t).A}, nil, ""); err == nil {
		t.Error("a closed view took runs to show")
	}
}

// The change column reads as the report's percentages, signed.
func TestCompareChangeText(t *testing.T) {
	rel := 0.042
	if got := changeText(&runner.Diff{Mean: 1, Relative: &rel}); got != "+4.2\u00a0%" {
		t.Errorf("a rise of 4.2 %% reads %q, want it signed", got)
	}
	if got := changeText(&runner.Diff{Mean: 1}); got != "–" {
		t.Errorf("a change from zero reads %q, want –", got)
	}
}

func TestCompareMarkup(t *testing.T) {
	v, w, q := newTestCompare(t)
	showPair(t, v)
	waitFor(t, q, "the charts", func() bool { return chartsDrawn(v.shown) })
	test.AssertRendersToMarkup(t, "compare_outage.xml", w.Canvas())
}

// TestCompareCapture saves the view as PNGs to look at: two runs at the
// smallest window and a larger one, the same runs unpaired, one run, and
// the empty view.
func TestCompareCapture(t *testing.T) {
	v, w, q := newTestCompare(t)
	dir := os.Getenv("STORMGLASS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	capture(t, w, filepath.Join(dir, "compare_empty.png"))
	cmp := showPair(t, v)
	waitFor(t, q, "the charts", func() bool { return chartsDrawn(v.shown) })
	c := v.shown.charts[0]
	f := c.frame
	x, y := int(f.PixelX(cmp.A.HorizonS*0.64)), (f.Data.Min.Y+f.Data.Max.Y)/2
	test.TapAt(c, c.img.Position().Add(fyne.NewPos(float32(x), float32(y))))
	v.shown.table.Select(widget.TableCellID{Row: 1, Col: 0})
	capture(t, w, filepath.Join(dir, "compare_1024.png"))
	w.Resize(fyne.NewSize(1280, 900))
	waitFor(t, q, "the charts at 1280", func() bool { return chartsDrawn(v.shown) })
	capture(t, w, filepath.Join(dir, "compare_1280.png"))

	w.Resize(fyne.NewSize(1024, 700))
	if err := v.Show([]*runner.Result{cmp.A, cmp.B}, nil, "seeds 1 and 2 differ"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, q, "the unpaired charts", func() bool { return chartsDrawn(v.shown) })
	capture(t, w, filepath.Join(dir, "compare_unpaired.png"))
	if err := v.Show([]*runner.Result{cmp.A}, nil, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, q, "the one run's charts", func() bool { return chartsDrawn(v.shown) })
	capture(t, w, filepath.Join(dir, "compare_one.png"))
}

// TestCompareManyObjectives checks that a scenario with many objectives
// keeps room for the charts and the table: the objectives scroll.
func TestCompareManyObjectives(t *testing.T) {
	v, w, _ := newTestCompare(t)
	cmp := testComparison(t)
	a := *cmp.A
	a.SLOs = nil
	for i := range 9 {
		s := cmp.A.SLOs[i%len(cmp.A.SLOs)]
		s.Name = fmt.Sprintf("%s %d", s.Name, i+1)
		a.SLOs = append(a.SLOs, s)
	}
	if err := v.Show([]*runner.Result{&a, cmp.B}, cmp.Diff, ""); err != nil {
		t.Fatal(err)
	}
	c := v.shown
	if len(c.verdicts) != 9+len(cmp.B.SLOs) {
		t.Fatalf("%d objectives shown, want A's 9 and B's %d", len(c.verdicts), len(cmp.B.SLOs))
	}
	if _, ok := c.objectives.(*container.Scroll); !ok {
		t.Errorf("objectives in a %T, want a scroll", c.objectives)
	}
	if h := c.table.Size().Height; h < 150 {
		t.Errorf("table %v px high at 1024×700 beside 12 objectives, want room for rows", h)
	}
	if !shows(w, c.charts[0]) {
		t.Error("the charts are off screen")
	}
	if dir := os.Getenv("STORMGLASS_ARTIFACTS"); dir != "" {
		capture(t, w, filepath.Join(dir, "compare_objectives.png"))
	}
}

func TestCompareReadoutNamesRuns(t *testing.T) {
	cmp := testComparison(t)
	a, b := *cmp.A, *cmp.B
	r := export.Readout{Clock: "05:30:00", Y: 10, Values: []export.LineValue{
		{Series: "queries", Run: 0, Value: 100, Text: "100 /s"},
		{Series: "queries", Run: 1, Value: 90, Text: "90 /s"},
		{Series: "goodput", Run: 0, Value: 12, Text: "12 /s"},
		{Series: "goodput", Run: 1, Value: 11, Text: "11 /s"},
	}}
	c := &comparison{runs: []*runner.Result{&a, &b}}
	if got, want := c.readout(r), "05:30:00  goodput: incident 12 /s, remediated 11 /s · queries: incident 100 /s, remediated 90 /s"; got != want {
		t.Errorf("readout %q, want %q", got, want)
	}
	// Two stored runs of one variant: the letters tell them apart.
	b.Variant = a.Variant
	if got, want := c.readout(r), "05:30:00  goodput: A 12 /s, B 11 /s · queries: A 100 /s, B 90 /s"; got != want {
		t.Errorf("readout %q, want %q", got, want)
	}
}
