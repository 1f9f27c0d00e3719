package sim

import (
	"slices"
	"time"

	"stormglass/sim/stats"
)

// Customer is a job's passage through a station.
type Customer struct {
	ID       int64
	Arrived  time.Duration
	Started  time.Duration // service start
	Departed time.Duration
}

// Wait is the time the customer queued before service.
func (c Customer) Wait() time.Duration { return c.Started - c.Arrived }

// Response is the time the customer spent at the station.
func (c Customer) Response() time.Duration { return c.Departed - c.Arrived }

// Station is a multi-server first-come-first-served queueing station with an
// optional finite capacity: the G/G/c/K building block. Servers are
// identical; a customer that arrives to find K customers already present
// (waiting plus in service) is blocked and lost. Service times are drawn
// when service starts, from the station's sampler.
//
// A scenario can change the servers and the capacity mid-run (SetServers,
// SetCapacity). A change never interrupts a customer in service or drops
// one already admitted: it only decides who starts, and who is admitted,
// from then on.
type Station struct {
	k        *Kernel
	name     string
	servers  int // target number of servers; busy may exceed it while draining
	capacity int
	service  func() time.Duration

	// Servers are slots, indices into inService: a completion event names
	// its slot. There are as many slots as the most servers ever wanted,
	// and busy + len(idle) == len(inService) always. A customer starts only
	// while busy < servers, so an idle slot is then always at hand, and
	// slots beyond the target are simply left idle.
	waiting   Ring[Customer]
	inService []Customer
	idle      []int
	busy      int

	// OnDepart, if set, is called when a customer completes service: a
	// network routes it onwards from here.
	OnDepart func(Customer)
	// OnBlock, if set, is called when an arriving customer is lost.
	OnBlock func(id int64)

	Stats StationStats
}

// StationStats are a station's measurements since the last ResetStats.
type StationStats struct {
	Since     time.Duration // when measurement started (0, or the warm-up end)
	Arrivals  stats.Counter
	Blocked   stats.Counter
	Completed stats.Counter
	Wait      stats.Tally // seconds, of customers whose service started
	Response  stats.Tally // seconds, of customers who departed
	// ResponseHist holds response times in seconds, for percentiles.
	ResponseHist *stats.Histogram
	InQueue      *stats.TimeWeighted
	Busy         *stats.TimeWeighted // servers busy; present = InQueue + Busy
	// Servers is the target number of servers over time, the denominator
	// of utilisation when SetServers changes it.
	Servers *stats.TimeWeighted
}

// NewStation returns a station of servers ≥ 1 identical servers. capacity is
// the most customers present at once, K ≥ servers, or 0 for no limit.
func NewStation(k *Kernel, name string, servers, capacity int, service func() time.Duration) *Station {
	if servers < 1 {
		panic("sim: a station needs at least one server")
	}
	if capacity != 0 && capacity < servers {
		panic("sim: a station's capacity must be 0 (unlimited) or at least its number of servers")
	}
	s := &Station{k: k, name: name, servers: servers, capacity: capacity, service: service,
		inService: make([]Customer, servers), idle: make([]int, servers)}
	for i := range servers {
		s.idle[i] = servers - 1 - i // serve from server 0 first
	}
	s.Stats = StationStats{
		Since:        k.Now(),
		ResponseHist: stats.NewHistogram(stats.DefaultRelAccuracy),
		InQueue:      stats.NewTimeWeighted(k.Now(), 0),
		Busy:         stats.NewTimeWeighted(k.Now(), 0),
		Servers:      stats.NewTimeWeighted(k.Now(), float64(servers)),
	}
	return s
}

// Name returns the station's name.
func (s *Station) Name() string { return s.name }

// Servers returns the number of servers wanted, as last set. Right after a
// reduction more may still be busy, finishing their customers.
func (s *Station) Servers() int { return s.servers }

// Capacity returns the most customers admitted at once, 0 for no limit.
func (s *Station) Capacity() int { return s.capacity }

// Len returns the number of customers present (waiting and in service).
func (s *Station) Len() int { return s.waiting.Len() + s.busy }

// SetServers changes the number of servers from now on: a scale-up or
// scale-down, or with n = 0 an outage in which nobody starts service and
// arrivals queue (or are blocked once the capacity is reached). New servers
// take waiting customers at once. Removing servers interrupts no one: a
// server that completes while more are busy than n retires instead of
// taking the next customer. n < 0 panics.
func (s *Station) SetServers(n int) {
	if n < 0 {
		panic("sim: a station's number of servers must not be negative")
	}
	if old := len(s.inService); n > old {
		// A new high-water mark: the only time the slots grow. idle gets
		// room for every slot, so Handle's append never allocates.
		s.inService = append(s.inService, make([]Customer, n-old)...)
		s.idle = slices.Grow(s.idle, n-len(s.idle))
		for i := n - 1; i >= old; i-- {
			s.idle = append(s.idle, i)
		}
	}
	now := s.k.Now()
	s.servers = n
	s.Stats.Servers.Set(now, float64(n))
	for s.busy < s.servers && s.waiting.Len() > 0 {
		s.Stats.InQueue.Add(now, -1)
		s.start(s.waiting.Pop())
	}
}

