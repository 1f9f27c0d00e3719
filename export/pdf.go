package export

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"stormglass/app/runner"
)

// Report is what WritePDF renders.
type Report struct {
	// Runs holds one result, or two to compare: the first is the baseline
	// (typically the incident), the second the alternative (typically the
	// remediated variant) of the same scenario.
	Runs []*runner.Result
	// Generated is the report's date, printed on the cover and stored as
	// the PDF's creation date; the same inputs and Generated give the same
	// bytes.
	Generated time.Time
	// Fonts are the embedded fonts, also used for the charts' text; nil
	// means DefaultFonts().
	Fonts *Fonts
	// Differences are the paired differences between two runs, second
	// minus first (B − A), per metric name as in Result.MetricOrder, as
	// runner.Differences estimates them; optional. With two runs they add
	// a difference column to the figures table and let the summary name a
	// significant difference; with one run they are ignored.
	Differences map[string]*runner.Diff
	// Progress, when set, is told how far WritePDF has got: once per
	// section and once per chart rendered (the charts take most of the
	// time), with total fixed from the first call and done rising by one
	// each call, the last call (done = total) after the PDF is written.
	Progress func(done, total int)
}

var (
	fillMet       = [3]int{0xd4, 0xef, 0xdf}
	fillViolated  = [3]int{0xf8, 0xd0, 0xcc}
	fillUncertain = [3]int{0xfd, 0xeb, 0xc8}
	fillChanged   = [3]int{0xff, 0xf4, 0xc2}
	// fillSignificant shades a difference that is significant at 95 %.
	fillSignificant = [3]int{0xd6, 0xe4, 0xf5}
)

// pdfSections counts WritePDF's steps besides the charts: cover, summary,
// the over-time page's timeline, figures, knobs, notes, reproducibility,
// and assembling and writing the PDF.
const pdfSections = 8

// progress reports WritePDF's steps to Report.Progress.
type progress struct {
	done, total int
	report      func(done, total int)
}

func (p *progress) step() {
	p.done++
	if p.report != nil {
		p.report(p.done, p.total)
	}
}

