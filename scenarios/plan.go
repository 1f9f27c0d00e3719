package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"stormglass/knob"
	"stormglass/sim"
)

// PlanOptions choose what to run of a scenario. Zero fields take the
// scenario's defaults.
type PlanOptions struct {
	Variant      string        // "" = the first declared variant, or the base
	Set          []Assignment  // knob overrides, applied over the variant's
	Seed         *uint64       // nil = the scenario's seed
	Replications int           // 0 = the scenario's
	Horizon      time.Duration // 0 = the scenario's
}

// Plan is a scenario resolved for one run: variant applied, knobs valued,
// the timeline merged and ordered. It is checked: building a world from it
// cannot fail on the scenario's account.
type Plan struct {
	Scenario     *Scenario
	Variant      string
	VariantTitle string
	Values       knob.Values // at the start of the run
	Changed      []string    // knobs whose start value differs from the default, in declaration order
	// Overridden lists the knobs PlanOptions.Set gave a value, over the
	// variant's, in declaration order: what a command to run the plan
	// again must repeat besides the variant.
	Overridden   []string
	Timeline     []Entry // in time order; entries at the same time keep file order
	Horizon      time.Duration
	Warmup       time.Duration
	Sample       time.Duration
	Seed         uint64
	Replications int
}

// ErrUnknownVariant is wrapped when a plan names a variant the scenario
// does not declare.
var ErrUnknownVariant = errors.New("unknown variant")

// VariantNames lists the variants a plan may name: base, then the
// declared ones in file order.
func (sc *Scenario) VariantNames() []string {
	names := []string{BaseVariant}
	for _, v := range sc.Variants {
		names = append(names, v.Name)
	}
	return names
}

// DefaultVariant is what runs when no variant is named: the first declared
// variant, or the base.
func (sc *Scenario) DefaultVariant() string {
	if len(sc.Variants) > 0 {
		return sc.Variants[0].Name
	}
	return BaseVariant
}

// ErrPlan is wrapped by every error Plan returns: the run's settings do
// not fit the scenario (bad input, not a failed run).
var ErrPlan = errors.New("invalid run settings")

type planError struct{ err error }

func (e planError) Error() string   { return e.err.Error() }
func (e planError) Unwrap() []error { return []error{e.err, ErrPlan} }

// Plan resolves the scenario for a run.
func (sc *Scenario) Plan(opt PlanOptions) (*Plan, error) {
	p, err := sc.plan(opt)
	if err != nil {
		return nil, planError{err}
	}
	return p, nil
}

