package qnet

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"stormglass/sim"
	"stormglass/sim/stats"
)

// sumTolerance is how far from 1 a list of route probabilities may sum.
const sumTolerance = 1e-9

// Route sends a share of the jobs leaving a source or station to a station
// or a sink.
type Route struct {
	To   string  // a station or a sink, never a source
	P    float64 // probability in [0, 1]; leave 0 when Rest is set
	Rest bool    // takes 1 − Σ(the other routes' P); at most one per list
}

// RatePoint is a point of a piecewise-constant rate profile: from At on,
// the source's base rate is Rate.
type RatePoint struct {
	At   time.Duration
	Rate float64 // jobs per second, ≥ 0
}

// SourceConfig describes a source of external arrivals.
type SourceConfig struct {
	Name    string
	Process Process
	Rate    float64     // base rate until the first profile point, jobs per second, ≥ 0
	Profile []RatePoint // optional, sorted by At
	Routes  []Route
}

// StationConfig describes a station.
type StationConfig struct {
	Name       string
	Discipline Discipline
	Servers    int // ≥ 1; cores for PS
	Capacity   int // most jobs present at once; 0 = unlimited, else ≥ Servers
	Service    Service
	Routes     []Route
}

// Config describes a whole network. Names are unique across sources,
// stations and sinks.
type Config struct {
	Sources  []SourceConfig
	Stations []StationConfig
	Sinks    []string
}

// Network is an open queueing network on a simulation kernel. It is not safe
// for concurrent use: call its methods from the simulation goroutine (for
// example from kernel events) or between Run calls.
type Network struct {
	k        *sim.Kernel
	sources  []*Source
	stations []*Station
	sinks    []string
	names    map[string]target // lookup only; never iterated

	// The job slab: a job's ID in the sim blocks is its slot index.
	jobs []job
	free []int32

	started bool
	since   time.Duration

	// Cumulative counters since New; the measurement window subtracts the
	// values at the last ResetStats.
	arrivals, completed, blocked    int64
	arrivals0, completed0, blocked0 int64

	present  int
	inSystem *stats.TimeWeighted
	response *stats.Histogram // end-to-end sojourn, seconds
}

type job struct {
	entered time.Duration // when the job entered the network
	work    float64       // its service requirement at the PS station it is at, seconds
}

// target is where a route leads: a station index ≥ 0, or −1 − i for sink i.
// A source is never a target; targetSource marks a name that is one.
type target int

const targetSource target = math.MinInt

func sinkTarget(i int) target { return target(-1 - i) }

