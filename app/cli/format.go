package cli

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"stormglass/app/runner"
	"stormglass/knob"
)

// fmtValue writes a value in its unit for people: 123.4 ms, 10.02 /s, 0.5833.
func fmtValue(x float64, unit string) string {
	if math.IsNaN(x) {
		return "–"
	}
	scale, suffix := unitScale(x, unit)
	return strconv.FormatFloat(x*scale, 'g', 4, 64) + suffix
}

// fmtCI writes an interval in the unit its mean is shown in.
func fmtCI(st *runner.Stat) string {
	if st.CI95 == nil {
		return ""
	}
	scale, _ := unitScale(st.Mean, st.Unit)
	return "[" + strconv.FormatFloat(st.CI95[0]*scale, 'g', 4, 64) + ", " + strconv.FormatFloat(st.CI95[1]*scale, 'g', 4, 64) + "]"
}

// halfWidth writes ±h in the unit the mean is shown in.
func halfWidth(st *runner.Stat) string {
	if st.CI95 == nil {
		return ""
	}
	scale, _ := unitScale(st.Mean, st.Unit)
	return " ±" + strconv.FormatFloat((st.CI95[1]-st.CI95[0])/2*scale, 'g', 2, 64)
}

// unitScale is the factor and suffix fmtValue uses for x.
func unitScale(x float64, unit string) (float64, string) {
	switch {
	case unit == "s" && x != 0 && math.Abs(x) < 1:
		return 1000, " ms"
	case unit == "s":
		return 1, " s"
	case unit == "/s":
		return 1, " /s"
	}
	return 1, ""
}

// theoryMark says whether the closed form lies inside the interval.
func theoryMark(st *runner.Stat) string {
	if st.Theory == nil || st.CI95 == nil {
		return ""
	}
	if st.CI95[0] <= *st.Theory && *st.Theory <= st.CI95[1] {
		return "inside CI"
	}
	return "OUTSIDE CI"
}

