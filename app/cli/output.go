package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"stormglass/app/history"
	"stormglass/app/runner"
	"stormglass/export"
	"stormglass/scenarios"
)

// The formats a result is written in. formatDir is a directory holding
// every other format at once.
const (
	formatTable  = "table"
	formatJSON   = "json"
	formatCSV    = "csv"
	formatSeries = "series"
	formatPDF    = "pdf"
	formatDir    = "directory"
)

// formatNames is what --format accepts, for its help and its errors.
const formatNames = "table, json, csv, series or pdf"

// chooseFormat decides the format from --format, else from --out: a
// directory (one that exists, or a path ending in /) takes every format,
// .json, .csv and .pdf their own, and anything else fallback.
func chooseFormat(format, out, fallback string) (string, error) {
	if isDirPath(out) {
		if format != "" {
			return "", usagef("flag --format %s: --out %s is a directory, which gets every format: drop --format or name a file", format, out)
		}
		return formatDir, nil
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".png", ".svg":
		if format == "" {
			return "", usagef("flag --out %s: a run has several charts: name a directory (--out charts/) to get each as PNG and SVG", out)
		}
	}
	if format == "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".json":
			format = formatJSON
		case ".csv":
			format = formatCSV
		case ".pdf":
			format = formatPDF
		default:
			format = fallback
		}
	}
	switch format {
	case formatTable, formatJSON, formatCSV, formatSeries, formatPDF:
		return format, nil
	}
	return "", usagef("flag --format: %q: expected %s", format, formatNames)
}

// isDirPath reports whether --out names a directory.
func isDirPath(out string) bool {
	if out == "" {
		return false
	}
	if strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator)) {
		return true
	}
	st, err := os.Stat(out)
	return err == nil && st.IsDir()
}

// results are what a command produced: one run, or two of one scenario
// with their paired differences when the replications pair up.
type results struct {
	runs []*runner.Result
	diff map[string]*runner.Diff // nil: one run, or two that cannot be paired
}

func (r *results) comparison() *runner.Comparison {
	return &runner.Comparison{Scenario: r.runs[0].Scenario, A: r.runs[0], B: r.runs[1], Diff: r.diff}
}

// destination is where and how results go; prepare checks it before a
// long run, so that a path that cannot be written or missing report fonts
// are found in a second rather than after an hour.
type destination struct {
	format string
	out    string // "" = standard output
	quiet  bool
	fonts  *export.Fonts
}

func prepare(format, out string, quiet bool) (*destination, error) {
	d := &destination{format: format, out: out, quiet: quiet}
	if format == formatPDF || format == formatDir {
		fonts, err := export.DefaultFonts()
		if err != nil {
			return nil, fmt.Errorf("%w (make deps installs fonts-dejavu-core and fonts-droid-fallback)", err)
		}
		d.fonts = fonts
	}
	switch {
	case format == formatDir:
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, usagef("flag --out: cannot make directory %s: %v", out, unwrapPathError(err))
		}
		probe, err := os.CreateTemp(out, ".stormglass-probe-*")
		if err != nil {
			return nil, usagef("flag --out: cannot write in %s: %v", out, unwrapPathError(err))
		}
		probe.Close()
		os.Remove(probe.Name())
	case out != "":
		o, err := openOutput(out, io.Discard)
		if err != nil {
			return nil, err
		}
		o.abort()
	}
	return d, nil
}

// write writes res; a file appears complete or not at all.
func (d *destination) write(res *results, stdout, stderr io.Writer) error {
	start := time.Now()
	if d.format == formatDir {
		files, err := d.writeDir(res, stderr)
		if err != nil {
			return err
		}
		if !d.quiet {
			fmt.Fprintf(stderr, "wrote %d files to %s in %.1fs: %s\n", len(files), d.out, time.Since(start).Seconds(), strings.Join(files, ", "))
		}
		return nil
	}
	o, err := openOutput(d.out, stdout)
	if err != nil {
		return err
	}
	if err := d.encode(o.w, d.format, res, stderr); err != nil {
		o.abort()
		return err
	}
	if err := o.commit(); err != nil {
		return err
	}
	if d.out != "" && !d.quiet {
		fmt.Fprintf(stderr, "wrote %s (%s) in %.1fs\n", d.out, d.format, time.Since(start).Seconds())
	}
	return nil
}

func (d *destination) encode(w io.Writer, format string, res *results, stderr io.Writer) error {
	two := len(res.runs) == 2
	switch {
	case format == formatPDF:
		return d.pdf(w, res, stderr)
	case format == formatSeries && two:
		return usagef("flag --format series: the series CSV holds one run; name a directory with --out to get one per run")
	case format == formatSeries:
		return export.WriteSeriesCSV(w, res.runs[0])
	case format == formatJSON && two:
		return writeJSON(w, res.comparison())
	case format == formatJSON:
		return writeJSON(w, res.runs[0])
	case format == formatCSV && two:
		return writeCompareCSV(w, res.comparison())
	case format == formatCSV:
		return writeCSV(w, res.runs[0])
	case two:
		return writeCompareTable(w, res.comparison())
	default:
		return writeTable(w, res.runs[0])
	}
}