// New builds the network on kernel k. Each source and station draws from its
// own named streams ("source/"+name, "service/"+name, "route/"+name), so
// adding an element never changes another's draws. New checks the whole
// configuration and reports every problem it finds, each naming its
// element, joined with errors.Join. The sources are stopped; Start starts
// them.
func New(k *sim.Kernel, streams sim.Streams, cfg Config) (*Network, error) {
	n := &Network{k: k, names: make(map[string]target), sinks: slices.Clone(cfg.Sinks)}
	var errs []error
	bad := func(kind, name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("qnet: %s %q: %s", kind, name, fmt.Sprintf(format, args...)))
	}

	// Names first, so routes can be resolved whatever the order.
	kinds := make(map[string]string)
	claim := func(kind, name string, t target) {
		if name == "" {
			errs = append(errs, fmt.Errorf("qnet: a %s has an empty name", kind))
			return
		}
		if other, dup := kinds[name]; dup {
			bad(kind, name, "name already used by a %s", other)
			return
		}
		kinds[name] = kind
		n.names[name] = t
	}
	for _, sc := range cfg.Sources {
		claim("source", sc.Name, targetSource)
	}
	for i, st := range cfg.Stations {
		claim("station", st.Name, target(i))
	}
	for i, name := range cfg.Sinks {
		claim("sink", name, sinkTarget(i))
	}
	if len(cfg.Sinks) == 0 {
		errs = append(errs, errors.New("qnet: the network has no sink: jobs could never leave"))
	}

	for _, sc := range cfg.Sources {
		s := &Source{net: n, name: sc.Name, process: sc.Process, base: sc.Rate, surge: 1,
			profile: slices.Clone(sc.Profile), rng: streams.Rand("source/" + sc.Name)}
		if sc.Process != Poisson && sc.Process != Deterministic {
			bad("source", sc.Name, "unknown arrival process %v", sc.Process)
		}
		if err := checkRate(sc.Rate); err != nil {
			bad("source", sc.Name, "%v", err)
		}
		for i, p := range sc.Profile {
			if p.At < 0 {
				bad("source", sc.Name, "profile point %d is at %v, before the start", i, p.At)
			}
			if i > 0 && p.At < sc.Profile[i-1].At {
				bad("source", sc.Name, "profile point %d at %v comes before point %d at %v: the profile must be sorted by time", i, p.At, i-1, sc.Profile[i-1].At)
			}
			if err := checkRate(p.Rate); err != nil {
				bad("source", sc.Name, "profile point %d: %v", i, err)
			}
		}
		var err error
		s.route, err = n.newRouter(sc.Routes, streams.Rand("route/"+sc.Name))
		if err != nil {
			errs = append(errs, fmt.Errorf("qnet: source %q: %w", sc.Name, err))
		}
		n.sources = append(n.sources, s)
	}

	for _, sc := range cfg.Stations {
		s, err := n.newStation(sc, streams)
		if err != nil {
			errs = append(errs, err)
		}
		n.stations = append(n.stations, s)
	}
	if len(cfg.Sinks) > 0 {
		for _, i := range n.trapped(nil, nil) {
			bad("station", cfg.Stations[i].Name, "no sink can be reached from it: jobs would never leave")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	now := k.Now()
	n.since = now
	n.inSystem = stats.NewTimeWeighted(now, 0)
	n.response = stats.NewHistogram(stats.DefaultRelAccuracy)
	return n, nil
}

func checkRate(r float64) error {
	if !(r >= 0) || math.IsInf(r, 0) {
		return fmt.Errorf("rate must be finite and ≥ 0, got %v", r)
	}
	return nil
}

// newStation builds one station. On error it returns the errors found,
// joined, and a stub holding only the routes (if they are valid), for the
// reachability check.
func (n *Network) newStation(sc StationConfig, streams sim.Streams) (*Station, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("qnet: station %q: %s", sc.Name, fmt.Sprintf(format, args...)))
	}
	if sc.Discipline != FCFS && sc.Discipline != PS {
		bad("unknown discipline %v", sc.Discipline)
	}
	if sc.Servers < 1 {
		bad("needs at least 1 server, got %d", sc.Servers)
	}
	switch {
	case sc.Capacity < 0:
		bad("capacity %d is negative (0 means unlimited)", sc.Capacity)
	case sc.Capacity > 0 && sc.Capacity < sc.Servers:
		bad("capacity %d is below its %d servers", sc.Capacity, sc.Servers)
	}
	if err := sc.Service.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("qnet: station %q: service: %w", sc.Name, err))
	}
	route, err := n.newRouter(sc.Routes, streams.Rand("route/"+sc.Name))
	if err != nil {
		errs = append(errs, fmt.Errorf("qnet: station %q: %w", sc.Name, err))
	}
	if len(errs) > 0 {
		// Keep the routes (if valid) for the reachability check.
		return &Station{route: route}, errors.Join(errs...)
	}

	now := n.k.Now()
	s := &Station{net: n, name: sc.Name, discipline: sc.Discipline,
		servers: sc.Servers, capacity: sc.Capacity, service: sc.Service,
		slowdown: 1, route: route,
		unit:      newUnitSampler(sc.Service, streams.Rand("service/"+sc.Name)),
		serversTW: stats.NewTimeWeighted(now, float64(sc.Servers)),
	}
	if sc.Discipline == FCFS {
		s.fcfs = sim.NewStation(n.k, sc.Name, sc.Servers, sc.Capacity, s.serviceTime)
		s.fcfs.OnDepart = s.depart
	} else {
		s.ps = sim.NewCPU(n.k, sc.Name, float64(sc.Servers), 1)
		s.ps.OnDone = s.done
	}
	return s, nil
}

