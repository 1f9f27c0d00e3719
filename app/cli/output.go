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

	"stormglass/app/jobs"
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
		if err := jobs.CheckDir(out); err != nil {
			return nil, usagef("flag --out: %v", err)
		}
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
func (d *destination) write(res *jobs.Results, stdout, stderr io.Writer) error {
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

func (d *destination) encode(w io.Writer, format string, res *jobs.Results, stderr io.Writer) error {
	two := len(res.Runs) == 2
	switch format {
	case formatPDF:
		return d.pdf(w, res, stderr)
	case formatSeries:
		if two {
			return usagef("flag --format series: the series CSV holds one run; name a directory with --out to get one per run")
		}
		return jobs.Encode(w, jobs.SeriesCSV, res, jobs.WriteOptions{})
	case formatJSON:
		return jobs.Encode(w, jobs.JSON, res, jobs.WriteOptions{})
	case formatCSV:
		return jobs.Encode(w, jobs.FiguresCSV, res, jobs.WriteOptions{})
	}
	if two {
		return writeCompareTable(w, res.Comparison())
	}
	return writeTable(w, res.Runs[0])
}

// pdf renders the capacity report, with a progress bar: charts at 200 DPI
// take a few seconds.
func (d *destination) pdf(w io.Writer, res *jobs.Results, stderr io.Writer) error {
	bar := newProgressBar(stderr, "writing the report", 1, d.quiet)
	defer bar.done()
	return jobs.Encode(w, jobs.PDF, res, d.writeOptions(bar))
}

// writeOptions are the report's fonts and date, with its rendering
// followed on bar.
func (d *destination) writeOptions(bar *progressBar) jobs.WriteOptions {
	return jobs.WriteOptions{
		Fonts:     d.fonts,
		Generated: reportTime(),
		Progress: func(done, total int) {
			bar.setTotal(total)
			bar.set(done)
		},
	}
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

// writeDir writes every format into the directory d.out (see
// jobs.WriteDir), with the report's rendering on a progress bar.
func (d *destination) writeDir(res *jobs.Results, stderr io.Writer) ([]string, error) {
	bar := newProgressBar(stderr, "writing the report", 1, d.quiet)
	defer bar.done()
	return jobs.WriteDir(d.out, res, d.writeOptions(bar))
}

// execute runs one plan or two (paired, on common random numbers) with a
// progress bar, and keeps each run in history unless --no-history.
func execute(ctx context.Context, plans []*scenarios.Plan, f *runFlags, stderr io.Writer) (*jobs.Results, error) {
	opt := jobs.Options{Warn: func(err error) { fmt.Fprintf(stderr, "warning: %v\n", err) }}
	if !f.noHistory {
		store, err := f.db.open()
		if err != nil {
			fmt.Fprintf(stderr, "warning: not kept in run history: %v\n", err)
		} else {
			defer store.Close()
			opt.Store = store
		}
	}
	label := "simulating " + plans[0].Scenario.Meta.Name
	if len(plans) == 2 {
		label = "comparing " + plans[0].Scenario.Meta.Name
	}
	bar := newProgressBar(stderr, label, 1000, f.quiet)
	opt.Progress = func(x float64) { bar.set(int(x * 1000)) }
	res, err := jobs.Execute(ctx, plans, opt)
	bar.done()
	return res, err
}
