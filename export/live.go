package export

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ScreenDPI is the resolution of live charts: one pixel of the image is
// one pixel of a screen at 96 DPI, so text is as large as the desktop's.
const ScreenDPI = 96

// Smallest and largest live chart: below the minimum the title, axes and
// legend leave no room for data; above the maximum a mistaken size would
// allocate gigabytes.
const (
	MinLiveWidth, MinLiveHeight = 200, 150
	MaxLiveSide                 = 8192
)

// eventPickPx is how close, in pixels, the pointer must be to an event's
// mark for a readout to name the event: the mark is under a pixel wide,
// too thin to hit exactly.
const eventPickPx = 4

// cursorColor is the default cursor colour: red, unlike any series colour
// or the grey event marks.
var cursorColor = color.RGBA{0xd6, 0x27, 0x28, 0xff}

// RenderOptions vary a live chart. The zero value draws the chart as the
// report does, sized to the screen, with no cursor.
type RenderOptions struct {
	// HorizonS makes the x axis span at least [0, HorizonS] seconds, so
	// that a chart of a replay in progress keeps its scale from frame to
	// frame. The chart's own HorizonS (the result's) applies too; the
	// longer wins. A result made mid-replay may give only the time so far
	// as its horizon: pass the replay's full horizon here.
	HorizonS float64
	// Cursor draws a vertical line at CursorS seconds since time 0: the
	// replay's current time, or a time the user picked.
	Cursor  bool
	CursorS float64
	// CursorColor is the cursor's colour; nil means red.
	CursorColor color.Color
}

// ChartFrame maps a rendered live chart's pixels to its data: where the
// data area lies in the image and which times and values it spans. It
// keeps the chart's lines, undecimated, for readouts. A ChartFrame is not
// changed after RenderChart returns, so any goroutine may use it. It
// shares the lines' Values with the Chart rather than copy a day of
// samples each frame: they must not be changed while the frame is in use
// (a session's Result is a fresh copy each time, so this holds).
type ChartFrame struct {
	// Size is the image's size in pixels.
	Size image.Point
	// Data is the data area in image pixels (y down): the pixels whose
	// centres lie inside the axes, where At reads.
	Data image.Rectangle
	// XMinS and XMaxS are the times at the data area's left and right
	// edges, in seconds since time 0 (add ClockS for the time of day).
	XMinS, XMaxS float64
	// YMin and YMax are the values at the data area's bottom and top
	// edges, in Unit.
	YMin, YMax float64
	// ClockS is the time of day at time 0.
	ClockS float64
	Unit   string

	// The data area's edges in pixels, unrounded, for exact mapping.
	left, right, top, bottom float64
	lines                    []frameLine
	events                   []ChartEvent
	// drawn counts the points drawn over all lines, after decimation.
	drawn int
}

// frameLine is a line as drawn, for readouts.
type frameLine struct {
	ChartLine
	color  color.Color
	dashed bool
}

// Readout is what lies under a pixel of a live chart.
type Readout struct {
	// TimeS is the time under the pixel, in seconds since time 0; Clock
	// is its time of day, "HH:MM:SS".
	TimeS float64
	Clock string
	// Y is the value on the y axis at the pixel's height, in the chart's
	// unit.
	Y float64
	// Values holds each line's sample at TimeS, in the chart's order.
	Values []LineValue
	// Event is the timeline event whose mark is within a few pixels, the
	// nearest; nil when none is.
	Event *ChartEvent
}

// LineValue is one line's sample at a readout's time: the recorded
// sample covering that time, not a decimated point.
type LineValue struct {
	Label, Series string
	Run           int
	Unit          string
	// Color and Dashed are the line's look, so a readout can be keyed to
	// the legend; Color is nil for a line with nothing drawn.
	Color  color.Color
	Dashed bool
	// Index is the sample's index in the line's Values (sample i covers
	// the interval ending at (i+1)·SampleS), or -1 when the line has no
	// sample at that time yet.
	Index int
	// Value is the sample (NaN when Index is -1); Text is it formatted by
	// FormatValue, or "–" when there is none.
	Value float64
	Text  string
}