// pdf renders the capacity report, with a progress bar: charts at 200 DPI
// take a few seconds.
func (d *destination) pdf(w io.Writer, res *results, stderr io.Writer) error {
	bar := newProgressBar(stderr, "writing the report", 1, d.quiet)
	defer bar.done()
	return export.WritePDF(w, export.Report{
		Runs:        res.runs,
		Differences: res.diff,
		Generated:   reportTime(),
		Fonts:       d.fonts,
		Progress: func(done, total int) {
			bar.setTotal(total)
			bar.set(done)
		},
	})
}

// reportTime is the date a report is made: now, or SOURCE_DATE_EPOCH
// (seconds since 1970) when set, the convention for reproducible builds,
// so that a report can be made byte for byte again.
func reportTime() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC()
		}
	}
	return time.Now()
}

// writeDir writes every format into the directory d.out: the report, the
// result as JSON, the figures as CSV, each run's series as CSV, and each
// chart as PNG and SVG. It returns the names written, relative to d.out.
func (d *destination) writeDir(res *results, stderr io.Writer) ([]string, error) {
	var files []string
	put := func(name, format string, res *results) error {
		path := filepath.Join(d.out, name)
		o, err := openOutput(path, nil)
		if err != nil {
			return err
		}
		if err := d.encode(o.w, format, res, stderr); err != nil {
			o.abort()
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := o.commit(); err != nil {
			return err
		}
		files = append(files, name)
		return nil
	}
	jsonName := "result.json"
	if len(res.runs) == 2 {
		jsonName = "comparison.json"
	}
	for _, f := range []struct{ name, format string }{
		{"report.pdf", formatPDF}, {jsonName, formatJSON}, {"figures.csv", formatCSV},
	} {
		if err := put(f.name, f.format, res); err != nil {
			return files, err
		}
	}
	labels := runLabels(res.runs)
	for i, r := range res.runs {
		name := "series.csv"
		if len(res.runs) == 2 {
			name = "series-" + labels[i] + ".csv"
		}
		if err := put(name, formatSeries, &results{runs: []*runner.Result{r}}); err != nil {
			return files, err
		}
	}
	charts, err := export.WriteCharts(filepath.Join(d.out, "charts"), []string{"png", "svg"}, d.fonts, res.runs...)
	if err != nil {
		return files, err
	}
	if len(charts) > 0 {
		files = append(files, fmt.Sprintf("charts/ (%d files)", len(charts)))
	}
	return files, nil
}

// runLabels names two runs for file names: by variant, numbered when the
// variants are the same.
func runLabels(runs []*runner.Result) []string {
	labels := make([]string, len(runs))
	for i, r := range runs {
		labels[i] = fileSafe(r.Variant)
	}
	if len(runs) == 2 && labels[0] == labels[1] {
		labels[0] += "-1"
		labels[1] += "-2"
	}
	return labels
}

// fileSafe keeps letters and digits (any script), '-' and '_', and turns
// anything else into '_', so a variant name cannot reach outside the
// directory or upset a shell.
func fileSafe(s string) string {
	safe := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if safe == "" {
		return "run"
	}
	return safe
}

// execute runs one plan or two (paired, on common random numbers) with a
// progress bar, and keeps each run in history.
func execute(ctx context.Context, plans []*scenarios.Plan, f *runFlags, stderr io.Writer) (*results, error) {
	recs := make([]*recorder, len(plans))
	for i, p := range plans {
		recs[i] = startRecording(ctx, &f.db, !f.noHistory, history.MetaFromPlan(p), stderr)
	}
	label := "simulating " + plans[0].Scenario.Meta.Name
	if len(plans) == 2 {
		label = "comparing " + plans[0].Scenario.Meta.Name
	}
	bar := newProgressBar(stderr, label, 1000, f.quiet)
	progress := runner.Options{Progress: func(x float64) { bar.set(int(x * 1000)) }}
	start := time.Now()
	var res *results
	var err error
	if len(plans) == 1 {
		var r *runner.Result
		r, err = runner.Run(ctx, plans[0], progress)
		res = &results{runs: []*runner.Result{r}}
	} else {
		var c *runner.Comparison
		c, err = runner.Compare(ctx, plans[0], plans[1], progress)
		if err == nil {
			res = &results{runs: []*runner.Result{c.A, c.B}, diff: c.Diff}
		}
	}
	bar.done()
	// Compare runs the two one after the other: each gets half the time.
	wall := time.Since(start) / time.Duration(len(plans))
	for i, rec := range recs {
		var r *runner.Result
		if err == nil {
			r = res.runs[i]
		}
		rec.finish(ctx, r, err, wall)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", plans[0].Scenario.File, err)
	}
	return res, nil
}
