package scenarios

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
	"stormglass/models/cache"
	"stormglass/models/db"
	"stormglass/models/service"
)

// KindServices is the component kind of a system of services, databases,
// caches and queues (models/service).
const KindServices = "services"

// MiB is a mebibyte: memory figures in a scenario are in MiB.
const MiB = 1 << 20

// SystemSpec is a services component. Every number may read a knob.
type SystemSpec struct {
	Name      string
	Pos       Pos
	Slow      Param // duration
	Databases []*DatabaseSpec
	Caches    []*CacheSpec
	Queues    []*QueueSpec
	Services  []*AppSpec
}

// DatabaseSpec is a database instance; memory figures in MiB.
type DatabaseSpec struct {
	Name                                 string
	Pos                                  Pos
	Cores, Speed                         Param // numbers
	Knee, MaxConnections                 Param // integers
	Thrash                               Param // number
	MemoryBase, MemoryPerConnection      Param // numbers, MiB
	MemoryGrowth, MemoryPerConnectionMax Param
	MemoryAging                          Param // MiB per hour
	MemoryLimit                          Param
	RestartTime                          Param // duration
	DeadlockCheck                        Param // duration
}

// CacheSpec is a shared cache.
type CacheSpec struct {
	Name                               string
	Pos                                Pos
	TTL, TTLSpread, NegativeTTL, Local Param // durations
	Keys                               Param // integer
	Missing                            Param // number in [0, 1]
	Warm                               Param // bool
}

// QueueSpec is a message queue and its consumers.
type QueueSpec struct {
	Name, Service, Endpoint string
	Pos                     Pos
	ServicePos, EndpointPos Pos
	Consumers, Capacity     Param // integers
}

// AppSpec is a service of pods.
type AppSpec struct {
	Name                         string
	Pos                          Pos
	Pods                         Param // integer
	Cores, Speed                 Param // numbers
	Pools                        []*PoolSpec
	RateLimit                    Param // rate, live
	Burst, MaxInFlight           Param // integers
	Connections, ConnectionLimit Param // integers
	Jobs                         []*JobSpec
	Endpoints                    []*EndpointSpec
}

// PoolSpec is the pool each pod opens to a database.
type PoolSpec struct {
	DatabasePos                                Pos
	Database                                   string
	Pos                                        Pos
	Min, Max                                   Param // integers
	AcquireTimeout, IdleTimeout, LeakDetection Param // durations
	Reconnect                                  Param // choice: none, auto
	ReconnectDelay                             Param // duration
}

// JobSpec is a background job on every pod.
type JobSpec struct {
	Name    string
	Pos     Pos
	At, For Param // durations
	Threads Param // number
}

// EndpointSpec is a kind of request.
type EndpointSpec struct {
	Name       string
	Pos        Pos
	Arrivals   []RatePointSpec
	Timeout    Param // duration
	Retry      Param // number in [0, 1)
	RetryAfter Param // duration
	Leak       Param // number in [0, 1], live
	Steps      []*StepSpec
	Followups  []*FollowupSpec
}

// FollowupSpec is traffic a successful response brings.
type FollowupSpec struct {
	EndpointPos Pos
	Endpoint    string
	Pos         Pos
	Count       Param // integer
	After       Param // duration
	Share       Param // number in [0, 1]
}

// StepSpec is one step of an endpoint; Kind says which fields it holds.
type StepSpec struct {
	Kind service.StepKind
	Pos  Pos
	// Where the references were written, for errors about them.
	DatabasePos, CachePos, QueuePos, CallPos Pos
	Enabled                                  Param // bool, live; unset: always
	Unless                                   Param // bool, live: the step is skipped while it is true

	Cost              CostSpec // cpu, wait
	Database, Cache   string
	Query             CostSpec // query, stock
	Rows              Param    // integer
	Batched           Param    // bool
	RowCost           Param    // duration
	Mode              Param    // choice: pessimistic, atomic
	Stock             Param    // integer
	Hold              CostSpec
	LockTimeout       Param // duration
	Degrade           Param // bool
	Service, Endpoint string
	CallTimeout       Param // duration
	Queue             string
	Fanout            Param // choice: broadcast, pubsub
	GroupSize         Param // integer
	PerRecipient      Param // duration
}

