package export

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
)

// chartImage renders c as PNG and decodes it; the PNG is also left in the
// artifacts directory under name, to look at.
func chartImage(t *testing.T, c Chart, f *Fonts, dir, name string) image.Image {
	t.Helper()
	var b bytes.Buffer
	if err := WriteChartPNG(&b, c, f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// TestChartCJK shows that chart text in Chinese is drawn with glyphs:
// two titles (and two legend entries) of equal length in different
// characters give different images, where a font without the glyphs draws
// the same .notdef box for every character and so the same image. The
// control renders with such a font to show that the comparison can fail.
func TestChartCJK(t *testing.T) {
	f := fonts(t)
	dir := artifacts(t)
	base := Charts(run(t, "checkout", "incident", 0))[0]

	// noCJK has no font with Chinese: DejaVu Sans stands in for the
	// fallback.
	noCJK := &Fonts{Regular: f.Regular, Bold: f.Bold, CJK: f.Regular}

	titled := func(title string) Chart {
		c := base
		c.Title = title
		return c
	}
	for _, tc := range []struct{ name, a, b string }{
		{"title", "容量报告", "事故回放"},
		// Latin inside a Chinese label: Droid Sans Fallback has no Latin
		// glyphs, so a label set in it alone would lose the digits.
		{"mixed", "容量 p98", "容量 p99"},
	} {
		a := chartImage(t, titled(tc.a), f, dir, "chart-cjk-"+tc.name+"-a")
		b := chartImage(t, titled(tc.b), f, dir, "chart-cjk-"+tc.name+"-b")
		if sameImage(a, b) {
			t.Errorf("%s: titles %q and %q drew the same chart: the glyphs are missing", tc.name, tc.a, tc.b)
		}
	}
	if !sameImage(chartImage(t, titled("容量报告"), noCJK, dir, "chart-nocjk-a"), chartImage(t, titled("事故回放"), noCJK, dir, "chart-nocjk-b")) {
		t.Error("control: without Chinese glyphs the two titles still drew different charts, so the comparison proves nothing")
	}

	// The legend: a two-run chart names each run's variant.
	r1, r2 := run(t, "checkout", "incident", 0), run(t, "checkout", "remediated", 0)
	legend := func(variant string) Chart {
		r2.Variant = variant
		return Charts(r1, r2)[0]
	}
	if sameImage(chartImage(t, legend("修复方案"), f, dir, "chart-cjk-legend-a"), chartImage(t, legend("扩容方案"), f, dir, "chart-cjk-legend-b")) {
		t.Error("the legend entries 修复方案 and 扩容方案 drew the same chart: the glyphs are missing")
	}

	// SVG names the fallback font for the Chinese run only.
	var svg bytes.Buffer
	if err := WriteChartSVG(&svg, titled("容量 p99"), f); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{">容量</text>", "> p99</text>", "font-family:Droid Sans Fallback", "font-family:DejaVu Sans"} {
		if !strings.Contains(svg.String(), w) {
			t.Errorf("SVG lacks %q", w)
		}
	}

	// Rendering left gonum/plot's package-level fonts alone.
	if font.DefaultCache.Has(font.Font{Typeface: chartTypeface}) || font.DefaultCache.Has(font.Font{Typeface: chartCJKTypeface}) {
		t.Error("the report's fonts were added to font.DefaultCache")
	}
	if plot.DefaultFont.Typeface != "Liberation" {
		t.Errorf("plot.DefaultFont is %v", plot.DefaultFont)
	}
	if _, ok := plot.DefaultTextHandler.(chartText); ok {
		t.Error("plot.DefaultTextHandler was replaced")
	}
}

// TestChartLatinLayout checks that a Latin label is drawn by text.Plain
// unchanged: the handler hands it over whole.
func TestChartLatinLayout(t *testing.T) {
	th := newChartText(fonts(t))
	sty := th.style(plot.New().Title.TextStyle, false, 10)
	for _, s := range []string{"Load and throughput", "latency_p99 — µs ≤ 2", ""} {
		if _, ok := th.split(s, sty.Font); ok {
			t.Errorf("%q was split into runs", s)
		}
		w, h, d := th.Box(s, sty.Font)
		pw, ph, pd := th.plain.Box(s, sty.Font)
		if w != pw || h != ph || d != pd {
			t.Errorf("%q: box %v %v %v, text.Plain's %v %v %v", s, w, h, d, pw, ph, pd)
		}
	}
	runs, ok := th.split("p99 容量", sty.Font)
	if !ok || len(runs) != 2 || runs[0].face.Font.Typeface != chartTypeface || runs[1].face.Font.Typeface != chartCJKTypeface {
		t.Errorf("split(p99 容量) = %v", runs)
	}
}
