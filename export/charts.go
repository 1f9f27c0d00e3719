package export

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"stormglass/app/runner"
)

// Chart is one chart of the report: a few series of one unit over time,
// from one run or overlaid from two, with the timeline's events marked.
type Chart struct {
	// Name is the chart's file stem: load, connections, queue, cpu,
	// latency, errors.
	Name  string
	Title string
	Unit  string
	// Lines are the plotted series; with two runs each series appears once
	// per run.
	Lines []ChartLine
	// Events are the timeline's events drawn as numbered vertical lines;
	// the numbers are those of the report's timeline table.
	Events []ChartEvent
	// ClockS is the time of day at time 0, for the x axis.
	ClockS float64
	// HorizonS is the first run's horizon. The report's x axis ends at the
	// last point; a live chart's spans at least the horizon (RenderChart).
	HorizonS float64
}

// ChartLine is one series in a chart.
type ChartLine struct {
	Label   string // "latency_p99" or, with two runs, "latency_p99 (remediated)"
	Series  string
	Run     int // 0 or 1: which run
	Variant string
	SampleS float64
	Values  []float64
}

// ChartEvent is an event marked on a chart.
type ChartEvent struct {
	TimeS float64
	Label string // "1", "2", … or "B1" for the second run's own events
	// Kind and Text are the timeline's, for a reader pointing at the mark.
	Kind, Text string
}

// chartKind is a chart the report draws when the run has series for it.
type chartKind struct {
	name, title string
	patterns    []*regexp.Regexp // in order of preference
}

var chartKinds = []chartKind{
	{"load", "Load and throughput", res(
		`^(requests|arrival_rate|queries|messages\.sent|connects)$`,
		`^(goodput|throughput|queries\.executed|messages)$`,
		`^[^.]+\.(requests|queries)$`)},
	{"connections", "Connections", res(
		`^(clients\.connected|connections\.open)$`,
		`^(clients\.(reconnecting|stranded|foreground)|connections\.zombie)$`,
		`(^|\.)connections$`)},
	{"queue", "Queue depth and work in progress", res(
		`^(queue\.depth|in_system)$`,
		`(^|\.)(depth|queue_depth)$`,
		`^station\.[^.]+\.present$`,
		`^[^.]+\.(pool_waiting|in_flight|lock_waiters)$`)},
	{"cpu", "CPU and utilisation", res(
		`^(cpu\.utilization|cpu)$`,
		`(^|\.)(cpu|utilization)$`)},
	{"latency", "Latency percentiles", res(
		`^(latency_p\d+|query\.latency_p\d+)$`,
		`(^|\.)latency_p\d+$`,
		`(^|\.)pause_max$`)},
	{"errors", "Errors and refusals", res(
		`^(errors|refused|timeouts|connect_failures|blocked_rate)$`,
		`^(disconnects\.[a-z_]+|queue\.overflows|flows\.dropped|messages\.lost|reconnects\.failed)$`,
		`^[^.]+\.errors$`)},
}

func res(ps ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(ps))
	for i, p := range ps {
		out[i] = regexp.MustCompile(p)
	}
	return out
}

// MaxCharts caps the report's charts; maxLines caps each chart's series per
// run.
const (
	MaxCharts   = 6
	maxLines    = 4
	maxLinesTwo = 3
	// MaxPoints is how many points a line keeps after decimation.
	MaxPoints = 800
)

// Charts picks the report's charts from the runs' series: load,
// connections, queue depth, CPU, latency percentiles and errors, as far as
// the run has series for them (matched by name), with at most a few series
// per chart of one unit. With two runs, a series is chosen when the first
// run has it, and each chart overlays both runs.
func Charts(runs ...*runner.Result) []Chart {
	if len(runs) == 0 || runs[0] == nil {
		return nil
	}
	first := runs[0]
	limit := maxLines
	if len(runs) > 1 {
		limit = maxLinesTwo
	}
	used := map[string]bool{}
	var charts []Chart
	for _, k := range chartKinds {
		if len(charts) == MaxCharts {
			break
		}
		var picked []runner.SeriesResult
		unit := ""
		for _, p := range k.patterns {
			for _, s := range first.Series {
				if len(picked) == limit || used[s.Name] || !p.MatchString(s.Name) || len(s.Values) == 0 {
					continue
				}
				if len(picked) > 0 && s.Unit != unit {
					continue
				}
				if len(picked) == 0 {
					unit = s.Unit
				}
				picked = append(picked, s)
				used[s.Name] = true
			}
		}
		if len(picked) == 0 {
			continue
		}
		c := Chart{Name: k.name, Title: k.title, Unit: unit, ClockS: first.ClockS, HorizonS: first.HorizonS}
		for _, s := range picked {
			for ri, r := range runs {
				if r == nil {
					continue
				}
				for _, rs := range r.Series {
					if rs.Name != s.Name {
						continue
					}
					label := s.Name
					if len(runs) > 1 {
						label += " (" + variantName(r) + ")"
					}
					c.Lines = append(c.Lines, ChartLine{Label: label, Series: s.Name, Run: ri, Variant: variantName(r), SampleS: r.SampleS, Values: rs.Values})
				}
			}
		}
		c.Events = chartEvents(runs)
		charts = append(charts, c)
	}
	return charts
}