var (
	stepKinds      = []string{"cpu", "wait", "query", "stock", "call", "enqueue", "fanout"}
	stockModes     = []string{"pessimistic", "atomic"}
	fanoutModes    = []string{"broadcast", "pubsub"}
	reconnectModes = []string{"none", "auto"}
)

// system decodes a services component; n is its mapping, whose name and
// kind the caller has read.
func (d *decoder) system(n *yaml.Node, path string, sys *SystemSpec) {
	set := func(out *Param, spec paramSpec) func(v *yaml.Node, p string) {
		return func(v *yaml.Node, p string) { *out = d.param(v, p, spec) }
	}
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &sys.Name) }},
		{"kind", true, func(*yaml.Node, string) {}},
		{"slow", false, set(&sys.Slow, paramSpec{kind: knob.Duration, min: 0, max: 3600, positive: true})},
		{"databases", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "databases", func(i int, v *yaml.Node, p string) { sys.Databases = append(sys.Databases, d.database(v, p)) })
		}},
		{"caches", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "caches", func(i int, v *yaml.Node, p string) { sys.Caches = append(sys.Caches, d.cacheSpec(v, p)) })
		}},
		{"queues", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "queues", func(i int, v *yaml.Node, p string) { sys.Queues = append(sys.Queues, d.queueSpec(v, p)) })
		}},
		{"services", true, func(v *yaml.Node, p string) {
			d.sequence(v, p, "services", func(i int, v *yaml.Node, p string) { sys.Services = append(sys.Services, d.app(v, p)) })
			if m := d.deref(v); m != nil && m.Kind == yaml.SequenceNode && len(m.Content) == 0 {
				d.errorf(m, p, "expected at least one service")
			}
		}},
	})
}

func num(min, max float64, live bool) paramSpec {
	return paramSpec{kind: knob.Number, min: min, max: max, live: live}
}

func integer(min, max float64, live bool) paramSpec {
	return paramSpec{kind: knob.Integer, min: min, max: max, live: live}
}

// dur accepts durations from min to max seconds; positive refuses 0.
func dur(min, max float64, positive bool) paramSpec {
	return paramSpec{kind: knob.Duration, min: min, max: max, positive: positive}
}

func (d *decoder) setter(out *Param, spec paramSpec) func(v *yaml.Node, p string) {
	return func(v *yaml.Node, p string) { *out = d.param(v, p, spec) }
}

func (d *decoder) database(n *yaml.Node, path string) *DatabaseSpec {
	x := &DatabaseSpec{Pos: posOf(d.deref(n))}
	set := d.setter
	mib := num(0, 1<<30, false)
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &x.Name) }},
		{"cores", true, set(&x.Cores, paramSpec{kind: knob.Number, min: 0, max: 10000, positive: true})},
		{"speed", false, set(&x.Speed, paramSpec{kind: knob.Number, min: 0, max: 1000, positive: true})},
		{"knee", true, set(&x.Knee, integer(1, 1_000_000, false))},
		{"thrash", false, set(&x.Thrash, num(0, 100, false))},
		{"max_connections", true, set(&x.MaxConnections, integer(1, 10_000_000, false))},
		{"memory", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"base", true, set(&x.MemoryBase, mib)},
				{"per_connection", true, set(&x.MemoryPerConnection, mib)},
				{"growth", false, set(&x.MemoryGrowth, mib)},
				{"aging", false, set(&x.MemoryAging, num(0, 1<<20, false))}, // MiB per hour
				{"per_connection_max", false, set(&x.MemoryPerConnectionMax, mib)},
				{"limit", false, set(&x.MemoryLimit, mib)},
			})
		}},
		{"restart_time", true, set(&x.RestartTime, dur(0, 86400, true))},
		{"deadlock_check", false, set(&x.DeadlockCheck, dur(0, 1, false))},
	})
	if limLo, _, ok := d.bounds(x.MemoryLimit); ok && limLo > 0 {
		if _, baseHi, ok := d.bounds(x.MemoryBase); ok && limLo <= baseHi {
			d.errorAt(x.MemoryLimit.Pos, path+".memory.limit", "%s MiB is not above the base's %s MiB: the database would run out of memory with no connection open (0 means no limit)", fmtNum(knob.Number, limLo), fmtNum(knob.Number, baseHi))
		}
	}
	return x
}

