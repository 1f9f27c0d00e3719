package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"stormglass/knob"
	"stormglass/models/metric"
	"stormglass/models/qnet"
	"stormglass/models/reactive"
	"stormglass/models/service"
	"stormglass/models/wsfleet"
	"stormglass/sim"
)

// Event is something that happened during a run, for the event log.
type Event struct {
	At   time.Duration
	Kind string // set, fault, recover, deploy, deployed, note
	Text string
}

// World is a plan's models wired on one simulation kernel. It applies the
// timeline as the kernel runs, records what happened, samples time series
// and reports measurements. Like the kernel, it is driven from one
// goroutine.
type World struct {
	k     *sim.Kernel
	plan  *Plan
	net   *qnet.Network     // a queueing-network scenario's model
	rb    *reactive.Backend // a reactive-backend scenario's model
	sys   *service.System   // a services scenario's model
	fleet *wsfleet.Fleet    // a WebSocket fleet scenario's model
	// own is the model of a scenario that brings its own load (any of the
	// three above), with the names of its series and summary figures.
	own        selfDriven
	ownSeries  []metric.Info
	ownMetrics []MetricInfo
	values     knob.Values
	events     []Event

	// appliers change the model when a knob changes mid-run, per knob.
	appliers  map[string][]func(knob.Value) error
	outages   map[string]int       // active outages per station
	slowdowns map[string][]float64 // active slowdown factors per station
	surges    map[string][]float64 // active surge factors per source
	latencies []*Fault             // active latency faults, oldest first

	series  []Series
	last    qnet.Snapshot
	started bool
}

// selfDriven is a model that brings its own load, samples its own
// series and sums itself up: a reactive backend, a system of services, a
// WebSocket fleet.
type selfDriven interface {
	Start()
	Series() [][]float64
	Summary() []metric.Figure
}

// Series is a metric sampled at the end of each interval of Plan.Sample:
// point i covers ((i)·Sample, (i+1)·Sample].
type Series struct {
	Name   string
	Unit   MetricUnit
	Values []float64
}

// Build wires the plan's models on kernel k, drawing randomness from
// streams. It fails only if the plan is inconsistent, which Scenario.Plan
// rules out.
func Build(k *sim.Kernel, streams sim.Streams, p *Plan) (*World, error) {
	w := &World{k: k, plan: p, values: p.Values.Clone(), appliers: map[string][]func(knob.Value) error{},
		outages: map[string]int{}, slowdowns: map[string][]float64{}, surges: map[string][]float64{}}
	if len(p.Scenario.Backends) > 0 {
		be := p.Scenario.Backends[0]
		cfg, err := reactiveConfig(be, w.values)
		if err != nil {
			return nil, fmt.Errorf("%s: component %s: %w", p.Scenario.File, be.Name, err)
		}
		if w.rb, err = reactive.New(k, streams, cfg, p.Sample, p.Horizon); err != nil {
			return nil, fmt.Errorf("%s: component %s: %w", p.Scenario.File, be.Name, err)
		}
		w.wireBackend(be)
		w.own, w.ownSeries, w.ownMetrics = w.rb, reactive.SeriesInfo(), backendMetrics()
		return w, nil
	}
	if len(p.Scenario.Systems) > 0 {
		spec := p.Scenario.Systems[0]
		cfg, err := systemConfig(spec, w.values)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Scenario.File, err)
		}
		if w.sys, err = service.New(k, streams, cfg, p.Sample, p.Horizon); err != nil {
			return nil, fmt.Errorf("%s: component %s: %w", p.Scenario.File, spec.Name, err)
		}
		w.wireSystem(spec)
		w.own, w.ownSeries, w.ownMetrics = w.sys, w.sys.SeriesInfo(), systemMetrics(spec)
		return w, nil
	}
	if len(p.Scenario.Fleets) > 0 {
		spec := p.Scenario.Fleets[0]
		cfg, err := fleetConfig(spec, w.values)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Scenario.File, err)
		}
		if w.fleet, err = wsfleet.New(k, streams, cfg, p.Sample, p.Horizon); err != nil {
			return nil, fmt.Errorf("%s: component %s: %w", p.Scenario.File, spec.Name, err)
		}
		w.wireFleet(spec)
		w.own, w.ownSeries, w.ownMetrics = w.fleet, wsfleet.SeriesInfo(), fleetMetrics()
		return w, nil
	}
	cfg, err := w.config()
	if err != nil {
		return nil, err
	}
	if w.net, err = qnet.New(k, streams, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", p.Scenario.File, err)
	}
	w.wireKnobs()
	return w, nil
}

