package service

import (
	"time"

	"stormglass/sim/stats"

	"stormglass/models/metric"
)

// meter holds the System's series. Names are stable: global ones first,
// then per service, database, cache and queue, each prefixed with its
// name ("checkout.cpu", "orders-db.connections").
type meter struct {
	s        *System
	interval time.Duration
	m        *metric.Meter
	info     []metric.Info

	requests, goodput, errors, refused, timeouts, slow, orders, deliveries, leaks int
	latP50, latP99                                                                int

	svcCPU, svcInFlight, svcPoolInUse, svcPoolWaiting, svcPods []int
	svcRequests, svcGoodput, svcErrors, svcSlow                []int
	svcIn                                                      []float64 // external requests in flight, per service

	dbQueries, dbExecuting, dbConnections, dbMemory, dbLockWaiters, dbUp []int
	lastQueries                                                          []float64

	cacheHit, cacheMisses []int
	queueDepth, consumed  []int
}

func newMeter(s *System, interval time.Duration) *meter {
	m := &meter{s: s, interval: interval}
	add := func(name, unit, help string) int {
		m.info = append(m.info, metric.Info{Name: name, Unit: unit, Help: help})
		return len(m.info) - 1
	}
	const ps, num, sec = metric.UnitPerSecond, metric.UnitNumber, metric.UnitSeconds
	m.requests = add("requests", ps, "requests users made per second, retries and follow-ups included")
	m.goodput = add("goodput", ps, "requests answered in time without error per second")
	m.errors = add("errors", ps, "requests that failed as the user saw it per second: refused, timed out or an error")
	m.refused = add("refused", ps, "requests the edge turned away (busy, retry later) per second")
	m.timeouts = add("timeouts", ps, "requests whose caller stopped waiting per second (nginx 499)")
	m.slow = add("slow", ps, "requests answered, but slower than the slow threshold, per second")
	m.orders = add("orders", ps, "items sold per second (stock decremented)")
	m.deliveries = add("deliveries", ps, "messages sent to recipients per second")
	m.leaks = add("leaks", ps, "database connections leaked per second")
	m.latP50 = add("latency_p50", sec, "median response time of the requests answered in the interval (0 when none)")
	m.latP99 = add("latency_p99", sec, "99th percentile of that time")
	for _, v := range s.svcs {
		n := v.cfg.Name
		m.svcRequests = append(m.svcRequests, add(n+".requests", ps, "users' requests to the service per second"))
		m.svcGoodput = append(m.svcGoodput, add(n+".goodput", ps, "users' requests the service answered in time without error per second"))
		m.svcErrors = append(m.svcErrors, add(n+".errors", ps, "users' requests to the service that failed per second"))
		m.svcSlow = append(m.svcSlow, add(n+".slow", ps, "users' requests answered slower than the slow threshold per second"))
		m.svcCPU = append(m.svcCPU, add(n+".cpu", num, "share of the service's CPU busy, background jobs included"))
		m.svcInFlight = append(m.svcInFlight, add(n+".in_flight", num, "users' requests in progress at the service"))
		m.svcPoolInUse = append(m.svcPoolInUse, add(n+".pool_in_use", num, "database connections borrowed from the service's pools (leaked ones included)"))
		m.svcPoolWaiting = append(m.svcPoolWaiting, add(n+".pool_waiting", num, "requests waiting for a database connection"))
		m.svcPods = append(m.svcPods, add(n+".pods", num, "pods taking traffic"))
	}
	m.svcIn = make([]float64, len(s.svcs))
	for _, d := range s.dbs {
		n := d.cfg.Name
		m.dbQueries = append(m.dbQueries, add(n+".queries", ps, "queries the database completed per second"))
		m.dbExecuting = append(m.dbExecuting, add(n+".executing", num, "queries executing at once"))
		m.dbConnections = append(m.dbConnections, add(n+".connections", num, "connections open to the database"))
		m.dbMemory = append(m.dbMemory, add(n+".memory", num, "database memory in use, GiB"))
		m.dbLockWaiters = append(m.dbLockWaiters, add(n+".lock_waiters", num, "transactions waiting for a row lock"))
		m.dbUp = append(m.dbUp, add(n+".up", num, "1 while the database serves, 0 while it restarts"))
	}
	m.lastQueries = make([]float64, len(s.dbs))
	for _, c := range s.caches {
		m.cacheHit = append(m.cacheHit, add(c.cfg.Name+".hit_ratio", num, "share of the interval's lookups a cache tier answered"))
		m.cacheMisses = append(m.cacheMisses, add(c.cfg.Name+".misses", ps, "lookups that went to the database per second"))
	}
	for _, q := range s.queues {
		m.queueDepth = append(m.queueDepth, add(q.cfg.Name+".depth", num, "messages waiting in the queue"))
		m.consumed = append(m.consumed, add(q.cfg.Name+".consumed", ps, "messages processed per second"))
	}
	m.m = metric.NewMeter(interval, m.info)
	return m
}

