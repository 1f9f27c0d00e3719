package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"stormglass/app/runner"
	"stormglass/export"
)

// pdfText is the text of a PDF in the order it is drawn (a table cell's
// wrapped lines stay together) with its spaces and line breaks removed,
// so that a figure is found whatever the layout; pdftotext and pdfinfo
// come with make deps (poppler-utils).
func pdfText(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-raw", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext %s: %v\n%s", path, err, out)
	}
	if info, err := exec.Command("pdfinfo", path).CombinedOutput(); err != nil || !bytes.Contains(info, []byte("Pages:")) {
		t.Fatalf("pdfinfo %s: %v\n%s", path, err, info)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// storedResult reads run id back from history as JSON.
func storedResult(t *testing.T, db, id string) *runner.Result {
	t.Helper()
	code, out, errs := runCLI(t, "history", "export", id, "--db", db)
	if code != ExitOK {
		t.Fatalf("history export %s: exit %d: %s", id, code, errs)
	}
	var r runner.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// The report of two variants holds the figures of the runs it made, kept
// in history; made again from those stored runs it is the same file, byte
// for byte.
func TestReportComparesVariantsAndIsMadeAgainFromHistory(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1795000000")
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	first := filepath.Join(dir, "first.pdf")
	code, out, errs := runCLI(t, "report", "checkout", "--variant", "incident", "--variant", "remediated",
		"--replications", "3", "--until", "15m", "--out", first, "--db", db, "--quiet")
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "A = incident, B = remediated") || !strings.Contains(out, "paired replications") {
		t.Errorf("report prints no comparison summary:\n%s", out)
	}
	text := pdfText(t, first)
	incident, remediated := storedResult(t, db, "1"), storedResult(t, db, "2")
	if incident.Variant != "incident" || remediated.Variant != "remediated" {
		t.Fatalf("history holds %s and %s, want the two variants in order", incident.Variant, remediated.Variant)
	}
	for _, want := range []string{incident.Title, "incident", "remediated", incident.ScenarioSHA256, "Difference"} {
		if !strings.Contains(text, strings.Join(strings.Fields(want), "")) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Every figure of both runs is in the report as the stored result has it.
	for _, r := range []*runner.Result{incident, remediated} {
		for _, name := range r.MetricOrder {
			want := strings.Join(strings.Fields(export.FormatStat(r.Lookup(name))), "")
			if !strings.Contains(text, want) {
				t.Errorf("%s: figure %s = %s is not in the report", r.Variant, name, want)
			}
		}
	}
	again := filepath.Join(dir, "again.pdf")
	code, out, errs = runCLI(t, "report", "1", "2", "--out", again, "--db", db, "--quiet")
	if code != ExitOK {
		t.Fatalf("report 1 2: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "A = incident, B = remediated") {
		t.Errorf("report 1 2 prints no summary:\n%s", out)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(again)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the report made again from history differs from the first (%d and %d bytes)", len(a), len(b))
	}
	code, list, _ := runCLI(t, "history", "--db", db)
	if code != ExitOK || strings.Count(list, "done") != 2 {
		t.Errorf("making a report from history should not add runs:\n%s", list)
	}
}

// run --out chooses the format by extension; a directory gets them all.
func TestRunWritesAReportOrEveryFormat(t *testing.T) {
	dir := t.TempDir()
	pdf := filepath.Join(dir, "mm1.pdf")
	code, out, errs := runCLI(t, "run", "mm1", "--replications", "2", "--until", "20m", "--out", pdf, "--quiet", "--no-history")
	if code != ExitOK || out != "" {
		t.Fatalf("run --out mm1.pdf: exit %d, stdout %q: %s", code, out, errs)
	}
	if text := pdfText(t, pdf); !strings.Contains(text, "M/M/1") {
		t.Errorf("mm1.pdf is not the report of mm1")
	}
	if st, err := os.Stat(pdf); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mm1.pdf: mode %v, %v; want an ordinary file, rw-r--r--", st.Mode(), err)
	}
	bundle := filepath.Join(dir, "all") + "/"
	code, _, errs = runCLI(t, "run", "checkout", "--variant", "incident", "--replications", "2", "--until", "10m", "--out", bundle, "--no-history")
	if code != ExitOK {
		t.Fatalf("run --out DIR/: exit %d: %s", code, errs)
	}
	for _, name := range []string{"report.pdf", "result.json", "figures.csv", "series.csv"} {
		if st, err := os.Stat(filepath.Join(bundle, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	var res runner.Result
	data, _ := os.ReadFile(filepath.Join(bundle, "result.json"))
	if err := json.Unmarshal(data, &res); err != nil || res.Variant != "incident" {
		t.Errorf("result.json: %v, variant %q", err, res.Variant)
	}
	series, _ := os.ReadFile(filepath.Join(bundle, "series.csv"))
	if lines := strings.Count(string(series), "\n"); lines < 10 || !strings.HasPrefix(string(series), "time_s,clock,") {
		t.Errorf("series.csv has %d lines, header %.40q", lines, series)
	}
	pngs, _ := filepath.Glob(filepath.Join(bundle, "charts", "*.png"))
	svgs, _ := filepath.Glob(filepath.Join(bundle, "charts", "*.svg"))
	if len(pngs) == 0 || len(pngs) != len(svgs) {
		t.Errorf("charts: %d PNG and %d SVG, want one of each per chart", len(pngs), len(svgs))
	}
	if !strings.Contains(errs, "wrote") || strings.Contains(errs, ".tmp") {
		t.Errorf("stderr should list what was written:\n%s", errs)
	}
	left, _ := filepath.Glob(filepath.Join(bundle, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// Two stored runs made with different seeds cannot be paired: the report
// still shows both, says why it has no differences, and adds no run.
func TestReportOfUnpairedRuns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	for _, seed := range []string{"1", "2"} {
		if code, _, errs := runCLI(t, "run", "mm1", "--replications", "2", "--until", "20m", "--seed", seed, "--db", db, "--quiet"); code != ExitOK {
			t.Fatalf("run --seed %s: exit %d: %s", seed, code, errs)
		}
	}
	out := filepath.Join(dir, "r.pdf")
	code, stdout, errs := runCLI(t, "report", "1", "2", "--db", db, "--out", out, "--quiet")
	if code != ExitOK {
		t.Fatalf("report 1 2: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "seeds 1 and 2 differ") || !strings.Contains(stdout, "not paired") {
		t.Errorf("the report should say the runs are not paired:\nstdout %s\nstderr %s", stdout, errs)
	}
	if text := pdfText(t, out); strings.Contains(text, "Difference(2nd") {
		t.Errorf("an unpaired report shows differences")
	}
}

// Mistakes get exit 2 and the reason, before anything runs, and leave no
// file behind.
func TestReportMistakes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	if code, _, errs := runCLI(t, "run", "mm1", "--replications", "2", "--until", "20m", "--db", db, "--quiet"); code != ExitOK {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "run", "tandem", "--replications", "2", "--until", "20m", "--db", db, "--quiet"); code != ExitOK {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	pdf := filepath.Join(dir, "r.pdf")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "1", "mm1"}, "expected a scenario or run ids"},
		{[]string{"report", "1", "2", "3"}, "got 3 run ids"},
		{[]string{"report", "mm1", "tandem"}, "expected one scenario, got 2"},
		{[]string{"report", "1", "--variant", "incident"}, "flag --variant: a report of stored runs runs nothing"},
		{[]string{"report", "1", "--seed", "4"}, "flag --seed"},
		{[]string{"report", "1", "1"}, "run 1 twice"},
		{[]string{"report", "1", "2"}, "different scenarios (mm1, tandem)"},
		{[]string{"report", "9"}, "no such run"},
		{[]string{"report", "mm1", "--out", filepath.Join(dir, "r.txt")}, "expected a .pdf file, or a directory"},
		{[]string{"report", "mm1", "--format", "json"}, "a report is a PDF"},
		{[]string{"report", "checkout", "--variant", "a", "--variant", "b", "--variant", "c"}, "got 3 --variant flags"},
		{[]string{"report", "checkout", "--variant", "remedated"}, `did you mean "remediated"`},
		{[]string{"report", "mm1", "--out", filepath.Join(dir, "no", "such", "r.pdf")}, "cannot write"},
		{[]string{"run", "mm1", "--out", filepath.Join(dir, "chart.png")}, "name a directory"},
		{[]string{"run", "mm1", "--out", dir + "/", "--format", "json"}, "drop --format"},
		{[]string{"compare", "checkout", "--variant", "incident", "--variant", "remediated", "--format", "series"}, "the series CSV holds one run"},
	} {
		args := append(c.args, "--db", db, "--quiet")
		if c.args[0] != "report" {
			args = append(args, "--no-history")
		}
		code, _, errs := runCLI(t, args...)
		wantCode := ExitUsage
		if code != wantCode || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, wantCode, c.want)
		}
	}
	if _, err := os.Stat(pdf); err == nil {
		t.Error("a refused report left a file")
	}
	code, list, _ := runCLI(t, "history", "--db", db)
	if code != ExitOK || strings.Count(list, "done") != 2 || strings.Contains(list, "running") {
		t.Errorf("refused reports should run nothing:\n%s", list)
	}
}
