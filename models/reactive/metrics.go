package reactive

import (
	"math"
	"slices"
	"time"

	"stormglass/sim/stats"
)

// Metric units, as the scenario layer prints them.
const (
	UnitNumber    = ""
	UnitSeconds   = "s"
	UnitPerSecond = "/s"
)

// MetricInfo names a measurement: a series sampled every interval, or a
// figure summarising the run.
type MetricInfo struct {
	Name         string
	Unit         string
	Distribution bool // has percentiles as well as a mean
	Help         string
}

// Series indices, in the order of SeriesInfo.
const (
	sConnected = iota
	sForeground
	sSLO
	sLatestShare
	sConnects
	sConnectFailures
	sDiscOverloaded
	sDiscInactivity
	sDiscLeft
	sDiscReload
	sQueries
	sQInitial
	sQReconnect
	sQInvalidation
	sQExecuted
	sQueueDepth
	sOverflows
	sCPU
	sLatencyP50
	sLatencyP99
	sErrors
	sMessages
	sFlushes
	sCompactions
	sCompactionFailures
	sSegments
	nSeries
)

var seriesInfo = [nSeries]MetricInfo{
	sConnected:          {"clients.connected", UnitNumber, false, "open WebSocket connections"},
	sForeground:         {"clients.foreground", UnitNumber, false, "tabs in the foreground"},
	sSLO:                {"slo.attainment", UnitNumber, false, "share of foreground tabs connected with every query's result up to date"},
	sLatestShare:        {"clients.release_share", UnitNumber, false, "share of open tabs running the released client version"},
	sConnects:           {"connects", UnitPerSecond, false, "WebSocket connections opened per second"},
	sConnectFailures:    {"connect_failures", UnitPerSecond, false, "connection attempts refused per second (backlog or connection limit full, service down)"},
	sDiscOverloaded:     {"disconnects.overloaded", UnitPerSecond, false, "connections the server closed as overloaded (update queue full) per second"},
	sDiscInactivity:     {"disconnects.inactivity", UnitPerSecond, false, "dead connections clients gave up after hearing nothing (a silent redeploy) per second"},
	sDiscLeft:           {"disconnects.left", UnitPerSecond, false, "tabs closed by their users per second"},
	sDiscReload:         {"disconnects.reload", UnitPerSecond, false, "tabs reloaded per second"},
	sQueries:            {"queries", UnitPerSecond, false, "queries requested per second, all causes"},
	sQInitial:           {"queries.initial", UnitPerSecond, false, "queries of tabs loading the app per second"},
	sQReconnect:         {"queries.reconnect", UnitPerSecond, false, "queries re-run by reconnecting tabs per second"},
	sQInvalidation:      {"queries.invalidation", UnitPerSecond, false, "subscriptions invalidated by commits per second"},
	sQExecuted:          {"queries.executed", UnitPerSecond, false, "queries the sync workers finished per second"},
	sQueueDepth:         {"queue.depth", UnitNumber, false, "subscriptions waiting in the update queue"},
	sOverflows:          {"queue.overflows", UnitPerSecond, false, "invalidations and first runs that found the update queue full per second"},
	sCPU:                {"cpu.utilization", UnitNumber, false, "share of the service's CPU busy"},
	sLatencyP50:         {"query.latency_p50", UnitSeconds, false, "median time from a query's request to its result, over the interval (0 when none finished)"},
	sLatencyP99:         {"query.latency_p99", UnitSeconds, false, "99th percentile of that time, over the interval (0 when none finished)"},
	sErrors:             {"errors", UnitPerSecond, false, "failures users see per second: refused connects, overload disconnects, messages sent while out of sync"},
	sMessages:           {"messages", UnitPerSecond, false, "messages users sent per second"},
	sFlushes:            {"search.flushes", UnitPerSecond, false, "search index flushes per second"},
	sCompactions:        {"search.compactions", UnitPerSecond, false, "search index compactions per second"},
	sCompactionFailures: {"search.compaction_failures", UnitPerSecond, false, "compactions that failed for want of CPU per second (the compactor then backs off)"},
	sSegments:           {"search.segments", UnitNumber, false, "search index segments on disk"},
}

// SeriesInfo lists the time series a run records, by stable name.
func SeriesInfo() []MetricInfo { return slices.Clone(seriesInfo[:]) }

