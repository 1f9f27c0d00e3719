// Command compare measures Stormglass's simulation kernel side by side with
// a hand-written event loop (the practical ceiling for Go) and with SimPy,
// on the same machine in one sitting, and prints one table.
//
// Model A is M/M/8 at ρ = 0.9 with a fixed number of customers, checked
// against Erlang C; model B is the classic hold model (p timers that re-arm
// themselves at now + Exp(1)) at p = 1,000 and 1,000,000.
//
// Every measurement runs in a child process (this binary re-executed with
// the hidden -child argument, or python3 for SimPy), so that the peak
// resident set the kernel reports for the child belongs to one engine alone
// and one engine's garbage cannot slow the next.
//
// Usage:
//
//	compare [-quick] [-json] [-runs 3] [-python path]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"stormglass/bench/simpy"
	"stormglass/sim/queueing"
)

// Sizes of the full run; -quick divides the customers and operations (not
// the pending counts) by ten.
const (
	mmcCustomers = 1_000_000
	holdSmallP   = 1_000
	holdSmallOps = 20_000_000
	holdLargeP   = 1_000_000
	holdLargeOps = 10_000_000
	seed         = 1
)

// Goals the comparison checks.
const (
	goalVsCeiling = 0.5  // Stormglass's work/s over the hand-written loop's
	goalVsSimPy   = 40.0 // Stormglass's customers/s over SimPy's on M/M/c
)

// childTimeout bounds one measurement; SimPy's million customers take
// about ten seconds on a laptop, so this only catches a hung child.
const childTimeout = 15 * time.Minute

func main() {
	// The child protocol is checked before flag parsing so that it stays
	// out of -help: it is an internal interface between parent and child.
	if len(os.Args) > 1 && os.Args[1] == "-child" {
		os.Exit(childMain(os.Args[2:]))
	}
	quick := flag.Bool("quick", false, "10× fewer customers and operations (a smoke test)")
	jsonOut := flag.Bool("json", false, "print all rows and goals as JSON instead of the table")
	runs := flag.Int("runs", 3, "runs per Go measurement; the median is kept")
	python := flag.String("python", "", "Python interpreter with SimPy 2.3.1 (default: /usr/bin/python3, then python3 on PATH)")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "compare: -runs must be at least 1")
		os.Exit(2)
	}
	if err := run(*quick, *jsonOut, *runs, *python, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// childMain runs one measurement in this process and prints its result as
// one JSON line: compare -child NAME [-n customers] [-p pending] [-ops N].
func childMain(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "compare -child: missing measurement name")
		return 2
	}
	name := args[0]
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	n := fs.Int("n", mmcCustomers, "customers (M/M/c)")
	p := fs.Int("p", holdSmallP, "pending timers (hold)")
	ops := fs.Int("ops", holdSmallOps, "operations after the fill (hold)")
	sd := fs.Uint64("seed", seed, "seed")
	// A profile of one engine on one model is how a slow row gets explained;
	// the table alone cannot say where the time goes.
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measurement to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "compare -child:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "compare -child:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	var r result
	switch name {
	case "mmc-stormglass":
		r = mmcStormglass(*n, *sd)
	case "mmc-handwritten":
		r = mmcHandwritten(*n, *sd)
	case "mmc-kernel-only":
		r = mmcKernelOnly(*n, *sd)
	case "hold-stormglass":
		r = holdStormglass(*p, *ops, *sd)
	case "hold-handwritten":
		r = holdHandwritten(*p, *ops, *sd)
	default:
		fmt.Fprintf(os.Stderr, "compare -child: unknown measurement %q\n", name)
		return 2
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, "compare -child:", err)
		return 1
	}
	return 0
}

// job is one row of the table: how to start its child.
type job struct {
	model, engine string
	name          string   // child measurement, for Go engines
	args          []string // child arguments after the name
}