// router picks where a job goes next.
type router struct {
	to      []target
	names   []string
	p       []float64 // as configured or set; a Rest route's entry is unused
	rest    int       // the Rest route, or −1
	cum     []float64 // cumulative effective probabilities
	lastPos int       // the last route with a positive probability
	rng     *rand.Rand
}

func (n *Network) newRouter(routes []Route, rng *rand.Rand) (router, error) {
	r := router{rest: -1, rng: rng}
	if len(routes) == 0 {
		return router{}, errors.New("no routes: every job needs somewhere to go")
	}
	var errs []error
	for i, rt := range routes {
		t, ok := n.names[rt.To]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("route %d to %q: no such station or sink", i, rt.To))
		case t == targetSource:
			errs = append(errs, fmt.Errorf("route %d to %q: that is a source; routes lead to a station or a sink", i, rt.To))
		}
		if rt.Rest {
			if r.rest >= 0 {
				errs = append(errs, fmt.Errorf("route %d to %q: routes %d and %d both take the rest; at most one may", i, rt.To, r.rest, i))
			}
			r.rest = i
			if rt.P != 0 {
				errs = append(errs, fmt.Errorf("route %d to %q takes the rest and cannot also have P = %v", i, rt.To, rt.P))
			}
		} else if !(rt.P >= 0 && rt.P <= 1) {
			errs = append(errs, fmt.Errorf("route %d to %q: probability %v is not in [0, 1]", i, rt.To, rt.P))
		}
		r.to = append(r.to, t)
		r.names = append(r.names, rt.To)
		r.p = append(r.p, rt.P)
	}
	if len(errs) > 0 {
		return router{}, errors.Join(errs...)
	}
	cum, lastPos, err := cumulate(r.p, r.rest)
	if err != nil {
		return router{}, err
	}
	r.cum, r.lastPos = cum, lastPos
	return r, nil
}

// cumulate checks that the probabilities p (with route rest taking what is
// left, if rest ≥ 0) sum to 1 and returns their running sums.
func cumulate(p []float64, rest int) (cum []float64, lastPos int, err error) {
	var sum float64
	for i, x := range p {
		if i != rest {
			sum += x
		}
	}
	restP := 0.0
	if rest >= 0 {
		if sum > 1+sumTolerance {
			return nil, 0, fmt.Errorf("the probabilities of the routes other than the rest sum to %v, more than 1", sum)
		}
		restP = max(0, 1-sum)
	} else if math.Abs(sum-1) > sumTolerance {
		return nil, 0, fmt.Errorf("route probabilities sum to %v, not 1", sum)
	}
	cum = make([]float64, len(p))
	acc := 0.0
	lastPos = -1
	for i, x := range p {
		if i == rest {
			x = restP
		}
		acc += x
		cum[i] = acc
		if x > 0 {
			lastPos = i
		}
	}
	if lastPos < 0 {
		return nil, 0, errors.New("every route has probability 0")
	}
	return cum, lastPos, nil
}

// effective returns route i's probability, the rest included.
func (r *router) effective(i int) float64 {
	if i == 0 {
		return r.cum[0]
	}
	return r.cum[i] - r.cum[i-1]
}

// pick draws the next target. A single route needs no draw.
func (r *router) pick() target {
	if len(r.to) == 1 {
		return r.to[0]
	}
	u := r.rng.Float64()
	for i, c := range r.cum {
		if u < c {
			return r.to[i]
		}
	}
	return r.to[r.lastPos] // the sum fell short of 1 by rounding
}