func (sc *Scenario) plan(opt PlanOptions) (*Plan, error) {
	p := &Plan{Scenario: sc, Variant: opt.Variant, Values: sc.Knobs.Defaults(),
		Horizon: sc.Run.Horizon, Warmup: sc.Run.Warmup, Seed: sc.Run.Seed, Replications: sc.Run.Replications}
	if p.Variant == "" {
		p.Variant = sc.DefaultVariant()
	}
	var dropped []string
	var added []Entry
	if p.Variant != BaseVariant {
		i := slices.IndexFunc(sc.Variants, func(v Variant) bool { return v.Name == p.Variant })
		if i < 0 {
			return nil, fmt.Errorf("%s: %w %q%s: expected one of %s", sc.File, ErrUnknownVariant, p.Variant,
				suggest(p.Variant, sc.VariantNames()), strings.Join(sc.VariantNames(), ", "))
		}
		v := sc.Variants[i]
		p.VariantTitle = v.Title
		for _, a := range v.Set {
			p.Values[a.Knob] = a.Value
		}
		dropped, added = v.Drop, v.Timeline
	}
	for _, a := range opt.Set {
		k, err := sc.Knobs.Get(a.Knob)
		if err != nil {
			return nil, err
		}
		if err := k.Check(a.Value); err != nil {
			return nil, fmt.Errorf("knob %s: %w", a.Knob, err)
		}
		p.Values[a.Knob] = a.Value
	}
	for _, k := range sc.Knobs.All() {
		if !p.Values[k.Name].Equal(k.Default) {
			p.Changed = append(p.Changed, k.Name)
		}
		if slices.ContainsFunc(opt.Set, func(a Assignment) bool { return a.Knob == k.Name }) {
			p.Overridden = append(p.Overridden, k.Name)
		}
	}
	if opt.Seed != nil {
		p.Seed = *opt.Seed
	}
	if opt.Replications != 0 {
		if opt.Replications < 1 || opt.Replications > MaxReplications {
			return nil, fmt.Errorf("replications %d is out of range: expected 1 to %d", opt.Replications, MaxReplications)
		}
		p.Replications = opt.Replications
	}
	if opt.Horizon != 0 {
		if opt.Horizon < 0 || opt.Horizon > MaxHorizon {
			return nil, fmt.Errorf("horizon %v is out of range: expected up to %v", knob.DurationValue(opt.Horizon), knob.DurationValue(MaxHorizon))
		}
		p.Horizon = opt.Horizon
	}
	if p.Warmup >= p.Horizon {
		return nil, fmt.Errorf("horizon %v is not beyond the warm-up of %v: nothing would be measured",
			knob.DurationValue(p.Horizon), knob.DurationValue(p.Warmup))
	}
	p.Sample = sc.Run.Sample
	if p.Sample == 0 {
		p.Sample = defaultSample(p.Horizon)
	}
	for _, e := range sc.Timeline {
		if !slices.Contains(dropped, e.ID) || e.ID == "" {
			p.Timeline = append(p.Timeline, e)
		}
	}
	p.Timeline = append(p.Timeline, added...)
	slices.SortStableFunc(p.Timeline, func(a, b Entry) int { return int(a.At - b.At) })
	if err := p.checkRoutes(); err != nil {
		return nil, err
	}
	if err := p.checkBackend(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkBackend checks a reactive backend's values together, as the model
// will (a backlog below the gateway's threads, more queries than a tab
// holds): fields the loader checks one by one may still clash, through
// knobs.
func (p *Plan) checkBackend() error {
	for _, be := range p.Scenario.Backends {
		cfg, err := reactiveConfig(be, p.Values)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			return fmt.Errorf("component %s with these knob values: %w", be.Name, err)
		}
	}
	for _, sys := range p.Scenario.Systems {
		if _, err := systemConfig(sys, p.Values); err != nil {
			return fmt.Errorf("with these knob values: %w", err)
		}
	}
	for _, f := range p.Scenario.Fleets {
		if err := p.checkFleet(f); err != nil {
			return err
		}
	}
	return nil
}

// checkFleet checks a fleet's configuration with the start values and
// after every knob change the timeline makes (the live settings must take
// their new values), and that kills name nodes the fleet has.
func (p *Plan) checkFleet(f *FleetSpec) error {
	values := p.Values.Clone()
	cfg, err := fleetConfig(f, values)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Scenario.File, withKnobs(err, p.Scenario, values))
	}
	for _, e := range p.Timeline {
		if e.Fault != nil && e.Fault.Kind == FaultKill && e.Fault.Node > cfg.Nodes {
			return fmt.Errorf("%s:%d:%d: timeline: a kill of node %d, but %s has %d nodes: expected 1 to %d",
				p.Scenario.File, e.Pos.Line, e.Pos.Column, e.Fault.Node, f.Name, cfg.Nodes, cfg.Nodes)
		}
		if len(e.Set) == 0 {
			continue
		}
		for _, a := range e.Set {
			values[a.Knob] = a.Value
		}
		if _, err := fleetConfig(f, values); err != nil {
			return fmt.Errorf("%s:%d:%d: timeline at %v: %w", p.Scenario.File, e.Pos.Line, e.Pos.Column, knob.DurationValue(e.At), withKnobs(err, p.Scenario, values))
		}
	}
	return nil
}