func writeTable(w io.Writer, r *runner.Result) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s · %s\n", r.Scenario, r.Title)
	variant := r.Variant
	if r.VariantTitle != "" {
		variant += " (" + r.VariantTitle + ")"
	}
	fmt.Fprintf(ew, "variant %s · seed %d · %d replications of %s", variant, r.Seed, r.Replications, fmtSeconds(r.HorizonS))
	if r.WarmupS > 0 {
		fmt.Fprintf(ew, ", measured after a %s warm-up", fmtSeconds(r.WarmupS))
	}
	fmt.Fprintln(ew)
	var changed []string
	for _, k := range r.Knobs {
		if k.Changed {
			changed = append(changed, k.Name+"="+k.Value)
		}
	}
	if len(changed) > 0 {
		fmt.Fprintf(ew, "knobs changed from their defaults: %s\n", strings.Join(changed, ", "))
	}
	if r.Theory != "" {
		fmt.Fprintf(ew, "closed form: %s\n", r.Theory)
	}
	fmt.Fprintln(ew)

	inside, total := 0, 0
	count := func(st *runner.Stat) {
		if m := theoryMark(st); m != "" {
			total++
			if m == "inside CI" {
				inside++
			}
		}
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	head := "METRIC\tMEAN\t95% CI\t"
	if r.Theory != "" {
		head += "THEORY\t\t"
	}
	fmt.Fprintln(tw, head+"DISTRIBUTION")
	for _, name := range r.MetricNames() {
		st, ok := r.Metrics[name]
		if !ok {
			continue
		}
		row := fmt.Sprintf("%s\t%s\t%s\t", name, fmtValue(st.Mean, st.Unit), fmtCI(st))
		if r.Theory != "" {
			th := ""
			if st.Theory != nil {
				th = fmtValue(*st.Theory, st.Unit)
			}
			row += th + "\t" + theoryMark(st) + "\t"
			count(st)
		}
		if st.P50 != nil {
			row += fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s", fmtValue(*st.P50, st.Unit), fmtValue(*st.P95, st.Unit),
				fmtValue(*st.P99, st.Unit), fmtValue(*st.Max, st.Unit))
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	fmt.Fprintln(ew)

	fields := []struct{ key, head string }{
		{"arrival_rate", "ARRIVALS"}, {"throughput", "THROUGHPUT"}, {"utilization", "UTILIZATION"},
		{"wait_mean", "WAIT"}, {"response_mean", "RESPONSE"}, {"response_p99", "RESPONSE P99"},
		{"queue_mean", "QUEUE"}, {"blocked_fraction", "BLOCKED"},
	}
	writeStations(ew, r, fields, count)
	if total > 0 {
		fmt.Fprintf(ew, "\n%d of %d closed-form values inside their 95%% interval (about 1 in 20 may fall outside by chance).\n", inside, total)
	}

	if len(r.SLOs) > 0 {
		fmt.Fprintln(ew, "\nOBJECTIVES")
		for _, s := range r.SLOs {
			bound := ""
			if s.Min != nil {
				bound += " ≥ " + fmtValue(*s.Min, s.Unit)
			}
			if s.Max != nil {
				bound += " ≤ " + fmtValue(*s.Max, s.Unit)
			}
			ci := ""
			if s.CI95 != nil {
				ci = fmt.Sprintf(" [%s, %s]", fmtValue(s.CI95[0], s.Unit), fmtValue(s.CI95[1], s.Unit))
			}
			fmt.Fprintf(ew, "  %-9s  %s: %s %s = %s%s, objective%s\n", strings.ToUpper(s.Verdict), s.Name, s.Metric, s.Stat,
				fmtValue(s.Value, s.Unit), ci, bound)
		}
	}
	if len(r.Events) > 0 {
		fmt.Fprintln(ew, "\nTIMELINE (first replication)")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, e := range r.Events {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", fmtSeconds(e.TimeS), e.Kind, e.Text)
		}
		tw.Flush()
	}
	return ew.err
}

func fmtSeconds(s float64) string {
	return knob.DurationValue(time.Duration(math.Round(s * 1e9))).String()
}

// errWriter keeps the first write error, so table code need not check
// each Fprintf.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func writeCompareTable(w io.Writer, c *runner.Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s · %s\nA = %s, B = %s", c.Scenario, c.A.Title, c.A.Variant, c.B.Variant)
	if c.Diff != nil {
		fmt.Fprintf(ew, " · seed %d · %d paired replications of %s\n\n", c.A.Seed, c.A.Replications, fmtSeconds(c.A.HorizonS))
	} else {
		fmt.Fprintf(ew, " · seeds %d and %d, %d and %d replications: not paired, so no differences with intervals\n\n",
			c.A.Seed, c.B.Seed, c.A.Replications, c.B.Replications)
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "METRIC\tA: %s\tB: %s\tB − A\t95%% CI\tCHANGE\t\n", c.A.Variant, c.B.Variant)
	for _, name := range c.A.MetricNames() {
		a, b, d := c.A.Lookup(name), c.B.Lookup(name), c.Diff[name]
		bv, diff, ci, change, sig := "–", "", "", "", ""
		if b != nil {
			bv = fmtValue(b.Mean, b.Unit)
		}
		if d != nil {
			diff = fmtValue(d.Mean, a.Unit)
			if d.CI95 != nil {
				ci = "[" + strconv.FormatFloat(d.CI95[0], 'g', 3, 64) + ", " + strconv.FormatFloat(d.CI95[1], 'g', 3, 64) + "]"
			}
			if d.Relative != nil {
				change = fmt.Sprintf("%+.1f%%", 100**d.Relative)
			}
			if d.Significant {
				sig = "*"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, fmtValue(a.Mean, a.Unit), bv, diff, ci, change, sig)
	}
	tw.Flush()
	if c.Diff != nil {
		fmt.Fprintln(ew, "\n* the 95% interval of the paired difference excludes zero.")
	}
	for _, pair := range []*runner.Result{c.A, c.B} {
		if len(pair.SLOs) == 0 {
			continue
		}
		fmt.Fprintf(ew, "\nOBJECTIVES, %s:", pair.Variant)
		for _, s := range pair.SLOs {
			fmt.Fprintf(ew, " %s %s;", s.Name, strings.ToUpper(s.Verdict))
		}
		fmt.Fprintln(ew)
	}
	return ew.err
}

// writeStations prints the per-station table of a queueing-network run;
// a run without stations prints nothing.
func writeStations(ew io.Writer, r *runner.Result, fields []struct{ key, head string }, count func(*runner.Stat)) {
	if len(r.StationNames()) == 0 {
		return
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	h := "STATION\t"
	for _, f := range fields {
		h += f.head + "\t"
	}
	fmt.Fprintln(tw, h)
	for _, name := range r.StationNames() {
		row, theory := name+"\t", "  theory\t"
		hasTheory := false
		for _, f := range fields {
			st := r.Stations[name][f.key]
			cell := fmtValue(st.Mean, st.Unit) + halfWidth(st)
			row += cell + "\t"
			if st.Theory != nil {
				hasTheory = true
				theory += fmtValue(*st.Theory, st.Unit)
				if m := theoryMark(st); m == "OUTSIDE CI" {
					theory += " (outside)"
				}
				count(st)
			}
			theory += "\t"
		}
		fmt.Fprintln(tw, row)
		if hasTheory {
			fmt.Fprintln(tw, theory)
		}
	}
	tw.Flush()
}