// RenderChart draws c for the screen at exactly width×height pixels, in
// the report's look (title, time-of-day axis, legend, numbered event
// marks) and fonts (nil means DefaultFonts(), which reads the font files:
// a live view should load them once and pass them). Each line is
// decimated to about one point per pixel column, keeping the minimum
// and maximum of each two columns' samples, so that the cost depends on
// the size, not on the series' length, and peaks survive. The returned
// frame maps pixels to data for readouts.
//
// RenderChart changes no shared state: charts may be rendered on several
// goroutines at once with the same Fonts, once parsed (as DefaultFonts
// and FindFonts return them; a Fonts filled by hand is parsed on first
// use).
func RenderChart(c Chart, width, height int, fonts *Fonts, opt RenderOptions) (image.Image, *ChartFrame, error) {
	if width < MinLiveWidth || height < MinLiveHeight || width > MaxLiveSide || height > MaxLiveSide {
		return nil, nil, fmt.Errorf("export: chart %s: %w: %d×%d pixels (from %d×%d to %d×%d)",
			c.Name, ErrChartSize, width, height, MinLiveWidth, MinLiveHeight, MaxLiveSide, MaxLiveSide)
	}
	fonts, err := resolveFonts(fonts)
	if err != nil {
		return nil, nil, err
	}
	span := math.Max(c.HorizonS, opt.HorizonS)
	if math.IsNaN(span) || math.IsInf(span, 0) {
		span = 0
	}
	for _, l := range c.Lines {
		span = math.Max(span, float64(len(l.Values))*sampleOr1(l.SampleS))
	}
	f := &ChartFrame{Size: image.Pt(width, height), ClockS: c.ClockS, Unit: c.Unit}
	points := func(l ChartLine) plotter.XYs {
		// The line covers this share of the axis, and so of the image's
		// width, an upper bound on the data area's: it gets a point per
		// column there, a bucket's minimum and maximum per two columns.
		cols := width
		if span > 0 {
			cols = int(math.Ceil(float64(width) * float64(len(l.Values)) * sampleOr1(l.SampleS) / span))
		}
		xy := decimate(l.Values, l.SampleS, max(cols, 2))
		f.drawn += len(xy)
		return xy
	}
	th := newChartText(fonts)
	p, legend, err := c.buildWith(th, points, span)
	if err != nil {
		return nil, nil, err
	}
	f.lines, f.events = lineLooks(c.Lines, legend), slices.Clone(c.Events)
	if opt.Cursor && !math.IsNaN(opt.CursorS) && !math.IsInf(opt.CursorS, 0) {
		col := opt.CursorColor
		if col == nil {
			col = cursorColor
		}
		p.Add(cursorMark{timeS: opt.CursorS, color: col})
	}
	// Added last, it sees the data area and axis ranges as drawn.
	p.Add(frameProbe{f: f, height: height})
	cv := vgimg.NewWith(
		vgimg.UseWH(pixels(width), pixels(height)),
		vgimg.UseDPI(ScreenDPI),
		vgimg.UseBackgroundColor(color.White))
	drawPlot(draw.New(&pieceCanvas{Canvas: cv}), th, p, legend)
	img := cv.Image()
	if img.Bounds().Size() != f.Size {
		// Rounding in the canvas would shift every readout.
		return nil, nil, fmt.Errorf("export: chart %s: drawn at %v pixels, not %v", c.Name, img.Bounds().Size(), f.Size)
	}
	return img, f, nil
}

// ErrChartSize is wrapped by RenderChart's error for a size it cannot
// draw.
var ErrChartSize = errors.New("chart size out of range")

// pixels is the length of n screen pixels.
func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / ScreenDPI }

// sampleOr1 is a line's sample interval, 1 s when unset, as decimate
// takes it, so that readouts find the samples drawn.
func sampleOr1(s float64) float64 {
	if s <= 0 {
		return 1
	}
	return s
}

// lineLooks gives each line its look as drawn: its series' colour from
// the legend, which build fills with the series first, and dashes for the
// second run.
func lineLooks(lines []ChartLine, legend []legendEntry) []frameLine {
	colors := map[string]color.Color{}
	for _, e := range legend {
		if _, ok := colors[e.label]; !ok {
			colors[e.label] = e.color
		}
	}
	out := make([]frameLine, len(lines))
	for i, l := range lines {
		out[i] = frameLine{ChartLine: l, color: colors[l.Series], dashed: l.Run > 0}
	}
	return out
}

// frameProbe records the data area and axis ranges into a frame when the
// plot is drawn. It draws nothing.
type frameProbe struct {
	f      *ChartFrame
	height int
}