// withKnobs adds the values of the knobs a standalone component reads to
// an error about its configuration, when it reads any: the mistake may be
// in a value.
func withKnobs(err error, sc *Scenario, values knob.Values) error {
	var set []string
	for _, k := range sc.Knobs.All() {
		if len(sc.uses[k.Name]) > 0 {
			set = append(set, k.Name+"="+k.Format(values[k.Name]))
		}
	}
	if len(set) == 0 {
		return err
	}
	return fmt.Errorf("%w (with %s)", err, strings.Join(set, ", "))
}

// Epoch is the wall-clock instant that time zero of the run stands for:
// sim's default day, at the scenario's clock. Kernels running the plan
// take it, so that models with a daily rhythm see the right time of day.
func (p *Plan) Epoch() time.Time { return sim.DefaultEpoch.Add(p.Scenario.Run.Clock) }

// defaultSample picks a series interval giving a few hundred points, on a
// round step.
func defaultSample(horizon time.Duration) time.Duration {
	steps := []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second,
		5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour}
	for _, s := range steps {
		if horizon/s <= 500 {
			return s
		}
	}
	return time.Hour
}

// checkRoutes checks that the routing shares add up under the start values
// and under every change the timeline makes, so a run cannot fail midway.
func (p *Plan) checkRoutes() error {
	values := p.Values.Clone()
	if err := p.checkRoutesAt(values, 0, false); err != nil {
		return err
	}
	for _, e := range p.Timeline {
		if len(e.Set) == 0 {
			continue
		}
		for _, a := range e.Set {
			values[a.Knob] = a.Value
		}
		if err := p.checkRoutesAt(values, e.At, true); err != nil {
			return err
		}
	}
	return nil
}

func (p *Plan) checkRoutesAt(values knob.Values, at time.Duration, timed bool) error {
	check := func(owner string, routes []RouteSpec) error {
		sum, rest := 0.0, false
		var knobs []string
		for _, r := range routes {
			if r.Rest {
				rest = true
				continue
			}
			sum += r.P.Resolve(values).Float()
			if r.P.Knob != "" {
				knobs = append(knobs, r.P.Knob+"="+values[r.P.Knob].String())
			}
		}
		bad := sum > 1+1e-9 || (!rest && math.Abs(sum-1) > 1e-9)
		if !bad {
			return nil
		}
		when := ""
		if timed {
			when = " from " + knob.DurationValue(at).String() + " on"
		}
		return fmt.Errorf("%s: the routing shares of %s add up to %g%s with %s: expected %s", p.Scenario.File, owner, sum, when,
			strings.Join(knobs, ", "), map[bool]string{true: "at most 1", false: "exactly 1"}[rest])
	}
	for _, net := range p.Scenario.Networks {
		for _, st := range net.Stations {
			if err := check("station "+st.Name, st.Routes); err != nil {
				return err
			}
		}
	}
	for _, src := range p.Scenario.Workload {
		if err := check("source "+src.Name, src.Routes); err != nil {
			return err
		}
	}
	return nil
}

// ChangesModel reports whether the timeline changes the system within the
// horizon (knob sets, faults, deploys; notes do not), or a source's rate
// follows a profile: then no steady-state closed form describes the run.
func (p *Plan) ChangesModel() bool {
	for _, e := range p.Timeline {
		if e.At <= p.Horizon && e.Annotate == "" {
			return true
		}
	}
	for _, src := range p.Scenario.Workload {
		if len(src.Profile) > 0 {
			return true
		}
	}
	return false
}

// LiveKnob reports whether a knob can be turned mid-run (every field it
// sets follows it live); when not, field names the first field that
// cannot, for the reason a user is shown.
func (sc *Scenario) LiveKnob(name string) (live bool, field string) {
	for _, u := range sc.uses[name] {
		if !u.live {
			return false, u.field
		}
	}
	return true, ""
}