// on makes a field follow its knob mid-run, if it reads one: f applies
// the knob's new value to the model.
func (w *World) on(p Param, f func(knob.Value) error) {
	if p.Knob != "" {
		w.appliers[p.Knob] = append(w.appliers[p.Knob], f)
	}
}

// wireBackend records how the backend follows its live knobs.
func (w *World) wireBackend(be *BackendSpec) {
	on := w.on
	rb := w.rb
	on(be.Concurrency, func(v knob.Value) error { return rb.SetConcurrency(int(v.Int())) })
	on(be.QueueLimit, func(v knob.Value) error { return rb.SetQueueLimit(int(v.Int())) })
	on(be.Overflow, func(v knob.Value) error { return rb.SetOverflow(v.Word()) })
	on(be.LegacyMetadataReads, func(v knob.Value) error { rb.SetLegacyMetadataReads(v.Bool()); return nil })
	on(be.Splay, func(v knob.Value) error { return rb.SetSplay(v.Bool()) })
	on(be.Compaction, func(v knob.Value) error { rb.SetCompaction(v.Bool()); return nil })
	on(be.Clients.Release, func(v knob.Value) error { return rb.SetRelease(v.Word()) })
}

// wireSystem records how a services system follows its live knobs.
func (w *World) wireSystem(spec *SystemSpec) {
	on := w.on
	sys := w.sys
	for _, s := range spec.Services {
		name := s.Name
		on(s.RateLimit, func(v knob.Value) error { return sys.SetRateLimit(name, v.Float()) })
		for _, e := range s.Endpoints {
			ep := e.Name
			on(e.Leak, func(v knob.Value) error { return sys.SetLeak(name, ep, v.Float()) })
			for i, st := range e.Steps {
				apply := func(knob.Value) error { return sys.SetStepOn(name, ep, i, stepOn(st, w.values)) }
				on(st.Enabled, apply)
				on(st.Unless, apply)
			}
		}
	}
}

func (w *World) config() (qnet.Config, error) {
	v := w.values
	var cfg qnet.Config
	routes := func(rs []RouteSpec) []qnet.Route {
		out := make([]qnet.Route, len(rs))
		for i, r := range rs {
			out[i] = qnet.Route{To: r.To, Rest: r.Rest}
			if !r.Rest {
				out[i].P = r.P.Resolve(v).Float()
			}
		}
		return out
	}
	for _, net := range w.plan.Scenario.Networks {
		for _, st := range net.Stations {
			sc := qnet.StationConfig{
				Name:    st.Name,
				Servers: int(st.Servers.Resolve(v).Int()),
				Service: serviceOf(st.Service, v),
				Routes:  routes(st.Routes),
			}
			if st.Discipline.IsSet() && st.Discipline.Resolve(v).Word() == "ps" {
				sc.Discipline = qnet.PS
			}
			if st.Capacity.IsSet() {
				sc.Capacity = int(st.Capacity.Resolve(v).Int())
			}
			cfg.Stations = append(cfg.Stations, sc)
		}
		for _, s := range net.Sinks {
			cfg.Sinks = append(cfg.Sinks, s.Name)
		}
	}
	for _, src := range w.plan.Scenario.Workload {
		sc := qnet.SourceConfig{Name: src.Name, Rate: src.Rate.Resolve(v).Float(), Routes: routes(src.Routes)}
		if src.Process == "deterministic" {
			sc.Process = qnet.Deterministic
		}
		for _, pt := range src.Profile {
			sc.Profile = append(sc.Profile, qnet.RatePoint{At: pt.At, Rate: pt.Rate.Resolve(v).Float()})
		}
		cfg.Sources = append(cfg.Sources, sc)
	}
	return cfg, nil
}