func (pr frameProbe) Plot(c draw.Canvas, p *plot.Plot) {
	// vg lengths are points, y up; image pixels are 1/ScreenDPI inch, y
	// down.
	k := float64(ScreenDPI) / float64(vg.Inch)
	f := pr.f
	f.left, f.right = float64(c.Min.X)*k, float64(c.Max.X)*k
	f.top, f.bottom = float64(pr.height)-float64(c.Max.Y)*k, float64(pr.height)-float64(c.Min.Y)*k
	// The pixels whose centres lie on or inside the edges.
	f.Data = image.Rect(int(math.Ceil(f.left-0.5)), int(math.Ceil(f.top-0.5)), int(math.Floor(f.right-0.5))+1, int(math.Floor(f.bottom-0.5))+1)
	f.XMinS, f.XMaxS = p.X.Min, p.X.Max
	f.YMin, f.YMax = p.Y.Min, p.Y.Max
}

// cursorMark draws the cursor: a solid vertical line across the data
// area.
type cursorMark struct {
	timeS float64
	color color.Color
}

func (m cursorMark) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(m.timeS)
	if x < c.Min.X || x > c.Max.X {
		return
	}
	c.StrokeLine2(draw.LineStyle{Color: m.color, Width: vg.Points(1)}, x, c.Min.Y, x, c.Max.Y)
}

// strokePiece is how many segments of a polyline pieceCanvas strokes at
// least in one piece; after that many it cuts at the first segment that
// allows a clean cut, and at any segment after 4·strokePiece, bounding
// the cost.
const strokePiece = 16

// pieceCanvas strokes long polylines a piece at a time. The rasteriser
// keeps each pixel row's cells in a list it searches from the left, so
// one path of thousands of segments that cross the same rows again and
// again, as a line decimated to each column's minimum and maximum does,
// costs time quadratic in its length: four noisy 800-point lines at
// 800×400 took 170 ms in one path each, 13 ms in pieces of 16 segments
// (longer pieces cost more, shorter ones no less).
//
// A piece ends, and the next begins, in the middle of a segment within
// 14° of an axis, where it crosses a pixel boundary along that axis: the
// two butt ends then meet on the boundary, each pixel is drawn by one
// piece alone and no join is lost, so the cut does not show. Cutting at
// a vertex would draw the join there twice or not at all, a dot every
// few pixels along a flat line. A dashed line carries its dash phase from
// piece to piece.
type pieceCanvas struct {
	*vgimg.Canvas
	dash  dashState
	saved []dashState // by Push, for Pop
}

type dashState struct {
	pattern []vg.Length
	offset  vg.Length
}

func (c *pieceCanvas) SetLineDash(pattern []vg.Length, offset vg.Length) {
	c.dash = dashState{pattern, offset}
	c.Canvas.SetLineDash(pattern, offset)
}

func (c *pieceCanvas) Push() {
	c.saved = append(c.saved, c.dash)
	c.Canvas.Push()
}

func (c *pieceCanvas) Pop() {
	if n := len(c.saved); n > 0 {
		c.dash, c.saved = c.saved[n-1], c.saved[:n-1]
	}
	c.Canvas.Pop()
}

func (c *pieceCanvas) Stroke(p vg.Path) {
	if len(p) <= strokePiece+1 || p[0].Type != vg.MoveComp {
		c.Canvas.Stroke(p)
		return
	}
	for _, comp := range p[1:] {
		if comp.Type != vg.LineComp {
			c.Canvas.Stroke(p) // arcs and closed shapes: none is long
			return
		}
	}
	// Pixel boundaries lie at whole multiples of a pixel from the canvas's
	// origin on both axes: the image is a whole number of pixels high.
	px := vg.Inch / vg.Length(c.DPI())
	dashed := len(c.dash.pattern) > 0
	stroke := func(piece vg.Path, phase vg.Length) {
		if dashed {
			c.Canvas.SetLineDash(c.dash.pattern, c.dash.offset+phase)
		}
		c.Canvas.Stroke(piece)
	}
	var piece vg.Path
	piece.Move(p[0].Pos)
	var done, run vg.Length // the length before the piece, and in it
	segs := 0
	for _, comp := range p[1:] {
		a, b := piece[len(piece)-1].Pos, comp.Pos
		if segs >= strokePiece {
			if cut, ok := pixelCut(a, b, px, segs >= 4*strokePiece); ok {
				piece.Line(cut)
				stroke(piece, done)
				done += run + segmentLength(a, cut)
				run, segs = 0, 0
				piece = piece[:0]
				piece.Move(cut)
				a = cut
			}
		}
		piece.Line(b)
		run += segmentLength(a, b)
		segs++
	}
	stroke(piece, done)
	if dashed {
		c.Canvas.SetLineDash(c.dash.pattern, c.dash.offset)
	}
}