func (m *meter) add(series int, n float64) { m.m.Add(series, n) }

// sample closes an interval.
func (m *meter) sample() {
	s := m.s
	h := s.latency
	if h.Count() > 0 {
		m.m.Set(m.latP50, h.P50())
		m.m.Set(m.latP99, h.P99())
	} else {
		m.m.Set(m.latP50, 0)
		m.m.Set(m.latP99, 0)
	}
	h.Reset()
	for i, v := range s.svcs {
		busy, capacity, inUse, waiting := 0.0, 0.0, 0, 0
		now := s.k.Now()
		for _, p := range v.pods {
			b, c := p.cpu.Stats.BusyCores.Area(now), p.cpu.Stats.Cores.Area(now)
			busy += b - p.lastBusy
			capacity += c - p.lastCap
			p.lastBusy, p.lastCap = b, c
			for _, pool := range p.pools {
				inUse += pool.InUse()
				waiting += pool.Waiting()
			}
		}
		u := 0.0
		if capacity > 0 {
			u = busy / capacity
		}
		m.m.Set(m.svcCPU[i], u)
		m.m.Set(m.svcInFlight[i], m.svcIn[i])
		m.m.Set(m.svcPoolInUse[i], float64(inUse))
		m.m.Set(m.svcPoolWaiting[i], float64(waiting))
		m.m.Set(m.svcPods[i], float64(v.live))
	}
	for i, d := range s.dbs {
		st := d.inst.Stats()
		done := float64(st.Completed)
		m.m.Add(m.dbQueries[i], done-m.lastQueries[i])
		m.lastQueries[i] = done
		m.m.Set(m.dbExecuting[i], float64(d.inst.Executing()))
		m.m.Set(m.dbConnections[i], float64(d.inst.Connections()))
		m.m.Set(m.dbMemory[i], d.inst.Memory()/(1<<30))
		m.m.Set(m.dbLockWaiters[i], float64(d.inst.LockWaiters()))
		up := 0.0
		if d.inst.Up() {
			up = 1
		}
		m.m.Set(m.dbUp[i], up)
	}
	for i, c := range s.caches {
		st := c.c.Stats()
		hits, lookups := st.LocalHits+st.SharedHits, st.LocalHits+st.SharedHits+st.Misses
		ratio := 0.0
		if lookups > c.lastLookups {
			ratio = float64(hits-c.lastHits) / float64(lookups-c.lastLookups)
		}
		m.m.Set(m.cacheHit[i], ratio)
		m.m.Add(m.cacheMisses[i], float64((lookups-c.lastLookups)-(hits-c.lastHits)))
		c.lastHits, c.lastLookups = hits, lookups
	}
	for i, q := range s.queues {
		m.m.Set(m.queueDepth[i], float64(q.len()))
	}
	m.m.Sample()
}

// SeriesInfo lists the series a run records, in the order of Series.
func (s *System) SeriesInfo() []metric.Info { return append([]metric.Info(nil), s.m.info...) }

// Series returns every series recorded so far.
func (s *System) Series() [][]float64 { return s.m.m.Series() }

// summary figure names, global and per component (prefixed).
var summaryGlobal = []metric.Info{
	{Name: "requests_total", Help: "requests users made, retries and follow-ups included"},
	{Name: "goodput", Unit: metric.UnitPerSecond, Help: "mean over the run of requests answered in time without error per second"},
	{Name: "goodput_peak_minute", Unit: metric.UnitPerSecond, Help: "most requests answered well in one minute, per second"},
	{Name: "requests_peak_minute", Unit: metric.UnitPerSecond, Help: "most requests made in one minute, per second"},
	{Name: "errors_total", Help: "requests that failed as the user saw it"},
	{Name: "error_ratio", Help: "errors over requests"},
	{Name: "slow_ratio", Help: "share of the requests answered that were slower than the slow threshold"},
	{Name: "unusable_time", Unit: metric.UnitSeconds, Help: "time during which most requests made failed"},
	{Name: "longest_unusable", Unit: metric.UnitSeconds, Help: "longest stretch during which most requests failed"},
	{Name: "first_unusable_at", Unit: metric.UnitSeconds, Help: "start of the first interval in which most requests failed, from the start; the horizon if never"},
	{Name: "last_unusable_at", Unit: metric.UnitSeconds, Help: "end of the last interval in which most requests failed; 0 if never"},
	{Name: "orders", Help: "items sold"},
	{Name: "sold_out", Help: "requests answered 'sold out' or 'pre-sale'"},
	{Name: "wasted", Help: "requests the server finished after their caller had left"},
	{Name: "latency", Unit: metric.UnitSeconds, Distribution: true, Help: "response time of the requests answered"},
}