func variantName(r *runner.Result) string {
	if r.Variant != "" {
		return r.Variant
	}
	return "base"
}

// timeline numbers the runs' events for the charts and the table: the
// first run's events 1, 2, …; the second run's events that the first does
// not share (same time and text) B1, B2, ….
func timeline(runs []*runner.Result) []timelineEvent {
	var out []timelineEvent
	seen := map[string]bool{}
	for ri, r := range runs {
		if r == nil {
			continue
		}
		n := 0
		for _, e := range r.Events {
			key := strconv.FormatFloat(e.TimeS, 'g', -1, 64) + "\x00" + e.Kind + "\x00" + e.Text
			if ri > 0 && seen[key] {
				continue
			}
			seen[key] = true
			n++
			label := strconv.Itoa(n)
			if ri > 0 {
				label = "B" + label
			}
			out = append(out, timelineEvent{EventResult: e, Label: label, Run: ri, ClockS: r.ClockS})
		}
	}
	return out
}

type timelineEvent struct {
	runner.EventResult
	Label  string
	Run    int
	ClockS float64
}

func chartEvents(runs []*runner.Result) []ChartEvent {
	var out []ChartEvent
	for _, e := range timeline(runs) {
		out = append(out, ChartEvent{TimeS: e.TimeS, Label: e.Label, Kind: e.Kind, Text: e.Text})
	}
	return out
}

// decimate reduces values to at most max points, keeping each bucket's
// minimum and maximum in time order so peaks survive. Point i is at
// (i+1)·sample.
func decimate(values []float64, sample float64, max int) plotter.XYs {
	if sample <= 0 {
		sample = 1
	}
	var xy plotter.XYs
	add := func(i int) {
		v := values[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		xy = append(xy, plotter.XY{X: float64(i+1) * sample, Y: v})
	}
	if len(values) <= max {
		for i := range values {
			add(i)
		}
		return xy
	}
	buckets := max / 2
	for b := 0; b < buckets; b++ {
		lo, hi := b*len(values)/buckets, (b+1)*len(values)/buckets
		imin, imax := -1, -1
		for i := lo; i < hi; i++ {
			v := values[i]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if imin < 0 || v < values[imin] {
				imin = i
			}
			if imax < 0 || v > values[imax] {
				imax = i
			}
		}
		switch {
		case imin < 0:
		case imin == imax:
			add(imin)
		case imin < imax:
			add(imin)
			add(imax)
		default:
			add(imax)
			add(imin)
		}
	}
	return xy
}

var palette = []color.Color{
	color.RGBA{0x1f, 0x5f, 0xa8, 0xff}, // blue
	color.RGBA{0xd9, 0x5f, 0x02, 0xff}, // orange
	color.RGBA{0x1b, 0x9e, 0x77, 0xff}, // green
	color.RGBA{0x9b, 0x2d, 0x86, 0xff}, // purple
}

// legendEntry is one entry of a chart's legend.
type legendEntry struct {
	label  string
	color  color.Color
	dashed bool
}

// build makes the gonum plot of c and its legend: a colour per series and,
// with two runs, a line style per run. Every text style is set in th's
// fonts: plot.New's defaults name gonum/plot's global Liberation fonts,
// which have no Chinese, Japanese or Korean.
func (c Chart) build(th chartText) (*plot.Plot, []legendEntry, error) {
	return c.buildWith(th, func(l ChartLine) plotter.XYs { return decimate(l.Values, l.SampleS, MaxPoints) }, 0)
}

// buildWith is build with each line's points given by points and the x
// axis reaching at least spanS: a live chart decimates to its width and
// spans the whole horizon, so that it does not rescale as a replay runs.
func (c Chart) buildWith(th chartText, points func(ChartLine) plotter.XYs, spanS float64) (*plot.Plot, []legendEntry, error) {
	p := plot.New()
	p.TextHandler = th
	p.Title.Text = c.Title
	p.Title.TextStyle = th.style(p.Title.TextStyle, true, vg.Points(12))
	p.Title.Padding = vg.Points(4)
	p.X.Label.Text = "time of day"
	p.X.Label.TextStyle = th.style(p.X.Label.TextStyle, false, vg.Points(9))
	p.Y.Label.Text = c.Unit
	p.Y.Label.TextStyle = th.style(p.Y.Label.TextStyle, false, vg.Points(9))
	p.X.Tick.Label = th.style(p.X.Tick.Label, false, vg.Points(8))
	p.Y.Tick.Label = th.style(p.Y.Tick.Label, false, vg.Points(8))
	// The plot's own legend is unused (draw lays out its own below the
	// plot), but set too, so that no style is left on the global fonts.
	p.Legend.TextStyle = th.style(p.Legend.TextStyle, false, vg.Points(8))
	p.X.Tick.Marker = clockTicker{clock: c.ClockS}
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		ticks := plot.DefaultTicks{}.Ticks(min, max)
		for i := range ticks {
			if ticks[i].Label != "" {
				ticks[i].Label = formatNumber(ticks[i].Value)
			}
		}
		return ticks
	})
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	var legend []legendEntry
	xmax := 0.0
	idx := map[string]int{}
	runs := map[int]bool{}
	for _, l := range c.Lines {
		xy := points(l)
		if len(xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return nil, nil, fmt.Errorf("export: chart %s: %w", c.Name, err)
		}
		i, ok := idx[l.Series]
		if !ok {
			i = len(idx)
			idx[l.Series] = i
			legend = append(legend, legendEntry{label: l.Series, color: palette[i%len(palette)]})
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.2)
		if l.Run > 0 {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(2.5)}
		}
		runs[l.Run] = true
		p.Add(line)
		xmax = math.Max(xmax, xy[len(xy)-1].X)
	}
	if len(runs) > 1 {
		for _, l := range c.Lines {
			if runs[l.Run] {
				delete(runs, l.Run)
				legend = append(legend, legendEntry{label: l.Variant, color: color.Gray{0x40}, dashed: l.Run > 0})
			}
		}
	}
	xmax = math.Max(xmax, spanS)
	if xmax > 0 {
		p.X.Min, p.X.Max = 0, xmax
	}
	var ev []ChartEvent
	for _, e := range c.Events {
		if xmax == 0 || e.TimeS <= xmax {
			ev = append(ev, e)
		}
	}
	if len(ev) > 0 {
		p.Add(eventMarks{events: ev})
	}
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}
	return p, legend, nil
}