func (d *decoder) cacheSpec(n *yaml.Node, path string) *CacheSpec {
	x := &CacheSpec{Pos: posOf(d.deref(n))}
	set := d.setter
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &x.Name) }},
		{"keys", true, set(&x.Keys, integer(1, 100_000_000, false))},
		{"ttl", true, set(&x.TTL, dur(0, 30*86400, true))},
		{"ttl_spread", false, set(&x.TTLSpread, dur(0, 30*86400, false))},
		{"negative_ttl", false, set(&x.NegativeTTL, dur(0, 30*86400, false))},
		{"local_ttl", false, set(&x.Local, dur(0, 30*86400, false))},
		{"missing", false, set(&x.Missing, num(0, 1, false))},
		{"warm", false, set(&x.Warm, paramSpec{kind: knob.Bool})},
	})
	return x
}

func (d *decoder) queueSpec(n *yaml.Node, path string) *QueueSpec {
	x := &QueueSpec{Pos: posOf(d.deref(n))}
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &x.Name) }},
		{"service", true, d.ref(&x.Service, &x.ServicePos)},
		{"endpoint", true, d.ref(&x.Endpoint, &x.EndpointPos)},
		{"consumers", true, d.setter(&x.Consumers, integer(1, 100_000, false))},
		{"capacity", false, d.setter(&x.Capacity, integer(0, 1e9, false))},
	})
	return x
}

func (d *decoder) app(n *yaml.Node, path string) *AppSpec {
	x := &AppSpec{Pos: posOf(d.deref(n))}
	set := d.setter
	count := integer(0, 100_000_000, false)
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &x.Name) }},
		{"pods", true, set(&x.Pods, integer(1, service.MaxPods, false))},
		{"cores", true, set(&x.Cores, paramSpec{kind: knob.Number, min: 0, max: 1024, positive: true})},
		{"speed", false, set(&x.Speed, paramSpec{kind: knob.Number, min: 0, max: 1000, positive: true})},
		{"pools", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "pools", func(i int, v *yaml.Node, p string) { x.Pools = append(x.Pools, d.poolSpec(v, p)) })
		}},
		{"rate_limit", false, set(&x.RateLimit, paramSpec{kind: knob.Rate, min: 0, max: 1e7, live: true})}, // 0: none
		{"burst", false, set(&x.Burst, integer(1, 1e7, false))},
		{"max_in_flight", false, set(&x.MaxInFlight, integer(1, 1e7, false))},
		{"connections", false, set(&x.Connections, count)},
		{"connection_limit", false, set(&x.ConnectionLimit, integer(1, 100_000_000, false))},
		{"jobs", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "jobs", func(i int, v *yaml.Node, p string) {
				j := &JobSpec{Pos: posOf(d.deref(v))}
				d.mapping(v, p, []field{
					{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &j.Name) }},
					{"at", true, set(&j.At, dur(0, 365*86400, false))},
					{"for", true, set(&j.For, dur(0, 365*86400, true))},
					{"threads", true, set(&j.Threads, num(0, 100_000, false))},
				})
				x.Jobs = append(x.Jobs, j)
			})
		}},
		{"endpoints", true, func(v *yaml.Node, p string) {
			d.sequence(v, p, "endpoints", func(i int, v *yaml.Node, p string) { x.Endpoints = append(x.Endpoints, d.endpointSpec(v, p)) })
			if m := d.deref(v); m != nil && m.Kind == yaml.SequenceNode && len(m.Content) == 0 {
				d.errorf(m, p, "expected at least one endpoint")
			}
		}},
	})
	return x
}