// WritePDF writes the capacity report of r to w.
func WritePDF(w io.Writer, r Report) error {
	runs := r.Runs
	if len(runs) == 0 || len(runs) > 2 {
		return errNoRuns
	}
	for _, x := range runs {
		if x == nil {
			return errNoRuns
		}
	}
	fonts, err := resolveFonts(r.Fonts)
	if err != nil {
		return err
	}
	// The charts are chosen first: their number fixes the progress total.
	charts := Charts(runs...)
	prog := &progress{total: pdfSections + len(charts), report: r.Progress}
	var diffs map[string]*runner.Diff
	if len(runs) == 2 {
		diffs = r.Differences
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(r.Generated)
	pdf.SetModificationDate(r.Generated)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetMargins(margin, margin, margin)
	// Text is placed run by run (one font per run): no padding inside cells.
	pdf.SetCellMargin(0)
	pdf.SetAutoPageBreak(false, footerSpace)
	pdf.AddUTF8FontFromBytes("DejaVuSans", "", fonts.Regular)
	pdf.AddUTF8FontFromBytes("DejaVuSans", "B", fonts.Bold)
	pdf.AddUTF8FontFromBytes("DroidSansFallback", "", fonts.CJK)
	a := runs[0]
	pdf.SetTitle(a.Title, true)
	pdf.SetSubject("Stormglass capacity report", true)
	pdf.SetCreator("Stormglass "+a.Version, true)
	pdf.AliasNbPages("{nb}")
	d := &doc{pdf: pdf, fonts: fonts, diffs: diffs, progress: prog}
	pdf.SetFooterFunc(func() {
		bold, size := d.bold, d.size
		d.font(false, 8)
		pdf.SetTextColor(0x66, 0x66, 0x66)
		y := pageH - 10
		left := "Stormglass capacity report · " + a.Scenario + " · " + variantsLabel(runs)
		d.text(margin, y, contentW-30, 4, left, "L")
		pdf.SetXY(pageW-margin-30, y)
		pdf.CellFormat(30, 4, fmt.Sprintf("Page %d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		d.font(bold, size)
	})
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("export: loading fonts: %w", err)
	}

	d.cover(runs, r.Generated)
	prog.step()
	d.summary(runs)
	prog.step()
	if err := d.charts(runs, charts); err != nil {
		return err
	}
	prog.step()
	d.figures(runs)
	prog.step()
	d.knobs(runs)
	prog.step()
	d.notes(runs)
	prog.step()
	d.reproduce(runs)
	prog.step()

	if err := pdf.Error(); err != nil {
		return fmt.Errorf("export: building PDF: %w", err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return fmt.Errorf("export: building PDF: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("export: writing PDF: %w", err)
	}
	prog.step()
	return nil
}

func variantsLabel(runs []*runner.Result) string {
	var names []string
	for _, r := range runs {
		names = append(names, variantName(r))
	}
	return strings.Join(names, " vs ")
}

func variantLong(r *runner.Result) string {
	if r.VariantTitle != "" {
		return variantName(r) + " — " + r.VariantTitle
	}
	return variantName(r)
}

func (d *doc) cover(runs []*runner.Result, gen time.Time) {
	a := runs[0]
	d.pdf.AddPage()
	d.pdf.SetFillColor(0x1f, 0x3a, 0x5f)
	d.pdf.Rect(0, 0, pageW, 12, "F")
	d.pdf.SetXY(margin, 60)
	d.font(false, 12)
	d.pdf.SetTextColor(0x55, 0x55, 0x55)
	d.para("STORMGLASS CAPACITY REPORT")
	d.gap(4)
	d.pdf.SetTextColor(0x1f, 0x3a, 0x5f)
	d.font(true, 22)
	title := a.Title
	if title == "" {
		title = a.Scenario
	}
	d.para(title)
	d.pdf.SetTextColor(0, 0, 0)
	d.gap(6)
	d.font(false, 12)
	if len(runs) == 2 {
		d.para("Comparison of two variants:")
		for i, r := range runs {
			d.para(fmt.Sprintf("%s  %s", string(rune('A'+i)), variantLong(r)))
		}
	} else {
		d.para("Variant: " + variantLong(a))
	}
	d.gap(10)
	d.font(false, 10)
	lines := [][2]string{
		{"Scenario", a.Scenario},
		{"Date", gen.UTC().Format("2 January 2006, 15:04 UTC")},
		{"Stormglass version", a.Version},
		{"Replications", strconv.Itoa(a.Replications)},
		{"Simulated time", fmt.Sprintf("%s from %s", Duration(a.HorizonS), clockHM(a.ClockS))},
	}
	for _, l := range lines {
		y := d.pdf.GetY()
		d.font(true, 10)
		d.text(margin, y, 45, d.lineH(), l[0], "L")
		d.font(false, 10)
		d.paraW(margin+45, contentW-45, l[1])
	}
}

// verdictCount summarises a run's objectives.
func verdictCount(r *runner.Result) string {
	n := map[string]int{}
	for _, s := range r.SLOs {
		n[s.Verdict]++
	}
	parts := []string{fmt.Sprintf("%d met", n[runner.VerdictMet])}
	if n[runner.VerdictViolated] > 0 {
		parts = append(parts, fmt.Sprintf("%d violated", n[runner.VerdictViolated]))
	}
	if n[runner.VerdictUncertain] > 0 {
		parts = append(parts, fmt.Sprintf("%d uncertain", n[runner.VerdictUncertain]))
	}
	return fmt.Sprintf("%d objective%s: %s", len(r.SLOs), plural(len(r.SLOs)), strings.Join(parts, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func verdictFill(v string) [3]int {
	switch v {
	case runner.VerdictMet:
		return fillMet
	case runner.VerdictViolated:
		return fillViolated
	case runner.VerdictUncertain:
		return fillUncertain
	}
	return [3]int{}
}

func findSLO(r *runner.Result, name string) *runner.SLOResult {
	for i := range r.SLOs {
		if r.SLOs[i].Name == name {
			return &r.SLOs[i]
		}
	}
	return nil
}

// headline lists a run's top-level metrics, in the scenario's order.
func headline(r *runner.Result, n int) []string {
	var out []string
	for _, name := range r.MetricOrder {
		if strings.Contains(name, ".") || r.Lookup(name) == nil {
			continue
		}
		out = append(out, name)
		if len(out) == n {
			break
		}
	}
	return out
}

func (d *doc) summary(runs []*runner.Result) {
	a, last := runs[0], runs[len(runs)-1]
	d.pdf.AddPage()
	d.heading("Executive summary")
	d.font(false, 10)
	title := a.Title
	if title == "" {
		title = a.Scenario
	}
	d.para(title)
	d.gap(2)

	// The verdict.
	d.subheading("Verdict against the objectives")
	if len(a.SLOs) == 0 && len(last.SLOs) == 0 {
		d.para("This scenario declares no service-level objectives, so nothing passes or fails; its headline figures are:")
		d.gap(1)
		d.keyFigures(runs, 10)
	} else {
		for _, r := range runs {
			d.font(true, 10)
			prefix := ""
			if len(runs) == 2 {
				prefix = variantName(r) + ": "
			}
			d.para(prefix + verdictCount(r) + ".")
		}
		d.font(false, 10)
		d.gap(1)
		var cols []column
		var rows [][]string
		var styles []rowStyle
		if len(runs) == 1 {
			cols = []column{{"Objective", 62, "L"}, {"Target", 28, "L"}, {"Value [95 % interval]", 66, "R"}, {"Verdict", 24, "C"}}
			for _, s := range a.SLOs {
				rows = append(rows, []string{s.Name, SLOTarget(s), formatWithCI(s.Value, s.CI95, s.Unit), s.Verdict})
				styles = append(styles, rowStyle{cells: map[int][3]int{3: verdictFill(s.Verdict)}})
			}
		} else {
			cols = []column{{"Objective", 42, "L"}, {"Target", 20, "L"},
				{variantName(a), 43, "R"}, {"Verdict", 16, "C"},
				{variantName(last), 43, "R"}, {"Verdict", 16, "C"}}
			names := sloNames(runs)
			for _, n := range names {
				row := []string{n, "", "–", "–", "–", "–"}
				st := rowStyle{cells: map[int][3]int{}}
				for i, r := range runs {
					if s := findSLO(r, n); s != nil {
						row[1] = SLOTarget(*s)
						row[2+2*i] = formatWithCI(s.Value, s.CI95, s.Unit)
						row[3+2*i] = s.Verdict
						st.cells[3+2*i] = verdictFill(s.Verdict)
					}
				}
				rows = append(rows, row)
				styles = append(styles, st)
			}
		}
		d.table(cols, rows, styles, 9)
		d.subheading("Headline figures")
		d.keyFigures(runs, 6)
	}

	// Peak load.
	d.subheading("Peak load handled")
	for _, r := range runs {
		prefix := ""
		if len(runs) == 2 {
			prefix = variantName(r) + ": "
		}
		d.para(prefix + peakSentence(r))
	}

	if len(runs) == 2 {
		d.subheading("The difference that matters most")
		d.para(biggestDifference(a, last, d.diffs))
		d.subheading("The fix: knobs that differ between the runs")
		diffs := knobDiffs(a, last)
		if len(diffs) == 0 {
			d.para(fmt.Sprintf("The two runs use the same knob values; %s differs from %s in the variant's own changes to the model (see the knob table and the notes).", variantLong(last), variantName(a)))
		} else {
			for _, k := range diffs {
				d.para("• " + k)
			}
		}
	}

	d.subheading("The risk")
	d.font(true, 10)
	d.para(riskSentence(last, len(runs) == 2))
	d.font(false, 10)
}

// keyFigures tables the first n top-level figures of the runs.
func (d *doc) keyFigures(runs []*runner.Result, n int) {
	names := headline(runs[0], n)
	if len(names) == 0 {
		d.para("The run recorded no figures.")
		return
	}
	cols := []column{{"Figure", 70, "L"}}
	if len(runs) == 2 {
		cols = append(cols, column{variantName(runs[0]), 55, "R"}, column{variantName(runs[1]), 55, "R"})
	} else {
		cols = append(cols, column{"Mean [95 % interval]", 110, "R"})
	}
	var rows [][]string
	for _, name := range names {
		row := []string{name}
		for _, r := range runs {
			row = append(row, FormatStat(r.Lookup(name)))
		}
		rows = append(rows, row)
	}
	d.table(cols, rows, nil, 9)
}

func sloNames(runs []*runner.Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range runs {
		for _, s := range r.SLOs {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s.Name)
			}
		}
	}
	return out
}

// loadSeries picks the series that measures the offered load, and the one
// that measures the work done.
func loadSeries(r *runner.Result) (load, done *runner.SeriesResult) {
	pick := func(names ...string) *runner.SeriesResult {
		for _, n := range names {
			for i := range r.Series {
				if r.Series[i].Name == n && len(r.Series[i].Values) > 0 {
					return &r.Series[i]
				}
			}
		}
		return nil
	}
	load = pick("requests", "arrival_rate", "queries", "messages.sent", "connects")
	if load == nil {
		for i := range r.Series {
			if r.Series[i].Unit == "/s" && len(r.Series[i].Values) > 0 {
				load = &r.Series[i]
				break
			}
		}
	}
	done = pick("goodput", "throughput", "queries.executed")
	return load, done
}

func peak(s *runner.SeriesResult) (v float64, i int) {
	i = -1
	for j, x := range s.Values {
		if !math.IsNaN(x) && (i < 0 || x > v) {
			v, i = x, j
		}
	}
	return v, i
}

func peakSentence(r *runner.Result) string {
	load, done := loadSeries(r)
	if load == nil {
		return "The run recorded no load series."
	}
	v, i := peak(load)
	if i < 0 {
		return "The run recorded no load series."
	}
	t := float64(i+1) * r.SampleS
	s := fmt.Sprintf("load (%s) peaked at %s at %s", load.Name, FormatValue(v, load.Unit), clockHM(r.ClockS+t))
	if done != nil {
		dv, di := peak(done)
		if di >= 0 {
			s += fmt.Sprintf("; %s peaked at %s at %s", done.Name, FormatValue(dv, done.Unit), clockHM(r.ClockS+float64(di+1)*r.SampleS))
		}
	}
	return strings.ToUpper(s[:1]) + s[1:] + fmt.Sprintf(" (averages over the replications per %s interval).", Duration(r.SampleS))
}

func relChange(a, b float64) float64 {
	m := math.Max(math.Abs(a), math.Abs(b))
	if m == 0 || math.IsNaN(m) {
		return 0
	}
	return math.Abs(b-a) / m
}

var verdictRank = map[string]int{runner.VerdictViolated: 0, runner.VerdictUncertain: 1, runner.VerdictMet: 2}

// biggestDifference names the change between the runs that matters most:
// an objective whose verdict changes, else the objective, else the
// headline figure, that moves the most. With paired differences (diffs
// non-nil), a figure whose difference is significant comes before any
// whose difference is not: a large move inside the noise matters less
// than a smaller one the replications agree on.
func biggestDifference(a, b *runner.Result, diffs map[string]*runner.Diff) string {
	type candidate struct {
		text  string
		score float64
		diff  *runner.Diff // when significant
		unit  string
		// of names the metric whose mean difference is cited, when it is
		// not the figure itself.
		of string
	}
	var best candidate
	best.score = -1
	consider := func(c candidate, key string) {
		if d := diffs[key]; d != nil && d.Significant {
			c.score += 100
			c.diff = d
		}
		if c.score > best.score {
			best = c
		}
	}
	for _, sa := range a.SLOs {
		sb := findSLO(b, sa.Name)
		if sb == nil {
			continue
		}
		score := relChange(sa.Value, sb.Value)
		if sa.Verdict != sb.Verdict {
			score += 10 + float64(verdictRank[sb.Verdict]-verdictRank[sa.Verdict])
		}
		if score > 0 {
			// An objective that moves at all comes before a headline
			// figure (relChange is at most 2).
			score += 2
		}
		c := candidate{text: fmt.Sprintf("%s: %s with %s, %s with %s (%s → %s).", sa.Name,
			FormatValue(sa.Value, sa.Unit), variantName(a), FormatValue(sb.Value, sb.Unit), variantName(b), sa.Verdict, sb.Verdict),
			score: score, unit: sa.Unit}
		key := sloMetric(sa)
		if _, ok := diffs[key]; !ok && diffs[sa.Metric] != nil {
			// runner.Differences pairs the metrics of MetricOrder, which
			// hold a distribution's mean but not its percentiles: an
			// objective on the p99 is judged by its metric's mean
			// difference, and the sentence says so.
			key, c.of = sa.Metric, sa.Metric
		}
		consider(c, key)
	}
	for _, n := range headline(a, 1000) {
		sa, sb := a.Lookup(n), b.Lookup(n)
		if sa == nil || sb == nil {
			continue
		}
		consider(candidate{text: fmt.Sprintf("%s: %s with %s, %s with %s.", n, FormatValue(sa.Mean, sa.Unit), variantName(a), FormatValue(sb.Mean, sb.Unit), variantName(b)),
			score: relChange(sa.Mean, sb.Mean), unit: sa.Unit}, n)
	}
	switch {
	case best.text == "":
		return "The runs' figures do not differ."
	case best.diff != nil && best.of != "":
		return best.text + fmt.Sprintf(" The difference in the mean of %s, %s, is significant at 95 %% (paired replications): its interval excludes zero.", best.of, formatDiff(best.diff, unitOf(a, best.of)))
	case best.diff != nil:
		return best.text + fmt.Sprintf(" The difference, %s, is significant at 95 %% (paired replications): its interval excludes zero.", formatDiff(best.diff, best.unit))
	case diffs != nil:
		return best.text + " No difference between the runs is significant at 95 % (paired replications): each interval includes zero."
	}
	return best.text
}

func unitOf(r *runner.Result, metric string) string {
	if st := r.Lookup(metric); st != nil {
		return st.Unit
	}
	return ""
}

// sloMetric is the metric name (as in Result.MetricOrder) an objective
// judges: the metric itself for its mean, else METRIC.STAT.
func sloMetric(s runner.SLOResult) string {
	if s.Stat == "" || s.Stat == "mean" {
		return s.Metric
	}
	return s.Metric + "." + s.Stat
}

func knobDiffs(a, b *runner.Result) []string {
	var out []string
	for _, ka := range a.Knobs {
		for _, kb := range b.Knobs {
			if ka.Name == kb.Name && ka.Value != kb.Value {
				out = append(out, fmt.Sprintf("%s: %s → %s", ka.Name, ka.Value, kb.Value))
			}
		}
	}
	return out
}

// riskSentence is the report's risk in one sentence, derived from the
// objectives' verdicts.
func riskSentence(r *runner.Result, compared bool) string {
	with := ""
	if compared {
		with = " even with " + variantName(r)
	}
	var worst *runner.SLOResult
	worstMiss := -1.0
	var unsure *runner.SLOResult
	var tight *runner.SLOResult
	tightMargin := math.Inf(1)
	for i := range r.SLOs {
		s := &r.SLOs[i]
		m := sloMargin(*s)
		switch s.Verdict {
		case runner.VerdictViolated:
			if -m > worstMiss {
				worst, worstMiss = s, -m
			}
		case runner.VerdictUncertain:
			if unsure == nil {
				unsure = s
			}
		default:
			// Headroom is a share of the bound; a zero-tolerance objective
			// ("no time unusable", ≤ 0) met has none to speak of, and
			// "0 % of headroom" would read as a warning.
			if !zeroBound(*s) && m < tightMargin {
				tight, tightMargin = s, m
			}
			if tight == nil {
				tight = s
			}
		}
	}
	switch {
	case worst != nil:
		return fmt.Sprintf("The risk: “%s” is missed%s — %s against a target of %s — so users would feel it under this load.",
			worst.Name, with, FormatValue(worst.Value, worst.Unit), SLOTarget(*worst))
	case unsure != nil:
		return fmt.Sprintf("The risk: “%s” is too close to call with %d replications (%s against %s); run more replications before relying on it.",
			unsure.Name, r.Replications, formatWithCI(unsure.Value, unsure.CI95, unsure.Unit), SLOTarget(*unsure))
	case tight != nil && !math.IsInf(tightMargin, 0) && !math.IsNaN(tightMargin):
		return fmt.Sprintf("The risk is low: every objective is met; the tightest, “%s”, has %s of headroom to its target.",
			tight.Name, FormatPercent(tightMargin))
	case tight != nil:
		return "The risk is low: every objective is met."
	}
	return "The risk cannot be judged against objectives, as the scenario declares none: compare the headline figures with your own targets."
}

// zeroBound reports whether an objective's bound is zero.
func zeroBound(s runner.SLOResult) bool {
	return (s.Max != nil && *s.Max == 0) || (s.Min != nil && *s.Min == 0)
}

// sloMargin is how far s's value is inside its bound, as a fraction of the
// bound (negative when outside).
func sloMargin(s runner.SLOResult) float64 {
	m := math.Inf(1)
	if s.Max != nil {
		if *s.Max != 0 {
			m = math.Min(m, (*s.Max-s.Value)/math.Abs(*s.Max))
		} else {
			m = math.Min(m, -s.Value)
		}
	}
	if s.Min != nil {
		if *s.Min != 0 {
			m = math.Min(m, (s.Value-*s.Min)/math.Abs(*s.Min))
		} else {
			m = math.Min(m, s.Value)
		}
	}
	return m
}

// FormatPercent formats a share as a percentage to the precision a reader
// uses: whole from 100 %, one decimal below, two significant digits under
// 0.1 % ("+250 %", "-98.5 %", "8.8 %", "0.015 %").
func FormatPercent(f float64) string {
	p := f * 100
	var s string
	switch a := math.Abs(p); {
	case a >= 100:
		s = strconv.FormatFloat(p, 'f', 0, 64)
	case a >= 0.1:
		s = strings.TrimSuffix(strconv.FormatFloat(p, 'f', 1, 64), ".0")
	default:
		s = formatNumber(p)
		if a > 0 {
			s = strconv.FormatFloat(p, 'g', 2, 64)
		}
	}
	return s + "\u00a0%"
}

func (d *doc) charts(runs []*runner.Result, charts []Chart) error {
	th := newChartText(d.fonts)
	d.pdf.AddPage()
	d.heading("Over time")
	note := "Time of day on the x axis. Grey dashed lines mark the timeline's events, numbered as in the timeline table below."
	if len(runs) == 2 {
		note += fmt.Sprintf(" Solid lines: %s; dashed lines: %s.", variantName(runs[0]), variantName(runs[1]))
	}
	d.font(false, 9)
	d.para(note)
	d.font(false, 10)
	d.gap(2)
	if len(charts) == 0 {
		d.para("The run recorded no series to chart.")
	}
	h := contentW * float64(ChartHeight/ChartWidth)
	for i, c := range charts {
		b, err := chartPNG(c, i, th)
		if err != nil {
			return err
		}
		d.progress.step()
		d.need(h + 2)
		name := "chart-" + c.Name
		d.pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(b))
		y := d.pdf.GetY()
		d.pdf.ImageOptions(name, margin, y, contentW, h, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		d.pdf.SetXY(margin, y+h+3)
	}
	d.subheading("Timeline")
	tl := timeline(runs)
	if len(tl) == 0 {
		d.para("No events.")
		return nil
	}
	cols := []column{{"#", 10, "R"}, {"Time", 20, "L"}, {"Kind", 22, "L"}, {"Event", 128, "L"}}
	if len(runs) == 2 {
		cols = []column{{"#", 10, "R"}, {"Time", 20, "L"}, {"Run", 26, "L"}, {"Kind", 20, "L"}, {"Event", 104, "L"}}
	}
	var rows [][]string
	for _, e := range tl {
		row := []string{e.Label, Clock(e.ClockS + e.TimeS)}
		if len(runs) == 2 {
			run := "both"
			if e.Run == 1 {
				run = variantName(runs[1])
			} else if !sharedEvent(runs[1], e.EventResult) {
				run = variantName(runs[0])
			}
			row = append(row, run)
		}
		rows = append(rows, append(row, e.Kind, e.Text))
	}
	d.table(cols, rows, nil, 8.5)
	return nil
}

func sharedEvent(r *runner.Result, e runner.EventResult) bool {
	for _, x := range r.Events {
		if x == e {
			return true
		}
	}
	return false
}

func (d *doc) figures(runs []*runner.Result) {
	d.pdf.AddPage()
	d.heading("All figures")
	d.font(false, 9)
	d.para("Each figure is the mean over the replications with its 95 % confidence interval in brackets. No figure can be negative (each is a count, a rate, a duration, a size or a share), so intervals are cut at zero. Station figures are prefixed station.NAME.")
	if s := replicationNote(runs); s != "" {
		d.gap(1)
		d.para(s)
	}
	if d.diffs != nil {
		d.gap(1)
		d.para(fmt.Sprintf("Difference (2nd − 1st) is %s's figure minus %s's, estimated from paired replications: both runs used the same seed, so replication i of each ran on the same random numbers (common random numbers) and the chance they share cancels in the difference. The interval is the 95 %% t interval of the per-replication differences, narrower than the two runs' own intervals suggest, and not cut at zero; the percentage is relative to %s's figure. Bold rows with a shaded difference are significant at 95 %%: the interval excludes zero.",
			variantName(runs[1]), variantName(runs[0]), variantName(runs[0])))
	}
	d.gap(2)
	names := append([]string(nil), runs[0].MetricOrder...)
	if len(runs) == 2 {
		seen := map[string]bool{}
		for _, n := range names {
			seen[n] = true
		}
		for _, n := range runs[1].MetricOrder {
			if !seen[n] {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		d.para("The run recorded no figures.")
		return
	}
	size := 8.0
	cols := []column{{"Figure", 70, "L"}, {"Mean [95 % interval]", 110, "R"}}
	if len(runs) == 2 {
		cols = []column{{"Figure", 60, "L"}, {variantName(runs[0]), 60, "R"}, {variantName(runs[1]), 60, "R"}}
		if d.diffs != nil {
			// Four columns in the width of three: a size smaller, so that
			// a figure with its interval mostly stays on one line.
			cols = []column{{"Figure", 46, "L"}, {variantName(runs[0]), 37, "R"}, {variantName(runs[1]), 37, "R"}, {"Difference (2nd − 1st)", 60, "R"}}
			size = 7.5
		}
	}
	var rows [][]string
	var styles []rowStyle
	for _, n := range names {
		row := []string{n}
		unit := ""
		for _, r := range runs {
			st := r.Lookup(n)
			row = append(row, FormatStat(st))
			if st != nil && unit == "" {
				unit = st.Unit
			}
		}
		var style rowStyle
		if d.diffs != nil {
			diff := d.diffs[n]
			row = append(row, formatDiff(diff, unit))
			if diff != nil && diff.Significant {
				style = rowStyle{bold: true, cells: map[int][3]int{3: fillSignificant}}
			}
		}
		rows = append(rows, row)
		styles = append(styles, style)
	}
	d.table(cols, rows, styles, size)
}

// replicationNote warns when the runs have few replications to estimate
// intervals from: none with one, wide ones with two to four (the t
// quantile for 95 % is 12.7 with two, 2.78 with five). It speaks of the
// run with the fewest; empty when every run has five or more.
func replicationNote(runs []*runner.Result) string {
	n := 0
	for _, r := range runs {
		if r.Replications >= 1 && (n == 0 || r.Replications < n) {
			n = r.Replications
		}
	}
	switch {
	case n == 1:
		return "One replication: figures have no confidence interval; run with --replications 5 or more to get them."
	case n >= 2 && n < 5:
		return fmt.Sprintf("With %d replications the 95 %% intervals are wide; more replications narrow them.", n)
	}
	return ""
}

func (d *doc) knobs(runs []*runner.Result) {
	d.need(60)
	d.heading("Knobs")
	d.font(false, 9)
	d.para("Highlighted rows differ from the knob's default" + map[bool]string{true: " or between the runs.", false: "."}[len(runs) == 2])
	d.gap(2)
	type kv struct {
		vals    []string
		def     string
		unit    string
		changed bool
	}
	var order []string
	ks := map[string]*kv{}
	for i, r := range runs {
		for _, k := range r.Knobs {
			x, ok := ks[k.Name]
			if !ok {
				x = &kv{vals: make([]string, len(runs)), def: k.Default, unit: k.Unit}
				ks[k.Name] = x
				order = append(order, k.Name)
			}
			x.vals[i] = k.Value
			x.changed = x.changed || k.Changed
		}
	}
	if len(order) == 0 {
		d.para("The scenario has no knobs.")
		return
	}
	cols := []column{{"Knob", 60, "L"}, {"Value", 45, "R"}, {"Default", 45, "R"}, {"Changed", 30, "C"}}
	if len(runs) == 2 {
		cols = []column{{"Knob", 52, "L"}, {variantName(runs[0]), 38, "R"}, {variantName(runs[1]), 38, "R"}, {"Default", 32, "R"}, {"Changed", 20, "C"}}
	}
	var rows [][]string
	var styles []rowStyle
	for _, n := range order {
		x := ks[n]
		changed := x.changed || (len(runs) == 2 && x.vals[0] != x.vals[1])
		row := []string{n}
		row = append(row, x.vals...)
		mark := ""
		if changed {
			mark = "changed"
		}
		row = append(row, x.def, mark)
		rows = append(rows, row)
		if changed {
			styles = append(styles, rowStyle{fill: fillChanged, bold: true})
		} else {
			styles = append(styles, rowStyle{})
		}
	}
	d.table(cols, rows, styles, 9)
}

func (d *doc) notes(runs []*runner.Result) {
	d.need(60)
	d.heading("Assumptions and model notes")
	a := runs[0]
	if a.Description != "" {
		d.subheading("The scenario")
		d.para(strings.TrimSpace(a.Description))
	}
	if a.Source != "" {
		d.subheading("Source")
		d.para(strings.TrimSpace(a.Source))
	}
	d.subheading("How to read the figures")
	for _, r := range runs {
		prefix := ""
		if len(runs) == 2 {
			prefix = variantLong(r) + ": "
		}
		s := fmt.Sprintf("%s%d replications of %s of simulated time starting at %s; series are sampled every %s and averaged over the replications; the timeline is the first replication's.",
			prefix, r.Replications, Duration(r.HorizonS), clockHM(r.ClockS), Duration(r.SampleS))
		if r.WarmupS > 0 {
			s += fmt.Sprintf(" Statistics exclude a warm-up of %s.", Duration(r.WarmupS))
		}
		if r.Theory != "" {
			s += fmt.Sprintf(" The closed form %s is shown beside the figures where it applies.", r.Theory)
		}
		d.para(s)
	}
	d.gap(1)
	d.para("An objective is met when the whole 95 % confidence interval meets its bound, violated when the whole interval misses it, and uncertain when the interval straddles it: more replications are needed to decide.")
	d.para("The model replays the scenario's components on a virtual clock with seeded randomness; its figures are as good as the scenario's parameters, which the knob table lists.")
}

func (d *doc) reproduce(runs []*runner.Result) {
	d.need(70)
	d.heading("Reproducibility")
	d.font(false, 9)
	d.para("The same scenario file, variant, knobs, seed and replications give the same figures on any machine.")
	d.gap(2)
	for _, r := range runs {
		if len(runs) == 2 {
			d.subheading(variantLong(r))
		}
		rows := [][]string{
			{"Scenario file", r.File},
			{"SHA-256", r.ScenarioSHA256},
			{"Variant", variantName(r)},
			{"Seed", strconv.FormatUint(r.Seed, 10)},
			{"Replications", strconv.Itoa(r.Replications)},
			{"Horizon", Duration(r.HorizonS)},
			{"Stormglass", r.Version},
			{"Command", RerunCommand(r)},
		}
		d.table([]column{{"", 30, "L"}, {"", 150, "L"}}, rows, nil, 8.5)
	}
}
