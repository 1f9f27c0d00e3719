package scenarios

import "slices"

// MetricInfo describes a metric a run reports.
type MetricInfo struct {
	Name string
	Unit MetricUnit
	// Distribution reports whether the metric has percentiles (p50, p95,
	// p99) and extremes as well as a mean.
	Distribution bool
	Help         string
}

// networkMetrics are the metrics of the whole network, by stable name.
var networkMetrics = []MetricInfo{
	{"arrival_rate", UnitPerSecond, false, "jobs arriving from the workload per second, lost ones included"},
	{"throughput", UnitPerSecond, false, "jobs leaving through a sink per second"},
	{"response", UnitSeconds, true, "end-to-end time from arrival to a sink, per job"},
	{"in_system", UnitNumber, false, "time-average number of jobs in the network"},
	{"blocked_fraction", UnitNumber, false, "share of arriving jobs lost at a full station"},
}

// StationFields are the per-station metrics, by stable name.
var StationFields = []MetricInfo{
	{"arrival_rate", UnitPerSecond, false, "arrivals per second, blocked ones included"},
	{"throughput", UnitPerSecond, false, "departures per second"},
	{"utilization", UnitNumber, false, "mean share of servers busy"},
	{"wait_mean", UnitSeconds, false, "mean time queued before service (under ps: time lost to sharing)"},
	{"response_mean", UnitSeconds, false, "mean time at the station"},
	{"response_p99", UnitSeconds, false, "99th percentile of time at the station"},
	{"queue_mean", UnitNumber, false, "time-average number waiting"},
	{"system_mean", UnitNumber, false, "time-average number present"},
	{"blocked_fraction", UnitNumber, false, "share of arrivals lost because the station was full"},
}

// Metrics lists every metric a run of the scenario reports: for a queueing
// network the network's, then station.NAME.FIELD for each station; for a
// reactive backend its summary figures.
func (sc *Scenario) Metrics() []MetricInfo {
	if len(sc.Backends) > 0 {
		return backendMetrics()
	}
	if len(sc.Systems) > 0 {
		return systemMetrics(sc.Systems[0])
	}
	if len(sc.Fleets) > 0 {
		return fleetMetrics()
	}
	out := slices.Clone(networkMetrics)
	for _, net := range sc.Networks {
		for _, st := range net.Stations {
			for _, f := range StationFields {
				f.Name = "station." + st.Name + "." + f.Name
				out = append(out, f)
			}
		}
	}
	return out
}

// Metric returns the metric named name.
func (sc *Scenario) Metric(name string) (MetricInfo, bool) {
	for _, m := range sc.Metrics() {
		if m.Name == name {
			return m, true
		}
	}
	return MetricInfo{}, false
}
