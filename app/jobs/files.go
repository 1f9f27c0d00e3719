package jobs

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"stormglass/app/runner"
	"stormglass/export"
)

// Format is a kind of file a job's results are written as.
type Format string

// The formats Encode writes.
const (
	PDF        Format = "pdf"    // the capacity report
	JSON       Format = "json"   // the result, or the comparison of two
	FiguresCSV Format = "csv"    // one row per figure; with two runs, their differences
	SeriesCSV  Format = "series" // one run's time series
)

// WriteOptions are what the formats need besides the results.
type WriteOptions struct {
	// Fonts are the report's and charts' fonts; nil loads the defaults.
	Fonts *export.Fonts
	// Generated is the report's date (see export.Report).
	Generated time.Time
	// Progress, when set, follows the report's rendering (see
	// export.Report.Progress), the slow part of writing.
	Progress func(done, total int)
}

// ErrSeriesOneRun is returned for a series CSV of two runs: the file
// holds one run's series.
var ErrSeriesOneRun = errors.New("the series CSV holds one run")

// Encode writes res to w in format f.
func Encode(w io.Writer, f Format, res *Results, opt WriteOptions) error {
	two := len(res.Runs) == 2
	switch f {
	case PDF:
		return export.WritePDF(w, export.Report{
			Runs: res.Runs, Differences: res.Diff, Generated: opt.Generated,
			Fonts: opt.Fonts, Progress: opt.Progress,
		})
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if two {
			return enc.Encode(res.Comparison())
		}
		return enc.Encode(res.Runs[0])
	case FiguresCSV:
		if two {
			return writeComparisonCSV(w, res.Comparison())
		}
		return writeFiguresCSV(w, res.Runs[0])
	case SeriesCSV:
		if two {
			return ErrSeriesOneRun
		}
		return export.WriteSeriesCSV(w, res.Runs[0])
	}
	return fmt.Errorf("jobs: unknown format %q", f)
}

// File is a file being written whole: the bytes go to a temporary file
// in the same directory, which Commit renames into place and Abort
// removes.
type File struct {
	*os.File
	final string
}

// Create starts writing path. The file is an ordinary one (mode 0644),
// readable as any other the user writes.
func Create(path string) (*File, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: expected a file path", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	// CreateTemp makes the file private (0600).
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &File{File: tmp, final: path}, nil
}

// Path is where the file will be once committed.
func (f *File) Path() string { return f.final }

// Commit puts the file in place.
func (f *File) Commit() error {
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("writing %s: %w", f.final, err)
	}
	if err := os.Rename(f.File.Name(), f.final); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("writing %s: %w", f.final, unwrapPathError(err))
	}
	return nil
}