// row is one line of the table, and of the -json output.
type row struct {
	Model  string `json:"model"`
	Engine string `json:"engine"`
	// Status is "ok", "not installed" (SimPy missing) or "failed: …".
	Status string `json:"status"`
	Runs   int    `json:"runs"`
	Events uint64 `json:"events"`
	// Work is customers served (M/M/c) or hold operations: the unit the
	// ratios compare, since engines differ in events per customer.
	Work       uint64  `json:"work"`
	WallS      float64 `json:"wall_s"`
	EventsPerS float64 `json:"events_per_s"`
	WorkPerS   float64 `json:"work_per_s"`
	// AllWorkPerS lists every run's work/s, to judge the noise.
	AllWorkPerS []float64 `json:"all_work_per_s"`
	// VsCeiling and VsSimPy are work/s ratios; absent when not measured.
	VsCeiling *float64 `json:"vs_handwritten,omitempty"`
	VsSimPy   *float64 `json:"vs_simpy,omitempty"`
	// PeakRSSMiB is the largest peak resident set over the runs.
	PeakRSSMiB     float64  `json:"peak_rss_mib"`
	Wq             *float64 `json:"wq,omitempty"`
	ErlangCWq      *float64 `json:"erlang_c_wq,omitempty"`
	WqRelErr       *float64 `json:"wq_rel_err,omitempty"`
	AllocsPerEvent *float64 `json:"allocs_per_event,omitempty"`
	Version        string   `json:"version,omitempty"`
}

// goal is one target and whether this run met it.
type goal struct {
	Goal     string  `json:"goal"`
	Target   float64 `json:"target"`
	Value    float64 `json:"value"`
	Measured bool    `json:"measured"`
	Met      bool    `json:"met"`
}

type report struct {
	Quick bool   `json:"quick"`
	Host  string `json:"host"`
	Note  string `json:"note"`
	Rows  []row  `json:"rows"`
	Goals []goal `json:"goals"`
}

