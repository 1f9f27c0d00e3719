package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stormglass/sim/queueing"
)

// runJSON runs the CLI with args and decodes its JSON output.
func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append(args, "--format", "json", "--quiet"), &out, &errb)
	if code != ExitOK {
		t.Fatalf("stormglass %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errb.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	return res
}

type stat struct {
	Mean, Theory float64
	Lo, Hi       float64
	HasTheory    bool
}

func getStat(t *testing.T, res map[string]any, path ...string) stat {
	t.Helper()
	var node any = res
	for _, p := range path {
		m, ok := node.(map[string]any)
		if !ok || m[p] == nil {
			t.Fatalf("JSON has no %s", strings.Join(path, "."))
		}
		node = m[p]
	}
	m := node.(map[string]any)
	s := stat{Mean: m["mean"].(float64)}
	ci, ok := m["ci95"].([]any)
	if !ok {
		t.Fatalf("%s has no ci95", strings.Join(path, "."))
	}
	s.Lo, s.Hi = ci[0].(float64), ci[1].(float64)
	if th, ok := m["theory"].(float64); ok {
		s.Theory, s.HasTheory = th, true
	}
	return s
}

// expectation is a closed form computed here, independently of the
// simulator's own Theory, from the scenario's numbers.
type expectation struct {
	path []string
	want float64
}

// checkClosedForms asserts that each expected value is what the CLI
// reports as theory, and lies inside the simulated 95 % interval. With a
// fixed seed the run is deterministic; a correct model misses an interval
// about 1 time in 20, so one miss is tolerated per scenario if it is close
// (within two half-widths), and no more.
func checkClosedForms(t *testing.T, res map[string]any, exps []expectation) {
	t.Helper()
	misses := 0
	for _, e := range exps {
		s := getStat(t, res, e.path...)
		name := strings.Join(e.path, ".")
		if !s.HasTheory || math.Abs(s.Theory-e.want) > 1e-9*math.Max(1, math.Abs(e.want)) {
			t.Errorf("%s: CLI theory %v (present %v), closed form %v", name, s.Theory, s.HasTheory, e.want)
		}
		if e.want >= s.Lo && e.want <= s.Hi {
			continue
		}
		misses++
		hw := (s.Hi - s.Lo) / 2
		if misses > 1 || math.Abs(e.want-s.Mean) > 2*hw {
			t.Errorf("%s: closed form %v outside the 95%% interval [%v, %v] (mean %v)", name, e.want, s.Lo, s.Hi, s.Mean)
		}
	}
}

func station(name, field string) []string { return []string{"stations", name, field} }
func metric(name string) []string         { return []string{"metrics", name} }

func TestTextbookScenariosMatchClosedForms(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical check; runs in the full test pass")
	}
	mmc := func(lambda, mean float64, c int) queueing.Metrics {
		m, err := queueing.MMc(lambda, 1/mean, c)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Run("mm1", func(t *testing.T) {
		res := runJSON(t, "run", "mm1")
		// λ = 8/s, μ = 10/s: W = 1/(μ − λ), L = ρ/(1 − ρ).
		checkClosedForms(t, res, []expectation{
			{metric("response"), 0.5}, {metric("in_system"), 4}, {metric("throughput"), 8},
			{station("server", "utilization"), 0.8}, {station("server", "wait_mean"), 0.4},
			{station("server", "queue_mean"), 3.2},
		})
	})
	t.Run("mm1 with a knob set", func(t *testing.T) {
		res := runJSON(t, "run", "mm1", "--set", "arrival_rate=5/s", "--set", "service_time=50ms")
		// λ = 5/s, μ = 20/s: W = 1/15 s.
		checkClosedForms(t, res, []expectation{{metric("response"), 1.0 / 15}, {station("server", "utilization"), 0.25}})
	})
	t.Run("mmc", func(t *testing.T) {
		m := mmc(7.2, 1, 8)
		checkClosedForms(t, runJSON(t, "run", "mmc"), []expectation{
			{station("pool", "wait_mean"), m.Wq}, {station("pool", "queue_mean"), m.Lq},
			{metric("response"), m.W}, {station("pool", "utilization"), 0.9},
		})
	})
	t.Run("md1", func(t *testing.T) {
		m, err := queueing.MD1(8, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		// Pollaczek–Khinchine for constant service: Wq = ρD / (2(1 − ρ)) = 0.2 s.
		if math.Abs(m.Wq-0.2) > 1e-12 {
			t.Fatalf("MD1 Wq = %v, want 0.2", m.Wq)
		}
		checkClosedForms(t, runJSON(t, "run", "md1"), []expectation{
			{station("server", "wait_mean"), 0.2}, {metric("response"), 0.3}, {metric("in_system"), 2.4},
		})
	})
	t.Run("mmck", func(t *testing.T) {
		m, err := queueing.MMcK(12, 5, 2, 10)
		if err != nil {
			t.Fatal(err)
		}
		checkClosedForms(t, runJSON(t, "run", "mmck"), []expectation{
			{metric("blocked_fraction"), m.PBlock}, {metric("throughput"), 12 * (1 - m.PBlock)},
			{station("station", "system_mean"), m.L}, {metric("response"), m.W},
		})
	})
	t.Run("tandem", func(t *testing.T) {
		web, app, db := mmc(15, 0.05, 1), mmc(15, 0.1, 2), mmc(15, 0.04, 1)
		checkClosedForms(t, runJSON(t, "run", "tandem"), []expectation{
			{metric("response"), web.W + app.W + db.W},
			{station("web", "response_mean"), web.W}, {station("app", "response_mean"), app.W},
			{station("db", "response_mean"), db.W}, {metric("in_system"), web.L + app.L + db.L},
		})
	})
	t.Run("jackson", func(t *testing.T) {
		// Traffic equations, solved by hand: front = 10 + 0.1·app,
		// app = front + 0.5·db, db = 0.6·app ⇒ app = front/0.7,
		// front = 10/(1 − 0.1/0.7) = 11.667, app = 16.667, db = 10.
		front, app, db := 70.0/6, 50.0/3, 10.0
		mf, ma, md := mmc(front, 0.1, 2), mmc(app, 0.15, 3), mmc(db, 0.06, 1)
		L := mf.L + ma.L + md.L
		checkClosedForms(t, runJSON(t, "run", "jackson"), []expectation{
			{station("front", "arrival_rate"), front}, {station("app", "arrival_rate"), app},
			{station("db", "arrival_rate"), db},
			{station("app", "utilization"), app * 0.15 / 3},
			{station("app", "wait_mean"), ma.Wq}, {station("db", "queue_mean"), md.Lq},
			{metric("in_system"), L}, {metric("response"), L / 10},
		})
	})
}

func TestRunIsByteIdenticalForTheSameSeed(t *testing.T) {
	run := func(seed string) string {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"run", "checkout", "--seed", seed, "--replications", "3", "--until", "20m", "--format", "json", "--quiet"}, &out, &errb); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		return out.String()
	}
	a, b := run("7"), run("7")
	if a != b {
		t.Fatal("same scenario, knobs and seed gave different output")
	}
	if run("8") == a {
		t.Fatal("a different seed gave the same output: the seed is not reaching the model")
	}
}