// Abort drops the partial file; the file at the path, if any, is as it
// was.
func (f *File) Abort() {
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes path whole with write, or leaves it as it was.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// CheckDir makes dir if need be and checks that files can be written in
// it, so that a long job finds out before it starts rather than after.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot make directory %s: %w", dir, unwrapPathError(err))
	}
	probe, err := os.CreateTemp(dir, ".stormglass-probe-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, unwrapPathError(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// WriteDir writes every format into dir: the report (report.pdf), the
// result (result.json, or comparison.json for two runs), the figures
// (figures.csv), each run's series (series.csv, or series-VARIANT.csv
// for two runs) and each chart as PNG and SVG (charts/). It returns the
// names written, relative to dir.
func WriteDir(dir string, res *Results, opt WriteOptions) ([]string, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	var files []string
	put := func(name string, f Format, res *Results) error {
		err := WriteFile(filepath.Join(dir, name), func(w io.Writer) error { return Encode(w, f, res, opt) })
		if err != nil {
			return err
		}
		files = append(files, name)
		return nil
	}
	jsonName := "result.json"
	if len(res.Runs) == 2 {
		jsonName = "comparison.json"
	}
	for _, f := range []struct {
		name   string
		format Format
	}{{"report.pdf", PDF}, {jsonName, JSON}, {"figures.csv", FiguresCSV}} {
		if err := put(f.name, f.format, res); err != nil {
			return files, err
		}
	}
	labels := RunLabels(res.Runs)
	for i, r := range res.Runs {
		name := "series.csv"
		if len(res.Runs) == 2 {
			name = "series-" + labels[i] + ".csv"
		}
		if err := put(name, SeriesCSV, &Results{Runs: []*runner.Result{r}}); err != nil {
			return files, err
		}
	}
	charts, err := export.WriteCharts(filepath.Join(dir, "charts"), []string{"png", "svg"}, opt.Fonts, res.Runs...)
	if err != nil {
		return files, err
	}
	if len(charts) > 0 {
		files = append(files, fmt.Sprintf("charts/ (%d files)", len(charts)))
	}
	return files, nil
}

// RunLabels names runs for file names: by variant, numbered when two
// variants are the same.
func RunLabels(runs []*runner.Result) []string {
	labels := make([]string, len(runs))
	for i, r := range runs {
		labels[i] = FileSafe(r.Variant)
	}
	if len(runs) == 2 && labels[0] == labels[1] {
		labels[0] += "-1"
		labels[1] += "-2"
	}
	return labels
}

// FileSafe keeps letters and digits (any script), '-' and '_', and turns
// anything else into '_', so a variant name cannot reach outside a
// directory or upset a shell.
func FileSafe(s string) string {
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

// DefaultName is a file name for results: SCENARIO-VARIANT[-vs-VARIANT]
// with ext (".pdf"), as the report command names its reports.
func DefaultName(res *Results, ext string) string {
	name := FileSafe(res.Runs[0].Scenario)
	for i, r := range res.Runs {
		if i == 1 {
			name += "-vs"
		}
		name += "-" + FileSafe(r.Variant)
	}
	return name + ext
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var csvHeader = []string{"kind", "name", "field", "unit", "mean", "ci95_lo", "ci95_hi", "min", "max", "p50", "p95", "p99", "theory"}

func num(x *float64) string {
	if x == nil {
		return ""
	}
	return strconv.FormatFloat(*x, 'g', -1, 64)
}

func statRow(kind, name, field string, st *runner.Stat) []string {
	lo, hi := "", ""
	if st.CI95 != nil {
		lo, hi = num(&st.CI95[0]), num(&st.CI95[1])
	}
	return []string{kind, name, field, st.Unit, num(&st.Mean), lo, hi, num(st.Min), num(st.Max), num(st.P50), num(st.P95), num(st.P99), num(st.Theory)}
}

// writeFiguresCSV writes one row per metric and per station field.
func writeFiguresCSV(w io.Writer, r *runner.Result) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, name := range r.MetricNames() {
		if st, ok := r.Metrics[name]; ok {
			cw.Write(statRow("metric", name, "", st))
		}
	}
	for _, name := range r.StationNames() {
		for _, f := range StationFields(r, name) {
			cw.Write(statRow("station", name, f, r.Stations[name][f]))
		}
	}
	cw.Flush()
	return cw.Error()
}

// StationFields lists a station's fields in the result's metric order.
func StationFields(r *runner.Result, station string) []string {
	var out []string
	for _, m := range r.MetricNames() {
		if f, ok := strings.CutPrefix(m, "station."+station+"."); ok && !strings.Contains(f, ".") {
			out = append(out, f)
		}
	}
	return out
}

// writeComparisonCSV writes one row per metric: both means and the
// paired difference.
func writeComparisonCSV(w io.Writer, c *runner.Comparison) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"metric", "unit", "a_mean", "b_mean", "diff_mean", "diff_ci95_lo", "diff_ci95_hi", "relative", "significant"})
	for _, name := range c.A.MetricNames() {
		a, b, d := c.A.Lookup(name), c.B.Lookup(name), c.Diff[name]
		row := []string{name, a.Unit, num(&a.Mean), "", "", "", "", "", ""}
		if b != nil {
			row[3] = num(&b.Mean)
		}
		if d != nil {
			row[4], row[7], row[8] = num(&d.Mean), num(d.Relative), strconv.FormatBool(d.Significant)
			if d.CI95 != nil {
				row[5], row[6] = num(&d.CI95[0]), num(&d.CI95[1])
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