func serviceOf(s ServiceSpec, v knob.Values) qnet.Service {
	out := qnet.Service{Mean: s.Mean.Resolve(v).Float()}
	switch s.Distribution {
	case "exponential":
		out.Kind = qnet.Exponential
	case "deterministic":
		out.Kind = qnet.DeterministicService
	case "erlang":
		out.Kind, out.K = qnet.Erlang, int(s.Phases.Resolve(v).Int())
	case "gamma":
		out.Kind, out.CV = qnet.Gamma, s.CV.Resolve(v).Float()
	case "lognormal":
		out.Kind, out.CV = qnet.LogNormal, s.CV.Resolve(v).Float()
	case "uniform":
		out.Kind, out.Spread = qnet.Uniform, s.Spread.Resolve(v).Float()
	}
	return out
}

// wireFleet records how a WebSocket fleet follows its live knobs.
func (w *World) wireFleet(spec *FleetSpec) {
	on := w.on
	f := w.fleet
	on(spec.Heartbeat, func(v knob.Value) error { f.SetHeartbeat(v.Bool()); return nil })
	on(spec.Degradation, func(v knob.Value) error { f.SetDegradation(v.Bool()); return nil })
	on(spec.Resume, func(v knob.Value) error { f.SetResume(v.Bool()); return nil })
	on(spec.CloseSuperseded, func(v knob.Value) error { f.SetCloseSuperseded(v.Bool()); return nil })
	on(spec.Immediate, func(v knob.Value) error { f.SetImmediate(v.Bool()); return nil })
	on(spec.GOGC, func(v knob.Value) error { return f.SetGOGC(int(v.Int())) })
}

// wireKnobs records how each live field follows its knob.
func (w *World) wireKnobs() {
	on := w.on
	shares := func(rs []RouteSpec, set func([]float64) error) {
		for _, r := range rs {
			if r.P.Knob != "" {
				on(r.P, func(knob.Value) error {
					ps := make([]float64, len(rs))
					for i, r := range rs {
						if !r.Rest {
							ps[i] = r.P.Resolve(w.values).Float()
						}
					}
					return set(ps)
				})
			}
		}
	}
	for _, net := range w.plan.Scenario.Networks {
		for _, spec := range net.Stations {
			st := w.net.Station(spec.Name)
			on(spec.Servers, func(v knob.Value) error { return st.SetServers(int(v.Int())) })
			on(spec.Capacity, func(v knob.Value) error { return st.SetCapacity(int(v.Int())) })
			on(spec.Service.Mean, func(v knob.Value) error { return st.SetServiceMean(v.Float()) })
			shares(spec.Routes, st.SetRouteShares)
		}
	}
	for _, spec := range w.plan.Scenario.Workload {
		src := w.net.Source(spec.Name)
		on(spec.Rate, func(v knob.Value) error { return src.SetRate(v.Float()) })
		shares(spec.Routes, src.SetRouteShares)
	}
}

// Start starts the workload, schedules the timeline and the sampling.
// Call it once, before running the kernel.
func (w *World) Start() {
	if w.started {
		return
	}
	w.started = true
	for _, e := range w.plan.Timeline {
		w.k.AtFunc(e.At, func() { w.apply(e) })
	}
	if w.own != nil {
		w.own.Start() // it samples its own series
		return
	}
	w.net.Start()
	w.last = w.net.Snapshot()
	w.initSeries()
	w.k.AtFunc(w.plan.Sample, w.sample)
}

func (w *World) logf(kind, format string, a ...any) {
	w.events = append(w.events, Event{At: w.k.Now(), Kind: kind, Text: fmt.Sprintf(format, a...)})
}

// Set changes knobs now, as a timeline set does: the desktop app calls it
// when a planner turns a knob mid-run. Every value is checked first; on
// error nothing changes.
func (w *World) Set(as []Assignment) error {
	ks := w.plan.Scenario.Knobs
	for _, a := range as {
		k, err := ks.Get(a.Knob)
		if err != nil {
			return err
		}
		if err := k.Check(a.Value); err != nil {
			return fmt.Errorf("knob %s: %w", a.Knob, err)
		}
		if live, field := w.plan.Scenario.LiveKnob(a.Knob); !live {
			return fmt.Errorf("knob %s cannot change mid-run: it sets %s", a.Knob, field)
		}
	}
	old := w.values.Clone()
	var texts []string
	for _, a := range as {
		w.values[a.Knob] = a.Value
		k, _ := ks.Lookup(a.Knob)
		texts = append(texts, fmt.Sprintf("%s = %s (was %s)", a.Knob, k.Format(a.Value), k.Format(old[a.Knob])))
	}
	seen := map[string]bool{}
	for _, a := range as {
		if seen[a.Knob] {
			continue
		}
		seen[a.Knob] = true
		for _, f := range w.appliers[a.Knob] {
			if err := f(a.Value); err != nil {
				w.values = old
				return fmt.Errorf("knob %s: %w", a.Knob, err)
			}
		}
	}
	w.logf("set", "%s", strings.Join(texts, ", "))
	return nil
}