func TestRunJSONHasTheDocumentedShape(t *testing.T) {
	res := runJSON(t, "run", "checkout", "--replications", "2", "--until", "30m", "--variant", "incident")
	for _, key := range []string{"scenario", "variant", "seed", "replications", "horizon_s", "metrics", "stations", "events", "slos", "series"} {
		if _, ok := res[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	if res["scenario"] != "checkout" || res["variant"] != "incident" || res["horizon_s"] != 1800.0 || res["replications"] != 2.0 {
		t.Errorf("header = %v %v %v %v", res["scenario"], res["variant"], res["horizon_s"], res["replications"])
	}
	resp := res["metrics"].(map[string]any)["response"].(map[string]any)
	for _, k := range []string{"mean", "min", "max", "p50", "p95", "p99", "ci95"} {
		if _, ok := resp[k]; !ok {
			t.Errorf("metrics.response lacks %q", k)
		}
	}
	app := res["stations"].(map[string]any)["app"].(map[string]any)
	for _, k := range []string{"throughput", "utilization", "wait_mean", "response_mean", "queue_mean", "blocked_fraction"} {
		f, ok := app[k].(map[string]any)
		if !ok || f["ci95"] == nil {
			t.Errorf("stations.app.%s missing or without ci95", k)
		}
	}
	// The timeline as it happened, in seconds, within the 30 minutes run.
	var kinds []string
	for _, e := range res["events"].([]any) {
		ev := e.(map[string]any)
		kinds = append(kinds, ev["kind"].(string))
		if at := ev["time"].(float64); at < 0 || at > 1800 {
			t.Errorf("event at %v s, outside the run", at)
		}
	}
	if strings.Join(kinds, ",") != "set,fault,recover,fault,recover" {
		t.Errorf("event kinds = %v", kinds)
	}
	// The sale at 10 minutes shows in the arrival series (30 s points).
	for _, s := range res["series"].([]any) {
		sr := s.(map[string]any)
		if sr["name"] != "arrival_rate" {
			continue
		}
		vals := sr["values"].([]any)
		if len(vals) != 60 {
			t.Fatalf("arrival_rate has %d points, want 60", len(vals))
		}
		before, during := vals[15].(float64), vals[35].(float64) // 7.5–8 and 17.5–18 minutes
		if before < 80 || before > 120 || during < 150 || during > 210 {
			t.Errorf("arrivals before the sale %v/s, during %v/s: want about 100 and 180", before, during)
		}
	}
}

func TestCompareFindsTheFixAndItsInterval(t *testing.T) {
	res := runJSON(t, "compare", "checkout", "--variant", "incident", "--variant", "remediated", "--replications", "4", "--until", "30m")
	d := res["differences"].(map[string]any)["response"].(map[string]any)
	ci := d["ci95"].([]any)
	if d["significant"] != true || ci[1].(float64) >= 0 {
		t.Errorf("remediated should cut response time, with an interval below zero: %v", d)
	}
	arr := res["differences"].(map[string]any)["arrival_rate"].(map[string]any)
	if arr["mean"].(float64) != 0 {
		t.Errorf("both variants share their arrivals (common random numbers), but arrival rates differ by %v", arr["mean"])
	}
}

func TestScenarioCommandsRejectBadInputWithExitTwo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: stormglass/v1\nkind: Scenario\nmetadata: {name: x, title: y}\ncomponents: []\nworkload: []\nsurprise: 1\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "no-such-scenario"}, `no built-in scenario is named "no-such-scenario"`},
		{[]string{"run", "mm1", "--set", "arrival_rate=12/s"}, "knob arrival_rate: 12/s is out of range: expected 0/s to 9.9/s"},
		{[]string{"run", "mm1", "--set", "arival_rate=1/s"}, `did you mean "arrival_rate"?`},
		{[]string{"run", "mm1", "--set", "arrival_rate=5"}, "expected a rate with a unit of time"},
		{[]string{"run", "checkout", "--variant", "remedated"}, `unknown variant "remedated" (did you mean "remediated"?)`},
		{[]string{"run", "mm1", "--until", "5"}, "flag --until"},
		{[]string{"run", "mm1", "--until", "5m"}, "not beyond the warm-up"},
		{[]string{"run", "mm1", "--format", "xml"}, `flag --format: "xml"`},
		{[]string{"run", "mm1", "--replications", "-1"}, "flag --replications"},
		{[]string{"run", bad}, bad + ":6:1: unknown field \"surprise\""},
		{[]string{"run", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"run", "mm1", "--out", filepath.Join(dir, "no", "such", "dir", "r.json")}, "cannot write"},
		{[]string{"validate", bad}, "bad.yaml:6:1"},
		{[]string{"compare", "checkout", "--variant", "incident"}, "expected two --variant flags"},
		{[]string{"knobs"}, "expected one scenario"},
	} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append(tc.args, "--quiet"), &out, &errb)
		if tc.args[0] == "validate" || tc.args[0] == "knobs" {
			errb.Reset()
			out.Reset()
			code = Main(context.Background(), tc.args, &out, &errb)
		}
		if code != ExitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

