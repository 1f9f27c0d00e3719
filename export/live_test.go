package export

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"

	"stormglass/app/runner"
)

// liveResult is a hand-made result: one series per name, each of the
// given values, sampled every sample seconds over horizon seconds, with
// the clock starting at 02:00.
func liveResult(horizon, sample float64, unit string, series map[string][]float64, events ...runner.EventResult) *runner.Result {
	r := &runner.Result{Scenario: "live", ClockS: 2 * 3600, HorizonS: horizon, SampleS: sample, Replications: 1, Events: events}
	// In a fixed order: Charts keeps the result's order.
	for _, name := range []string{"requests", "goodput", "latency_p50", "latency_p90", "latency_p95", "latency_p99", "cpu", "errors"} {
		if v, ok := series[name]; ok {
			r.Series = append(r.Series, runner.SeriesResult{Name: name, Unit: unit, Values: v})
		}
	}
	return r
}

// chart is the result's chart named name.
func chart(t testing.TB, r *runner.Result, name string) Chart {
	t.Helper()
	for _, c := range Charts(r) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s chart", name)
	return Chart{}
}

func render(t testing.TB, c Chart, w, h int, opt RenderOptions) (image.Image, *ChartFrame) {
	t.Helper()
	img, f, err := RenderChart(c, w, h, fonts(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	return img, f
}

// near reports whether a is within 40 of b in every channel: the line's
// colour, allowing for antialiasing at its edges.
func near(a color.Color, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	d := func(x, y uint32) bool { return max(x, y)-min(x, y) <= 40<<8 }
	return d(r1, r2) && d(g1, g2) && d(b1, b2)
}

// save keeps an image for a person to look at when STORMGLASS_ARTIFACTS
// is set.
func save(t *testing.T, name string, img image.Image) {
	d := os.Getenv("STORMGLASS_ARTIFACTS")
	if d == "" {
		return
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(d, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestLiveSize: the image is exactly the size asked for, with a data
// area inside it; sizes too small to draw are refused.
func TestLiveSize(t *testing.T) {
	r := liveResult(3600, 10, "/s", map[string][]float64{"requests": constant(360, 5), "goodput": constant(360, 4)})
	c := chart(t, r, "load")
	for _, sz := range []image.Point{{MinLiveWidth, MinLiveHeight}, {320, 200}, {333, 217}, {800, 400}, {1600, 900}} {
		img, f := render(t, c, sz.X, sz.Y, RenderOptions{})
		if got := img.Bounds(); got != (image.Rectangle{Max: sz}) {
			t.Errorf("%v: image bounds %v", sz, got)
		}
		if f.Size != sz {
			t.Errorf("%v: frame size %v", sz, f.Size)
		}
		if d := f.Data; d.Empty() || !d.In(img.Bounds()) || d.Dx() < sz.X/2 || d.Dy() < sz.Y/4 {
			t.Errorf("%v: data area %v", sz, d)
		}
	}
	for _, sz := range []image.Point{{0, 0}, {MinLiveWidth - 1, 200}, {320, MinLiveHeight - 1}, {-5, 200}, {MaxLiveSide + 1, 200}} {
		if _, _, err := RenderChart(c, sz.X, sz.Y, fonts(t), RenderOptions{}); !errors.Is(err, ErrChartSize) {
			t.Errorf("%v: %v, want ErrChartSize", sz, err)
		}
	}
}

// TestLiveReadout: a series of 10 for the first half hour and 20 for the
// second reads 10 left of the step and 20 right of it; the step's column,
// found in the image's pixels, reads the step's time; the event's mark
// reads the event; outside the data area reads nothing.
func TestLiveReadout(t *testing.T) {
	const sample = 10.0
	vals := constant(360, 10)
	for i := 180; i < 360; i++ {
		vals[i] = 20
	}
	r := liveResult(3600, sample, "/s", map[string][]float64{"requests": vals},
		runner.EventResult{TimeS: 900, Kind: "fault", Text: "database db restarts"})
	img, f := render(t, chart(t, r, "load"), 800, 400, RenderOptions{})
	save(t, "live-readout", img)
	if f.XMinS != 0 || f.XMaxS != 3600 {
		t.Fatalf("x range %v..%v, want 0..3600", f.XMinS, f.XMaxS)
	}
	perPx := (f.XMaxS - f.XMinS) / float64(f.Data.Dx())
	midY := (f.Data.Min.Y + f.Data.Max.Y) / 2

	// The step in the image: the first column where the line's colour is
	// drawn near the level of 20, the top of the data area (10 is at its
	// middle).
	step := -1
	for x := f.Data.Min.X; x < f.Data.Max.X && step < 0; x++ {
		for y := f.Data.Min.Y; y < f.Data.Min.Y+f.Data.Dy()/4; y++ {
			if near(img.At(x, y), palette[0]) {
				step = x
				break
			}
		}
	}
	if step < 0 {
		t.Fatal("the line never reaches 20 in the image")
	}
	rd, ok := f.At(step, midY)
	if !ok {
		t.Fatalf("At(%d, %d) outside the data area %v", step, midY, f.Data)
	}
	if math.Abs(rd.TimeS-1800) > sample+2*perPx {
		t.Errorf("the step is drawn at column %d, which reads %v s, want 1800 s", step, rd.TimeS)
	}

	for _, tc := range []struct {
		t    float64
		want float64
		text string
	}{{450, 10, "10 /s"}, {1700, 10, "10 /s"}, {1900, 20, "20 /s"}, {3500, 20, "20 /s"}} {
		x := int(f.PixelX(tc.t))
		rd, ok := f.At(x, midY)
		if !ok {
			t.Fatalf("At(%d, %d) for %v s: outside %v", x, midY, tc.t, f.Data)
		}
		if math.Abs(rd.TimeS-tc.t) > sample {
			t.Errorf("column %d: time %v s, want %v s", x, rd.TimeS, tc.t)
		}
		if len(rd.Values) != 1 {
			t.Fatalf("%v s: %d values", tc.t, len(rd.Values))
		}
		v := rd.Values[0]
		if v.Value != tc.want || v.Text != tc.text || v.Label != "requests" || v.Unit != "/s" || v.Color != palette[0] {
			t.Errorf("%v s: %+v, want %v (%q)", tc.t, v, tc.want, tc.text)
		}
		if v.Index != int(math.Ceil(rd.TimeS/sample))-1 {
			t.Errorf("%v s: sample %d", rd.TimeS, v.Index)
		}
		if want := Clock(2*3600 + rd.TimeS); rd.Clock != want {
			t.Errorf("%v s: clock %q, want %q", rd.TimeS, rd.Clock, want)
		}
		if rd.Event != nil {
			t.Errorf("%v s: event %+v far from any mark", tc.t, rd.Event)
		}
	}

	ex := int(f.PixelX(900))
	for _, dx := range []int{-2, 0, 2} {
		rd, ok := f.At(ex+dx, midY)
		if !ok || rd.Event == nil || rd.Event.Label != "1" || rd.Event.Text != "database db restarts" || rd.Event.Kind != "fault" {
			t.Errorf("At(%d) beside the event's mark at %d: %+v %v", ex+dx, ex, rd.Event, ok)
		}
	}
	if rd, _ := f.At(ex+12, midY); rd.Event != nil {
		t.Errorf("12 pixels from the mark: event %+v", rd.Event)
	}

	// The y readout: the data area's top is its y maximum.
	if rd, _ := f.At(f.Data.Min.X+5, f.Data.Min.Y); math.Abs(rd.Y-f.YMax) > (f.YMax-f.YMin)/float64(f.Data.Dy()) {
		t.Errorf("top row reads %v, want %v", rd.Y, f.YMax)
	}

	for _, p := range []image.Point{{0, 0}, {f.Data.Min.X - 2, midY}, {f.Data.Max.X + 1, midY},
		{(f.Data.Min.X + f.Data.Max.X) / 2, f.Data.Min.Y - 2}, {(f.Data.Min.X + f.Data.Max.X) / 2, f.Data.Max.Y + 1}, {799, 399}} {
		if rd, ok := f.At(p.X, p.Y); ok {
			t.Errorf("At(%v) outside %v: %+v", p, f.Data, rd)
		}
	}
}

// TestLiveReadoutUndecimated: where a line is drawn from a few hundred
// buckets, a readout still gives the sample under the pointer: sample i
// is i here, so a bucket's minimum or maximum would be tens off.
func TestLiveReadoutUndecimated(t *testing.T) {
	const n, sample = 36000, 0.1
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = float64(i)
	}
	r := liveResult(n*sample, sample, "/s", map[string][]float64{"requests": vals})
	_, f := render(t, chart(t, r, "load"), 400, 250, RenderOptions{})
	if f.drawn >= n/10 {
		t.Fatalf("%d points drawn: not decimated", f.drawn)
	}
	y := (f.Data.Min.Y + f.Data.Max.Y) / 2
	for x := f.Data.Min.X; x < f.Data.Max.X; x++ {
		rd, ok := f.At(x, y)
		if !ok {
			t.Fatalf("At(%d, %d) outside %v", x, y, f.Data)
		}
		v := rd.Values[0]
		if want := math.Max(math.Ceil(rd.TimeS/sample)-1, 0); v.Value != want || v.Index != int(want) {
			t.Fatalf("column %d, %v s: sample %d = %v, want %v", x, rd.TimeS, v.Index, v.Value, want)
		}
	}
}

// TestLiveDecimationKeepsPeak: a single spike among 50,000 points is
// drawn, at its own time, from at most two points per pixel column.
func TestLiveDecimationKeepsPeak(t *testing.T) {
	const n, spike = 50000, 31234
	vals := constant(n, 1)
	vals[spike] = 1000
	r := liveResult(n, 1, "/s", map[string][]float64{"requests": vals})
	const w, h = 800, 400
	img, f := render(t, chart(t, r, "load"), w, h, RenderOptions{})
	save(t, "live-peak", img)
	if f.drawn > 2*w {
		t.Errorf("%d points drawn for %d pixel columns", f.drawn, w)
	}
	if f.YMax < 1000 {
		t.Errorf("y axis up to %v: the spike was lost", f.YMax)
	}
	// The top fifth of the data area holds the line only at the spike.
	sx := f.PixelX(spike + 1)
	found := false
	for y := f.Data.Min.Y; y < f.Data.Min.Y+f.Data.Dy()/5; y++ {
		for x := f.Data.Min.X; x < f.Data.Max.X; x++ {
			if !near(img.At(x, y), palette[0]) {
				continue
			}
			if math.Abs(float64(x)+0.5-sx) > 3 {
				t.Fatalf("line colour at (%d, %d), far from the spike at x=%.1f", x, y, sx)
			}
			found = true
		}
	}
	if !found {
		t.Error("the spike is not drawn in the top of the data area")
	}
}

// TestLiveEdgeCases: a replay's first frames (no, one or two points),
// all-zero and non-finite values chart without panicking, give an image
// of the size asked, and keep the x axis on the whole horizon.
func TestLiveEdgeCases(t *testing.T) {
	inf := math.Inf(1)
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		values []float64
		charts int
	}{
		{"empty", nil, 0},
		{"one", []float64{3}, 1},
		{"two", []float64{3, 4}, 1},
		{"zeros", constant(100, 0), 1},
		{"nan", []float64{1, nan, 2, nan}, 1},
		{"inf", []float64{1, inf, -inf, 2}, 1},
		{"all-nan", []float64{nan, nan, nan}, 1},
		{"negative", []float64{-5, 5, -inf}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A partial result from a live session gives the time so far
			// as its horizon; the app passes the replay's.
			r := liveResult(float64(len(tc.values))*10, 10, "/s", map[string][]float64{"requests": tc.values, "goodput": tc.values},
				runner.EventResult{TimeS: 5, Kind: "fault", Text: "early"}, runner.EventResult{TimeS: 3000, Kind: "fault", Text: "later"})
			charts := Charts(r)
			if len(charts) != tc.charts {
				t.Fatalf("%d charts, want %d", len(charts), tc.charts)
			}
			if len(charts) == 0 {
				// Before the first sample there is nothing to choose a
				// chart by; a chart of empty lines still draws.
				charts = []Chart{{Name: "load", Title: "Load", Unit: "/s", Lines: []ChartLine{{Label: "requests", Series: "requests", SampleS: 10}}}}
			}
			for _, c := range charts {
				for _, sz := range []image.Point{{320, 200}, {800, 400}} {
					img, f, err := RenderChart(c, sz.X, sz.Y, fonts(t), RenderOptions{HorizonS: 3600, Cursor: true, CursorS: float64(len(tc.values)) * 10})
					if err != nil {
						t.Fatal(err)
					}
					if img.Bounds().Size() != sz {
						t.Errorf("%v: image %v", sz, img.Bounds())
					}
					if f.XMinS != 0 || f.XMaxS != 3600 {
						t.Errorf("x range %v..%v, want the horizon 0..3600", f.XMinS, f.XMaxS)
					}
					if math.IsNaN(f.YMin) || math.IsInf(f.YMax, 0) || f.YMax <= f.YMin {
						t.Errorf("y range %v..%v", f.YMin, f.YMax)
					}
					for x := f.Data.Min.X; x < f.Data.Max.X; x += 7 {
						if _, ok := f.At(x, f.Data.Min.Y+1); !ok {
							t.Fatalf("At(%d) inside the data area %v: not ok", x, f.Data)
						}
					}
					// Past the points so far there is no sample.
					if rd, _ := f.At(f.Data.Max.X-1, f.Data.Min.Y+1); len(rd.Values) == 0 || rd.Values[0].Index != -1 || rd.Values[0].Text != "–" {
						t.Errorf("past the last point: %+v", rd.Values)
					}
				}
			}
		})
	}
}

// TestLiveHorizon: as a replay advances, the x axis stays on the
// horizon, whether the result or the options give it.
func TestLiveHorizon(t *testing.T) {
	full := make([]float64, 360)
	for i := range full {
		full[i] = float64(i % 37)
	}
	for _, n := range []int{1, 2, 36, 180, 360} {
		byResult := liveResult(3600, 10, "/s", map[string][]float64{"requests": full[:n]})
		_, f := render(t, chart(t, byResult, "load"), 640, 320, RenderOptions{})
		bySession := liveResult(float64(n)*10, 10, "/s", map[string][]float64{"requests": full[:n]})
		_, g := render(t, chart(t, bySession, "load"), 640, 320, RenderOptions{HorizonS: 3600})
		for _, fr := range []*ChartFrame{f, g} {
			if fr.XMinS != 0 || fr.XMaxS != 3600 {
				t.Errorf("%d points: x range %v..%v, want 0..3600", n, fr.XMinS, fr.XMaxS)
			}
		}
	}
}

// TestLiveCursor: the cursor changes only a narrow band around its
// time's column, and a cursor off the axis changes nothing.
func TestLiveCursor(t *testing.T) {
	vals := make([]float64, 720)
	for i := range vals {
		vals[i] = 50 + 40*math.Sin(float64(i)/30)
	}
	r := liveResult(7200, 10, "/s", map[string][]float64{"requests": vals, "goodput": constant(720, 30)},
		runner.EventResult{TimeS: 2000, Kind: "fault", Text: "x"})
	c := chart(t, r, "load")
	const at = 3000.0
	plain, f := render(t, c, 800, 400, RenderOptions{})
	with, g := render(t, c, 800, 400, RenderOptions{Cursor: true, CursorS: at})
	save(t, "live-cursor", with)
	if f.Data != g.Data || f.XMaxS != g.XMaxS || f.YMax != g.YMax {
		t.Fatalf("the cursor moved the data area: %v %v", f, g)
	}
	cx := g.PixelX(at)
	rows := map[int]bool{}
	b := plain.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if plain.At(x, y) == with.At(x, y) {
				continue
			}
			if math.Abs(float64(x)+0.5-cx) > 2 {
				t.Fatalf("pixel (%d, %d) changed, %.1f pixels from the cursor at x=%.1f", x, y, float64(x)+0.5-cx, cx)
			}
			rows[y] = true
		}
	}
	if len(rows) < f.Data.Dy()*9/10 {
		t.Errorf("the cursor changed %d rows of the data area's %d", len(rows), f.Data.Dy())
	}
	off, _ := render(t, c, 800, 400, RenderOptions{Cursor: true, CursorS: 9000})
	if !sameImage(plain, off) {
		t.Error("a cursor past the axis changed the image")
	}
}