func (d *decoder) poolSpec(n *yaml.Node, path string) *PoolSpec {
	x := &PoolSpec{Pos: posOf(d.deref(n))}
	set := d.setter
	d.mapping(n, path, []field{
		{"database", true, d.ref(&x.Database, &x.DatabasePos)},
		{"min", false, set(&x.Min, integer(0, 100_000, false))},
		{"max", true, set(&x.Max, integer(1, 100_000, false))},
		{"acquire_timeout", true, set(&x.AcquireTimeout, dur(0, 3600, true))},
		{"idle_timeout", false, set(&x.IdleTimeout, dur(0, 86400, false))},
		{"leak_detection", false, set(&x.LeakDetection, dur(0, 86400, false))},
		{"reconnect", false, set(&x.Reconnect, paramSpec{kind: knob.Choice, choices: reconnectModes})},
		{"reconnect_delay", false, set(&x.ReconnectDelay, dur(0, 3600, true))},
	})
	if _, minHi, ok := d.bounds(x.Min); ok && (x.Min.Knob == "" || x.Min.Knob != x.Max.Knob) {
		if maxLo, _, ok := d.bounds(x.Max); ok && minHi > maxLo {
			what := fmt.Sprintf("%s is above max (%s)", fmtNum(knob.Integer, minHi), fmtNum(knob.Integer, maxLo))
			if x.Min.Knob != "" || x.Max.Knob != "" {
				what = fmt.Sprintf("min may reach %s while max may be %s", fmtNum(knob.Integer, minHi), fmtNum(knob.Integer, maxLo))
			}
			d.errorAt(x.Min.Pos, path+".min", "%s: a pool opens at most max connections", what)
		}
	}
	return x
}

func (d *decoder) endpointSpec(n *yaml.Node, path string) *EndpointSpec {
	x := &EndpointSpec{Pos: posOf(d.deref(n))}
	set := d.setter
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &x.Name) }},
		{"arrivals", false, func(v *yaml.Node, p string) { x.Arrivals = d.ratePoints(v, p, 1e7) }},
		{"timeout", false, set(&x.Timeout, dur(0, 86400, true))},
		{"retry", false, set(&x.Retry, num(0, 0.99, false))},
		{"retry_after", false, set(&x.RetryAfter, dur(0, 86400, false))},
		{"leak", false, set(&x.Leak, num(0, 1, true))},
		{"steps", true, func(v *yaml.Node, p string) {
			d.sequence(v, p, "steps", func(i int, v *yaml.Node, p string) {
				if i == service.MaxSteps {
					d.errorf(v, p, "more than %d steps: expected at most %d", service.MaxSteps, service.MaxSteps)
				}
				x.Steps = append(x.Steps, d.stepSpec(v, p))
			})
		}},
		{"followups", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "follow-ups", func(i int, v *yaml.Node, p string) {
				if i == service.MaxFollowups {
					d.errorf(v, p, "more than %d follow-ups: expected at most %d", service.MaxFollowups, service.MaxFollowups)
				}
				f := &FollowupSpec{Pos: posOf(d.deref(v))}
				d.mapping(v, p, []field{
					{"endpoint", true, d.ref(&f.Endpoint, &f.EndpointPos)},
					{"count", true, set(&f.Count, integer(0, 1000, false))},
					{"after", false, set(&f.After, dur(0, 86400, false))},
					{"share", false, set(&f.Share, num(0, 1, false))},
				})
				x.Followups = append(x.Followups, f)
			})
		}},
	})
	return x
}

// ref decodes a name that refers to an element, and where it was written.
func (d *decoder) ref(out *string, pos *Pos) func(v *yaml.Node, p string) {
	return func(v *yaml.Node, p string) {
		*pos = posOf(d.deref(v))
		d.name(v, p, out)
	}
}

// mayBe reports whether a choice field is the word, or reads a knob (which
// may choose it: the rule does not depend on the knob's choices, so the
// schema can state it too).
func (d *decoder) mayBe(p Param, word string) bool {
	return p.Knob != "" || p.Value.IsSet() && p.Value.Word() == word
}

// bounds is the range a numeric field can take: its literal, or its
// knob's range.
func (d *decoder) bounds(p Param) (lo, hi float64, ok bool) {
	if p.Knob == "" {
		if !p.Value.IsSet() {
			return 0, 0, false
		}
		return p.Value.Float(), p.Value.Float(), true
	}
	k, err := d.knobs.Get(p.Knob)
	if err != nil || !k.Min.IsSet() || !k.Max.IsSet() {
		return 0, 0, false
	}
	return k.Min.Float(), k.Max.Float(), true
}

