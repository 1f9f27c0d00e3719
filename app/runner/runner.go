package runner

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"stormglass/scenarios"
	"stormglass/sim"
	"stormglass/sim/stats"
)

// Options control how a plan runs; none changes its results.
type Options struct {
	// Workers is how many replications run at once; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called with the fraction of the work done, in
	// [0, 1], from any goroutine (never two calls at once).
	Progress func(fraction float64)
	// ProgressEvery is the wall-time interval between progress calls per
	// replication; 0 means 100ms.
	ProgressEvery time.Duration
}

// heapLimit stops a run that would exhaust the machine with a clear error
// instead of the operating system's out-of-memory killer.
const heapLimit = 16 << 30

// Run runs the plan's replications and summarises them.
func Run(ctx context.Context, plan *scenarios.Plan, opt Options) (*Result, error) {
	reps := plan.Replications
	events := make([][]scenarios.Event, reps)
	series := make([][]scenarios.Series, reps)
	var theory struct {
		model  string
		values map[string]float64
	}
	var mu sync.Mutex
	fractions := make([]float64, reps)
	report := func(rep int, f float64) {
		if opt.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		fractions[rep] = f
		total := 0.0
		for _, x := range fractions {
			total += x
		}
		opt.Progress(total / float64(reps))
	}
	every := opt.ProgressEvery
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	steady := !plan.ChangesModel()
	res, err := sim.Replicate(ctx, plan.Seed, sim.ReplicateOptions{Replications: reps, Workers: opt.Workers},
		func(ctx context.Context, rep int, s sim.Streams) (map[string]float64, error) {
			k, w, err := startWorld(plan, s)
			if err != nil {
				return nil, err
			}
			if rep == 0 && steady {
				if model, values, ok := w.Theory(); ok {
					theory.model, theory.values = model, values
				}
			}
			k.OnProgress(every, func(p sim.Progress) { report(rep, p.Fraction()) })
			if err := k.RunUntil(ctx, plan.Horizon); err != nil {
				return nil, fmt.Errorf("replication %d: %w", rep, err)
			}
			report(rep, 1)
			events[rep], series[rep] = w.Events(), w.Series()
			return flatten(w.Measure()), nil
		})
	if err != nil {
		return nil, err
	}
	return summarise(plan, res, events[0], meanSeries(series), theory.model, theory.values), nil
}

// startWorld builds one replication's world on its own kernel and starts
// it: the timeline scheduled, statistics reset after the warm-up.
func startWorld(plan *scenarios.Plan, s sim.Streams) (*sim.Kernel, *scenarios.World, error) {
	k := sim.NewKernel(sim.Config{Seed: s.Seed(), Epoch: plan.Epoch(), Limits: sim.Limits{MaxHeapBytes: heapLimit}})
	w, err := scenarios.Build(k, s, plan)
	if err != nil {
		return nil, nil, err
	}
	w.Start()
	if plan.Warmup > 0 {
		k.AtFunc(plan.Warmup, w.ResetStats)
	}
	return k, w, nil
}

// flatten turns a replication's measurements into named scalars: the
// metric's name for its mean, NAME.p50 and so on for a distribution's.
func flatten(ms []scenarios.Measured) map[string]float64 {
	out := make(map[string]float64, len(ms)+8)
	for _, m := range ms {
		out[m.Name] = m.Value
		if m.Distribution {
			out[m.Name+".min"], out[m.Name+".max"] = m.Min, m.Max
			out[m.Name+".p50"], out[m.Name+".p95"], out[m.Name+".p99"] = m.P50, m.P95, m.P99
			out[m.Name+".count"] = float64(m.Count)
		}
	}
	return out
}

// interval95 is the 95 % confidence interval of the mean of xs, cut at
// zero. Every metric is a count, a rate, a duration, a size or a share, so
// none is negative; with few replications the t interval can still reach
// below zero (53 errors [−112, 218] from two), which says only that the
// mean may be near zero, and a negative bound would read as nonsense.
func interval95(xs []float64) *[2]float64 {
	s := stats.Summarize(xs, 0.95)
	return &[2]float64{max(s.Lo, 0), s.Hi}
}

// meanSeries averages each series point over replications.
func meanSeries(reps [][]scenarios.Series) []scenarios.Series {
	if len(reps) == 0 || reps[0] == nil {
		return nil
	}
	out := make([]scenarios.Series, len(reps[0]))
	for i, s := range reps[0] {
		vals := make([]float64, len(s.Values))
		for _, rep := range reps {
			for j, v := range rep[i].Values {
				if j < len(vals) {
					vals[j] += v / float64(len(reps))
				}
			}
		}
		out[i] = scenarios.Series{Name: s.Name, Unit: s.Unit, Values: vals}
	}
	return out
}