// SummaryInfo lists the figures Summary reports, in its order.
func (s *System) SummaryInfo() []metric.Info { return SummaryInfo(s.cfg) }

// SummaryInfo lists the figures a System built from cfg reports, in the
// order of its Summary; it needs no kernel, so a loader can check the
// names an objective refers to.
func SummaryInfo(cfg Config) []metric.Info {
	out := append([]metric.Info(nil), summaryGlobal...)
	for c := range numCauses {
		out = append(out, metric.Info{Name: "errors_" + c.String(), Help: "failures users saw, caused by: " + causeHelp[c]})
	}
	for _, v := range cfg.Services {
		n := v.Name
		out = append(out,
			metric.Info{Name: n + ".requests_total", Help: "users' requests to the service"},
			metric.Info{Name: n + ".requests_peak", Unit: metric.UnitPerSecond, Help: "most users' requests to the service in an interval, per second"},
			metric.Info{Name: n + ".error_ratio", Help: "share of the service's requests that failed"},
			metric.Info{Name: n + ".slow_ratio", Help: "share of the service's answered requests slower than the slow threshold"},
			metric.Info{Name: n + ".failing_time", Unit: metric.UnitSeconds, Help: "time during which most of the service's requests failed"},
			metric.Info{Name: n + ".longest_failing", Unit: metric.UnitSeconds, Help: "longest stretch during which most of the service's requests failed"},
			metric.Info{Name: n + ".latency", Unit: metric.UnitSeconds, Distribution: true, Help: "response time of the service's answered requests"},
			metric.Info{Name: n + ".cpu_peak", Help: "highest share of the service's CPU busy in an interval"},
			metric.Info{Name: n + ".pool_timeouts", Help: "connection acquisitions that timed out"},
			metric.Info{Name: n + ".leaked", Help: "connections leaked and not reclaimed at the end"},
		)
	}
	for _, d := range cfg.Databases {
		n := d.Name
		out = append(out,
			metric.Info{Name: n + ".queries_peak", Unit: metric.UnitPerSecond, Help: "most queries completed in an interval, per second"},
			metric.Info{Name: n + ".connections_peak", Help: "most connections open at a sample"},
			metric.Info{Name: n + ".memory_peak", Help: "most memory in use at a sample, GiB"},
			metric.Info{Name: n + ".ooms", Help: "restarts for want of memory"},
			metric.Info{Name: n + ".down_time", Unit: metric.UnitSeconds, Help: "time the database was restarting"},
			metric.Info{Name: n + ".lock_waiters_peak", Help: "most transactions waiting for a row lock at a sample"},
		)
	}
	for _, c := range cfg.Caches {
		out = append(out,
			metric.Info{Name: c.Name + ".hit_ratio", Help: "share of lookups a cache tier answered over the run"},
			metric.Info{Name: c.Name + ".misses_peak", Unit: metric.UnitPerSecond, Help: "most lookups that reached the database in an interval, per second"},
		)
	}
	for _, q := range cfg.Queues {
		out = append(out, metric.Info{Name: q.Name + ".depth_peak", Help: "most messages waiting at a sample"})
	}
	return out
}

var causeHelp = [numCauses]string{
	CauseRefused:      "the edge's rate or concurrency limit (busy, retry later)",
	CauseTimeout:      "the caller stopped waiting",
	CausePoolTimeout:  "no database connection within the pool's acquire timeout",
	CauseReset:        "a database connection broken by a restart (ECONNRESET)",
	CauseDatabaseDown: "the database down or out of connections",
	CauseLockTimeout:  "a row lock not granted in time",
	CauseLeak:         "the exception path that leaks its connection",
	CauseCallTimeout:  "a call to another service not answered in time",
	CauseQueueFull:    "the message queue full",
	CauseKilled:       "the process restarted under the request, or no pod up",
}

