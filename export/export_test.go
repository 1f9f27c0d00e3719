package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"image"
	_ "image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"stormglass/app/runner"
	"stormglass/scenarios"
)

var (
	runsMu sync.Mutex
	runs   = map[string]*runner.Result{}
)

// run runs a built-in scenario once per test binary; callers get a copy
// of the Result's top level so they may change its title.
func run(t testing.TB, name, variant string, horizon time.Duration) *runner.Result {
	t.Helper()
	key := name + "/" + variant + "/" + horizon.String()
	runsMu.Lock()
	defer runsMu.Unlock()
	if r, ok := runs[key]; ok {
		c := *r
		return &c
	}
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sc.Plan(scenarios.PlanOptions{Variant: variant, Replications: 2, Horizon: horizon})
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.Run(context.Background(), plan, runner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs[key] = r
	c := *r
	return &c
}

var generated = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func fonts(t testing.TB) *Fonts {
	t.Helper()
	f, err := DefaultFonts()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed (poppler-utils): %v", name, err)
	}
}

func artifacts(t *testing.T) string {
	if d := os.Getenv("STORMGLASS_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func writePDF(t *testing.T, path string, rep Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WritePDF(&b, rep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func pages(t *testing.T, path string) int {
	t.Helper()
	for _, l := range strings.Split(tool(t, "pdfinfo", path), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("pdfinfo printed no page count")
	return 0
}

// squash removes the spaces pdftotext -layout puts between columns and
// inside wrapped cells, so a figure can be found whatever the layout.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

func TestPDFReport(t *testing.T) {
	needTool(t, "pdftotext")
	r := run(t, "customer-service-chat", "remediated", 10*time.Minute)
	r.Title = "客服系统：广播与缓存雪崩"
	dir := artifacts(t)
	path := filepath.Join(dir, "report.pdf")
	b := writePDF(t, path, Report{Runs: []*runner.Result{r}, Generated: generated, Fonts: fonts(t)})
	n := pages(t, path)
	t.Logf("%s: %d pages, %d bytes", path, n, len(b))
	if n < 5 || n > 14 {
		t.Errorf("%d pages, want 5 to 14", n)
	}
	if len(b) > 3<<20 {
		t.Errorf("PDF is %d bytes, want under 3 MiB", len(b))
	}
	text := tool(t, "pdftotext", "-layout", path, "-")
	flat := squash(text)
	want := []string{r.Title, r.ScenarioSHA256, "Seed", strconv.FormatUint(r.Seed, 10), RerunCommand(r), "Page 1/" + strconv.Itoa(n)}
	for _, s := range r.SLOs {
		want = append(want, s.Name, formatWithCI(s.Value, s.CI95, s.Unit), s.Verdict)
	}
	changed := 0
	for _, k := range r.Knobs {
		if k.Changed {
			want = append(want, k.Name)
			changed++
		}
	}
	if changed == 0 {
		t.Error("the remediated variant changes no knob: the test checks nothing")
	}
	load, _ := loadSeries(r)
	if load == nil {
		t.Fatal("no load series")
	}
	v, _ := peak(load)
	want = append(want, FormatValue(v, load.Unit))
	for _, name := range r.MetricOrder[:5] {
		want = append(want, FormatStat(r.Lookup(name)))
	}
	for _, w := range want {
		if !strings.Contains(flat, squash(w)) {
			t.Errorf("pdftotext output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("text:\n%s", text)
	}
	fontsOut := tool(t, "pdffonts", path)
	for _, f := range []string{"utf8dejavusans ", "utf8dejavusansB ", "utf8droidsansfallback "} {
		if !strings.Contains(fontsOut, f) {
			t.Errorf("pdffonts lacks %s:\n%s", f, fontsOut)
		}
	}
	for _, l := range strings.Split(fontsOut, "\n")[2:] {
		if f := strings.Fields(l); len(f) > 4 && !strings.Contains(l, " yes ") {
			t.Errorf("font not embedded: %s", l)
		}
	}
	if _, err := exec.LookPath("pdftoppm"); err == nil {
		tool(t, "pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "4", path, filepath.Join(dir, "report-page"))
		t.Logf("pages 1-4 as PNG in %s/report-page-*.png", dir)
	}
}

func TestPDFComparison(t *testing.T) {
	needTool(t, "pdftotext")
	a := run(t, "checkout", "incident", 0)
	b := run(t, "checkout", "remediated", 0)
	dir := artifacts(t)
	path := filepath.Join(dir, "comparison.pdf")
	data := writePDF(t, path, Report{Runs: []*runner.Result{a, b}, Generated: generated, Fonts: fonts(t)})
	n := pages(t, path)
	t.Logf("%s: %d pages, %d bytes", path, n, len(data))
	if n < 5 || n > 16 {
		t.Errorf("%d pages, want 5 to 16", n)
	}
	flat := squash(tool(t, "pdftotext", "-layout", path, "-"))
	want := []string{a.Variant, b.Variant, a.VariantTitle, b.VariantTitle, RerunCommand(a), RerunCommand(b), "The fix"}
	for _, k := range knobDiffs(a, b) {
		want = append(want, k)
	}
	for _, s := range b.SLOs {
		want = append(want, formatWithCI(s.Value, s.CI95, s.Unit))
	}
	for _, w := range want {
		if !strings.Contains(flat, squash(w)) {
			t.Errorf("pdftotext output lacks %q", w)
		}
	}
	if _, err := exec.LookPath("pdftoppm"); err == nil {
		tool(t, "pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "3", path, filepath.Join(dir, "comparison-page"))
	}
}

func TestPDFDeterministic(t *testing.T) {
	r := run(t, "websocket-3am", "incident", 10*time.Minute)
	f := fonts(t)
	var x bytes.Buffer
	if err := WritePDF(&x, Report{Runs: []*runner.Result{r}, Generated: generated, Fonts: f}); err != nil {
		t.Fatal(err)
	}
	// Several times: fpdf orders some objects starting from map order.
	for i := 0; i < 3; i++ {
		var y bytes.Buffer
		if err := WritePDF(&y, Report{Runs: []*runner.Result{r}, Generated: generated, Fonts: fonts(t)}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x.Bytes(), y.Bytes()) {
			t.Fatal("the same report gave different PDFs")
		}
	}
	var z bytes.Buffer
	if err := WritePDF(&z, Report{Runs: []*runner.Result{r}, Generated: generated.Add(time.Hour), Fonts: f}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(x.Bytes(), z.Bytes()) {
		t.Fatal("a different generation time gave the same PDF")
	}
}

func TestMissingFonts(t *testing.T) {
	dir := t.TempDir()
	_, err := FindFonts(FontSearch{EnvDir: filepath.Join(dir, "env"), Dirs: []string{dir}})
	if !errors.Is(err, ErrFontsMissing) {
		t.Fatalf("err = %v, want ErrFontsMissing", err)
	}
	msg := err.Error()
	for _, w := range []string{
		filepath.Join(dir, "env", RegularFontFile), filepath.Join(dir, RegularFontFile),
		filepath.Join(dir, BoldFontFile), filepath.Join(dir, CJKFontFile),
		"fonts-dejavu-core", "fonts-droid-fallback", FontsEnv,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q: %s", w, msg)
		}
	}
	// The environment variable's directory is searched first.
	t.Setenv(FontsEnv, dir)
	if _, err := DefaultFonts(); err != nil && !strings.Contains(err.Error(), filepath.Join(dir, RegularFontFile)) {
		t.Errorf("DefaultFonts did not search $%s: %v", FontsEnv, err)
	}
}

func TestEmptyResult(t *testing.T) {
	r := &runner.Result{Scenario: "empty", Variant: "base", SampleS: 1}
	var b bytes.Buffer
	if err := WritePDF(&b, Report{Runs: []*runner.Result{r}, Generated: generated, Fonts: fonts(t)}); err != nil {
		t.Fatal(err)
	}
	if err := WritePDF(&b, Report{Runs: []*runner.Result{r, r}, Generated: generated, Fonts: fonts(t)}); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := WriteSeriesCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "time_s,clock\n" {
		t.Errorf("CSV of an empty result = %q", got)
	}
	if c := Charts(r); len(c) != 0 {
		t.Errorf("charts of an empty result: %v", c)
	}
	if err := WritePDF(&b, Report{Generated: generated}); err == nil {
		t.Error("a report without runs gave no error")
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriterErrors(t *testing.T) {
	r := run(t, "checkout", "incident", 0)
	boom := errors.New("disk full")
	checks := map[string]func(io.Writer) error{
		"pdf": func(w io.Writer) error {
			return WritePDF(w, Report{Runs: []*runner.Result{r}, Generated: generated, Fonts: fonts(t)})
		},
		"csv": func(w io.Writer) error { return WriteSeriesCSV(w, r) },
		"png": func(w io.Writer) error { return WriteChartPNG(w, Charts(r)[0], fonts(t)) },
		"svg": func(w io.Writer) error { return WriteChartSVG(w, Charts(r)[0], fonts(t)) },
	}
	for name, f := range checks {
		if err := f(failWriter{boom}); !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want one wrapping %v", name, err, boom)
		}
	}
}

func TestSeriesCSV(t *testing.T) {
	r := run(t, "websocket-3am", "incident", 10*time.Minute)
	var b bytes.Buffer
	if err := WriteSeriesCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(r.Series[0].Values)+1 {
		t.Fatalf("%d rows, want %d", len(recs), len(r.Series[0].Values)+1)
	}
	if len(recs[0]) != 2+len(r.Series) {
		t.Fatalf("%d columns, want %d", len(recs[0]), 2+len(r.Series))
	}
	for j, s := range r.Series {
		h := s.Name
		if s.Unit != "" {
			h += " (" + s.Unit + ")"
		}
		if recs[0][2+j] != h {
			t.Errorf("column %d is %q, want %q", 2+j, recs[0][2+j], h)
		}
		for i, v := range s.Values {
			got, err := strconv.ParseFloat(recs[1+i][2+j], 64)
			if err != nil || got != v {
				t.Fatalf("%s[%d] = %q, want %v", s.Name, i, recs[1+i][2+j], v)
			}
		}
	}
	t0, _ := strconv.ParseFloat(recs[1][0], 64)
	if t0 != r.SampleS || recs[1][1] != Clock(r.ClockS+r.SampleS) {
		t.Errorf("first row %v, want time %v clock %s", recs[1][:2], r.SampleS, Clock(r.ClockS+r.SampleS))
	}
}

func TestCharts(t *testing.T) {
	for _, tc := range []struct {
		name, variant string
		horizon       time.Duration
		want          []string
	}{
		{"checkout", "incident", 0, []string{"load", "queue", "cpu", "errors"}},
		{"customer-service-chat", "incident", 10 * time.Minute, []string{"load", "latency", "errors"}},
		{"websocket-3am", "incident", 10 * time.Minute, []string{"load", "connections", "cpu"}},
		{"reactive-outage-2025", "incident", 10 * time.Minute, []string{"load", "connections", "queue", "cpu", "latency", "errors"}},
	} {
		r := run(t, tc.name, tc.variant, tc.horizon)
		dir := t.TempDir()
		paths, err := WriteCharts(dir, nil, fonts(t), r)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range Charts(r) {
			got[c.Name] = true
		}
		if len(got) > MaxCharts {
			t.Errorf("%s: %d charts", tc.name, len(got))
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("%s: no %s chart among %v", tc.name, w, got)
			}
		}
		if len(paths) != 2*len(got) {
			t.Errorf("%s: wrote %v", tc.name, paths)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			switch filepath.Ext(p) {
			case ".png":
				img, format, err := image.Decode(bytes.NewReader(data))
				if err != nil || format != "png" || img.Bounds().Dx() < 1000 {
					t.Errorf("%s: %v %s %v", p, err, format, img.Bounds())
				}
			case ".svg":
				dec := xml.NewDecoder(bytes.NewReader(data))
				root := ""
				for {
					tok, err := dec.Token()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%s: %v", p, err)
					}
					if se, ok := tok.(xml.StartElement); ok && root == "" {
						root = se.Name.Local
					}
				}
				if root != "svg" {
					t.Errorf("%s: root element %q", p, root)
				}
			}
		}
	}
}

func TestDecimate(t *testing.T) {
	vals := make([]float64, 10000)
	for i := range vals {
		vals[i] = float64(i % 100)
	}
	vals[5555] = 1e6
	xy := decimate(vals, 1, MaxPoints)
	if len(xy) > MaxPoints {
		t.Fatalf("%d points", len(xy))
	}
	found := false
	for i, p := range xy {
		if p.Y == 1e6 && p.X == 5556 {
			found = true
		}
		if i > 0 && p.X <= xy[i-1].X {
			t.Fatalf("x not increasing at %d", i)
		}
	}
	if !found {
		t.Error("the peak was lost")
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{89.64421728410295, "s", "89.64 s"}, {0, "", "0"}, {312.44, "/s", "312.4 /s"},
		{12345.6, "", "12346"}, {0.012345, "", "0.01235"}, {1, "", "1"}, {-2.5, "", "-2.5"},
		{0.0004979, "s", "497.9 µs"}, {0.02057, "s", "20.57 ms"}, {-0.5, "s", "-500 ms"}, {0.5, "/s", "0.5 /s"},
		{599, "s", "599 s"}, {1591, "s", "26.52 min"}, {11890, "s", "3.303 h"}, {-11890, "s", "-3.303 h"},
	} {
		if got := FormatValue(c.v, c.unit); got != c.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
	// An interval takes its mean's unit; a zero mean the wider end's.
	for _, c := range []struct {
		st   runner.Stat
		want string
	}{
		{runner.Stat{Unit: "s", Mean: 0.02057, CI95: &[2]float64{0.0204, 0.02073}}, "20.57 [20.4, 20.73] ms"},
		{runner.Stat{Unit: "s", Mean: 0.0009, CI95: &[2]float64{0, 0.0021}}, "900 [0, 2100] µs"},
		{runner.Stat{Unit: "s", Mean: 0, CI95: &[2]float64{0, 0.002}}, "0 [0, 2] ms"},
		{runner.Stat{Unit: "s", Mean: 3.5, CI95: &[2]float64{0.5, 6.5}}, "3.5 [0.5, 6.5] s"},
	} {
		if got := FormatStat(&c.st); got != c.want {
			t.Errorf("FormatStat(%+v) = %q, want %q", c.st, got, c.want)
		}
	}
	if got := Clock(7200 + 86400 + 61); got != "02:01:01" {
		t.Errorf("Clock = %s", got)
	}
	for s, want := range map[float64]string{600: "10m", 7200: "2h", 90: "90s", 5400: "90m"} {
		if got := Duration(s); got != want {
			t.Errorf("Duration(%v) = %s, want %s", s, got, want)
		}
	}
}

func TestFontRuns(t *testing.T) {
	f := fonts(t)
	got := f.runs("客服 chat：广播 — ok")
	var kinds []string
	for _, r := range got {
		kinds = append(kinds, strconv.Quote(r.text)+":"+strconv.FormatBool(r.cjk))
	}
	want := `"客服":true " chat":false "：广播":true " — ok":false`
	if strings.Join(kinds, " ") != want {
		t.Errorf("runs = %s, want %s", strings.Join(kinds, " "), want)
	}
}

// A zero-tolerance objective met has no headroom to speak of: the risk
// sentence names the tightest objective with a nonzero bound, or none.
func TestRiskIgnoresZeroBoundsForHeadroom(t *testing.T) {
	zero, two := 0.0, 2.0
	r := &runner.Result{Replications: 5, SLOs: []runner.SLOResult{
		{Name: "no time unusable", Max: &zero, Value: 0, Verdict: runner.VerdictMet},
		{Name: "p99 under 2 s", Unit: "s", Max: &two, Value: 0.5, Verdict: runner.VerdictMet},
	}}
	if got := riskSentence(r, false); !strings.Contains(got, "“p99 under 2 s”, has 75\u00a0% of headroom") {
		t.Errorf("risk sentence %q, want the p99 objective's 75 %% headroom", got)
	}
	r.SLOs = r.SLOs[:1]
	if got := riskSentence(r, false); got != "The risk is low: every objective is met." {
		t.Errorf("risk sentence %q, want no headroom figure for a zero bound", got)
	}
}
