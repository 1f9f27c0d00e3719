package export

import (
	"math"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// The typefaces of the charts' font cache.
const (
	chartTypeface    font.Typeface = "DejaVu Sans"
	chartCJKTypeface font.Typeface = "Droid Sans Fallback"
)

// chartText is the charts' text handler. gonum/plot's text.Plain sets a
// label in the one font of its style, but neither report font covers
// every label: DejaVu Sans has no Chinese, and Droid Sans Fallback has no
// Latin letters or digits at all, so "latency_p99 (事故回放)" would lose
// one half to empty boxes in either. chartText splits a label into runs by
// font, as the PDF's own text is split, and draws each run in its font; a
// label DejaVu covers entirely is handed to text.Plain unchanged.
//
// Its font cache is built per call from the report's Fonts, not added to
// gonum/plot's font.DefaultCache, so that rendering a chart changes no
// package-level state and two calls with different fonts cannot interfere.
type chartText struct {
	fonts *Fonts
	plain text.Plain
}

var _ text.Handler = chartText{}

// newChartText builds the handler for fonts, which must be parsed.
func newChartText(f *Fonts) chartText {
	cache := font.NewCache(font.Collection{
		// The first face is the cache's default typeface.
		{Font: font.Font{Typeface: chartTypeface}, Face: f.regular},
		{Font: font.Font{Typeface: chartTypeface, Weight: xfont.WeightBold}, Face: f.bold},
		// Droid Sans Fallback has no bold: the cache falls back to regular.
		{Font: font.Font{Typeface: chartCJKTypeface}, Face: f.cjk},
	})
	return chartText{fonts: f, plain: text.Plain{Fonts: cache}}
}

// style is a text style in DejaVu Sans at size, drawn by h.
func (h chartText) style(s text.Style, bold bool, size vg.Length) text.Style {
	s.Font = font.Font{Typeface: chartTypeface, Size: size}
	if bold {
		s.Font.Weight = xfont.WeightBold
	}
	s.Handler = h
	return s
}

// Cache implements text.Handler.
func (h chartText) Cache() *font.Cache { return h.plain.Fonts }

// Extents implements text.Handler: those of the style's font, so that
// labels in one style share a baseline whatever their script.
func (h chartText) Extents(fnt font.Font) font.Extents { return h.plain.Extents(fnt) }

// Lines implements text.Handler.
func (h chartText) Lines(txt string) []string { return h.plain.Lines(txt) }

// faceRun is a stretch of a label and the face it is drawn in.
type faceRun struct {
	text string
	face font.Face
}

// split splits one line into runs by font; ok is false when DejaVu covers
// the whole line, which text.Plain then draws.
func (h chartText) split(line string, fnt font.Font) (runs []faceRun, ok bool) {
	rs := h.fonts.runs(line)
	for _, r := range rs {
		ok = ok || r.cjk
	}
	if !ok {
		return nil, false
	}
	for _, r := range rs {
		f := fnt
		if r.cjk {
			f.Typeface = chartCJKTypeface
		}
		runs = append(runs, faceRun{r.text, h.plain.Fonts.Lookup(f, fnt.Size)})
	}
	return runs, true
}

// Box implements text.Handler: the runs' widths added, the tallest
// ascent and the deepest descent.
func (h chartText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	runs, ok := h.split(txt, fnt)
	if !ok {
		return h.plain.Box(txt, fnt)
	}
	for _, r := range runs {
		e := r.face.Extents()
		width += r.face.Width(r.text)
		height = max(height, e.Ascent)
		depth = max(depth, e.Descent)
	}
	return width, height, depth
}

// Draw implements text.Handler. It places lines as text.Plain does (the
// same rotation, alignment and baseline arithmetic, from the style's
// font), so a label's position does not depend on its script; only the
// glyphs of each run come from its own font.
func (h chartText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	txt = strings.TrimRight(txt, "\n")
	if len(txt) == 0 {
		return
	}
	lines := h.Lines(txt)
	mixed := false
	for _, l := range lines {
		if _, ok := h.split(l, sty.Font); ok {
			mixed = true
			break
		}
	}
	if !mixed {
		h.plain.Draw(c, txt, sty, pt)
		return
	}
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		c.Rotate(sty.Rotation)
	}
	sin64, cos64 := math.Sincos(sty.Rotation)
	cos, sin := vg.Length(cos64), vg.Length(sin64)
	pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin
	base := h.plain.Fonts.Lookup(sty.Font, sty.Font.Size)
	pt.Y += sty.Height(txt)*vg.Length(sty.YAlign) - base.Extents().Ascent
	for i, line := range lines {
		runs, ok := h.split(line, sty.Font)
		if !ok {
			runs = []faceRun{{line, base}}
		}
		var w vg.Length
		for _, r := range runs {
			w += r.face.Width(r.text)
		}
		p := pt.Add(vg.Point{X: vg.Length(sty.XAlign) * w, Y: vg.Length(len(lines)-i) * sty.Font.Size})
		for _, r := range runs {
			c.FillString(r.face, p, r.text)
			p.X += r.face.Width(r.text)
		}
	}
	if sty.Rotation != 0 {
		c.Pop()
	}
}