// pixelCut is where to cut segment a→b: where it crosses a pixel
// boundary along its main axis, at least a quarter pixel from either end
// (the rasteriser drops a segment under 1/16 pixel). Unless any, only a
// segment within 14° of an axis (a slope of 1/4) is cut, as only there do
// the butt ends, square to the segment, nearly follow the boundary.
func pixelCut(a, b vg.Point, px vg.Length, any bool) (vg.Point, bool) {
	dx, dy := b.X-a.X, b.Y-a.Y
	adx, ady := vg.Length(math.Abs(float64(dx))), vg.Length(math.Abs(float64(dy)))
	if !any && adx < 4*ady && ady < 4*adx {
		return vg.Point{}, false
	}
	from, to, d := a.X, b.X, dx
	if ady > adx {
		from, to, d = a.Y, b.Y, dy
	}
	lo, hi := min(from, to)+px/4, max(from, to)-px/4
	at := vg.Length(math.Ceil(float64(lo/px))) * px
	if at > hi || d == 0 {
		return vg.Point{}, false
	}
	t := (at - from) / d
	return vg.Point{X: a.X + t*dx, Y: a.Y + t*dy}, true
}

func segmentLength(a, b vg.Point) vg.Length {
	return vg.Length(math.Hypot(float64(b.X-a.X), float64(b.Y-a.Y)))
}

// PixelX is the image x, in pixels (fractional), of time t in seconds
// since time 0; it may lie outside the data area.
func (f *ChartFrame) PixelX(t float64) float64 {
	if f.XMaxS == f.XMinS {
		return f.left
	}
	return f.left + (t-f.XMinS)/(f.XMaxS-f.XMinS)*(f.right-f.left)
}

// TimeAt is the time, in seconds since time 0, at the centre of pixel
// column x.
func (f *ChartFrame) TimeAt(x int) float64 {
	if f.right == f.left {
		return f.XMinS
	}
	return f.XMinS + (float64(x)+0.5-f.left)/(f.right-f.left)*(f.XMaxS-f.XMinS)
}

// At reads the chart at pixel (x, y) of the image, as under the mouse:
// the time there, each line's sample at that time and the nearest event
// mark within a few pixels. ok is false outside the data area.
func (f *ChartFrame) At(x, y int) (r Readout, ok bool) {
	if !image.Pt(x, y).In(f.Data) {
		return Readout{}, false
	}
	cx, cy := float64(x)+0.5, float64(y)+0.5
	t := f.TimeAt(x)
	r = Readout{TimeS: t, Clock: Clock(f.ClockS + t)}
	if f.bottom > f.top {
		r.Y = f.YMin + (f.bottom-cy)/(f.bottom-f.top)*(f.YMax-f.YMin)
	}
	for _, l := range f.lines {
		v := LineValue{Label: l.Label, Series: l.Series, Run: l.Run, Unit: f.Unit, Color: l.color, Dashed: l.dashed,
			Index: sampleAt(t, l.SampleS, len(l.Values)), Value: math.NaN(), Text: "–"}
		if v.Index >= 0 {
			v.Value = l.Values[v.Index]
			v.Text = FormatValue(v.Value, f.Unit)
		}
		r.Values = append(r.Values, v)
	}
	best := float64(eventPickPx)
	for i, e := range f.events {
		if e.TimeS < f.XMinS || e.TimeS > f.XMaxS {
			continue // not drawn
		}
		if d := math.Abs(f.PixelX(e.TimeS) - cx); d <= best {
			best = d
			r.Event = &f.events[i]
		}
	}
	if r.Event != nil {
		e := *r.Event // the caller's to keep; the frame's stays as it is
		r.Event = &e
	}
	return r, true
}

// sampleAt is the index of the sample covering time t (sample i covers
// (i·s, (i+1)·s]; time 0 belongs to the first), or -1 when there is no
// such sample among n.
func sampleAt(t, s float64, n int) int {
	s = sampleOr1(s)
	i := int(math.Ceil(t/s)) - 1
	if i < 0 {
		i = 0
	}
	if i >= n {
		return -1
	}
	return i
}
