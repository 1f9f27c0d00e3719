package export

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stormglass/app/runner"
)

// TestPDFDifferences shows the paired differences of a two-run report:
// the figures table's difference column with a known metric's difference,
// significant rows marked, and the summary naming a significant
// difference; without Differences none of it appears.
func TestPDFDifferences(t *testing.T) {
	needTool(t, "pdftotext")
	a := run(t, "checkout", "incident", 0)
	b := run(t, "checkout", "remediated", 0)
	diffs, err := runner.Differences(a, b)
	if err != nil {
		t.Fatal(err)
	}
	// The remediation cuts the response time: the replications agree.
	resp := diffs["response"]
	if resp == nil || !resp.Significant || resp.CI95 == nil || resp.Relative == nil {
		t.Fatalf("response difference %+v: the test needs a significant one with an interval", resp)
	}
	dir := artifacts(t)
	path := filepath.Join(dir, "differences.pdf")
	writePDF(t, path, Report{Runs: []*runner.Result{a, b}, Generated: generated, Fonts: fonts(t), Differences: diffs})
	text := tool(t, "pdftotext", "-layout", path, "-")
	flat := squash(text)
	want := []string{
		"Difference (2nd − 1st)",
		formatDiff(resp, a.Lookup("response").Unit),
		"common random numbers",
		"is significant at 95 % (paired replications)",
	}
	for _, w := range want {
		if !strings.Contains(flat, squash(w)) {
			t.Errorf("pdftotext output lacks %q", w)
		}
	}
	// The difference is written as it is computed: the mean with its
	// interval, the unit and the change relative to the first run.
	if got, want := formatDiff(resp, "s"), formatWithCI(resp.Mean, resp.CI95, "s")+" ("+FormatPercent(*resp.Relative)+")"; got != want || !strings.HasPrefix(got, "-") {
		t.Errorf("formatDiff = %q, want %q", got, want)
	}
	if _, err := exec.LookPath("pdftoppm"); err == nil {
		tool(t, "pdftoppm", "-r", "80", "-png", "-f", "6", "-l", "7", path, filepath.Join(dir, "differences-page"))
	}

	plain := filepath.Join(dir, "no-differences.pdf")
	writePDF(t, plain, Report{Runs: []*runner.Result{a, b}, Generated: generated, Fonts: fonts(t)})
	flat = squash(tool(t, "pdftotext", "-layout", plain, "-"))
	for _, w := range []string{"Difference (2nd − 1st)", "paired replications", "common random numbers"} {
		if strings.Contains(flat, squash(w)) {
			t.Errorf("a report without Differences contains %q", w)
		}
	}
}

// TestBiggestDifferenceSignificant checks that, with paired differences,
// the summary prefers a significant difference to a larger one that is
// not, and says when none is significant.
func TestBiggestDifferenceSignificant(t *testing.T) {
	a := &runner.Result{Variant: "a", MetricOrder: []string{"big", "small"}, Metrics: map[string]*runner.Stat{
		"big": {Mean: 10}, "small": {Mean: 100, Unit: "s"}}}
	b := &runner.Result{Variant: "b", MetricOrder: []string{"big", "small"}, Metrics: map[string]*runner.Stat{
		"big": {Mean: 20}, "small": {Mean: 90, Unit: "s"}}}
	if got := biggestDifference(a, b, nil); !strings.HasPrefix(got, "big:") || strings.Contains(got, "significant") {
		t.Errorf("without differences: %q, want the figure that moves most", got)
	}
	rel := -0.1
	diffs := map[string]*runner.Diff{
		"big":   {Mean: 10, CI95: &[2]float64{-5, 25}},
		"small": {Mean: -10, CI95: &[2]float64{-12, -8}, Relative: &rel, Significant: true},
	}
	got := biggestDifference(a, b, diffs)
	if !strings.HasPrefix(got, "small:") || !strings.Contains(got, "-10 [-12, -8] s (-10") || !strings.Contains(got, "significant at 95 % (paired replications)") {
		t.Errorf("with differences: %q, want the significant one", got)
	}
	// An objective on a percentile has no paired difference of its own:
	// its metric's mean difference stands in, named as such.
	a.SLOs = []runner.SLOResult{{Name: "p99 under 2 s", Metric: "small", Stat: "p99", Unit: "s", Value: 5, Verdict: runner.VerdictViolated}}
	b.SLOs = []runner.SLOResult{{Name: "p99 under 2 s", Metric: "small", Stat: "p99", Unit: "s", Value: 1, Verdict: runner.VerdictMet}}
	got = biggestDifference(a, b, diffs)
	if !strings.HasPrefix(got, "p99 under 2 s:") || !strings.Contains(got, "The difference in the mean of small, -10 [-12, -8] s") {
		t.Errorf("objective on a percentile: %q", got)
	}
	a.SLOs, b.SLOs = nil, nil
	diffs["small"].Significant = false
	if got := biggestDifference(a, b, diffs); !strings.HasPrefix(got, "big:") || !strings.Contains(got, "No difference between the runs is significant") {
		t.Errorf("none significant: %q", got)
	}
}

