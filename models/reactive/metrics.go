package reactive

import (
	"math"
	"slices"
	"time"

	"stormglass/models/metric"
	"stormglass/sim/stats"
)

// Metric units, as the scenario layer prints them.
const (
	UnitNumber    = metric.UnitNumber
	UnitSeconds   = metric.UnitSeconds
	UnitPerSecond = metric.UnitPerSecond
)

// MetricInfo names a measurement: a series sampled every interval, or a
// figure summarising the run.
type MetricInfo = metric.Info

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
	sConnected:          {Name: "clients.connected", Unit: UnitNumber, Help: "open WebSocket connections"},
	sForeground:         {Name: "clients.foreground", Unit: UnitNumber, Help: "tabs in the foreground"},
	sSLO:                {Name: "slo.attainment", Unit: UnitNumber, Help: "share of foreground tabs connected with every query's result up to date"},
	sLatestShare:        {Name: "clients.release_share", Unit: UnitNumber, Help: "share of open tabs running the released client version"},
	sConnects:           {Name: "connects", Unit: UnitPerSecond, Help: "WebSocket connections opened per second"},
	sConnectFailures:    {Name: "connect_failures", Unit: UnitPerSecond, Help: "connection attempts refused per second (backlog or connection limit full, service down)"},
	sDiscOverloaded:     {Name: "disconnects.overloaded", Unit: UnitPerSecond, Help: "connections the server closed as overloaded (update queue full) per second"},
	sDiscInactivity:     {Name: "disconnects.inactivity", Unit: UnitPerSecond, Help: "dead connections clients gave up after hearing nothing (a silent redeploy) per second"},
	sDiscLeft:           {Name: "disconnects.left", Unit: UnitPerSecond, Help: "tabs closed by their users per second"},
	sDiscReload:         {Name: "disconnects.reload", Unit: UnitPerSecond, Help: "tabs reloaded per second"},
	sQueries:            {Name: "queries", Unit: UnitPerSecond, Help: "queries requested per second, all causes"},
	sQInitial:           {Name: "queries.initial", Unit: UnitPerSecond, Help: "queries of tabs loading the app per second"},
	sQReconnect:         {Name: "queries.reconnect", Unit: UnitPerSecond, Help: "queries re-run by reconnecting tabs per second"},
	sQInvalidation:      {Name: "queries.invalidation", Unit: UnitPerSecond, Help: "subscriptions invalidated by commits per second"},
	sQExecuted:          {Name: "queries.executed", Unit: UnitPerSecond, Help: "queries the sync workers finished per second"},
	sQueueDepth:         {Name: "queue.depth", Unit: UnitNumber, Help: "subscriptions waiting in the update queue"},
	sOverflows:          {Name: "queue.overflows", Unit: UnitPerSecond, Help: "invalidations and first runs that found the update queue full per second"},
	sCPU:                {Name: "cpu.utilization", Unit: UnitNumber, Help: "share of the service's CPU busy"},
	sLatencyP50:         {Name: "query.latency_p50", Unit: UnitSeconds, Help: "median time from a query's request to its result, over the interval (0 when none finished)"},
	sLatencyP99:         {Name: "query.latency_p99", Unit: UnitSeconds, Help: "99th percentile of that time, over the interval (0 when none finished)"},
	sErrors:             {Name: "errors", Unit: UnitPerSecond, Help: "failures users see per second: refused connects, overload disconnects, messages sent while out of sync"},
	sMessages:           {Name: "messages", Unit: UnitPerSecond, Help: "messages users sent per second"},
	sFlushes:            {Name: "search.flushes", Unit: UnitPerSecond, Help: "search index flushes per second"},
	sCompactions:        {Name: "search.compactions", Unit: UnitPerSecond, Help: "search index compactions per second"},
	sCompactionFailures: {Name: "search.compaction_failures", Unit: UnitPerSecond, Help: "compactions that failed for want of CPU per second (the compactor then backs off)"},
	sSegments:           {Name: "search.segments", Unit: UnitNumber, Help: "search index segments on disk"},
}

// SeriesInfo lists the time series a run records, by stable name.
func SeriesInfo() []MetricInfo { return slices.Clone(seriesInfo[:]) }