func TestRunWritesTheFormatNamedByTheExtension(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"r.json", "r.csv", "r.txt"} {
		path := filepath.Join(dir, name)
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"run", "mm1", "--replications", "2", "--until", "20m", "--out", path, "--quiet"}, &out, &errb); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", name, code, errb.String())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(name) {
		case ".json":
			if !json.Valid(data) {
				t.Errorf("%s is not JSON", name)
			}
		case ".csv":
			if !strings.HasPrefix(string(data), "kind,name,field,unit,mean,ci95_lo,ci95_hi,") || !strings.Contains(string(data), "station,server,utilization,") {
				t.Errorf("%s is not the CSV summary:\n%s", name, data)
			}
		default:
			if !strings.Contains(string(data), "closed form: M/M/1") {
				t.Errorf("%s is not the table:\n%s", name, data)
			}
		}
		if out.Len() != 0 {
			t.Errorf("with --out, stdout should be empty, got %q", out.String())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("the output directory holds %d files, want the 3 results and no temporary ones", len(entries))
	}
}

func TestListingCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"scenarios"}, &out, &errb); code != ExitOK {
		t.Fatalf("scenarios: exit %d", code)
	}
	for _, name := range []string{"mm1", "mmc", "md1", "mmck", "tandem", "jackson", "checkout"} {
		if !strings.Contains(out.String(), "\n"+name+" ") {
			t.Errorf("scenarios does not list %s:\n%s", name, out.String())
		}
	}
	out.Reset()
	if code := Main(context.Background(), []string{"knobs", "checkout", "--variant", "remediated"}, &out, &errb); code != ExitOK {
		t.Fatalf("knobs: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "app_workers") || !strings.Contains(out.String(), "32 *") || !strings.Contains(out.String(), "1 to 10000 workers") {
		t.Errorf("knobs output lacks the changed value or the range:\n%s", out.String())
	}
	out.Reset()
	if code := Main(context.Background(), []string{"validate", "mm1", "checkout"}, &out, &errb); code != ExitOK {
		t.Fatalf("validate: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "ok checkout") {
		t.Errorf("validate output: %s", out.String())
	}
}