// setP changes route i's probability to p, checking the sums; on error r is
// unchanged.
func (r *router) setP(i int, p float64) error {
	if i < 0 || i >= len(r.p) {
		return fmt.Errorf("no route %d (there are %d)", i, len(r.p))
	}
	if i == r.rest {
		return fmt.Errorf("route %d to %q takes the rest; its probability follows the others", i, r.names[i])
	}
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("route %d to %q: probability %v is not in [0, 1]", i, r.names[i], p)
	}
	ps := slices.Clone(r.p)
	ps[i] = p
	cum, lastPos, err := cumulate(ps, r.rest)
	if err != nil {
		return fmt.Errorf("route %d to %q: %w", i, r.names[i], err)
	}
	r.p, r.cum, r.lastPos = ps, cum, lastPos
	return nil
}

// trapped returns the stations from which no sink can be reached along
// routes of positive probability, in config order. If override is set,
// station at's routes are taken from it instead.
func (n *Network) trapped(at *Station, override *router) []int {
	routerOf := func(s *Station) *router {
		if s == at {
			return override
		}
		return &s.route
	}
	exits := make([]bool, len(n.stations))
	for changed := true; changed; {
		changed = false
		for i, s := range n.stations {
			if exits[i] {
				continue
			}
			r := routerOf(s)
			if r.to == nil {
				// Its routes are invalid and already reported: do not
				// report its neighbours too.
				exits[i], changed = true, true
				continue
			}
			for j, t := range r.to {
				if r.effective(j) > 0 && (t < 0 || exits[t]) {
					exits[i], changed = true, true
					break
				}
			}
		}
	}
	var out []int
	for i, ok := range exits {
		if !ok {
			out = append(out, i)
		}
	}
	return out
}

// Start starts the sources: each schedules its first arrival (a
// deterministic source's first arrival is now) and its profile's rate
// changes. Starting twice does nothing.
func (n *Network) Start() {
	if n.started {
		return
	}
	n.started = true
	for _, s := range n.sources {
		s.start()
	}
}