// TestLiveConcurrent: charts render on several goroutines at once with
// shared fonts, and frames are read on goroutines other than the one that
// rendered them (run with -race).
func TestLiveConcurrent(t *testing.T) {
	f := fonts(t)
	vals := make([]float64, 3600)
	for i := range vals {
		vals[i] = float64(i % 100)
	}
	r := liveResult(3600, 1, "s", map[string][]float64{"latency_p50": vals, "latency_p99": vals, "requests": vals})
	charts := Charts(r)
	frames := make(chan *ChartFrame, 4*len(charts))
	var wg sync.WaitGroup
	for range 4 {
		for _, c := range charts {
			wg.Go(func() {
				_, fr, err := RenderChart(c, 480, 300, f, RenderOptions{Cursor: true, CursorS: 100})
				if err != nil {
					t.Error(err)
					return
				}
				frames <- fr
			})
		}
	}
	wg.Wait()
	close(frames)
	var readers sync.WaitGroup
	for fr := range frames {
		readers.Go(func() {
			if _, ok := fr.At(fr.Data.Min.X+10, fr.Data.Min.Y+10); !ok {
				t.Error("At inside the data area: not ok")
			}
		})
	}
	readers.Wait()
}

// BenchmarkRenderChartLive renders a day-long chart of four lines of
// 32,400 points each at 800×400, as a live view does each frame.
func BenchmarkRenderChartLive(b *testing.B) {
	f := fonts(b)
	series := map[string][]float64{}
	for k, name := range []string{"latency_p50", "latency_p90", "latency_p95", "latency_p99"} {
		v := make([]float64, 32400)
		for i := range v {
			v[i] = float64(k+1) * (0.2 + 0.1*math.Sin(float64(i)/500) + 0.05*math.Sin(float64(i)*1.7))
		}
		series[name] = v
	}
	r := liveResult(32400*2.5, 2.5, "s", series,
		runner.EventResult{TimeS: 20000, Kind: "fault", Text: "a"}, runner.EventResult{TimeS: 50000, Kind: "set", Text: "b"})
	c := chart(b, r, "latency")
	if len(c.Lines) != 4 {
		b.Fatalf("%d lines", len(c.Lines))
	}
	var drawn int
	for b.Loop() {
		_, fr, err := RenderChart(c, 800, 400, f, RenderOptions{Cursor: true, CursorS: 40000})
		if err != nil {
			b.Fatal(err)
		}
		drawn = fr.drawn
	}
	b.ReportMetric(float64(drawn), "points/frame")
}