// draw draws c on dc: the plot above, the legend in a strip below it.
func (c Chart) draw(dc draw.Canvas, th chartText) error {
	p, legend, err := c.build(th)
	if err != nil {
		return err
	}
	drawPlot(dc, th, p, legend)
	return nil
}

// drawPlot draws p on dc above its legend.
func drawPlot(dc draw.Canvas, th chartText, p *plot.Plot, legend []legendEntry) {
	const cols = 3
	rows := (len(legend) + cols - 1) / cols
	lh := vg.Points(11)
	strip := vg.Length(rows)*lh + vg.Points(4)
	p.Draw(draw.Crop(dc, 0, 0, strip, 0))
	sty := th.style(p.X.Tick.Label, false, vg.Points(8))
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	colW := (dc.Max.X - dc.Min.X - vg.Points(20)) / cols
	for i, e := range legend {
		x := dc.Min.X + vg.Points(10) + vg.Length(i%cols)*colW
		y := dc.Min.Y + strip - vg.Points(2) - vg.Length(i/cols)*lh - lh/2
		ls := draw.LineStyle{Color: e.color, Width: vg.Points(1.5)}
		if e.dashed {
			ls.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		dc.StrokeLine2(ls, x, y, x+vg.Points(18), y)
		dc.FillText(sty, vg.Point{X: x + vg.Points(22), Y: y}, e.label)
	}
}

// eventMarks draws the events as grey vertical lines with their numbers at
// the top, staggered when they crowd.
type eventMarks struct{ events []ChartEvent }

func (m eventMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := draw.LineStyle{Color: color.RGBA{0x88, 0x88, 0x88, 0xff}, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	txt := p.X.Tick.Label
	txt.Font.Size = vg.Points(7)
	txt.Color = color.RGBA{0x55, 0x55, 0x55, 0xff}
	txt.XAlign = draw.XCenter
	txt.YAlign = draw.YTop
	var lastX vg.Length = -1e9
	level := 0
	for _, e := range m.events {
		x := trX(e.TimeS)
		if x < c.Min.X || x > c.Max.X {
			continue
		}
		c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
		w := txt.Width(e.Label) + vg.Points(2)
		if x-lastX < w {
			level = (level + 1) % 4
		} else {
			level = 0
		}
		lastX = x
		y := c.Max.Y - vg.Length(level)*txt.Height(e.Label)
		c.FillText(txt, vg.Point{X: x + w/2, Y: y}, e.Label)
	}
}

// clockTicker labels the x axis (seconds from time 0) with the time of day.
type clockTicker struct{ clock float64 }

func (t clockTicker) Ticks(min, max float64) []plot.Tick {
	span := max - min
	steps := []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	format := clockHM
	if step < 60 {
		format = Clock
	}
	var ticks []plot.Tick
	// Align ticks to the clock, not to time 0.
	first := math.Ceil((min+t.clock)/step)*step - t.clock
	for x := first; x <= max+1e-9; x += step {
		ticks = append(ticks, plot.Tick{Value: x, Label: format(x + t.clock)})
		// minor ticks halfway
		if mid := x + step/2; mid <= max {
			ticks = append(ticks, plot.Tick{Value: mid})
		}
	}
	return ticks
}

// ChartSize is a chart's size when drawn on its own or in the report.
var (
	ChartWidth  = 7 * vg.Inch
	ChartHeight = 3.0 * vg.Inch
	// ChartDPI is the resolution of PNG charts.
	ChartDPI = 200
)

// WriteChartPNG draws c as a PNG at ChartDPI, its text in fonts (nil
// means DefaultFonts()).
func WriteChartPNG(w io.Writer, c Chart, fonts *Fonts) error {
	fonts, err := resolveFonts(fonts)
	if err != nil {
		return err
	}
	return writePNG(w, c, ChartWidth, newChartText(fonts))
}

func writePNG(w io.Writer, c Chart, width vg.Length, th chartText) error {
	cv := vgimg.NewWith(vgimg.UseWH(width, ChartHeight), vgimg.UseDPI(ChartDPI), vgimg.UseBackgroundColor(color.White))
	if err := c.draw(draw.New(cv), th); err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(w, cv.Image()); err != nil {
		return fmt.Errorf("export: writing chart %s as PNG: %w", c.Name, err)
	}
	return nil
}

// WriteChartSVG draws c as SVG, its text in fonts (nil means
// DefaultFonts()). The SVG names the fonts (font-family "DejaVu Sans",
// "Droid Sans Fallback") without embedding them: embedding would add the
// whole CJK font, megabytes, to every chart.
func WriteChartSVG(w io.Writer, c Chart, fonts *Fonts) error {
	fonts, err := resolveFonts(fonts)
	if err != nil {
		return err
	}
	return writeSVG(w, c, newChartText(fonts))
}

func writeSVG(w io.Writer, c Chart, th chartText) error {
	cv := vgsvg.New(ChartWidth, ChartHeight)
	if err := c.draw(draw.New(cv), th); err != nil {
		return err
	}
	if _, err := cv.WriteTo(w); err != nil {
		return fmt.Errorf("export: writing chart %s as SVG: %w", c.Name, err)
	}
	return nil
}

// WriteCharts writes every chart of the runs' report into dir (created if
// needed) as NAME.png and NAME.svg, per formats ("png", "svg"; none means
// both), their text in fonts (nil means DefaultFonts()), and returns the
// paths written.
func WriteCharts(dir string, formats []string, fonts *Fonts, runs ...*runner.Result) ([]string, error) {
	if len(formats) == 0 {
		formats = []string{"png", "svg"}
	}
	for _, f := range formats {
		if f != "png" && f != "svg" {
			// Before writing anything, rather than after the first chart.
			return nil, fmt.Errorf("export: chart format %q: expected png or svg", f)
		}
	}
	fonts, err := resolveFonts(fonts)
	if err != nil {
		return nil, err
	}
	th := newChartText(fonts)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var paths []string
	for _, c := range Charts(runs...) {
		for _, f := range formats {
			write := func(w io.Writer) error { return writeSVG(w, c, th) }
			if f == "png" {
				write = func(w io.Writer) error { return writePNG(w, c, ChartWidth, th) }
			}
			p := filepath.Join(dir, c.Name+"."+f)
			if err := writeFile(p, write); err != nil {
				return paths, err
			}
			paths = append(paths, p)
		}
	}
	return paths, nil
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("export: %w", cerr)
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: writing %s: %w", path, err)
	}
	return nil
}

// chartPNG renders the i'th chart for the PDF. Each chart is i pixels
// wider than the last: fpdf (v0.11) orders images by pixel width only,
// starting from map order, so equal widths would make the PDF's bytes
// vary from run to run.
func chartPNG(c Chart, i int, th chartText) ([]byte, error) {
	var b bytes.Buffer
	if err := writePNG(&b, c, ChartWidth+vg.Length(i)*vg.Inch/vg.Length(ChartDPI), th); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var errNoRuns = errors.New("export: a report needs one or two results")