func run(quick, jsonOut bool, runs int, pythonFlag string, out io.Writer) error {
	div := 1
	if quick {
		div = 10
	}
	n := mmcCustomers / div
	itoa := strconv.Itoa
	jobs := []job{
		{model: "M/M/c", engine: "handwritten", name: "mmc-handwritten", args: []string{"-n", itoa(n)}},
		{model: "M/M/c", engine: "stormglass", name: "mmc-stormglass", args: []string{"-n", itoa(n)}},
		{model: "M/M/c", engine: "kernel-only", name: "mmc-kernel-only", args: []string{"-n", itoa(n)}},
		{model: "M/M/c", engine: "simpy"},
		{model: "hold p=1e3", engine: "handwritten", name: "hold-handwritten", args: []string{"-p", itoa(holdSmallP), "-ops", itoa(holdSmallOps / div)}},
		{model: "hold p=1e3", engine: "stormglass", name: "hold-stormglass", args: []string{"-p", itoa(holdSmallP), "-ops", itoa(holdSmallOps / div)}},
		{model: "hold p=1e6", engine: "handwritten", name: "hold-handwritten", args: []string{"-p", itoa(holdLargeP), "-ops", itoa(holdLargeOps / div)}},
		{model: "hold p=1e6", engine: "stormglass", name: "hold-stormglass", args: []string{"-p", itoa(holdLargeP), "-ops", itoa(holdLargeOps / div)}},
	}

	// Re-executing this binary (built once, by go build or go run) avoids a
	// compile per child and measures exactly the code this binary holds.
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this binary to re-run it as a child: %w", err)
	}
	tmp, err := os.MkdirTemp("", "stormglass-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	script := filepath.Join(tmp, "mmc.py")
	if err := os.WriteFile(script, simpy.MMc, 0o644); err != nil {
		return err
	}
	py, pyVersion := findPython(pythonFlag)

	type sample struct {
		r   result
		rss uint64
	}
	samples := make([][]sample, len(jobs))
	failures := make([]error, len(jobs))
	progress := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "compare: "+format+"\n", a...) }

	// Round-robin over the Go jobs, run by run, so that a noisy spell on the
	// shared machine hits every engine alike instead of one engine's runs.
	for rep := range runs {
		for i, j := range jobs {
			if j.name == "" || failures[i] != nil {
				continue
			}
			progress("%-10s %-11s run %d/%d", j.model, j.engine, rep+1, runs)
			args := append([]string{"-child", j.name}, j.args...)
			r, rss, err := runChild(exe, args...)
			if err != nil {
				failures[i] = err
				continue
			}
			samples[i] = append(samples[i], sample{r, rss})
		}
	}
	// SimPy takes tens of seconds and varies less in relative terms than
	// the Go loops do, so it runs once.
	for i, j := range jobs {
		if j.engine != "simpy" || py == "" {
			continue
		}
		progress("%-10s %-11s run 1/1 (%s)", j.model, j.engine, pyVersion)
		// -O drops SimPy's __debug__ checks from its event loop: its fastest
		// ordinary setting, so the ratio does not flatter Stormglass.
		r, rss, err := runChild(py, "-O", script, "--customers", itoa(n), "--seed", itoa(seed))
		if err != nil {
			failures[i] = err
			continue
		}
		samples[i] = append(samples[i], sample{r, rss})
	}

	erlang, err := queueing.MMc(mmcLambda, mmcMu, mmcServers)
	if err != nil {
		return err
	}
	rows := make([]row, len(jobs))
	for i, j := range jobs {
		rw := row{Model: j.model, Engine: j.engine}
		switch {
		case failures[i] != nil:
			rw.Status = "failed: " + failures[i].Error()
		case len(samples[i]) == 0 && j.engine == "simpy":
			rw.Status = "not installed"
		case len(samples[i]) == 0:
			rw.Status = "failed: no run"
		default:
			rw.Status = "ok"
			ss := samples[i]
			var peak uint64
			for _, s := range ss {
				rw.AllWorkPerS = append(rw.AllWorkPerS, perS(s.r.Work, s.r.WallS))
				peak = max(peak, s.rss)
			}
			slices.SortFunc(ss, func(a, b sample) int {
				return cmpFloat(perS(a.r.Work, a.r.WallS), perS(b.r.Work, b.r.WallS))
			})
			med := ss[len(ss)/2].r
			rw.Runs = len(ss)
			rw.Events, rw.Work, rw.WallS = med.Events, med.Work, med.WallS
			rw.EventsPerS, rw.WorkPerS = perS(med.Events, med.WallS), perS(med.Work, med.WallS)
			rw.PeakRSSMiB = float64(peak) / (1 << 20)
			rw.Version = med.Version
			if j.engine != "simpy" {
				rw.AllocsPerEvent = ptr(med.AllocsPerEvent)
			}
			if j.model == "M/M/c" {
				rw.Wq, rw.ErlangCWq = ptr(med.Wq), ptr(erlang.Wq)
				rw.WqRelErr = ptr((med.Wq - erlang.Wq) / erlang.Wq)
			}
		}
		rows[i] = rw
	}
	// Ratios are of work per second: for a given model, the same work, so
	// the ratio is the inverse ratio of wall times.
	find := func(model, engine string) *row {
		for i := range rows {
			if rows[i].Model == model && rows[i].Engine == engine && rows[i].Status == "ok" {
				return &rows[i]
			}
		}
		return nil
	}
	for i := range rows {
		rw := &rows[i]
		if rw.Status != "ok" {
			continue
		}
		if c := find(rw.Model, "handwritten"); c != nil {
			rw.VsCeiling = ptr(rw.WorkPerS / c.WorkPerS)
		}
		if s := find(rw.Model, "simpy"); s != nil {
			rw.VsSimPy = ptr(rw.WorkPerS / s.WorkPerS)
		}
	}

	var goals []goal
	for _, m := range []string{"M/M/c", "hold p=1e3", "hold p=1e6"} {
		g := goal{Goal: fmt.Sprintf("Stormglass ≥ %.0f %% of the hand-written ceiling on %s", 100*goalVsCeiling, m), Target: goalVsCeiling}
		if r := find(m, "stormglass"); r != nil && r.VsCeiling != nil {
			g.Measured, g.Value, g.Met = true, *r.VsCeiling, *r.VsCeiling >= goalVsCeiling
		}
		goals = append(goals, g)
	}
	g := goal{Goal: fmt.Sprintf("Stormglass ≥ %.0f× SimPy on M/M/c", goalVsSimPy), Target: goalVsSimPy}
	if r := find("M/M/c", "stormglass"); r != nil && r.VsSimPy != nil {
		g.Measured, g.Value, g.Met = true, *r.VsSimPy, *r.VsSimPy >= goalVsSimPy
	}
	goals = append(goals, g)

	rep := report{
		Quick: quick,
		Host:  fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Note: fmt.Sprintf("shared, noisy machine: each Go figure is the %s, SimPy ran once; "+
			"ratios are work/s (customers/s on M/M/c, operations/s on hold)", runsNote(runs)),
		Rows:  rows,
		Goals: goals,
	}
	if jsonOut {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printTable(out, rep, n, pyVersion)
	}
	var failed []string
	for i, e := range failures {
		if e != nil {
			failed = append(failed, jobs[i].model+" "+jobs[i].engine)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("measurements failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// findPython returns an interpreter that can import SimPy's classic API,
// and SimPy's version, or "" if none can. /usr/bin/python3 comes first
// because Debian's python3-simpy installs into the system Python only; a
// pyenv or virtualenv python3 earlier on PATH does not see it.
func findPython(explicit string) (path, version string) {
	candidates := []string{"/usr/bin/python3", "python3"}
	if explicit != "" {
		candidates = []string{explicit}
	}
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		out, err := exec.Command(p, "-c",
			"import sys, SimPy, SimPy.Simulation; print('SimPy %s, Python %s' % (SimPy.__version__, sys.version.split()[0]))").Output()
		if err == nil {
			return p, strings.TrimSpace(string(out))
		}
	}
	return "", ""
}

// runChild runs one measurement and returns the JSON line it printed and
// its peak RSS in bytes.
func runChild(path string, args ...string) (result, uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		// A panic's first lines say what went wrong; the goroutine dump
		// after them would drown the table.
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 600 {
			msg = msg[:600] + " …"
		}
		return result{}, 0, fmt.Errorf("%s: %w: %s", filepath.Base(path), err, msg)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return result{}, 0, fmt.Errorf("%s printed no result line: %w", filepath.Base(path), err)
	}
	if r.WallS <= 0 || r.Work == 0 {
		return result{}, 0, errors.New(filepath.Base(path) + ": child reported no work or no time")
	}
	rss, _ := peakRSS(c.ProcessState)
	return r, rss, nil
}

func printTable(w io.Writer, rep report, customers int, pyVersion string) {
	fmt.Fprintf(w, "Stormglass kernel vs hand-written Go loop (ceiling) vs SimPy — %s\n", rep.Host)
	if rep.Quick {
		fmt.Fprintln(w, "QUICK RUN (-quick): 10× fewer customers and operations; a smoke test, not a measurement.")
	}
	fmt.Fprintf(w, "M/M/c: c=%d λ=%g μ=%g (ρ=%.2f), %s customers, arrivals stop then the system drains.\n",
		mmcServers, mmcLambda, mmcMu, mmcLambda/(mmcServers*mmcMu), group(uint64(customers)))
	fmt.Fprintln(w, "hold: p timers, each re-armed at now + Exp(1) when it fires; timed over a fixed number of operations after the fill.")
	fmt.Fprintln(w)
	const f = "%-10s  %-11s  %13s  %7s  %9s  %8s  %8s  %6s  %7s  %7s  %8s  %8s  %9s\n"
	fmt.Fprintf(w, f, "model", "engine", "events", "wall s", "events/s", "×ceiling", "×SimPy", "spread", "RSS MiB", "Wq", "Erlang C", "rel.err", "allocs/ev")
	fmt.Fprintln(w, strings.Repeat("-", 133))
	for _, r := range rep.Rows {
		if r.Status != "ok" {
			fmt.Fprintf(w, "%-10s  %-11s  %s\n", r.Model, r.Engine, r.Status)
			continue
		}
		spread := "-"
		if len(r.AllWorkPerS) > 1 {
			lo, hi := slices.Min(r.AllWorkPerS), slices.Max(r.AllWorkPerS)
			spread = fmt.Sprintf("%.0f%%", 100*(hi-lo)/r.WorkPerS)
		}
		fmt.Fprintf(w, f, r.Model, r.Engine, group(r.Events), fmt.Sprintf("%.2f", r.WallS),
			fmt.Sprintf("%.2fM", r.EventsPerS/1e6), ratio(r.VsCeiling), ratio(r.VsSimPy), spread,
			fmt.Sprintf("%.1f", r.PeakRSSMiB), num(r.Wq, "%.4f"), num(r.ErlangCWq, "%.4f"),
			num(pct(r.WqRelErr), "%+.2f%%"), num(r.AllocsPerEvent, "%.3f"))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Notes:")
	fmt.Fprintf(w, "- %s.\n", strings.ToUpper(rep.Note[:1])+rep.Note[1:])
	fmt.Fprintln(w, "  spread = (max − min) / median of the runs' work/s. Peak RSS is the largest over the runs.")
	fmt.Fprintln(w, "- Ratios compare the same work in the same model, so they are inverse wall-time ratios. Events are")
	fmt.Fprintln(w, "  what each engine dispatched: 2 per customer in the Go engines, about 5 in SimPy (each resumption of")
	fmt.Fprintln(w, "  a process: source, start, grant, end of service, release), so events/s would flatter SimPy.")
	fmt.Fprintln(w, "- Wq is the mean wait of all customers of a run that starts empty (no warm-up deletion).")
	fmt.Fprintln(w, "- Stormglass M/M/c uses sim.Station, whose per-customer statistics (tallies, time-weighted means,")
	fmt.Fprintln(w, "  response histogram) the hand-written loop does not keep: that is part of what it costs.")
	fmt.Fprintln(w, "  kernel-only is a diagnostic row, not a goal: the hand-written loop's bookkeeping as a sim.Handler on")
	fmt.Fprintln(w, "  sim.Kernel, without sim.Station, to tell the kernel's cost from the Station's.")
	if pyVersion != "" {
		fmt.Fprintf(w, "- SimPy: %s, run with python -O (its fastest ordinary setting).\n", pyVersion)
	} else {
		fmt.Fprintln(w, "- SimPy: not installed (no python3 that imports SimPy.Simulation; make deps-bench installs python3-simpy).")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Goals:")
	for _, g := range rep.Goals {
		var verdict string
		switch {
		case !g.Measured:
			verdict = "not measured"
		case g.Met:
			verdict = "met"
		default:
			verdict = "NOT met"
		}
		value := "-"
		if g.Measured {
			if g.Target < 1 {
				value = fmt.Sprintf("%.0f %%", 100*g.Value)
			} else {
				value = fmt.Sprintf("%.1f×", g.Value)
			}
		}
		fmt.Fprintf(w, "  %-58s %8s  %s\n", g.Goal, value, verdict)
	}
}

func runsNote(runs int) string {
	if runs == 1 {
		return "result of a single run (-runs 1)"
	}
	return fmt.Sprintf("median of %d runs", runs)
}

func perS(n uint64, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(n) / s
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ptr(x float64) *float64 { return &x }

func pct(x *float64) *float64 {
	if x == nil {
		return nil
	}
	return ptr(100 * *x)
}

func ratio(x *float64) string {
	switch {
	case x == nil:
		return "-"
	case *x >= 10:
		return fmt.Sprintf("%.0f×", *x)
	}
	return fmt.Sprintf("%.2f×", *x)
}

func num(x *float64, format string) string {
	if x == nil || math.IsNaN(*x) {
		return "-"
	}
	return fmt.Sprintf(format, *x)
}

// group writes n with thousands separators, for counts read at a glance.
func group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