// TestLivePieces: a long polyline stroked in pieces looks as it does
// stroked whole: a gently sloping line is the same to the pixel (no seam
// shows where pieces meet), no join is lost (a wide zigzag turns at every
// point) and a dashed line keeps its dash phase across pieces. Segments
// of one path that overlap share their antialiased edges, and those of
// separate strokes blend them, a shade lighter, so where a line doubles
// back on itself a few edge pixels may differ.
func TestLivePieces(t *testing.T) {
	var wave, zigzag, flat vg.Path
	for i := range 400 {
		pt := vg.Point{X: vg.Length(10 + i), Y: vg.Length(150 + 100*math.Sin(float64(i)*1.3))}
		zz := vg.Point{X: vg.Length(10 + i), Y: vg.Length(100 + 80*(i%2))}
		fl := vg.Point{X: vg.Length(10 + float64(i)*1.01), Y: vg.Length(100 + float64(i)*0.07 + 3*math.Sin(float64(i)/40))}
		if i == 0 {
			wave.Move(pt)
			zigzag.Move(zz)
			flat.Move(fl)
		} else {
			wave.Line(pt)
			zigzag.Line(zz)
			flat.Line(fl)
		}
	}
	for _, tc := range []struct {
		name   string
		path   vg.Path
		width  vg.Length
		dashes []vg.Length
		per    int // at most one differing pixel per this many inked
	}{
		{"flat", flat, 1.2, nil, math.MaxInt},
		{"joins", zigzag, 6, nil, 1000},
		{"solid", wave, 1.2, nil, 200},
		{"dashed", wave, 1.2, []vg.Length{vg.Points(5), vg.Points(2.5)}, 200},
	} {
		draw := func(pieces bool) image.Image {
			cv := vgimg.NewWith(vgimg.UseWH(420, 300), vgimg.UseDPI(72), vgimg.UseBackgroundColor(color.White))
			var c vg.Canvas = cv
			if pieces {
				c = &pieceCanvas{Canvas: cv}
			}
			c.SetColor(palette[0])
			c.SetLineWidth(tc.width)
			c.SetLineDash(tc.dashes, 0)
			c.Stroke(tc.path)
			return cv.Image()
		}
		whole, pieced := draw(false), draw(true)
		inked, differ := 0, 0
		b := whole.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				w, p := whole.At(x, y), pieced.At(x, y)
				if w != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
					inked++
				}
				if !near(w, p) {
					differ++
				}
			}
		}
		if inked == 0 || differ > inked/tc.per {
			t.Errorf("%s: %d of %d inked pixels differ", tc.name, differ, inked)
		}
	}
}

