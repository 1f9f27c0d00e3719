package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestDemoComparesWithTheory(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"demo", "-customers", "20000", "-replications", "4", "-quiet"}, &out, &errb)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{"M/M/8 queue", "Wq (s)", "0.8769", "95% confidence interval", "events in"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

func TestDemoIsReproducible(t *testing.T) {
	run := func() string {
		var out, errb bytes.Buffer
		Main(context.Background(), []string{"demo", "-customers", "5000", "-replications", "3", "-seed", "4"}, &out, &errb)
		// The last line reports wall time, which varies.
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		return strings.Join(lines[:len(lines)-1], "\n")
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("same seed, different output:\n%s\n---\n%s", a, b)
	}
}

func TestBadUsageExitsTwoWithTheFlagNamed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "-load", "1.2"}, "flag -load: 1.2 is out of range"},
		{[]string{"demo", "-servers", "0"}, "flag -servers: 0 is out of range"},
		{[]string{"demo", "-replications", "1"}, "a confidence interval needs 2"},
		{[]string{"demo", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"backoff-study", "-runs", "1"}, "flag -runs: 1 is out of range"},
		{[]string{"backoff-study", "-clients", "5"}, "flag -clients: 5 is out of range"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), tc.args, &out, &errb); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, ExitUsage)
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, errb.String(), tc.want)
		}
	}
}

func TestCancelledDemoFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := Main(ctx, []string{"demo", "-quiet"}, &out, &errb); code != ExitFailure {
		t.Fatalf("exit %d, want %d", code, ExitFailure)
	}
	if !strings.Contains(errb.String(), "context canceled") {
		t.Fatalf("stderr %q does not say the run was cancelled", errb.String())
	}
}

func TestRenderBar(t *testing.T) {
	got := renderBar("simulating", 5, 10, 1500*time.Millisecond)
	want := "simulating [===============>              ] 5/10   1.5s"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if full := renderBar("x", 10, 10, 0); !strings.Contains(full, "["+strings.Repeat("=", barWidth)+"]") {
		t.Fatalf("a full bar is not full: %q", full)
	}
}

func TestBackoffStudyPrintsItsTable(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"backoff-study", "-runs", "5", "-clients", "20", "-quiet"}, &out, &errb)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", code, errb.String())
	}
	for _, want := range []string{"write calls per run", "completion time per run", "full-jitter", "exponential", "\n20 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
