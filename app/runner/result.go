package runner

// Result is a run's summary: what ran, every metric with its confidence
// interval, the stations, the objectives' verdicts, the timeline as it
// happened and the time series. Its JSON form is the CLI's --format json
// output; times are in seconds.
type Result struct {
	Scenario    string `json:"scenario"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Source      string `json:"source,omitempty"`
	File        string `json:"file"`
	// ScenarioSHA256 is the hash of the scenario file as read, so that a
	// reader can tell whether a file in hand is the one that ran.
	ScenarioSHA256 string `json:"scenario_sha256"`
	// Version is Stormglass's version and, when the binary knows it, the
	// commit it was built from.
	Version string `json:"version"`
	// ClockS is the time of day at time 0, in seconds since midnight.
	ClockS       float64                     `json:"clock_s"`
	Variant      string                      `json:"variant"`
	VariantTitle string                      `json:"variant_title,omitempty"`
	Seed         uint64                      `json:"seed"`
	Replications int                         `json:"replications"`
	HorizonS     float64                     `json:"horizon_s"`
	WarmupS      float64                     `json:"warmup_s"`
	SampleS      float64                     `json:"sample_s"`
	Theory       string                      `json:"theory,omitempty"` // the closed form beside the metrics, e.g. M/M/8
	Knobs        []KnobResult                `json:"knobs"`
	Metrics      map[string]*Stat            `json:"metrics"`
	Stations     map[string]map[string]*Stat `json:"stations"`
	SLOs         []SLOResult                 `json:"slos"`
	Events       []EventResult               `json:"events"`
	Series       []SeriesResult              `json:"series"`
	// MetricOrder lists the metric names in the scenario's order, stations'
	// included (station.NAME.FIELD); StationOrder the stations.
	MetricOrder  []string `json:"metric_order"`
	StationOrder []string `json:"station_order,omitempty"`
	// PerReplication holds each replication's scalar metrics, so the
	// intervals can be checked and paired comparisons made from the JSON.
	PerReplication []map[string]float64 `json:"per_replication"`
}

// Stat is one metric across replications.
type Stat struct {
	Unit string      `json:"unit,omitempty"` // s, /s, or empty for counts and fractions
	Mean float64     `json:"mean"`
	CI95 *[2]float64 `json:"ci95,omitempty"` // with two replications or more
	Min  *float64    `json:"min,omitempty"`
	Max  *float64    `json:"max,omitempty"`
	P50  *float64    `json:"p50,omitempty"`
	P95  *float64    `json:"p95,omitempty"`
	P99  *float64    `json:"p99,omitempty"`
	// Count is how many observations the distribution holds, over every
	// replication.
	Count *int64 `json:"count,omitempty"`
	// Theory is the closed-form value, when the network has one.
	Theory *float64 `json:"theory,omitempty"`
}

// KnobResult is a knob's value in the run.
type KnobResult struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Default string `json:"default"`
	Unit    string `json:"unit,omitempty"`
	Changed bool   `json:"changed"`
	// Set reports that the run's command set the value (--set), over the
	// variant's; a command that runs it again repeats it.
	Set bool `json:"set,omitempty"`
}

// Verdicts on an objective.
const (
	VerdictMet       = "met"       // the whole 95 % interval meets the bound
	VerdictViolated  = "violated"  // the whole interval misses it
	VerdictUncertain = "uncertain" // the interval straddles it: more replications needed
)

// SLOResult is an objective judged.
type SLOResult struct {
	Name    string      `json:"name"`
	Metric  string      `json:"metric"`
	Stat    string      `json:"stat"`
	Unit    string      `json:"unit,omitempty"`
	Min     *float64    `json:"min,omitempty"`
	Max     *float64    `json:"max,omitempty"`
	Value   float64     `json:"value"`
	CI95    *[2]float64 `json:"ci95,omitempty"`
	Verdict string      `json:"verdict"`
}

// EventResult is an event of the first replication's timeline.
type EventResult struct {
	TimeS float64 `json:"time"`
	Kind  string  `json:"kind"`
	Text  string  `json:"text"`
}

// SeriesResult is a metric over time, averaged over replications; point i
// covers the interval ending at (i+1)·sample_s.
type SeriesResult struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit,omitempty"`
	Values []float64 `json:"values"`
}

// MetricNames returns the metric names in the scenario's order, stations'
// included (station.NAME.FIELD).
func (r *Result) MetricNames() []string { return append([]string(nil), r.MetricOrder...) }

// StationNames returns the stations in the scenario's order.
func (r *Result) StationNames() []string { return append([]string(nil), r.StationOrder...) }

// Lookup returns a metric by its full name.
func (r *Result) Lookup(name string) *Stat { return r.lookup(name) }

func (r *Result) lookup(name string) *Stat {
	if st, field, ok := stationField(name); ok {
		return r.Stations[st][field]
	}
	return r.Metrics[name]
}

// Runs returns each replication's scalar metrics (for paired comparisons).
func (r *Result) Runs() []map[string]float64 { return r.PerReplication }
