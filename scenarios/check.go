package scenarios

import (
	"math"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
	"stormglass/models/service"
)

// element is a named thing in the scenario that others refer to.
type element struct {
	kind string // station, sink, source
	pos  Pos
}

// check resolves every reference once all sections are decoded: dangling
// names, routes that cannot leave, knobs set mid-run that cannot change,
// and the units of the objectives' bounds.
func (d *decoder) check(sc *Scenario) {
	names := map[string]element{}
	declare := func(name, kind string, pos Pos, field string) {
		if name == "" {
			return
		}
		if prev, dup := names[name]; dup {
			d.errorAt(pos, field, "the name %q is already used by the %s at line %d: the elements of a scenario need distinct names", name, prev.kind, prev.pos.Line)
			return
		}
		names[name] = element{kind, pos}
	}
	comps := map[string]Pos{}
	for ci, net := range sc.Networks {
		path := index("components", ci)
		if prev, dup := comps[net.Name]; dup && net.Name != "" {
			d.errorAt(net.Pos, path+".name", "the component name %q is already used at line %d", net.Name, prev.Line)
		}
		comps[net.Name] = net.Pos
		for si, st := range net.Stations {
			declare(st.Name, "station", st.Pos, index(path+".stations", si)+".name")
		}
		for si, s := range net.Sinks {
			declare(s.Name, "sink", s.Pos, index(path+".sinks", si))
		}
		if len(net.Stations) == 0 && len(d.errs) == 0 {
			d.errorAt(net.Pos, path+".stations", "expected at least one station")
		}
		if len(net.Sinks) == 0 && len(d.errs) == 0 {
			d.errorAt(net.Pos, path+".sinks", "expected at least one sink")
		}
	}
	for i, src := range sc.Workload {
		declare(src.Name, "source", src.Pos, index("workload", i)+".name")
	}
	for i, be := range sc.Backends {
		declare(be.Name, "backend", be.Pos, index("components", len(sc.Networks)+i)+".name")
	}
	for i, sys := range sc.Systems {
		d.checkSystem(sys, index("components", len(sc.Networks)+len(sc.Backends)+i), declare)
	}
	for i, f := range sc.Fleets {
		declare(f.Name, "fleet", f.Pos, index("components", len(sc.Networks)+len(sc.Backends)+len(sc.Systems)+i)+".name")
	}

	checkRoutes := func(routes []RouteSpec, path string, fromSource bool) {
		sum, literal := 0.0, true
		rest := false
		for ri, r := range routes {
			p := index(path+".routes", ri)
			if len(routes) == 1 && r.Rest {
				p = path + ".to"
			}
			switch el, ok := names[r.To]; {
			case r.To == "":
			case !ok && d.dropped:
				// A component that failed to decode may have held it.
			case !ok:
				d.errorAt(r.Pos, p, "no station or sink is named %q%s", r.To, suggest(r.To, sortedKeys(names)))
			case el.kind == "source":
				d.errorAt(r.Pos, p, "%q is a source: jobs go to a station or a sink", r.To)
			case fromSource && el.kind == "sink":
				d.errorAt(r.Pos, p, "%q is a sink: a source's jobs must visit a station", r.To)
			}
			if r.Rest {
				rest = true
			} else if r.P.Knob != "" {
				literal = false
			} else {
				sum += r.P.Value.Float()
			}
		}
		if literal && len(routes) > 0 {
			switch {
			case sum > 1+1e-9:
				d.errorAt(routes[0].Pos, path+".routes", "the shares add up to %.6g: expected at most 1", sum)
			case !rest && math.Abs(sum-1) > 1e-9:
				d.errorAt(routes[0].Pos, path+".routes", "the shares add up to %.6g: expected 1 (or give one route without p to take the rest)", sum)
			}
		}
	}
	for ci, net := range sc.Networks {
		for si, st := range net.Stations {
			checkRoutes(st.Routes, index(index("components", ci)+".stations", si), false)
		}
	}
	for i, src := range sc.Workload {
		checkRoutes(src.Routes, index("workload", i), true)
	}
	d.checkReachability(sc, names)

	for i := range sc.SLOs {
		d.checkSLO(sc, &sc.SLOs[i], index("slos", i))
	}

	for i, k := range sc.Knobs.All() {
		if len(d.uses[k.Name]) == 0 && !d.refused[k.Name] {
			d.errorAt(d.knobDecl[k.Name], index("knobs", i)+".name", "knob %s is declared but no field uses it: refer to it as $%s, or remove it", k.Name, k.Name)
		}
	}

	ids := map[string]Pos{}
	d.checkTimeline(sc.Timeline, "timeline", names, ids)
	variants := map[string]Pos{}
	for vi, v := range sc.Variants {
		path := index("variants", vi)
		if v.Name == BaseVariant {
			d.errorAt(v.Pos, path+".name", "%q names the scenario as declared: choose another name", BaseVariant)
		}
		if prev, dup := variants[v.Name]; dup && v.Name != "" {
			d.errorAt(v.Pos, path+".name", "variant %q is already declared at line %d", v.Name, prev.Line)
		}
		variants[v.Name] = v.Pos
		for di, id := range v.Drop {
			if _, ok := ids[id]; !ok && id != "" {
				d.errorAt(v.dropPos[di], index(path+".drop", di), "the base timeline has no entry with id %q%s", id, suggest(id, sortedKeys(ids)))
			}
		}
		local := make(map[string]Pos, len(ids))
		for k, p := range ids {
			if !slices.Contains(v.Drop, k) { // a variant may reuse an id it drops
				local[k] = p
			}
		}
		d.checkTimeline(v.Timeline, path+".timeline", names, local)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkReachability reports stations from which no sink can be reached:
// jobs there would circle for ever and the network would fill up.
func (d *decoder) checkReachability(sc *Scenario, names map[string]element) {
	next := map[string][]string{}
	var stations []*StationSpec
	paths := map[*StationSpec]string{}
	for ci, net := range sc.Networks {
		for si, st := range net.Stations {
			stations = append(stations, st)
			paths[st] = index(index("components", ci)+".stations", si)
			for _, r := range st.Routes {
				if r.Rest || r.P.Knob != "" || r.P.Value.Float() > 0 {
					next[st.Name] = append(next[st.Name], r.To)
				}
			}
		}
	}
	exits := map[string]bool{}
	for name, el := range names {
		if el.kind == "sink" {
			exits[name] = true
		}
	}
	// A route to an unknown name is reported as dangling; counting it as a
	// way out keeps the stations upstream from being blamed as well.
	for _, st := range stations {
		if slices.ContainsFunc(st.Routes, func(r RouteSpec) bool { _, ok := names[r.To]; return !ok }) {
			exits[st.Name] = true
		}
	}
	// Fixed point: a station exits if any destination exits.
	for changed := true; changed; {
		changed = false
		for _, st := range stations {
			if exits[st.Name] {
				continue
			}
			if slices.ContainsFunc(next[st.Name], func(n string) bool { return exits[n] }) {
				exits[st.Name], changed = true, true
			}
		}
	}
	for _, st := range stations {
		if !exits[st.Name] && len(st.Routes) > 0 {
			d.errorAt(st.Pos, paths[st], "no sink can be reached from here: jobs would circle for ever; route a share to a sink")
		}
	}
}

func (d *decoder) checkSLO(sc *Scenario, s *SLO, path string) {
	if s.Metric == "" {
		return
	}
	m, ok := sc.Metric(s.Metric)
	if !ok {
		all := sc.Metrics()
		names := make([]string, len(all))
		for i, m := range all {
			names[i] = m.Name
		}
		d.errorf(s.metricNode, path+".metric", "unknown metric %q%s: expected one of %s", s.Metric, suggest(s.Metric, names), strings.Join(names, ", "))
		return
	}
	s.Unit = m.Unit
	if s.Stat != "mean" && !m.Distribution {
		var dist []string
		for _, m := range sc.Metrics() {
			if m.Distribution {
				dist = append(dist, m.Name)
			}
		}
		d.errorAt(s.Pos, path+".stat", "%s has only a mean: %s is for metrics with a distribution (here: %s)", s.Metric, s.Stat, strings.Join(dist, ", "))
	}
	kind := map[MetricUnit]knob.Kind{UnitNumber: knob.Number, UnitSeconds: knob.Duration, UnitPerSecond: knob.Rate}[m.Unit]
	for i, out := range []**float64{&s.Min, &s.Max} {
		n := s.boundNodes[i]
		if n == nil {
			continue
		}
		if v, ok := d.value(n, path+"."+[]string{"min", "max"}[i], kind); ok {
			x := v.Float()
			*out = &x
		}
	}
	if s.Min != nil && s.Max != nil && *s.Min > *s.Max {
		d.errorf(s.boundNodes[1], path+".max", "the bounds leave nothing: max is below min")
	}
	s.metricNode, s.boundNodes = nil, [2]*yaml.Node{}
}

// checkTimeline checks entries' targets and knobs; ids collects the ids
// seen so far, which must be unique.
func (d *decoder) checkTimeline(entries []Entry, path string, names map[string]element, ids map[string]Pos) {
	for i, e := range entries {
		p := index(path, i)
		if e.ID != "" {
			if prev, dup := ids[e.ID]; dup {
				d.errorAt(e.Pos, p+".id", "the id %q is already used at line %d", e.ID, prev.Line)
			} else {
				ids[e.ID] = e.Pos
			}
		}
		for _, a := range e.Set {
			for _, u := range d.uses[a.Knob] {
				if !u.live {
					d.errorAt(a.Pos, p+".set."+a.Knob, "knob %s cannot change mid-run: it sets %s, which is fixed once a run starts (use a variant instead)", a.Knob, u.field)
					break
				}
			}
		}
		target, want, field := "", "", ""
		switch {
		case e.Fault != nil && e.Fault.Kind != FaultRestart && hasKind(names, "service"):
			d.errorAt(e.Pos, p+".fault.kind", "a services scenario takes restart faults (of a service or a database), not %s", e.Fault.Kind)
			continue
		case e.Fault != nil && (e.Fault.Kind == FaultLatency || e.Fault.Kind == FaultKill) && !hasKind(names, "fleet"):
			if !d.dropped {
				d.errorAt(e.Pos, p+".fault.kind", "a %s fault is for a %s component, and this scenario has none", e.Fault.Kind, KindWebSocketFleet)
			}
			continue
		case e.Fault != nil && (e.Fault.Kind == FaultLatency || e.Fault.Kind == FaultKill):
			target, want, field = e.Fault.Target, "fleet", ".fault.target"
		case e.Fault != nil && hasKind(names, "fleet"):
			d.errorAt(e.Pos, p+".fault.kind", "a %s scenario takes latency and kill faults, not %s", KindWebSocketFleet, e.Fault.Kind)
			continue
		case e.Deploy != nil && hasKind(names, "fleet"):
			d.errorAt(e.Pos, p+".deploy", "a %s is not redeployed: kill a node with a kill fault, or give it more nodes in a variant", KindWebSocketFleet)
			continue
		case e.Fault != nil && (e.Fault.Kind == FaultOutage || e.Fault.Kind == FaultSlowdown):
			target, want, field = e.Fault.Target, "station", ".fault.target"
		case e.Fault != nil && e.Fault.Kind == FaultSurge:
			target, want, field = e.Fault.Target, "source", ".fault.target"
		case e.Fault != nil && e.Fault.Kind == FaultRestart:
			target, want, field = e.Fault.Target, "service", ".fault.target"
			if el, ok := names[target]; ok && el.kind == "database" {
				want = "database"
			} else if ok && el.kind == "service" && e.Fault.For > 0 {
				d.errorAt(e.Pos, p+".fault.for", "a service restarts at once: for is for a database's downtime")
			}
		case e.Deploy != nil:
			target, want, field = e.Deploy.Target, "station", ".deploy.target"
			if el, ok := names[target]; ok && el.kind == "backend" || !ok && hasKind(names, "backend") {
				want = "backend"
			}
			if el, ok := names[target]; ok && el.kind == "service" || !ok && hasKind(names, "service") {
				want = "service"
			}
			d.checkDeploy(e, p+".deploy", want)
		}
		if target == "" {
			continue
		}
		var candidates []string
		for name, el := range names {
			if el.kind == want || e.Fault != nil && e.Fault.Kind == FaultRestart && (el.kind == "service" || el.kind == "database") {
				candidates = append(candidates, name)
			}
		}
		slices.Sort(candidates)
		if e.Fault != nil && e.Fault.Kind == FaultRestart {
			want = "service or database"
			if el, ok := names[target]; ok && (el.kind == "service" || el.kind == "database") {
				continue
			}
		}
		switch el, ok := names[target]; {
		case !ok && d.dropped:
		case !ok:
			d.errorAt(e.Pos, p+field, "no %s is named %q%s: expected one of %s", want, target, suggest(target, candidates), strings.Join(candidates, ", "))
		case el.kind != want:
			d.errorAt(e.Pos, p+field, "%q is a %s, but this targets a %s: expected one of %s", target, el.kind, want, strings.Join(candidates, ", "))
		}
	}
}

// checkDeploy checks that a deploy says what its target needs: servers for
// a station, a hardware tier for a backend.
func (d *decoder) checkDeploy(e Entry, path, kind string) {
	dep := e.Deploy
	switch {
	case kind == "station" && dep.Servers == 0 && dep.Tier == "":
		d.errorAt(e.Pos, path+".servers", "missing required field \"servers\": a station is redeployed on a number of servers")
	case kind == "station" && (dep.Tier != "" || dep.Instances != 0):
		d.errorAt(e.Pos, path+".tier", "a station has servers, not a hardware tier: give servers only")
	case kind == "service" && dep.Servers > service.MaxPods:
		d.errorAt(e.Pos, path+".servers", "%d pods: expected 1 to %d", dep.Servers, service.MaxPods)
	case kind == "service" && dep.Servers == 0:
		d.errorAt(e.Pos, path+".servers", "missing required field \"servers\": a service is scaled to a number of pods")
	case kind == "service" && (dep.tierGiven || dep.Instances != 0):
		d.errorAt(e.Pos, path+".tier", "a service has pods, not a hardware tier: give servers (the pods) only")
	case kind == "backend" && dep.Servers != 0:
		d.errorAt(e.Pos, path+".servers", "a backend runs on a hardware tier: give tier (and instances), not servers")
	case kind == "backend" && !dep.tierGiven:
		d.errorAt(e.Pos, path+".tier", "missing required field \"tier\": a backend is redeployed on a hardware tier")
	}
}

// hasKind reports whether some element is of the kind.
func hasKind(names map[string]element, kind string) bool {
	for _, el := range names {
		if el.kind == kind {
			return true
		}
	}
	return false
}

// checkSystem declares a services component's names and checks that its
// references (pools, steps, queues, follow-ups) name what exists.
func (d *decoder) checkSystem(sys *SystemSpec, path string, declare func(name, kind string, pos Pos, field string)) {
	declare(sys.Name, "system", sys.Pos, path+".name")
	dbs, caches, queues := map[string]bool{}, map[string]bool{}, map[string]bool{}
	endpoints := map[string]bool{} // service.endpoint
	for i, x := range sys.Databases {
		declare(x.Name, "database", x.Pos, index(path+".databases", i)+".name")
		dbs[x.Name] = true
	}
	for i, x := range sys.Caches {
		declare(x.Name, "cache", x.Pos, index(path+".caches", i)+".name")
		caches[x.Name] = true
	}
	for i, x := range sys.Queues {
		declare(x.Name, "queue", x.Pos, index(path+".queues", i)+".name")
		queues[x.Name] = true
	}
	services := map[string]bool{}
	for i, s := range sys.Services {
		declare(s.Name, "service", s.Pos, index(path+".services", i)+".name")
		services[s.Name] = true
		for _, e := range s.Endpoints {
			endpoints[s.Name+"."+e.Name] = true
		}
	}
	known := func(set map[string]bool) []string { return sortedKeys(set) }
	ref := func(name string, set map[string]bool, what string, pos Pos, field string) {
		if name != "" && !set[name] {
			d.errorAt(pos, field, "no %s is named %q%s: expected one of %s", what, name, suggest(name, known(set)), strings.Join(known(set), ", "))
		}
	}
	for i, q := range sys.Queues {
		p := index(path+".queues", i)
		switch {
		case q.Service == "" || q.Endpoint == "":
		case !services[q.Service]:
			ref(q.Service, services, "service", q.ServicePos, p+".service")
		case !endpoints[q.Service+"."+q.Endpoint]:
			d.errorAt(q.EndpointPos, p+".endpoint", "service %s has no endpoint %q: a queue's consumer is one of its endpoints", q.Service, q.Endpoint)
		}
	}
	for si, s := range sys.Services {
		sp := index(path+".services", si)
		pooled := map[string]bool{}
		for pi, pool := range s.Pools {
			pp := index(sp+".pools", pi)
			ref(pool.Database, dbs, "database", pool.DatabasePos, pp+".database")
			if pooled[pool.Database] {
				d.errorAt(pool.DatabasePos, pp+".database", "a second pool for %q: a pod opens one pool per database", pool.Database)
			}
			pooled[pool.Database] = true
		}
		seen := map[string]Pos{}
		for ei, e := range s.Endpoints {
			ep := index(sp+".endpoints", ei)
			if prev, dup := seen[e.Name]; dup && e.Name != "" {
				d.errorAt(e.Pos, ep+".name", "the endpoint name %q is already used at line %d", e.Name, prev.Line)
			}
			seen[e.Name] = e.Pos
			for fi, f := range e.Followups {
				if f.Endpoint != "" && !endpoints[s.Name+"."+f.Endpoint] {
					d.errorAt(f.EndpointPos, index(ep+".followups", fi)+".endpoint", "no endpoint %q in service %s: a follow-up goes to an endpoint of the same service", f.Endpoint, s.Name)
				}
			}
			for ti, st := range e.Steps {
				tp := index(ep+".steps", ti)
				switch st.Kind {
				case service.StepQuery, service.StepStock:
					if st.Database == "" {
						break
					}
					field := tp + ".query.database"
					if st.Kind == service.StepStock {
						field = tp + ".stock.database"
					}
					ref(st.Database, dbs, "database", st.DatabasePos, field)
					if dbs[st.Database] && !pooled[st.Database] {
						d.errorAt(st.DatabasePos, field, "service %s has no pool for database %q: add one under pools", s.Name, st.Database)
					}
					if st.Cache != "" {
						ref(st.Cache, caches, "cache", st.CachePos, tp+".query.cache")
					}
				case service.StepEnqueue:
					ref(st.Queue, queues, "queue", st.QueuePos, tp+".enqueue")
				case service.StepCall:
					switch {
					case st.Service == "" || st.Endpoint == "":
					case !services[st.Service]:
						ref(st.Service, services, "service", st.CallPos, tp+".call.service")
					case !endpoints[st.Service+"."+st.Endpoint]:
						d.errorAt(st.CallPos, tp+".call.endpoint", "service %s has no endpoint %q: a call goes to one of its endpoints", st.Service, st.Endpoint)
					case st.Service == s.Name && st.Endpoint == e.Name:
						d.errorAt(st.CallPos, tp+".call", "an endpoint cannot call itself")
					}
				}
			}
		}
	}
	d.checkCallCycles(sys, path)
}

// checkCallCycles reports a cycle of synchronous calls (a calls b, which
// calls a): a request would never end. It is reported at the call that
// closes the cycle.
func (d *decoder) checkCallCycles(sys *SystemSpec, path string) {
	type call struct {
		to    string
		pos   Pos
		field string
	}
	calls := map[string][]call{}
	var order []string
	for si, s := range sys.Services {
		for ei, e := range s.Endpoints {
			name := s.Name + "." + e.Name
			order = append(order, name)
			for ti, st := range e.Steps {
				if st.Kind == service.StepCall && st.Service != "" && st.Endpoint != "" && name != st.Service+"."+st.Endpoint {
					calls[name] = append(calls[name], call{st.Service + "." + st.Endpoint, st.CallPos,
						index(index(index(path+".services", si)+".endpoints", ei)+".steps", ti) + ".call"})
				}
			}
		}
	}
	const (
		active = 1
		done   = 2
	)
	state := map[string]int{}
	var visit func(n string, trail []string) bool
	visit = func(n string, trail []string) bool {
		state[n] = active
		for _, c := range calls[n] {
			switch state[c.to] {
			case active:
				d.errorAt(c.pos, c.field, "the calls %s → %s form a cycle: a request would never end", strings.Join(append(trail, n), " → "), c.to)
				return true
			case 0:
				if visit(c.to, append(trail, n)) {
					return true
				}
			}
		}
		state[n] = done
		return false
	}
	for _, n := range order {
		if state[n] == 0 && visit(n, nil) {
			return
		}
	}
}