// Summary figures, in the order of SummaryInfo.
var summaryInfo = []MetricInfo{
	{"queries_steady", UnitPerSecond, false, "median over the run's minutes of queries requested per second: the steady state"},
	{"queries_peak", UnitPerSecond, false, "most queries requested in one second, per second"},
	{"queries_peak_minute", UnitPerSecond, false, "most queries requested in one minute, per second"},
	{"storm_ratio", UnitNumber, false, "queries_peak_minute over queries_steady"},
	{"connects", UnitNumber, false, "connections opened"},
	{"disconnects_overloaded", UnitNumber, false, "connections closed as overloaded"},
	{"disconnects_inactivity", UnitNumber, false, "connections given up for inactivity"},
	{"disconnects_left", UnitNumber, false, "tabs closed by their users"},
	{"overflows", UnitNumber, false, "updates that found the queue full"},
	{"queue_depth_peak", UnitNumber, false, "longest the update queue was at a sample"},
	{"slo_attainment", UnitNumber, false, "mean share of foreground tabs in sync"},
	{"unusable_time", UnitSeconds, false, "time with fewer than half the foreground tabs in sync"},
	{"degraded_time", UnitSeconds, false, "time with fewer than 95 % of the foreground tabs in sync"},
	{"longest_unusable", UnitSeconds, false, "longest stretch with fewer than half the foreground tabs in sync: a storm that keeps itself going, or a dip that heals"},
	{"cpu_saturated_time", UnitSeconds, false, "time with the CPU at least 95 % busy"},
	{"connect_failures", UnitNumber, false, "connection attempts refused"},
	{"reconnect_queries", UnitNumber, false, "queries re-run by reconnecting tabs"},
	{"first_unusable_at", UnitSeconds, false, "when the app first became unusable (half the tabs out of sync), from the start; the horizon if never"},
	{"last_unusable_at", UnitSeconds, false, "the end of the last unusable interval, from the start; 0 if never"},
	{"cpu_utilization", UnitNumber, false, "mean share of the CPU busy"},
	{"connected_peak", UnitNumber, false, "most connections open at a sample"},
	{"clients_total", UnitNumber, false, "tabs that took part in the run"},
	{"query_latency", UnitSeconds, true, "time from a query's request to its result"},
}

// SummaryInfo lists the figures Summary reports, by stable name.
func SummaryInfo() []MetricInfo { return slices.Clone(summaryInfo) }

// Figure is one summary figure of a run.
type Figure struct {
	Name                    string
	Value                   float64 // the mean for a distribution
	Min, Max, P50, P95, P99 float64
	Count                   int64
}

// meter counts what happens within a sample interval and keeps the series.
type meter struct {
	interval time.Duration
	counts   [nSeries]float64 // per-interval counters (the rate series)
	series   [nSeries][]float64
	latency  *stats.Histogram // this interval
	all      *stats.Histogram // the run
	totals   [nSeries]float64
	lastBusy float64 // CPU busy-core area at the last sample
	lastCap  float64 // CPU capacity area at the last sample
}

func newMeter(interval time.Duration) *meter {
	return &meter{interval: interval, latency: stats.NewHistogram(0.01), all: stats.NewHistogram(0.01)}
}

func (m *meter) add(s int, n float64) { m.counts[s] += n }

// summary derives the run's figures from the series.
func (m *meter) summary(horizon time.Duration) []Figure {
	dt := m.interval.Seconds()
	q := m.series[sQueries]
	perMinute := max(1, int(math.Round(60/dt)))
	var minutes []float64
	for i := 0; i+perMinute <= len(q); i += perMinute {
		minutes = append(minutes, mean(q[i:i+perMinute]))
	}
	steady := median(minutes)
	peakMinute := maxOf(minutes)
	ratio := 0.0
	if steady > 0 {
		ratio = peakMinute / steady
	}
	slo := m.series[sSLO]
	unusable, degraded, longest, run := 0.0, 0.0, 0.0, 0.0
	first, last := horizon.Seconds(), 0.0
	for i, a := range slo {
		if a < 0.95 {
			degraded += dt
		}
		if a < 0.5 {
			unusable += dt
			run += dt
			longest = max(longest, run)
			first = min(first, float64(i)*dt)
			last = float64(i+1) * dt
		} else {
			run = 0
		}
	}
	saturated := 0.0
	for _, u := range m.series[sCPU] {
		if u >= 0.95 {
			saturated += dt
		}
	}
	total := func(s int) float64 { return m.totals[s] }
	figs := []Figure{
		{Name: "queries_steady", Value: steady},
		{Name: "queries_peak", Value: maxOf(q)},
		{Name: "queries_peak_minute", Value: peakMinute},
		{Name: "storm_ratio", Value: ratio},
		{Name: "connects", Value: total(sConnects)},
		{Name: "disconnects_overloaded", Value: total(sDiscOverloaded)},
		{Name: "disconnects_inactivity", Value: total(sDiscInactivity)},
		{Name: "disconnects_left", Value: total(sDiscLeft)},
		{Name: "overflows", Value: total(sOverflows)},
		{Name: "queue_depth_peak", Value: maxOf(m.series[sQueueDepth])},
		{Name: "slo_attainment", Value: mean(slo)},
		{Name: "unusable_time", Value: unusable},
		{Name: "degraded_time", Value: degraded},
		{Name: "longest_unusable", Value: longest},
		{Name: "cpu_saturated_time", Value: saturated},
		{Name: "connect_failures", Value: total(sConnectFailures)},
		{Name: "reconnect_queries", Value: total(sQReconnect)},
		{Name: "first_unusable_at", Value: first},
		{Name: "last_unusable_at", Value: last},
		{Name: "cpu_utilization", Value: mean(m.series[sCPU])},
		{Name: "connected_peak", Value: maxOf(m.series[sConnected])},
	}
	return figs
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