// TestPDFReplicationNote checks the figures page's sentence on few
// replications, and the note that intervals are cut at zero.
func TestPDFReplicationNote(t *testing.T) {
	needTool(t, "pdftotext")
	base := run(t, "checkout", "incident", 0)
	dir := t.TempDir()
	for _, tc := range []struct {
		reps       int
		want, lack string
	}{
		{1, "One replication: figures have no confidence interval; run with --replications 5 or more to get them.", "intervals are wide"},
		{2, "With 2 replications the 95 % intervals are wide; more replications narrow them.", "One replication"},
		{4, "With 4 replications the 95 % intervals are wide", "One replication"},
		{5, "", "intervals are wide"},
	} {
		r := *base
		r.Replications = tc.reps
		path := filepath.Join(dir, "reps.pdf")
		writePDF(t, path, Report{Runs: []*runner.Result{&r}, Generated: generated, Fonts: fonts(t)})
		flat := squash(tool(t, "pdftotext", "-layout", path, "-"))
		if tc.want != "" && !strings.Contains(flat, squash(tc.want)) {
			t.Errorf("%d replications: lacks %q", tc.reps, tc.want)
		}
		if strings.Contains(flat, squash(tc.lack)) {
			t.Errorf("%d replications: contains %q", tc.reps, tc.lack)
		}
		if !strings.Contains(flat, squash("so intervals are cut at zero")) {
			t.Errorf("%d replications: no note that intervals are cut at zero", tc.reps)
		}
	}
	// Two runs: the one with fewer replications speaks.
	a, b := *base, *base
	a.Replications, b.Replications = 10, 3
	if got := replicationNote([]*runner.Result{&a, &b}); !strings.HasPrefix(got, "With 3 replications") {
		t.Errorf("note for 10 and 3 replications: %q", got)
	}
}

// TestPDFProgress checks that WritePDF reports progress with a fixed
// total, one step per section and per chart, rising by one each call and
// reaching the total once, at the end.
func TestPDFProgress(t *testing.T) {
	r := run(t, "reactive-outage-2025", "incident", 10*time.Minute)
	var calls [][2]int
	var b bytes.Buffer
	err := WritePDF(&b, Report{Runs: []*runner.Result{r}, Generated: generated, Fonts: fonts(t),
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	want := pdfSections + len(Charts(r))
	if len(calls) != want {
		t.Fatalf("%d calls, want %d (%d sections and %d charts): %v", len(calls), want, pdfSections, len(Charts(r)), calls)
	}
	for i, c := range calls {
		if c[1] != want || c[0] != i+1 {
			t.Fatalf("call %d was (%d, %d), want (%d, %d): %v", i, c[0], c[1], i+1, want, calls)
		}
	}
	// Without Progress nothing changes: the same bytes.
	var c bytes.Buffer
	if err := WritePDF(&c, Report{Runs: []*runner.Result{r}, Generated: generated, Fonts: fonts(t)}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), c.Bytes()) {
		t.Error("reporting progress changed the PDF")
	}
}

func TestRerunCommand(t *testing.T) {
	r := &runner.Result{Scenario: "checkout", File: "scenarios/my checkout.yaml", Variant: "remediated", Seed: 7, Replications: 5, HorizonS: 1800,
		Knobs: []runner.KnobResult{
			{Name: "shoppers", Value: "9/s", Set: true},
			{Name: "app_workers", Value: "32", Changed: true}, // the variant's value: not repeated
			{Name: "drain", Value: "30m", Set: true},
			{Name: "cache", Value: "true", Set: true},
			{Name: "banner", Value: "it's down", Set: true},
		}}
	want := `stormglass run 'scenarios/my checkout.yaml' --variant remediated --seed 7 --replications 5 --until 30m` +
		` --set shoppers=9/s --set drain=30m --set cache=true --set 'banner=it'\''s down'`
	if got := RerunCommand(r); got != want {
		t.Errorf("RerunCommand =\n%s\nwant\n%s", got, want)
	}
	r.Knobs = nil
	r.File = "builtin:checkout"
	if got, want := RerunCommand(r), "stormglass run checkout --variant remediated --seed 7 --replications 5 --until 30m"; got != want {
		t.Errorf("RerunCommand = %s, want %s", got, want)
	}
}

// Percentages read to the precision a reader uses.
func TestFormatPercent(t *testing.T) {
	for f, want := range map[float64]string{2.5: "250\u00a0%", -0.985: "-98.5\u00a0%", 0.088: "8.8\u00a0%", 0.00015: "0.015\u00a0%", 0: "0\u00a0%"} {
		if got := FormatPercent(f); got != want {
			t.Errorf("FormatPercent(%v) = %q, want %q", f, got, want)
		}
	}
}
