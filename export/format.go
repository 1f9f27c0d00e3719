package export

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"stormglass/app/runner"
)

// FormatValue formats a figure as the report prints it: four significant
// digits without an exponent, then the unit ("89.64 s", "312.4 /s",
// "0.01234"). A time under a second is in ms or µs ("497.9 µs"), one over
// ten minutes in min or h ("3.303 h", not "11890 s"), so a reader never
// counts digits. A fraction has no unit.
func FormatValue(v float64, unit string) string {
	scale, unit := scaleUnit(v, unit)
	s := formatNumber(v * scale)
	if unit == "" {
		return s
	}
	return s + " " + unit
}

// scaleUnit picks the factor and unit a time of about v seconds is shown
// in; other units are shown as they are.
func scaleUnit(v float64, unit string) (float64, string) {
	if unit != "s" || v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1, unit
	}
	switch a := math.Abs(v); {
	case a < 1e-3:
		return 1e6, "µs"
	case a < 1:
		return 1e3, "ms"
	case a >= 2*3600:
		return 1.0 / 3600, "h"
	case a >= 600:
		return 1.0 / 60, "min"
	}
	return 1, unit
}

func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	case v == 0:
		return "0"
	}
	mag := int(math.Floor(math.Log10(math.Abs(v))))
	dec := 3 - mag
	if dec < 0 {
		dec = 0
	}
	if dec > 8 {
		dec = 8
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// FormatStat formats a metric as "mean [lo, hi] unit", the interval shown
// when the run has one.
func FormatStat(st *runner.Stat) string {
	if st == nil {
		return "–"
	}
	return formatWithCI(st.Mean, st.CI95, st.Unit)
}

func formatWithCI(v float64, ci *[2]float64, unit string) string {
	// The interval is in the mean's unit; a zero mean takes the unit of
	// the interval's wider end.
	ref := v
	if ref == 0 && ci != nil {
		ref = max(math.Abs(ci[0]), math.Abs(ci[1]))
	}
	scale, unit := scaleUnit(ref, unit)
	s := formatNumber(v * scale)
	if ci != nil && (ci[0] != v || ci[1] != v) {
		s += " [" + formatNumber(ci[0]*scale) + ", " + formatNumber(ci[1]*scale) + "]"
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

// formatDiff formats a paired difference as "mean [lo, hi] unit (rel %)":
// "-21.23 [-27.92, -14.53] s (-98.5 %)", "+3.1 [1.2, 5] /s (+4.2 %)". A
// rise carries its sign, since a difference reads as a direction; the
// percentage, relative to the first run's figure, appears when that
// figure is not zero. The interval is not cut at zero, as a figure's is:
// a difference may be negative.
func formatDiff(d *runner.Diff, unit string) string {
	if d == nil {
		return "–"
	}
	s := formatWithCI(d.Mean, d.CI95, unit)
	if d.Mean > 0 {
		s = "+" + s
	}
	if d.Relative != nil && !math.IsNaN(*d.Relative) && !math.IsInf(*d.Relative, 0) {
		p := FormatPercent(*d.Relative)
		if *d.Relative > 0 {
			p = "+" + p
		}
		s += " (" + p + ")"
	}
	return s
}

// Clock formats seconds since midnight as HH:MM:SS, wrapping at 24 h.
func Clock(s float64) string {
	t := int64(math.Floor(s))
	t %= 86400
	if t < 0 {
		t += 86400
	}
	return fmt.Sprintf("%02d:%02d:%02d", t/3600, t/60%60, t%60)
}

// clockHM formats seconds since midnight as HH:MM.
func clockHM(s float64) string { return Clock(s)[:5] }

// Duration formats seconds the way the CLI's --until reads them: 2h, 10m,
// 90s.
func Duration(s float64) string {
	switch {
	case s > 0 && math.Mod(s, 3600) == 0:
		return strconv.FormatFloat(s/3600, 'f', -1, 64) + "h"
	case s > 0 && math.Mod(s, 60) == 0:
		return strconv.FormatFloat(s/60, 'f', -1, 64) + "m"
	}
	return strconv.FormatFloat(s, 'f', -1, 64) + "s"
}

// SLOTarget formats an objective's bound: "≤ 2 s", "≥ 0.99".
func SLOTarget(s runner.SLOResult) string {
	var parts []string
	if s.Min != nil {
		parts = append(parts, "≥ "+FormatValue(*s.Min, s.Unit))
	}
	if s.Max != nil {
		parts = append(parts, "≤ "+FormatValue(*s.Max, s.Unit))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, " and ")
}

// RerunCommand is the command that runs r again: the scenario, variant,
// seed, replications and horizon, then a --set for each knob the run's
// command set over the variant (KnobResult.Set), in the order of r.Knobs.
func RerunCommand(r *runner.Result) string {
	name := r.Scenario
	if r.File != "" && !strings.HasPrefix(r.File, "builtin:") {
		name = r.File
	}
	if name == "" {
		name = "SCENARIO"
	}
	cmd := "stormglass run " + shellQuote(name)
	if r.Variant != "" {
		cmd += " --variant " + shellQuote(r.Variant)
	}
	cmd += fmt.Sprintf(" --seed %d --replications %d", r.Seed, r.Replications)
	if r.HorizonS > 0 {
		cmd += " --until " + Duration(r.HorizonS)
	}
	for _, k := range r.Knobs {
		if k.Set {
			cmd += " --set " + shellQuote(k.Name+"="+k.Value)
		}
	}
	return cmd
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+=,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