// Summary figures, in the order of SummaryInfo.
var summaryInfo = []MetricInfo{
	{Name: "queries_steady", Unit: UnitPerSecond, Help: "median over the run's minutes of queries requested per second: the steady state"},
	{Name: "queries_peak", Unit: UnitPerSecond, Help: "most queries requested in one second, per second"},
	{Name: "queries_peak_minute", Unit: UnitPerSecond, Help: "most queries requested in one minute, per second"},
	{Name: "storm_ratio", Unit: UnitNumber, Help: "queries_peak_minute over queries_steady"},
	{Name: "connects", Unit: UnitNumber, Help: "connections opened"},
	{Name: "disconnects_overloaded", Unit: UnitNumber, Help: "connections closed as overloaded"},
	{Name: "disconnects_inactivity", Unit: UnitNumber, Help: "connections given up for inactivity"},
	{Name: "disconnects_left", Unit: UnitNumber, Help: "tabs closed by their users"},
	{Name: "overflows", Unit: UnitNumber, Help: "updates that found the queue full"},
	{Name: "queue_depth_peak", Unit: UnitNumber, Help: "longest the update queue was at a sample"},
	{Name: "slo_attainment", Unit: UnitNumber, Help: "mean share of foreground tabs in sync"},
	{Name: "unusable_time", Unit: UnitSeconds, Help: "time with fewer than half the foreground tabs in sync"},
	{Name: "degraded_time", Unit: UnitSeconds, Help: "time with fewer than 95 % of the foreground tabs in sync"},
	{Name: "longest_unusable", Unit: UnitSeconds, Help: "longest stretch with fewer than half the foreground tabs in sync: a storm that keeps itself going, or a dip that heals"},
	{Name: "cpu_saturated_time", Unit: UnitSeconds, Help: "time with the CPU at least 95 % busy"},
	{Name: "connect_failures", Unit: UnitNumber, Help: "connection attempts refused"},
	{Name: "reconnect_queries", Unit: UnitNumber, Help: "queries re-run by reconnecting tabs"},
	{Name: "first_unusable_at", Unit: UnitSeconds, Help: "when the app first became unusable (half the tabs out of sync), from the start; the horizon if never"},
	{Name: "last_unusable_at", Unit: UnitSeconds, Help: "the end of the last unusable interval, from the start; 0 if never"},
	{Name: "cpu_utilization", Unit: UnitNumber, Help: "mean share of the CPU busy"},
	{Name: "connected_peak", Unit: UnitNumber, Help: "most connections open at a sample"},
	{Name: "clients_total", Unit: UnitNumber, Help: "tabs that took part in the run"},
	{Name: "query_latency", Unit: UnitSeconds, Distribution: true, Help: "time from a query's request to its result"},
}

// SummaryInfo lists the figures Summary reports, by stable name.
func SummaryInfo() []MetricInfo { return slices.Clone(summaryInfo) }

// Figure is one summary figure of a run.
type Figure = metric.Figure

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
		minutes = append(minutes, metric.Mean(q[i:i+perMinute]))
	}
	steady := metric.Median(minutes)
	peakMinute := metric.Max(minutes)
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
		{Name: "queries_peak", Value: metric.Max(q)},
		{Name: "queries_peak_minute", Value: peakMinute},
		{Name: "storm_ratio", Value: ratio},
		{Name: "connects", Value: total(sConnects)},
		{Name: "disconnects_overloaded", Value: total(sDiscOverloaded)},
		{Name: "disconnects_inactivity", Value: total(sDiscInactivity)},
		{Name: "disconnects_left", Value: total(sDiscLeft)},
		{Name: "overflows", Value: total(sOverflows)},
		{Name: "queue_depth_peak", Value: metric.Max(m.series[sQueueDepth])},
		{Name: "slo_attainment", Value: metric.Mean(slo)},
		{Name: "unusable_time", Value: unusable},
		{Name: "degraded_time", Value: degraded},
		{Name: "longest_unusable", Value: longest},
		{Name: "cpu_saturated_time", Value: saturated},
		{Name: "connect_failures", Value: total(sConnectFailures)},
		{Name: "reconnect_queries", Value: total(sQReconnect)},
		{Name: "first_unusable_at", Value: first},
		{Name: "last_unusable_at", Value: last},
		{Name: "cpu_utilization", Value: metric.Mean(m.series[sCPU])},
		{Name: "connected_peak", Value: metric.Max(m.series[sConnected])},
	}
	return figs
}