// Source returns the named source, or nil.
func (n *Network) Source(name string) *Source {
	for _, s := range n.sources {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Station returns the named station, or nil.
func (n *Network) Station(name string) *Station {
	for _, s := range n.stations {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Sources returns the sources in config order.
func (n *Network) Sources() []*Source { return slices.Clone(n.sources) }

// Stations returns the stations in config order.
func (n *Network) Stations() []*Station { return slices.Clone(n.stations) }

// admit gives a new job a slot in the slab.
func (n *Network) admit() int64 {
	now := n.k.Now()
	var id int32
	if l := len(n.free); l > 0 {
		id = n.free[l-1]
		n.free = n.free[:l-1]
	} else {
		if len(n.jobs) == math.MaxInt32 {
			panic("qnet: more than 2^31-1 jobs in the network")
		}
		n.jobs = append(n.jobs, job{})
		id = int32(len(n.jobs) - 1)
	}
	n.jobs[id] = job{entered: now}
	n.arrivals++
	n.present++
	n.inSystem.Set(now, float64(n.present))
	return int64(id)
}

// release frees job id's slot.
func (n *Network) release(id int64) {
	n.free = append(n.free, int32(id))
	n.present--
	n.inSystem.Set(n.k.Now(), float64(n.present))
}

// forward sends job id to t: into a station, or out through a sink.
func (n *Network) forward(id int64, t target) {
	if t >= 0 {
		n.stations[t].arrive(id)
		return
	}
	n.completed++
	n.response.Record(seconds(n.k.Now() - n.jobs[id].entered))
	n.release(id)
}

// lose drops job id, blocked at a full station. A job is lost at its first
// block, so it is counted once.
func (n *Network) lose(id int64) {
	n.blocked++
	n.release(id)
}

func seconds(d time.Duration) float64 { return float64(d) * 1e-9 }

// Source emits the network's external arrivals.
type Source struct {
	net     *Network
	name    string
	process Process
	base    float64 // rate before the surge factor
	surge   float64
	profile []RatePoint
	next    int // the next profile point to apply
	rng     *rand.Rand
	route   router

	started bool
	pending sim.EventID // the next arrival, if any
	last    time.Duration
	hasLast bool // an arrival has happened (last is its time)
}

// Event kinds of a Source.
const (
	evArrival int32 = iota
	evProfile
)

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Rate returns the current effective rate: the base rate times the surge.
func (s *Source) Rate() float64 { return s.base * s.surge }

// SetRate sets the base rate from now on, until the next profile point.
func (s *Source) SetRate(r float64) error {
	if err := checkRate(r); err != nil {
		return fmt.Errorf("qnet: source %q: %w", s.name, err)
	}
	s.base = r
	s.reschedule()
	return nil
}

// SetSurge multiplies the base rate by factor (≥ 0; 1 means no surge) from
// now on; profile points and SetRate change the base and keep the surge.
func (s *Source) SetSurge(factor float64) error {
	if !(factor >= 0) || math.IsInf(factor, 0) {
		return fmt.Errorf("qnet: source %q: surge factor must be finite and ≥ 0, got %v", s.name, factor)
	}
	s.surge = factor
	s.reschedule()
	return nil
}

// SetRouteP changes the probability of route i. The routes must still sum
// to 1; on error nothing changes.
func (s *Source) SetRouteP(i int, p float64) error {
	if err := s.route.setP(i, p); err != nil {
		return fmt.Errorf("qnet: source %q: %w", s.name, err)
	}
	return nil
}

func (s *Source) start() {
	now := s.net.k.Now()
	s.started = true
	for s.next < len(s.profile) && s.profile[s.next].At <= now {
		s.base = s.profile[s.next].Rate
		s.next++
	}
	s.scheduleProfile()
	s.reschedule()
}

func (s *Source) scheduleProfile() {
	if s.next < len(s.profile) {
		s.net.k.At(s.profile[s.next].At, s, evProfile, 0)
	}
}

// reschedule replaces the pending arrival after a change of rate. A Poisson
// source draws a fresh exponential at the new rate, which is exact because
// the process is memoryless. A deterministic source keeps its phase: the
// next arrival comes 1/rate after the last one, or now if that is past.
func (s *Source) reschedule() {
	if !s.started {
		return
	}
	k := s.net.k
	k.Cancel(s.pending)
	s.pending = sim.EventID{}
	rate := s.Rate()
	if !(rate > 0) {
		return
	}
	if s.process == Poisson {
		s.pending = k.After(sim.DurationOf(s.rng.ExpFloat64()/rate), s, evArrival, 0)
		return
	}
	at := k.Now()
	if s.hasLast {
		at = max(at, s.last+sim.DurationOf(1/rate))
	}
	s.pending = k.At(at, s, evArrival, 0)
}

// Handle runs an arrival or a profile point.
func (s *Source) Handle(ev sim.Event) {
	k := s.net.k
	if ev.Kind == evProfile {
		s.base = s.profile[s.next].Rate
		s.next++
		s.scheduleProfile()
		s.reschedule()
		return
	}
	now := k.Now()
	s.last, s.hasLast = now, true
	s.pending = sim.EventID{}
	if rate := s.Rate(); rate > 0 {
		var d time.Duration
		if s.process == Poisson {
			d = sim.DurationOf(s.rng.ExpFloat64() / rate)
		} else {
			d = sim.DurationOf(1 / rate)
		}
		s.pending = k.After(d, s, evArrival, 0)
	}
	n := s.net
	n.forward(n.admit(), s.route.pick())
}

// Station is a queueing station of the network: FCFS on a sim.Station, or
// processor sharing on a sim.CPU.
type Station struct {
	net        *Network
	name       string
	discipline Discipline
	fcfs       *sim.Station
	ps         *sim.CPU

	servers  int // the target, applied when not in outage
	capacity int
	outage   bool
	service  Service
	slowdown float64
	unit     unitSampler
	route    router

	serversTW *stats.TimeWeighted // servers available: 0 in an outage
	psWait    stats.Tally         // PS: response minus own requirement, seconds

	// Cumulative counters since New, and their values at the last reset.
	arrivals, completed, blocked    int64
	arrivals0, completed0, blocked0 int64
}

// Name returns the station's name.
func (s *Station) Name() string { return s.name }

// Servers returns the target number of servers (cores for PS), which
// applies whenever the station is not in an outage.
func (s *Station) Servers() int { return s.servers }

// Len returns the number of jobs present, waiting or in service.
func (s *Station) Len() int {
	if s.fcfs != nil {
		return s.fcfs.Len()
	}
	return s.ps.Len()
}

// effectiveServers is how many servers are up.
func (s *Station) effectiveServers() int {
	if s.outage {
		return 0
	}
	return s.servers
}

// apply gives the sim block the effective number of servers.
func (s *Station) apply() {
	c := s.effectiveServers()
	if s.fcfs != nil {
		s.fcfs.SetServers(c)
	} else {
		s.ps.SetCapacity(float64(c), 1)
	}
	s.trackServers()
}

// trackServers keeps the gauge of servers at work: the effective number,
// or more while an FCFS station whose servers were cut (or went down)
// finishes the services in progress. Utilization therefore never exceeds 1.
func (s *Station) trackServers() {
	v := max(float64(s.effectiveServers()), s.busy().Value())
	if v != s.serversTW.Value() {
		s.serversTW.Set(s.net.k.Now(), v)
	}
}

// SetServers sets the number of servers (cores for PS), c ≥ 1. Service in
// progress is never interrupted: with fewer FCFS servers, the jobs in
// service finish and the next waiting job starts only when a server is
// free. During an outage the target is kept and applied on recovery.
func (s *Station) SetServers(c int) error {
	if c < 1 {
		return fmt.Errorf("qnet: station %q: needs at least 1 server, got %d", s.name, c)
	}
	s.servers = c
	if !s.outage {
		s.apply()
	}
	return nil
}

// SetCapacity sets the most jobs present at once: 0 for no limit, else ≥ 1.
// Jobs already present stay; arrivals are blocked while Len() ≥ k.
func (s *Station) SetCapacity(k int) error {
	if k < 0 {
		return fmt.Errorf("qnet: station %q: capacity %d is negative (0 means unlimited)", s.name, k)
	}
	s.capacity = k
	if s.fcfs != nil {
		s.fcfs.SetCapacity(k)
	}
	return nil
}

// SetServiceMean sets the mean service time, keeping the law's shape, for
// jobs whose service starts from now (PS: that arrive from now).
func (s *Station) SetServiceMean(mean float64) error {
	if !(mean > 0) || math.IsInf(mean, 0) {
		return fmt.Errorf("qnet: station %q: mean service time must be finite and > 0, got %v", s.name, mean)
	}
	s.service.Mean = mean
	return nil
}

// SetSlowdown multiplies the service times of jobs whose service starts
// from now (PS: that arrive from now) by factor ≥ 0.01; 1 means none.
func (s *Station) SetSlowdown(factor float64) error {
	if !(factor >= 0.01) || math.IsInf(factor, 0) {
		return fmt.Errorf("qnet: station %q: slowdown factor must be finite and ≥ 0.01, got %v", s.name, factor)
	}
	s.slowdown = factor
	return nil
}

// SetOutage takes every server down (down = true) or restores the target
// number (down = false). An FCFS station in an outage starts no service,
// though the jobs already in service finish; a PS station makes no
// progress at all. Arrivals still queue, up to the capacity.
func (s *Station) SetOutage(down bool) {
	if s.outage == down {
		return
	}
	s.outage = down
	s.apply()
}

// SetRouteP changes the probability of route i. The routes must still sum
// to 1 and a sink must stay reachable from every station; on error nothing
// changes.
func (s *Station) SetRouteP(i int, p float64) error {
	r := s.route
	if err := r.setP(i, p); err != nil {
		return fmt.Errorf("qnet: station %q: %w", s.name, err)
	}
	if trapped := s.net.trapped(s, &r); len(trapped) > 0 {
		return fmt.Errorf("qnet: station %q: route %d to %q with probability %v leaves station %q with no way to a sink",
			s.name, i, r.names[i], p, s.net.stations[trapped[0]].name)
	}
	s.route = r
	return nil
}

// serviceTime draws an FCFS service time when service starts.
func (s *Station) serviceTime() time.Duration {
	return sim.DurationOf(s.service.Mean * s.slowdown * s.unit.draw())
}

func (s *Station) arrive(id int64) {
	n := s.net
	s.arrivals++
	if s.fcfs != nil {
		if !s.fcfs.Arrive(id) {
			s.blocked++
			n.lose(id)
		}
		return
	}
	if s.capacity > 0 && s.ps.Len() >= s.capacity {
		s.blocked++
		n.lose(id)
		return
	}
	work := s.service.Mean * s.slowdown * s.unit.draw()
	n.jobs[id].work = work
	s.ps.Submit(id, work)
}

// depart is the FCFS station's OnDepart.
func (s *Station) depart(c sim.Customer) {
	s.completed++
	if s.serversTW.Value() > float64(s.effectiveServers()) {
		s.trackServers() // a service that outlived its server's removal ended
	}
	s.net.forward(c.ID, s.route.pick())
}

// done is the PS CPU's OnDone.
func (s *Station) done(id int64, arrived time.Duration) {
	n := s.net
	s.completed++
	s.psWait.Record(max(0, seconds(n.k.Now()-arrived)-n.jobs[id].work))
	n.forward(id, s.route.pick())
}

// busy returns the gauge of busy servers (cores).
func (s *Station) busy() *stats.TimeWeighted {
	if s.fcfs != nil {
		return s.fcfs.Stats.Busy
	}
	return s.ps.Stats.BusyCores
}

func (s *Station) resetStats() {
	now := s.net.k.Now()
	if s.fcfs != nil {
		s.fcfs.ResetStats()
	} else {
		s.ps.ResetStats()
	}
	s.serversTW.Reset(now)
	s.psWait.Reset()
	s.arrivals0, s.completed0, s.blocked0 = s.arrivals, s.completed, s.blocked
}

// ResetStats forgets every measurement so far and keeps the state, for
// warm-up deletion: Metrics then covers the time from now on. Jobs present
// keep their entry times. Snapshot's cumulative counters are not reset.
func (n *Network) ResetStats() {
	now := n.k.Now()
	n.since = now
	n.arrivals0, n.completed0, n.blocked0 = n.arrivals, n.completed, n.blocked
	n.inSystem.Reset(now)
	n.response.Reset()
	for _, s := range n.stations {
		s.resetStats()
	}
}

// Metrics are the network's measurements since the last ResetStats (or
// New). Means over no observations are 0.
type Metrics struct {
	Elapsed         float64 // seconds measured
	ArrivalRate     float64 // external arrivals per second, blocked ones included
	Throughput      float64 // jobs reaching a sink per second
	BlockedFraction float64 // external arrivals lost at any station / external arrivals
	InSystemMean    float64 // time-average number of jobs in the network
	Response        ResponseStats
	Stations        []StationMetrics // config order
}

// ResponseStats describe the end-to-end sojourn, in seconds, of the jobs
// that reached a sink. Percentiles come from a histogram with 0.5 %
// relative accuracy; every field is zero when Count is 0.
type ResponseStats struct {
	Count          int64
	Mean, Min, Max float64
	P50, P95, P99  float64
}

// StationMetrics are one station's measurements. For a PS station WaitMean
// is the mean response minus the job's own service requirement (the time
// lost to sharing) and QueueMean the mean of jobs present minus busy cores.
// Utilization is ∫busy servers dt / ∫servers at work dt, which stays right
// when the number of servers changes; servers at work are those up, plus
// any removed (or lost to an outage) while still finishing a job, so it
// never exceeds 1. It is 0 if no server was ever at work.
type StationMetrics struct {
	Name                                 string
	ArrivalRate, Throughput, Utilization float64
	WaitMean, ResponseMean, QueueMean    float64
	SystemMean, BlockedFraction          float64
	ResponseP99                          float64
}

// Metrics returns the measurements since the last ResetStats.
func (n *Network) Metrics() Metrics {
	now := n.k.Now()
	el := seconds(now - n.since)
	arr := n.arrivals - n.arrivals0
	m := Metrics{
		Elapsed:         el,
		ArrivalRate:     rate(arr, el),
		Throughput:      rate(n.completed-n.completed0, el),
		BlockedFraction: fraction(n.blocked-n.blocked0, arr),
		InSystemMean:    n.inSystem.Mean(now),
		Stations:        make([]StationMetrics, len(n.stations)),
	}
	if h := n.response; h.Count() > 0 {
		m.Response = ResponseStats{Count: h.Count(), Mean: h.Mean(), Min: h.Min(), Max: h.Max(),
			P50: h.P50(), P95: h.P95(), P99: h.P99()}
	}
	for i, s := range n.stations {
		m.Stations[i] = s.metrics(now, el)
	}
	return m
}

func (s *Station) metrics(now time.Duration, el float64) StationMetrics {
	arr := s.arrivals - s.arrivals0
	m := StationMetrics{
		Name:            s.name,
		ArrivalRate:     rate(arr, el),
		Throughput:      rate(s.completed-s.completed0, el),
		BlockedFraction: fraction(s.blocked-s.blocked0, arr),
	}
	busy := s.busy()
	if up := s.serversTW.Area(now); up > 0 {
		m.Utilization = busy.Area(now) / up
	}
	var hist *stats.Histogram
	if s.fcfs != nil {
		st := &s.fcfs.Stats
		m.WaitMean = mean(&st.Wait)
		m.ResponseMean = mean(&st.Response)
		m.QueueMean = st.InQueue.Mean(now)
		m.SystemMean = m.QueueMean + busy.Mean(now)
		hist = st.ResponseHist
	} else {
		st := &s.ps.Stats
		m.WaitMean = mean(&s.psWait)
		m.ResponseMean = mean(&st.Response)
		m.SystemMean = st.Jobs.Mean(now)
		m.QueueMean = max(0, m.SystemMean-busy.Mean(now))
		hist = st.ResponseHist
	}
	if hist.Count() > 0 {
		m.ResponseP99 = hist.P99()
	}
	return m
}

func rate(count int64, el float64) float64 {
	if el > 0 {
		return float64(count) / el
	}
	return 0
}

func fraction(part, whole int64) float64 {
	if whole > 0 {
		return float64(part) / float64(whole)
	}
	return 0
}

func mean(t *stats.Tally) float64 {
	if t.N() == 0 {
		return 0
	}
	return t.Mean()
}

// Snapshot is the network's state now and its cumulative counters since
// New, which ResetStats does not touch: successive snapshots make a time
// series (differences of counters give rates per interval).
type Snapshot struct {
	At                           time.Duration
	Arrivals, Completed, Blocked int64 // external arrivals, jobs reaching a sink, jobs lost
	InSystem                     int
	Stations                     []StationSnapshot // config order
}

// StationSnapshot is one station's state and cumulative counters. Servers
// is the number up now: 0 during an outage, else the target.
type StationSnapshot struct {
	Present                      int
	Busy                         float64
	Servers                      int
	Arrivals, Completed, Blocked int64
}

// Snapshot returns the current state and cumulative counters.
func (n *Network) Snapshot() Snapshot {
	sn := Snapshot{At: n.k.Now(), Arrivals: n.arrivals, Completed: n.completed, Blocked: n.blocked,
		InSystem: n.present, Stations: make([]StationSnapshot, len(n.stations))}
	for i, s := range n.stations {
		sn.Stations[i] = StationSnapshot{Present: s.Len(), Busy: s.busy().Value(), Servers: s.effectiveServers(),
			Arrivals: s.arrivals, Completed: s.completed, Blocked: s.blocked}
	}
	return sn
}