// Summary returns the run's figures, in SummaryInfo's order.
func (s *System) Summary() []metric.Figure {
	m := s.m
	dt := m.interval.Seconds()
	perMinute := max(1, int(60/dt+0.5))
	good, req, errs := m.m.Column(m.goodput), m.m.Column(m.requests), m.m.Column(m.errors)
	st := metric.When(failingIntervals(req, errs), dt, func(x float64) bool { return x > 0 })
	first := st.First
	if first < 0 {
		first = s.horizon.Seconds()
	}
	total := m.m.Total(m.requests)
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	answered := m.m.Total(m.goodput)
	fig := func(name string, v float64) metric.Figure { return metric.Figure{Name: name, Value: v} }
	out := []metric.Figure{
		fig("requests_total", total),
		fig("goodput", metric.Mean(good)),
		fig("goodput_peak_minute", metric.Max(metric.Windows(good, perMinute))),
		fig("requests_peak_minute", metric.Max(metric.Windows(req, perMinute))),
		fig("errors_total", m.m.Total(m.errors)),
		fig("error_ratio", ratio(m.m.Total(m.errors), total)),
		fig("slow_ratio", ratio(m.m.Total(m.slow), answered)),
		fig("unusable_time", st.Total),
		fig("longest_unusable", st.Longest),
		fig("first_unusable_at", first),
		fig("last_unusable_at", st.Last),
		fig("orders", s.orders),
		fig("sold_out", s.soldOut),
		fig("wasted", s.wasted),
		distribution("latency", s.all),
	}
	for c := range numCauses {
		out = append(out, fig("errors_"+c.String(), s.causes[c]))
	}
	for i, v := range s.svcs {
		timeouts, leaked := 0.0, 0.0
		for _, p := range v.pods {
			for _, pool := range p.pools {
				timeouts += float64(pool.Stats().Timeouts)
				leaked += float64(pool.Leaked())
			}
		}
		reqs, errs := m.m.Column(m.svcRequests[i]), m.m.Column(m.svcErrors[i])
		failing := metric.When(failingIntervals(reqs, errs), dt, func(x float64) bool { return x > 0 })
		out = append(out,
			fig(v.cfg.Name+".requests_total", m.m.Total(m.svcRequests[i])),
			fig(v.cfg.Name+".requests_peak", metric.Max(reqs)),
			fig(v.cfg.Name+".error_ratio", ratio(m.m.Total(m.svcErrors[i]), m.m.Total(m.svcRequests[i]))),
			fig(v.cfg.Name+".slow_ratio", ratio(m.m.Total(m.svcSlow[i]), m.m.Total(m.svcGoodput[i]))),
			fig(v.cfg.Name+".failing_time", failing.Total),
			fig(v.cfg.Name+".longest_failing", failing.Longest),
			distribution(v.cfg.Name+".latency", s.svcLat[i]),
			fig(v.cfg.Name+".cpu_peak", metric.Max(m.m.Column(m.svcCPU[i]))),
			fig(v.cfg.Name+".pool_timeouts", timeouts),
			fig(v.cfg.Name+".leaked", leaked),
		)
	}
	for i, d := range s.dbs {
		st := d.inst.Stats()
		out = append(out,
			fig(d.cfg.Name+".queries_peak", metric.Max(m.m.Column(m.dbQueries[i]))),
			fig(d.cfg.Name+".connections_peak", metric.Max(m.m.Column(m.dbConnections[i]))),
			fig(d.cfg.Name+".memory_peak", metric.Max(m.m.Column(m.dbMemory[i]))),
			fig(d.cfg.Name+".ooms", float64(st.OOMs)),
			fig(d.cfg.Name+".down_time", metric.When(m.m.Column(m.dbUp[i]), dt, func(x float64) bool { return x == 0 }).Total),
			fig(d.cfg.Name+".lock_waiters_peak", metric.Max(m.m.Column(m.dbLockWaiters[i]))),
		)
	}
	for i, c := range s.caches {
		out = append(out,
			fig(c.cfg.Name+".hit_ratio", c.c.Stats().HitRatio()),
			fig(c.cfg.Name+".misses_peak", metric.Max(m.m.Column(m.cacheMisses[i]))),
		)
	}
	for _, q := range s.queues {
		out = append(out, fig(q.cfg.Name+".depth_peak", float64(q.peak)))
	}
	return out
}

// failingIntervals marks (1) the intervals in which most requests made
// failed.
func failingIntervals(req, errs []float64) []float64 {
	out := make([]float64, len(req))
	for i := range req {
		if req[i] > 0 && errs[i] > req[i]/2 {
			out[i] = 1
		}
	}
	return out
}

func distribution(name string, h *stats.Histogram) metric.Figure {
	return metric.Figure{Name: name, Value: h.Mean(), Min: h.Min(), Max: h.Max(), P50: h.P50(), P95: h.P95(), P99: h.P99(), Count: h.Count()}
}
