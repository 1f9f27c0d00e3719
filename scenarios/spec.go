package scenarios

import (
	"time"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
)

// APIVersion and Kind are the values every scenario file declares.
const (
	APIVersion = "stormglass/v1"
	Kind       = "Scenario"
)

// BaseVariant names the scenario as declared, with no overlay.
const BaseVariant = "base"

// Scenario is a loaded, checked scenario file.
type Scenario struct {
	File string // the path, or builtin:NAME
	Text []byte // the file exactly as read, for hashing and run history

	Meta     Metadata
	Run      RunDefaults
	Knobs    *knob.Set
	Networks []*Network     // the queueing-network components
	Backends []*BackendSpec // the reactive-backend component, if any
	Systems  []*SystemSpec  // the services component, if any
	Fleets   []*FleetSpec   // the websocket-fleet component, if any
	Workload []*SourceSpec
	SLOs     []SLO
	Timeline []Entry
	Variants []Variant

	// uses lists, per knob, the fields that read it.
	uses map[string][]use
}

// Metadata says what a scenario is and where its facts come from.
type Metadata struct {
	Name        string // short identifier: lower case, digits, dashes
	Title       string
	Description string
	Source      string // the write-up or textbook the numbers come from
}

// RunDefaults are a scenario's run settings unless a run overrides them.
type RunDefaults struct {
	Horizon      time.Duration // simulated time of a run, warm-up included
	Warmup       time.Duration // measurements before this are discarded
	Sample       time.Duration // interval of the time series
	Replications int
	Seed         uint64
	// Clock is the time of day at time zero (0 is midnight): models with a
	// daily rhythm (a fleet's night jobs, its day curve) read it.
	Clock time.Duration
}

// Param is a field's value: a literal, or a reference ($name) to a knob.
type Param struct {
	Value knob.Value // the literal; unset when Knob is set
	Knob  string
	Pos   Pos
}

// Resolve returns the field's value given the knobs' values.
func (p Param) Resolve(v knob.Values) knob.Value {
	if p.Knob != "" {
		return v[p.Knob]
	}
	return p.Value
}

// IsSet reports whether the field was given.
func (p Param) IsSet() bool { return p.Knob != "" || p.Value.IsSet() }

// Network is a queueing-network component: stations and sinks; the
// workload's sources feed it.
type Network struct {
	Name     string
	Pos      Pos
	Stations []*StationSpec
	Sinks    []SinkSpec
}

// StationSpec is a station of a queueing network.
type StationSpec struct {
	Name       string
	Pos        Pos
	Discipline Param // choice: fcfs or ps
	Servers    Param // integer ≥ 1
	Capacity   Param // integer ≥ 0, 0 = unlimited
	Service    ServiceSpec
	Routes     []RouteSpec
}

// ServiceSpec is a station's service-time law.
type ServiceSpec struct {
	Pos          Pos
	Distribution string // exponential, deterministic, erlang, gamma, lognormal, uniform
	Mean         Param  // duration > 0
	Phases       Param  // erlang: integer ≥ 1
	CV           Param  // gamma, lognormal: number > 0
	Spread       Param  // uniform: number in [0, 1]
}

// RouteSpec sends a share of departing jobs to a station or a sink.
type RouteSpec struct {
	Pos  Pos
	To   string
	P    Param // number in [0, 1]; unset with Rest
	Rest bool  // takes what the other routes leave
}

// SinkSpec is where jobs leave the network.
type SinkSpec struct {
	Name string
	Pos  Pos
}

// SourceSpec is a source of jobs in the workload.
type SourceSpec struct {
	Name    string
	Pos     Pos
	Process string // poisson or deterministic
	Rate    Param  // rate ≥ 0
	Profile []RatePointSpec
	Routes  []RouteSpec
}

// RatePointSpec sets a source's base rate from a time on.
type RatePointSpec struct {
	Pos  Pos
	At   time.Duration
	Rate Param
}

// SLO is an objective a run is judged against.
type SLO struct {
	Pos    Pos
	Name   string
	Metric string // a metric name, e.g. response or station.db.utilization
	Stat   string // mean (default), p50, p95, p99, min, max
	Max    *float64
	Min    *float64
	Unit   MetricUnit

	metricNode *yaml.Node
	boundNodes [2]*yaml.Node // min, max: read once the metric's unit is known
}

// Entry is one moment of the timeline: at a time, one action.
type Entry struct {
	Pos      Pos
	ID       string
	At       time.Duration
	Set      []Assignment // change knobs
	Fault    *Fault
	Deploy   *Deploy
	Annotate string
}

// Assignment is a knob set to a value.
type Assignment struct {
	Pos   Pos
	Knob  string
	Value knob.Value
}

// Fault kinds.
const (
	FaultOutage   = "outage"   // a station's servers all down
	FaultSlowdown = "slowdown" // a station's service times × factor
	FaultSurge    = "surge"    // a source's rate × factor
	// FaultRestart restarts a database (down for For, its restart time if
	// 0) or every pod of a service (at once, by hand).
	FaultRestart = "restart"
	// FaultLatency delays every packet leaving a fleet's nodes by a
	// further Delay ± Jitter (uniform), as tc netem does.
	FaultLatency = "latency"
	// FaultKill kills one node's process of a fleet: its connections
	// close, and it comes back as a fresh process For later.
	FaultKill = "kill"
)

// Fault injects a failure for a while (or to the end of the run).
type Fault struct {
	Kind   string
	Target string
	For    time.Duration // 0: until the end of the run
	Factor float64       // slowdown and surge
	Delay  time.Duration // latency
	Jitter time.Duration // latency: at most Delay
	Node   int           // kill: which node, from 1
}

// Deploy moves a station to a new number of servers, or a reactive
// backend to a hardware tier, after a redeploy gap during which it serves
// nobody; or scales a service to a number of pods (Servers) once the gap
// has passed, its pods serving throughout.
type Deploy struct {
	Target    string
	Servers   int    // a station's
	Tier      string // a backend's
	Instances int    // a backend's; 0 keeps the number it has
	Gap       time.Duration

	tierGiven bool // tier was written, valid or not
}

// Variant is a named overlay on the base scenario: knob values, timeline
// entries dropped and added.
type Variant struct {
	Pos         Pos
	Name        string
	Title       string
	Description string
	Set         []Assignment
	Drop        []string // timeline entry ids
	Timeline    []Entry

	dropPos []Pos
}

// MetricUnit is how a metric's values read.
type MetricUnit int

// Metric units.
const (
	UnitNumber    MetricUnit = iota + 1 // a count or a fraction
	UnitSeconds                         // a duration, in seconds
	UnitPerSecond                       // a rate
)

func (u MetricUnit) String() string {
	switch u {
	case UnitSeconds:
		return "s"
	case UnitPerSecond:
		return "/s"
	}
	return ""
}

// use is a field that reads a knob.
type use struct {
	field string // path, for messages
	pos   Pos
	live  bool // can change mid-run
}
