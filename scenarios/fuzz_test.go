package scenarios

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// fuzzFragments are hand-made seeds: the shapes a mutator is unlikely to
// reach from the full scenarios alone.
var fuzzFragments = []string{
	fuzzValidSeed,
	"",
	"---\n",
	"~\n",
	"[]\n",
	"{}\n",
	"apiVersion: stormglass/v1\nkind: Scenario\n",
	"a: &a [*a]\n",
	"a: &a {b: *a}\nmetadata: *a\n",
	"<<: {apiVersion: stormglass/v1}\n",
	"apiVersion: stormglass/v1\n---\napiVersion: stormglass/v1\n",
	"apiVersion: stormglass/v1\n...\n---\n",
	"? [a, b]\n: c\n",
	"\"\\u0000\": \"\\xff\"\n",
	"metadata: {name: a, title: \"\\t\"}\n",
}

// fuzzValidSeed is a small valid network in flow style with every value
// kind but bool (no field takes one), every action and two variants, so the fuzzer starts from inputs
// that reach Plan.
const fuzzValidSeed = `apiVersion: stormglass/v1
kind: Scenario
metadata: {name: f, title: F}
run: {horizon: 1d, warmup: 0, sample: 1m, replications: 1, seed: 100_000}
knobs:
  - {name: r, type: rate, default: 5k/min, min: 0/s, max: 1M/h, help: h}
  - {name: n, type: integer, unit: servers, default: 2, min: 1, max: 8, help: h}
  - {name: p, type: number, default: 0.5, min: 0, max: 1, help: h}
  - {name: m, type: duration, default: 1h1m, min: 1ms, max: 1d, help: h}
  - {name: d, type: choice, choices: [fcfs, ps], default: ps, help: h}
components:
  - name: net
    kind: queueing-network
    stations:
      - {name: a, discipline: $d, servers: $n, capacity: 0, service: {distribution: gamma, cv: 1.5, mean: $m}, routes: [{to: b, p: $p}, {to: out}]}
      - {name: b, servers: 1, service: {distribution: uniform, spread: 1, mean: 10ms}, routes: [{to: a, p: 0.1}, {to: out, p: 0.9}]}
    sinks: [out]
workload:
  - {name: s, process: deterministic, rate: $r, profile: [{at: 1m, rate: 1/s}, {at: 2m, rate: 0/s}], to: a}
slos:
  - {name: x, metric: station.a.utilization, min: 0, max: 0.9}
  - {name: y, metric: response, stat: p95, max: 1s}
timeline:
  - {at: 1h, id: one, set: {p: 0.2, n: 3, r: 1/s}}
  - {at: 0s, fault: {kind: outage, target: b}}
  - {at: 2h, fault: {kind: slowdown, target: a, factor: 2, for: 1m}}
  - {at: 3h, deploy: {target: a, servers: 4, gap: 30s}}
  - {at: 4h, annotate: note}
variants:
  - {name: v, set: {p: 1}, drop: [one], timeline: [{at: 5m, id: two, set: {p: 0}}]}
  - {name: w, set: {d: fcfs}}
`

func TestFuzzValidSeed(t *testing.T) {
	sc, err := Load("seed.yaml", []byte(fuzzValidSeed))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sc.VariantNames() {
		if _, err := sc.Plan(PlanOptions{Variant: name}); err != nil {
			t.Errorf("variant %s: %v", name, err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range BuiltinNames() {
		data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	corpus, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range corpus {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(corpusBase))
	for _, s := range fuzzFragments {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Load("fuzz.yaml", data)
		if (sc == nil) == (err == nil) {
			t.Fatalf("Load returned scenario %v and error %v: expected exactly one", sc != nil, err)
		}
		if err != nil {
			le, ok := err.(*LoadError)
			if !ok {
				t.Fatalf("error is a %T, not a *LoadError: %v", err, err)
			}
			if len(le.Errors) == 0 {
				t.Fatalf("a *LoadError with no errors")
			}
			for _, fe := range le.Errors {
				if fe == nil || fe.Msg == "" {
					t.Fatalf("an error with no message in %v", err)
				}
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("errors.Is(err, ErrInvalid) is false: %v", err)
			}
			// Load recovers from panics anywhere in it, and blames the YAML
			// parser. Only the parser may panic: a panic the parser alone
			// does not raise is the loader's own bug, hidden by the recover.
			if strings.Contains(err.Error(), "the YAML parser failed on this file") && !yamlPanics(data) {
				t.Fatalf("the loader panicked (the YAML parser alone does not): %v", err)
			}
			// The same input must give the same report: errors come
			// from walking the file, not from map order.
			if _, again := Load("fuzz.yaml", data); again == nil || again.Error() != err.Error() {
				t.Fatalf("a second Load of the same input reported differently:\n%v\n--- then:\n%v", err, again)
			}
			return
		}
		for _, name := range sc.VariantNames() {
			p, err := sc.Plan(PlanOptions{Variant: name})
			if err != nil {
				continue
			}
			if !slices.IsSortedFunc(p.Timeline, func(a, b Entry) int {
				return cmpDuration(a.At, b.At)
			}) {
				t.Fatalf("variant %s: the plan's timeline is not sorted by time", name)
			}
		}
	})
}

// yamlPanics reports whether the YAML parser alone panics on data, read
// the way Load reads it: one document, then a look for a second.
func yamlPanics(data []byte) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return false
	}
	var extra yaml.Node
	_ = dec.Decode(&extra)
	return false
}

func cmpDuration[T ~int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