// ratePoints decodes a piecewise-constant rate profile in time order.
func (d *decoder) ratePoints(n *yaml.Node, path string, maxRate float64) []RatePointSpec {
	var out []RatePointSpec
	var last time.Duration
	d.sequence(n, path, "rate points", func(i int, v *yaml.Node, p string) {
		pt := RatePointSpec{Pos: posOf(d.deref(v))}
		var atNode *yaml.Node
		d.mapping(v, p, []field{
			{"at", true, func(v *yaml.Node, p string) { atNode = v; d.duration(v, p, 0, &pt.At) }},
			{"rate", true, func(v *yaml.Node, p string) {
				pt.Rate = d.param(v, p, paramSpec{kind: knob.Rate, min: 0, max: maxRate})
			}},
		})
		if atNode != nil && i > 0 && pt.At <= last {
			d.errorf(atNode, p+".at", "%v is not after the previous point's %v: points must be in time order", knob.DurationValue(pt.At), knob.DurationValue(last))
		}
		last = pt.At
		out = append(out, pt)
	})
	return out
}

// stepSpec decodes one step: a mapping with exactly one of the step
// kinds as a key, plus an optional enabled.
func (d *decoder) stepSpec(n *yaml.Node, path string) *StepSpec {
	x := &StepSpec{Pos: posOf(d.deref(n))}
	set := d.setter
	cost := func(out *CostSpec, positive bool) func(v *yaml.Node, p string) {
		return func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"mean", true, set(&out.Mean, dur(0, 3600, positive))},
				{"cv", false, set(&out.CV, num(0, 10, false))},
			})
		}
	}
	kinds, costGiven, before := 0, false, len(d.errs)
	kind := func(k service.StepKind, body func(v *yaml.Node, p string)) func(v *yaml.Node, p string) {
		return func(v *yaml.Node, p string) {
			kinds++
			x.Kind = k
			body(v, p)
		}
	}
	d.mapping(n, path, []field{
		{"enabled", false, set(&x.Enabled, paramSpec{kind: knob.Bool, live: true})},
		{"unless", false, set(&x.Unless, paramSpec{kind: knob.Bool, live: true})},
		{"cpu", false, kind(service.StepCPU, cost(&x.Cost, false))},
		{"wait", false, kind(service.StepWait, cost(&x.Cost, false))},
		{"query", false, kind(service.StepQuery, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"database", true, d.ref(&x.Database, &x.DatabasePos)},
				{"cost", true, cost(&x.Query, true)},
				{"rows", false, set(&x.Rows, integer(1, service.MaxRows, false))},
				{"batched", false, set(&x.Batched, paramSpec{kind: knob.Bool})},
				{"row_cost", false, set(&x.RowCost, dur(0, 3600, false))},
				{"cache", false, d.ref(&x.Cache, &x.CachePos)},
			})
		})},
		{"stock", false, kind(service.StepStock, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"mode", true, set(&x.Mode, paramSpec{kind: knob.Choice, choices: stockModes})},
				{"database", false, d.ref(&x.Database, &x.DatabasePos)},
				{"cost", false, func(v *yaml.Node, p string) { costGiven = true; cost(&x.Query, true)(v, p) }},
				{"hold", false, cost(&x.Hold, false)},
				{"stock", true, set(&x.Stock, integer(0, 1e12, false))},
				{"lock_timeout", false, set(&x.LockTimeout, dur(0, 86400, true))},
				{"degrade", false, set(&x.Degrade, paramSpec{kind: knob.Bool})},
			})
		})},
		{"call", false, kind(service.StepCall, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"service", true, d.ref(&x.Service, &x.CallPos)},
				{"endpoint", true, func(v *yaml.Node, p string) { d.name(v, p, &x.Endpoint) }},
				{"timeout", false, set(&x.CallTimeout, dur(0, 86400, true))},
			})
		})},
		{"enqueue", false, kind(service.StepEnqueue, d.ref(&x.Queue, &x.QueuePos))},
		{"fanout", false, kind(service.StepFanout, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"mode", true, set(&x.Fanout, paramSpec{kind: knob.Choice, choices: fanoutModes})},
				{"group_size", false, set(&x.GroupSize, integer(0, 100_000_000, false))},
				{"per_recipient", true, set(&x.PerRecipient, dur(0, 60, false))},
			})
		})},
	})
	switch {
	case kinds > 1:
		d.errorAt(x.Pos, path, "a step holds exactly one of %s (and optionally enabled or unless); this one holds %d", strings.Join(stepKinds, ", "), kinds)
	case kinds == 0 && len(d.errs) == before:
		d.errorAt(x.Pos, path, "a step holds one of %s (and optionally enabled or unless); this one holds none", strings.Join(stepKinds, ", "))
	}
	if x.Kind == service.StepStock && d.mayBe(x.Mode, "pessimistic") {
		why := "a pessimistic stock decrement locks a row in the database and updates it"
		if x.Mode.Knob != "" {
			why = fmt.Sprintf("the mode reads knob %s, which may choose pessimistic: a row locked in the database and updated", x.Mode.Knob)
		}
		if x.Database == "" {
			d.errorAt(x.Pos, path+".stock.database", "missing required field \"database\": %s", why)
		}
		if !costGiven {
			d.errorAt(x.Pos, path+".stock.cost", "missing required field \"cost\": %s", why)
		}
	}
	return x
}