// SetCapacity changes the most customers present at once from now on, 0
// for no limit. Lowering it below the customers present drops nobody: only
// arrivals are blocked until the station has drained below the new limit.
// Unlike NewStation it accepts a capacity below the number of servers, which
// a scenario may reach by changing the two in either order. k < 0 panics.
func (s *Station) SetCapacity(k int) {
	if k < 0 {
		panic("sim: a station's capacity must be 0 (unlimited) or positive")
	}
	s.capacity = k
}

// Arrive brings customer id to the station now. It reports false if the
// customer was blocked because the station was full.
func (s *Station) Arrive(id int64) bool {
	now := s.k.Now()
	s.Stats.Arrivals.Inc()
	if s.capacity > 0 && s.Len() >= s.capacity {
		s.Stats.Blocked.Inc()
		if s.OnBlock != nil {
			s.OnBlock(id)
		}
		return false
	}
	c := Customer{ID: id, Arrived: now}
	if s.busy < s.servers {
		s.start(c)
	} else {
		s.waiting.Push(c)
		s.Stats.InQueue.Add(now, 1)
	}
	return true
}

// start takes an idle server for c.
func (s *Station) start(c Customer) {
	server := s.idle[len(s.idle)-1]
	s.idle = s.idle[:len(s.idle)-1]
	s.busy++
	s.Stats.Busy.Add(s.k.Now(), 1)
	s.serve(server, c)
}

// serve begins c's service on server.
func (s *Station) serve(server int, c Customer) {
	c.Started = s.k.Now()
	s.inService[server] = c
	s.Stats.Wait.Record(seconds(c.Wait()))
	s.k.After(s.service(), s, 0, int64(server))
}

// Handle completes service on the server named by ev.Arg.
func (s *Station) Handle(ev Event) {
	now := s.k.Now()
	server := int(ev.Arg)
	c := s.inService[server]
	c.Departed = now
	s.Stats.Completed.Inc()
	r := seconds(c.Response())
	s.Stats.Response.Record(r)
	s.Stats.ResponseHist.Record(r)
	// busy still counts this server. If more are busy than wanted, servers
	// were removed while serving, and this one retires rather than going on.
	if s.waiting.Len() > 0 && s.busy <= s.servers {
		// The server goes straight to the next customer: it stays busy.
		s.Stats.InQueue.Add(now, -1)
		s.serve(server, s.waiting.Pop())
	} else {
		s.idle = append(s.idle, server)
		s.busy--
		s.Stats.Busy.Add(now, -1)
	}
	if s.OnDepart != nil {
		s.OnDepart(c)
	}
}

// ResetStats forgets every measurement so far, keeping the station's
// state: warm-up deletion. Customers present keep their arrival times, so
// their waits and responses, when recorded, include the time before.
func (s *Station) ResetStats() {
	now := s.k.Now()
	st := &s.Stats
	st.Since = now
	st.Arrivals.Reset()
	st.Blocked.Reset()
	st.Completed.Reset()
	st.Wait.Reset()
	st.Response.Reset()
	st.ResponseHist.Reset()
	st.InQueue.Reset(now)
	st.Busy.Reset(now)
	st.Servers.Reset(now)
}

// StationMetrics summarise a station over its measurement window.
type StationMetrics struct {
	Elapsed         time.Duration
	ArrivalRate     float64 // arrivals per second, blocked ones included
	Throughput      float64 // departures per second
	Utilization     float64 // ∫busy dt / ∫servers dt: busy time per server time
	WaitMean        float64 // seconds in queue, per customer served
	ResponseMean    float64 // seconds at the station, per departed customer
	QueueMean       float64 // time-average number waiting
	SystemMean      float64 // time-average number present
	BlockedFraction float64 // blocked arrivals / arrivals
}

// Metrics returns the station's metrics from Stats.Since to now.
func (s *Station) Metrics() StationMetrics {
	now := s.k.Now()
	st := &s.Stats
	el := now - st.Since
	m := StationMetrics{
		Elapsed:      el,
		WaitMean:     st.Wait.Mean(),
		ResponseMean: st.Response.Mean(),
		QueueMean:    st.InQueue.Mean(now),
		SystemMean:   st.InQueue.Mean(now) + st.Busy.Mean(now),
		Utilization:  utilization(st.Busy, st.Servers, now),
	}
	if sec := el.Seconds(); sec > 0 {
		m.ArrivalRate = float64(st.Arrivals.Count()) / sec
		m.Throughput = float64(st.Completed.Count()) / sec
	}
	if a := st.Arrivals.Count(); a > 0 {
		m.BlockedFraction = float64(st.Blocked.Count()) / float64(a)
	}
	return m
}

// utilization is ∫busy dt / ∫capacity dt over the gauges' window, the
// fraction of the capacity provided that was used: with servers or cores
// that vary, dividing by the current count would credit or blame the whole
// window for the last change. It is 0 when no capacity was provided at all.
// While servers removed mid-service finish their customers, busy may exceed
// the capacity, and so the ratio may exceed 1.
func utilization(busy, capacity *stats.TimeWeighted, now time.Duration) float64 {
	if capacity.Min() == capacity.Max() {
		// Constant over the window: divide by the count itself, exactly.
		if c := capacity.Value(); c > 0 {
			return busy.Mean(now) / c
		}
		return 0
	}
	// Means rather than areas, so that an empty window gives the current
	// ratio, as TimeWeighted.Mean does.
	c := capacity.Mean(now)
	if !(c > 0) {
		return 0
	}
	return busy.Mean(now) / c
}