func summarise(plan *scenarios.Plan, res *sim.Replicated, events []scenarios.Event, series []scenarios.Series, model string, theory map[string]float64) *Result {
	sc := plan.Scenario
	r := &Result{
		Scenario:       sc.Meta.Name,
		Title:          sc.Meta.Title,
		Description:    sc.Meta.Description,
		Source:         sc.Meta.Source,
		File:           sc.File,
		ScenarioSHA256: fmt.Sprintf("%x", sha256.Sum256(sc.Text)),
		Version:        Version(),
		ClockS:         sc.Run.Clock.Seconds(),
		Variant:        plan.Variant,
		VariantTitle:   plan.VariantTitle,
		Seed:           plan.Seed,
		Replications:   plan.Replications,
		HorizonS:       plan.Horizon.Seconds(),
		WarmupS:        plan.Warmup.Seconds(),
		SampleS:        plan.Sample.Seconds(),
		Theory:         model,
		Metrics:        map[string]*Stat{},
		Stations:       map[string]map[string]*Stat{},
		PerReplication: res.Runs,
	}
	for _, k := range sc.Knobs.All() {
		v := plan.Values[k.Name]
		r.Knobs = append(r.Knobs, KnobResult{Name: k.Name, Value: v.String(), Default: k.Default.String(),
			Unit: k.UnitText(), Changed: slices.Contains(plan.Changed, k.Name), Set: slices.Contains(plan.Overridden, k.Name)})
	}
	column := func(name string) []float64 {
		xs := make([]float64, len(res.Runs))
		for i, run := range res.Runs {
			xs[i] = run[name]
		}
		return xs
	}
	stat := func(info scenarios.MetricInfo) *Stat {
		xs := column(info.Name)
		s := &Stat{Unit: info.Unit.String(), Mean: mean(xs)}
		if len(xs) > 1 {
			s.CI95 = interval95(xs)
		}
		if info.Distribution {
			s.Min = ptr(slices.Min(column(info.Name + ".min")))
			s.Max = ptr(slices.Max(column(info.Name + ".max")))
			s.P50, s.P95, s.P99 = ptr(mean(column(info.Name+".p50"))), ptr(mean(column(info.Name+".p95"))), ptr(mean(column(info.Name+".p99")))
			var n int64
			for _, c := range column(info.Name + ".count") {
				n += int64(c)
			}
			s.Count = &n
		} else {
			s.Min, s.Max = ptr(slices.Min(xs)), ptr(slices.Max(xs))
		}
		if t, ok := theory[info.Name]; ok {
			s.Theory = ptr(t)
		}
		return s
	}
	for _, info := range sc.Metrics() {
		st := stat(info)
		r.MetricOrder = append(r.MetricOrder, info.Name)
		if name, field, ok := stationField(info.Name); ok {
			if r.Stations[name] == nil {
				r.Stations[name] = map[string]*Stat{}
				r.StationOrder = append(r.StationOrder, name)
			}
			r.Stations[name][field] = st
			continue
		}
		r.Metrics[info.Name] = st
	}
	for _, slo := range sc.SLOs {
		r.SLOs = append(r.SLOs, judge(slo, res.Runs))
	}
	r.Events, r.Series = EventResults(events), SeriesResults(series)
	return r
}

// EventResults converts a replication's timeline for a Result (nil for
// none, as in a Result read back from JSON).
func EventResults(events []scenarios.Event) []EventResult {
	var out []EventResult
	for _, e := range events {
		out = append(out, EventResult{TimeS: e.At.Seconds(), Kind: e.Kind, Text: e.Text})
	}
	return out
}

// SeriesResults converts a replication's series for a Result; the values
// are shared, not copied.
func SeriesResults(series []scenarios.Series) []SeriesResult {
	var out []SeriesResult
	for _, s := range series {
		out = append(out, SeriesResult{Name: s.Name, Unit: s.Unit.String(), Values: s.Values})
	}
	return out
}

// stationField splits station.NAME.FIELD.
func stationField(metric string) (name, field string, ok bool) {
	rest, ok := strings.CutPrefix(metric, "station.")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// judge decides an objective: met or violated when the whole confidence
// interval is on one side of the bound, uncertain when it straddles it.
func judge(slo scenarios.SLO, runs []map[string]float64) SLOResult {
	out := SLOResult{Name: slo.Name, Metric: slo.Metric, Stat: slo.Stat, Min: slo.Min, Max: slo.Max, Unit: slo.Unit.String()}
	key := slo.Metric
	if slo.Stat != "mean" {
		key += "." + slo.Stat
	}
	xs := make([]float64, len(runs))
	for i, run := range runs {
		xs[i] = run[key]
	}
	switch slo.Stat {
	case "min":
		out.Value = slices.Min(xs)
	case "max":
		out.Value = slices.Max(xs)
	default:
		out.Value = mean(xs)
	}
	lo, hi := out.Value, out.Value
	if len(xs) > 1 && slo.Stat != "min" && slo.Stat != "max" {
		out.CI95 = interval95(xs)
		lo, hi = out.CI95[0], out.CI95[1]
	}
	inside := func(x float64) bool {
		return (slo.Min == nil || x >= *slo.Min) && (slo.Max == nil || x <= *slo.Max)
	}
	switch {
	case inside(lo) && inside(hi):
		out.Verdict = VerdictMet
	case (slo.Max != nil && lo > *slo.Max) || (slo.Min != nil && hi < *slo.Min):
		out.Verdict = VerdictViolated
	default:
		out.Verdict = VerdictUncertain
	}
	return out
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func ptr(x float64) *float64 { return &x }
