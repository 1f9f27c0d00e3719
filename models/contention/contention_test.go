package contention

import (
	"context"
	"strings"
	"testing"

	"stormglass/sim"
)

// TestTheStudysShape runs the 2015 study's sweep — 100 runs per point, 10
// to 100 clients — and holds the results to its published findings, each
// comparison made between confidence intervals, not means.
func TestTheStudysShape(t *testing.T) {
	opt := SweepOptions{}
	if testing.Short() {
		opt.Clients, opt.Runs = []int{10, 100}, 40
	}
	points, err := Sweep(context.Background(), 2015, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + Table(points))
	at := map[string]map[int]Point{}
	for _, p := range points {
		if at[p.Algorithm] == nil {
			at[p.Algorithm] = map[int]Point{}
		}
		at[p.Algorithm][p.Clients] = p
	}
	exp, full, equal, decorr, none := at["exponential"], at["full-jitter"], at["equal-jitter"], at["decorrelated"], at["none"]
	if hi, lo := full[100].Calls.Hi, exp[100].Calls.Lo; !(hi < lo/2) {
		t.Errorf("at 100 clients full jitter makes %v calls, not under half of exponential's %v", full[100].Calls, exp[100].Calls)
	}
	if !(equal[100].Calls.Lo > full[100].Calls.Hi) {
		t.Errorf("at 100 clients equal jitter makes %v calls, not more than full jitter's %v", equal[100].Calls, full[100].Calls)
	}
	if !(decorr[100].Calls.Lo > full[100].Calls.Hi) {
		t.Errorf("at 100 clients decorrelated jitter makes %v calls, not more than full jitter's %v", decorr[100].Calls, full[100].Calls)
	}
	for n, p := range equal {
		if !(p.Completion.Lo > full[n].Completion.Hi) {
			t.Errorf("at %d clients equal jitter finishes in %v ms, not later than full jitter's %v", n, p.Completion, full[n].Completion)
		}
	}
	// Without backoff every client competes in every round: work grows
	// with N², so ten times the clients costs far more than ten times the
	// calls.
	if r := none[100].Calls.Mean / none[10].Calls.Mean; r < 20 {
		t.Errorf("without backoff 100 clients make %.1f× the calls of 10; contention should grow it near N²", r)
	}
}

// TestRunsAreReproducibleAndConsistent: the same seed gives the same
// sweep whatever the worker count; every read is followed by exactly one
// write; each client succeeds once.
func TestRunsAreReproducibleAndConsistent(t *testing.T) {
	opt := SweepOptions{Clients: []int{10, 30}, Runs: 12, Workers: 1}
	a, err := Sweep(context.Background(), 9, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Workers = 2
	b, err := Sweep(context.Background(), 9, opt)
	if err != nil {
		t.Fatal(err)
	}
	if Table(a) != Table(b) {
		t.Fatalf("one worker and two gave different sweeps:\n%s\n%s", Table(a), Table(b))
	}
	for _, alg := range StudyAlgorithms() {
		res, err := Run(context.Background(), 25, alg, sim.NewStreams(4))
		if err != nil {
			t.Fatal(err)
		}
		if res.Reads != res.Calls || res.Calls < 25 || res.Completion <= 0 {
			t.Fatalf("%s: %+v: want one write per read, at least one per client", alg.Name, res)
		}
	}
	if _, err := Run(context.Background(), 0, StudyAlgorithms()[0], sim.NewStreams(1)); err == nil {
		t.Fatal("a run with no clients was accepted")
	}
	table := Table(a)
	for _, want := range []string{"exponential", "full-jitter", "none", "\n30 "} {
		if !strings.Contains(table, want) {
			t.Fatalf("table lacks %q:\n%s", want, table)
		}
	}
}