// apply carries out a timeline entry.
func (w *World) apply(e Entry) {
	switch {
	case len(e.Set) > 0:
		if err := w.Set(e.Set); err != nil {
			// The plan checked every change; this would be a bug, and the
			// event log says so rather than hiding it.
			w.logf("error", "timeline set failed: %v", err)
		}
	case e.Fault != nil:
		w.fault(*e.Fault)
	case e.Deploy != nil:
		w.deploy(*e.Deploy)
	case e.Annotate != "":
		w.logf("note", "%s", e.Annotate)
	}
}

func forText(d time.Duration) string {
	if d == 0 {
		return " until the end of the run"
	}
	return " for " + knob.DurationValue(d).String()
}

func (w *World) fault(f Fault) {
	switch f.Kind {
	case FaultRestart:
		w.restart(f)
	case FaultLatency:
		w.latency(f)
	case FaultKill:
		w.kill(f)
	case FaultOutage:
		st := w.net.Station(f.Target)
		w.outages[f.Target]++
		st.SetOutage(true)
		w.logf("fault", "outage of %s%s", f.Target, forText(f.For))
		if f.For > 0 {
			w.k.AfterFunc(f.For, func() {
				if w.outages[f.Target]--; w.outages[f.Target] == 0 {
					st.SetOutage(false)
					w.logf("recover", "%s back up after its outage", f.Target)
				}
			})
		}
	case FaultSlowdown:
		st := w.net.Station(f.Target)
		w.stack(w.slowdowns, f, st.SetSlowdown, "%s slowed down ×%g", "%s slowdown ×%g over")
	case FaultSurge:
		src := w.net.Source(f.Target)
		w.stack(w.surges, f, src.SetSurge, "%s surges ×%g", "%s surge ×%g over")
	}
}

// stack applies a factor fault: overlapping faults on one target
// multiply, and each one's end removes only its own factor.
func (w *World) stack(active map[string][]float64, f Fault, set func(float64) error, start, end string) {
	active[f.Target] = append(active[f.Target], f.Factor)
	_ = set(product(active[f.Target]))
	w.logf("fault", start+"%s", f.Target, f.Factor, forText(f.For))
	if f.For > 0 {
		w.k.AfterFunc(f.For, func() {
			active[f.Target] = removeOne(active[f.Target], f.Factor)
			_ = set(product(active[f.Target]))
			w.logf("recover", end, f.Target, f.Factor)
		})
	}
}

func product(xs []float64) float64 {
	p := 1.0
	for _, x := range xs {
		p *= x
	}
	return p
}

func removeOne(xs []float64, x float64) []float64 {
	if i := slices.Index(xs, x); i >= 0 {
		return slices.Delete(xs, i, i+1)
	}
	return xs
}

func (w *World) deploy(d Deploy) {
	if w.rb != nil {
		w.deployBackend(d)
		return
	}
	if w.sys != nil {
		w.deployService(d)
		return
	}
	st := w.net.Station(d.Target)
	if d.Gap == 0 {
		_ = st.SetServers(d.Servers)
		w.logf("deploy", "%s redeployed on %d servers", d.Target, d.Servers)
		return
	}
	w.outages[d.Target]++
	st.SetOutage(true)
	w.logf("deploy", "%s redeploying on %d servers: down for %v", d.Target, d.Servers, knob.DurationValue(d.Gap))
	w.k.AfterFunc(d.Gap, func() {
		_ = st.SetServers(d.Servers)
		if w.outages[d.Target]--; w.outages[d.Target] == 0 {
			st.SetOutage(false)
		}
		w.logf("deployed", "%s serving on %d servers", d.Target, d.Servers)
	})
}

