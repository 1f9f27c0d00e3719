package export

import (
	"io"
	"testing"

	"stormglass/app/runner"
)

// BenchmarkWritePDF times the report of a realistic run: the built-in
// scenario with the most charts (six), over its full horizon, alone and
// compared with its remediation with paired differences. "charts" times
// the chart rendering alone, the part Progress steps through one by one.
func BenchmarkWritePDF(b *testing.B) {
	f := fonts(b)
	a := run(b, "reactive-outage-2025", "incident", 0)
	r := run(b, "reactive-outage-2025", "remediated", 0)
	diffs, err := runner.Differences(a, r)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("one", func(b *testing.B) {
		for b.Loop() {
			if err := WritePDF(io.Discard, Report{Runs: []*runner.Result{a}, Generated: generated, Fonts: f}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two", func(b *testing.B) {
		for b.Loop() {
			if err := WritePDF(io.Discard, Report{Runs: []*runner.Result{a, r}, Generated: generated, Fonts: f, Differences: diffs}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("charts", func(b *testing.B) {
		th := newChartText(f)
		charts := Charts(a)
		for b.Loop() {
			for i, c := range charts {
				if _, err := chartPNG(c, i, th); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