// TestLiveTwoRuns: a chart overlaying two runs reads both, each keyed to
// the legend: the same colour for the same series, the second dashed.
func TestLiveTwoRuns(t *testing.T) {
	a := liveResult(3600, 10, "/s", map[string][]float64{"requests": constant(360, 10)})
	b := liveResult(3600, 10, "/s", map[string][]float64{"requests": constant(180, 30)})
	b.Variant = "remediated"
	var c Chart
	for _, ch := range Charts(a, b) {
		if ch.Name == "load" {
			c = ch
		}
	}
	img, f := render(t, c, 640, 360, RenderOptions{})
	save(t, "live-two-runs", img)
	rd, ok := f.At(int(f.PixelX(900)), (f.Data.Min.Y+f.Data.Max.Y)/2)
	if !ok || len(rd.Values) != 2 {
		t.Fatalf("readout %+v %v", rd, ok)
	}
	first, second := rd.Values[0], rd.Values[1]
	if first.Value != 10 || first.Run != 0 || first.Dashed || second.Value != 30 || second.Run != 1 || !second.Dashed ||
		first.Color != palette[0] || second.Color != palette[0] || second.Label != "requests (remediated)" {
		t.Errorf("readout %+v", rd.Values)
	}
	// The second run stops at half time: past it, no sample.
	if rd, _ := f.At(int(f.PixelX(2700)), f.Data.Min.Y+1); rd.Values[0].Value != 10 || rd.Values[1].Index != -1 {
		t.Errorf("past the second run's points: %+v", rd.Values)
	}
}