// deployService scales a service to d.Servers pods after the gap.
func (w *World) deployService(d Deploy) {
	scale := func() {
		if err := w.sys.SetPods(d.Target, d.Servers); err != nil {
			w.logf("error", "scaling %s failed: %v", d.Target, err) // the loader checked the target
			return
		}
		w.logf("deployed", "%s scaled to %d pods", d.Target, d.Servers)
	}
	if d.Gap == 0 {
		scale()
		return
	}
	w.logf("deploy", "%s scaling to %d pods in %v", d.Target, d.Servers, knob.DurationValue(d.Gap))
	w.k.AfterFunc(d.Gap, scale)
}

// deployBackend moves the reactive backend to a hardware tier.
func (w *World) deployBackend(d Deploy) {
	tier, err := BuiltinHardware().Get(d.Tier)
	_, instances := w.rb.Tier()
	if d.Instances > 0 {
		instances = d.Instances
	}
	if err == nil {
		err = w.rb.Deploy(tier, instances, d.Gap)
	}
	if err != nil {
		w.logf("error", "deploy of %s failed: %v", d.Target, err) // the loader checked the tier
		return
	}
	w.logf("deploy", "%s redeploying on %d × %s (%d cores × %.2g speed each): every connection drops; down for %v",
		d.Target, instances, tier.Name, tier.Cores, tier.Speed, knob.DurationValue(d.Gap))
	w.k.AfterFunc(d.Gap, func() { w.logf("deployed", "%s serving on %d × %s", d.Target, instances, tier.Name) })
}

// ResetStats discards measurements so far (the end of the warm-up). A
// reactive backend has no warm-up (the loader refuses one).
func (w *World) ResetStats() {
	if w.net != nil {
		w.net.ResetStats()
	}
}

// Events returns what happened so far, in time order.
func (w *World) Events() []Event { return slices.Clone(w.events) }

// Values returns the knobs' current values.
func (w *World) Values() knob.Values { return w.values.Clone() }

// restart restarts a database or every pod of a service.
func (w *World) restart(f Fault) {
	var err error
	if slices.Contains(w.sys.Databases(), f.Target) {
		down := f.For
		if down == 0 {
			down = w.sys.RestartTime(f.Target)
		}
		if err = w.sys.RestartDatabase(f.Target, down); err == nil {
			w.logf("fault", "database %s restarts: down for %v", f.Target, knob.DurationValue(down))
		}
	} else if err = w.sys.RestartService(f.Target); err == nil {
		w.logf("fault", "every pod of %s restarted by hand", f.Target)
	}
	if err != nil {
		w.logf("error", "restart of %s failed: %v", f.Target, err)
	}
}

// latency injects delay on the packets leaving a fleet's nodes. Faults
// that overlap do not add up: the latest one started holds until it ends,
// then the one before it again.
func (w *World) latency(f Fault) {
	apply := func() {
		delay, jitter := time.Duration(0), time.Duration(0)
		if n := len(w.latencies); n > 0 {
			delay, jitter = w.latencies[n-1].Delay, w.latencies[n-1].Jitter
		}
		if err := w.fleet.SetLatency(delay, jitter); err != nil {
			w.logf("error", "latency on %s failed: %v", f.Target, err) // the loader checked the range
		}
	}
	id := &f
	w.latencies = append(w.latencies, id)
	apply()
	w.logf("fault", "%v ± %v latency on every packet leaving %s%s", knob.DurationValue(f.Delay), knob.DurationValue(f.Jitter), f.Target, forText(f.For))
	if f.For > 0 {
		w.k.AfterFunc(f.For, func() {
			if i := slices.Index(w.latencies, id); i >= 0 {
				w.latencies = slices.Delete(w.latencies, i, i+1)
			}
			apply()
			w.logf("recover", "%v latency on %s over", knob.DurationValue(f.Delay), f.Target)
		})
	}
}

// kill kills one node of a fleet; it comes back For later (after the end
// of the run if For is 0).
func (w *World) kill(f Fault) {
	down := f.For
	if down == 0 {
		down = w.plan.Horizon + time.Nanosecond
	}
	if err := w.fleet.Kill(f.Node-1, down); err != nil {
		w.logf("error", "kill of %s node %d failed: %v", f.Target, f.Node, err)
		return
	}
	w.logf("fault", "%s node %d killed: its connections close; down%s", f.Target, f.Node, forText(f.For))
	if f.For > 0 {
		w.k.AfterFunc(f.For, func() { w.logf("recover", "%s node %d back as a fresh process", f.Target, f.Node) })
	}
}