// systemConfig resolves a services component's fields with the knobs'
// values.
func systemConfig(sys *SystemSpec, v knob.Values) (service.Config, error) {
	f := func(p Param, def float64) float64 {
		if !p.IsSet() {
			return def
		}
		return p.Resolve(v).Float()
	}
	i := func(p Param, def int) int {
		if !p.IsSet() {
			return def
		}
		return int(p.Resolve(v).Int())
	}
	dr := func(p Param, def time.Duration) time.Duration {
		if !p.IsSet() {
			return def
		}
		return p.Resolve(v).Duration()
	}
	b := func(p Param, def bool) bool {
		if !p.IsSet() {
			return def
		}
		return p.Resolve(v).Bool()
	}
	word := func(p Param, def string) string {
		if !p.IsSet() {
			return def
		}
		return p.Resolve(v).Word()
	}
	cost := func(c CostSpec) service.Cost { return service.Cost{Mean: dr(c.Mean, 0), CV: f(c.CV, 0)} }
	cfg := service.Config{Slow: dr(sys.Slow, 0)}
	for _, x := range sys.Databases {
		perConn := f(x.MemoryPerConnection, 0) * MiB
		cfg.Databases = append(cfg.Databases, service.Database{Name: x.Name, Config: db.Config{
			Cores: f(x.Cores, 1), Speed: f(x.Speed, 1), Knee: i(x.Knee, 1), Thrash: f(x.Thrash, 0),
			MaxConnections: i(x.MaxConnections, 1),
			MemoryBase:     f(x.MemoryBase, 0) * MiB, MemoryPerConnection: perConn,
			MemoryGrowth:           f(x.MemoryGrowth, 0) * MiB,
			MemoryAging:            f(x.MemoryAging, 0) * MiB / 3600,
			MemoryPerConnectionMax: max(f(x.MemoryPerConnectionMax, 0)*MiB, perConn),
			MemoryLimit:            f(x.MemoryLimit, 0) * MiB,
			RestartTime:            dr(x.RestartTime, time.Minute),
			DeadlockCheck:          dr(x.DeadlockCheck, 0),
		}})
	}
	for _, x := range sys.Caches {
		cfg.Caches = append(cfg.Caches, service.Cache{Name: x.Name, Config: cache.Config{
			TTL: dr(x.TTL, time.Minute), TTLSpread: dr(x.TTLSpread, 0), NegativeTTL: dr(x.NegativeTTL, 0), LocalTTL: dr(x.Local, 0),
		}, Keys: i(x.Keys, 1), Missing: f(x.Missing, 0), Warm: b(x.Warm, false)})
	}
	for _, x := range sys.Queues {
		cfg.Queues = append(cfg.Queues, service.Queue{Name: x.Name, Service: x.Service, Endpoint: x.Endpoint,
			Consumers: i(x.Consumers, 1), Capacity: i(x.Capacity, 0)})
	}
	for _, x := range sys.Services {
		s := service.Service{Name: x.Name, Pods: i(x.Pods, 1), Cores: f(x.Cores, 1), Speed: f(x.Speed, 1),
			RateLimit: f(x.RateLimit, 0), Burst: i(x.Burst, 0), MaxInFlight: i(x.MaxInFlight, 0),
			Connections: i(x.Connections, 0), ConnectionLimit: i(x.ConnectionLimit, 0)}
		for _, p := range x.Pools {
			rc, err := db.ParseReconnect(word(p.Reconnect, "auto"))
			if err != nil {
				return cfg, err
			}
			s.Pools = append(s.Pools, service.Pool{Database: p.Database, PoolConfig: db.PoolConfig{
				Min: i(p.Min, 0), Max: i(p.Max, 1), AcquireTimeout: dr(p.AcquireTimeout, time.Second),
				IdleTimeout: dr(p.IdleTimeout, 0), LeakDetection: dr(p.LeakDetection, 0),
				Reconnect: rc, ReconnectDelay: dr(p.ReconnectDelay, time.Second),
			}})
		}
		for _, j := range x.Jobs {
			s.Jobs = append(s.Jobs, service.Job{Name: j.Name, At: dr(j.At, 0), For: dr(j.For, 0), Threads: f(j.Threads, 0)})
		}
		for _, e := range x.Endpoints {
			ep := service.Endpoint{Name: e.Name, Timeout: dr(e.Timeout, 0), Retry: f(e.Retry, 0),
				RetryAfter: dr(e.RetryAfter, time.Second), Leak: f(e.Leak, 0)}
			for _, pt := range e.Arrivals {
				ep.Arrivals = append(ep.Arrivals, service.RatePoint{At: pt.At, Rate: pt.Rate.Resolve(v).Float()})
			}
			for _, fu := range e.Followups {
				ep.Followups = append(ep.Followups, service.Followup{Endpoint: fu.Endpoint, Count: i(fu.Count, 0),
					After: dr(fu.After, 0), Share: f(fu.Share, 1)})
			}
			for _, st := range e.Steps {
				x := service.Step{Kind: st.Kind, Off: !stepOn(st, v), Cost: cost(st.Cost),
					Database: st.Database, Query: cost(st.Query), Rows: i(st.Rows, 1), Batched: b(st.Batched, false),
					RowCost: dr(st.RowCost, 0), Cache: st.Cache,
					Stock: int64(i(st.Stock, 0)), Hold: cost(st.Hold), LockTimeout: dr(st.LockTimeout, 50*time.Second),
					Degrade: b(st.Degrade, false), Service: st.Service, Endpoint: st.Endpoint, CallTimeout: dr(st.CallTimeout, 0),
					Queue: st.Queue, GroupSize: i(st.GroupSize, 0), PerRecipient: dr(st.PerRecipient, 0)}
				switch word(st.Mode, "") {
				case "pessimistic":
					x.Mode = service.Pessimistic
				case "atomic":
					x.Mode = service.Atomic
				}
				switch word(st.Fanout, "") {
				case "broadcast":
					x.Fanout = service.Broadcast
				case "pubsub":
					x.Fanout = service.PubSub
				}
				ep.Steps = append(ep.Steps, x)
			}
			s.Endpoints = append(s.Endpoints, ep)
		}
		cfg.Services = append(cfg.Services, s)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("component %s: %w", sys.Name, err)
	}
	return cfg, nil
}

// systemMetrics are a services component's summary figures as metrics.
func systemMetrics(sys *SystemSpec) []MetricInfo {
	var names service.Config
	for _, x := range sys.Databases {
		names.Databases = append(names.Databases, service.Database{Name: x.Name})
	}
	for _, x := range sys.Caches {
		names.Caches = append(names.Caches, service.Cache{Name: x.Name})
	}
	for _, x := range sys.Queues {
		names.Queues = append(names.Queues, service.Queue{Name: x.Name})
	}
	for _, x := range sys.Services {
		names.Services = append(names.Services, service.Service{Name: x.Name})
	}
	var out []MetricInfo
	for _, m := range service.SummaryInfo(names) {
		out = append(out, MetricInfo{Name: m.Name, Unit: unitOf(m.Unit), Distribution: m.Distribution, Help: m.Help})
	}
	return out
}

// stepOn reports whether a step runs with these knob values: enabled (if
// given) is true and unless (if given) is false.
func stepOn(st *StepSpec, v knob.Values) bool {
	on := true
	if st.Enabled.IsSet() {
		on = st.Enabled.Resolve(v).Bool()
	}
	if st.Unless.IsSet() {
		on = on && !st.Unless.Resolve(v).Bool()
	}
	return on
}
