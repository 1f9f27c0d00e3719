package service

import (
	"fmt"
	"math"
	"slices"
	"time"

	"stormglass/models/cache"
	"stormglass/models/db"
	"stormglass/realtime/admission"
	"stormglass/sim"
	"stormglass/sim/stats"
)

// redeliverDelay is how long a message whose processing failed waits
// before it is on the queue again.
const redeliverDelay = time.Second

// DefaultSlow is the response time above which a request counts as slow
// when Config.Slow is zero.
const DefaultSlow = time.Second

// New builds cfg on k, drawing randomness from streams, sampling series
// every sample (> 0) until horizon (> 0). Call Start, then run the kernel.
func New(k *sim.Kernel, streams sim.Streams, cfg Config, sample, horizon time.Duration) (*System, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sample <= 0 || horizon <= 0 {
		return nil, fmt.Errorf("%w: sample %v and horizon %v, expected both above 0", ErrConfig, sample, horizon)
	}
	if cfg.Slow == 0 {
		cfg.Slow = DefaultSlow
	}
	s := &System{
		k: k, cfg: cfg, horizon: horizon,
		arrivals: streams.Rand("service/arrivals"),
		costs:    streams.Rand("service/costs"),
		users:    streams.Rand("service/users"),
		latency:  stats.NewHistogram(0.01),
		all:      stats.NewHistogram(0.01),
	}
	for i, d := range cfg.Databases {
		inst, err := db.New(k, d.Name, d.Config)
		if err != nil {
			return nil, fmt.Errorf("database %q: %w", d.Name, err)
		}
		s.dbs = append(s.dbs, &database{cfg: d, inst: inst, idx: i})
	}
	for i, c := range cfg.Caches {
		ch, err := cache.New(c.Config, streams.Source("service/cache/"+c.Name))
		if err != nil {
			return nil, fmt.Errorf("cache %q: %w", c.Name, err)
		}
		s.caches = append(s.caches, &cacheState{cfg: c, c: ch, idx: i})
	}
	for i := range cfg.Services {
		sc := cfg.Services[i]
		v := &svc{cfg: sc, idx: i, poolIdx: make([]int, len(s.dbs))}
		for j := range v.poolIdx {
			v.poolIdx[j] = -1
		}
		for j, p := range sc.Pools {
			v.poolIdx[s.dbIndex(p.Database)] = j
		}
		// Every service has a gate, so a rate limit can be turned on live;
		// one without limits admits everything.
		{
			lim := admission.Limits{}
			if sc.RateLimit > 0 {
				lim.Rate = admission.RateConfig{PerSecond: sc.RateLimit, Burst: sc.Burst}
			}
			if sc.MaxInFlight > 0 {
				lim.Concurrency = admission.ConcurrencyConfig{Max: sc.MaxInFlight * max(1, sc.Pods)}
			}
			g, err := admission.NewGate(admission.Config{Requests: lim})
			if err != nil {
				return nil, fmt.Errorf("%w: service %q: %w", ErrConfig, sc.Name, err)
			}
			v.gate = g
			v.limited = sc.RateLimit > 0 || sc.MaxInFlight > 0
		}
		for _, e := range sc.Endpoints {
			ep := &endpoint{svc: v, cfg: e, idx: len(s.eps), scale: 1}
			v.eps = append(v.eps, ep)
			s.eps = append(s.eps, ep)
		}
		s.svcs = append(s.svcs, v)
		s.svcLat = append(s.svcLat, stats.NewHistogram(0.01))
	}
	for i, q := range cfg.Queues {
		s.queues = append(s.queues, &queue{cfg: q, idx: i, consumer: s.endpointNamed(q.Service, q.Endpoint)})
	}
	// Resolve steps now that every name has an object.
	var rows int64
	for _, ep := range s.eps {
		for _, st := range ep.cfg.Steps {
			x := step{Step: st, stock: st.Stock}
			if st.Database != "" {
				x.db = s.dbs[s.dbIndex(st.Database)]
			}
			if st.Cache != "" {
				for _, c := range s.caches {
					if c.cfg.Name == st.Cache {
						x.cache = c
					}
				}
			}
			if st.Kind == StepCall {
				x.callee = s.endpointNamed(st.Service, st.Endpoint)
			}
			if st.Kind == StepEnqueue {
				for _, q := range s.queues {
					if q.cfg.Name == st.Queue {
						x.queue = q
					}
				}
			}
			if st.Kind == StepStock {
				rows++
				x.row = rows
			}
			ep.steps = append(ep.steps, x)
		}
	}
	for _, v := range s.svcs {
		for range v.cfg.Pods {
			if err := s.addPod(v); err != nil {
				return nil, err
			}
		}
		v.live = len(v.pods)
		for _, j := range v.cfg.Jobs {
			s.jobs = append(s.jobs, jobRef{svc: v, job: j})
		}
	}
	s.m = newMeter(s, sample)
	return s, nil
}

// checkCalls refuses a cycle of synchronous calls, which would never end.
func checkCalls(cfg Config) error {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	calls := map[string][]string{}
	var order []string
	for _, s := range cfg.Services {
		for _, e := range s.Endpoints {
			name := s.Name + "." + e.Name
			order = append(order, name)
			for _, st := range e.Steps {
				if st.Kind == StepCall {
					calls[name] = append(calls[name], st.Service+"."+st.Endpoint)
				}
			}
		}
	}
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case active:
			return fmt.Errorf("%w: the calls %s → %s form a cycle, expected none", ErrConfig, joinPath(path), n)
		case done:
			return nil
		}
		state[n] = active
		for _, c := range calls[n] {
			if err := visit(c, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = done
		return nil
	}
	for _, n := range order {
		if err := visit(n, nil); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(p []string) string {
	out := ""
	for i, n := range p {
		if i > 0 {
			out += " → "
		}
		out += n
	}
	return out
}

func (s *System) dbIndex(name string) int {
	return slices.IndexFunc(s.dbs, func(d *database) bool { return d.cfg.Name == name })
}

func (s *System) endpointNamed(service, name string) *endpoint {
	for _, v := range s.svcs {
		if v.cfg.Name != service {
			continue
		}
		for _, e := range v.eps {
			if e.cfg.Name == name {
				return e
			}
		}
	}
	return nil
}

func (s *System) addPod(v *svc) error {
	p := &pod{svc: v, idx: len(v.pods), busy: make([]int, len(s.queues))}
	p.cpu = sim.NewCPU(s.k, fmt.Sprintf("%s/%d", v.cfg.Name, p.idx), v.cfg.Cores, v.cfg.Speed)
	p.cpu.OnDone = func(id int64, _ time.Duration) { s.stepDone(id) }
	for _, pc := range v.cfg.Pools {
		d := s.dbs[s.dbIndex(pc.Database)]
		pool, err := db.NewPool(s.k, fmt.Sprintf("%s/%d→%s", v.cfg.Name, p.idx, d.cfg.Name), d.inst, pc.PoolConfig)
		if err != nil {
			return fmt.Errorf("service %q pool for %q: %w", v.cfg.Name, pc.Database, err)
		}
		p.pools = append(p.pools, pool)
	}
	for _, j := range s.jobs {
		if j.svc == v && s.k.Now() >= j.job.At && s.k.Now() < j.job.At+j.job.For {
			p.cpu.SetBackground(p.cpu.Background() + j.job.Threads)
		}
	}
	v.pods = append(v.pods, p)
	return nil
}

// Start schedules the arrivals, the jobs and the sampler, and warms the
// caches that start warm. Starting twice does nothing.
func (s *System) Start() {
	if s.started {
		return
	}
	s.started = true
	for _, c := range s.caches {
		if c.cfg.Warm {
			for key := range c.cfg.Keys {
				c.c.Store(uint64(key), true, 0)
			}
		}
	}
	for _, ep := range s.eps {
		if len(ep.cfg.Arrivals) > 0 {
			s.scheduleArrival(ep)
		}
	}
	for i, j := range s.jobs {
		s.k.At(j.job.At, s, evJobStart, int64(i))
		s.k.At(j.job.At+j.job.For, s, evJobEnd, int64(i))
	}
	s.k.At(s.m.interval, s, evSample, 0)
}

// rateAt is ep's external rate at t and when it next changes (−1: never).
func (ep *endpoint) rateAt(t time.Duration) (rate float64, next time.Duration) {
	next = -1
	for _, p := range ep.cfg.Arrivals {
		if p.At > t {
			next = p.At
			break
		}
		rate = p.Rate
	}
	return rate * ep.scale, next
}

func (s *System) scheduleArrival(ep *endpoint) {
	now := s.k.Now()
	rate, change := ep.rateAt(now)
	at := time.Duration(-1)
	if rate > 0 {
		at = now + sim.DurationOf(s.arrivals.ExpFloat64()/rate)
	}
	// Poisson arrivals are memoryless: a draw that crosses a change of
	// rate is discarded and redrawn from the change.
	if change >= 0 && (at < 0 || at > change) {
		ep.next = s.k.At(change, s, evReschedule, int64(ep.idx))
		return
	}
	if at >= 0 {
		ep.next = s.k.At(at, s, evArrival, int64(ep.idx))
	}
}

// evReschedule is a change of rate: redraw the next arrival.
const evReschedule = evRetry + 100

// Handle runs the System's events.
func (s *System) Handle(ev sim.Event) {
	switch ev.Kind {
	case evArrival:
		ep := s.eps[ev.Arg]
		s.scheduleArrival(ep)
		s.arrive(ep, 0)
	case evReschedule:
		s.scheduleArrival(s.eps[ev.Arg])
	case evRetry:
		s.arrive(s.eps[ev.Arg&0xffffffff], int(ev.Arg>>32))
	case evTimeout:
		s.expire(s.eps[ev.Arg])
	case evWaitDone, evHoldDone:
		if q, ok := s.lookup(ev.Arg); ok {
			if ev.Kind == evHoldDone {
				s.stockHeld(q)
			} else {
				s.advance(q)
			}
		}
	case evCallTimeout:
		if q, ok := s.lookup(ev.Arg); ok && q.child >= 0 {
			if c, ok := s.lookup(q.child); ok {
				c.parent = -1 // it goes on, unwatched
			}
			q.child = -1
			s.fail(q, CauseCallTimeout)
		}
	case evJobStart, evJobEnd:
		j := s.jobs[ev.Arg]
		d := j.job.Threads
		if ev.Kind == evJobEnd {
			d = -d
		}
		for _, p := range j.svc.pods {
			p.cpu.SetBackground(max(0, p.cpu.Background()+d))
		}
	case evSample:
		s.m.sample()
		if next := s.k.Now() + s.m.interval; next <= s.horizon {
			s.k.At(next, s, evSample, 0)
		}
	case evRedeliver:
		qu := s.queues[ev.Arg]
		qu.items = append(qu.items, message{enqueued: s.k.Now()})
		qu.peak = max(qu.peak, qu.len())
		s.dispatch(qu)
	}
}

// newRequest takes a slot for a request of ep on p.
func (s *System) newRequest(ep *endpoint, p *pod) *request {
	var q *request
	if n := len(s.free); n > 0 {
		q = s.reqs[s.free[n-1]]
		s.free = s.free[:n-1]
		gen := q.gen + 1
		*q = request{slot: q.slot, gen: gen}
	} else {
		q = &request{slot: int32(len(s.reqs))}
		s.reqs = append(s.reqs, q)
	}
	q.live = true
	q.ep, q.pod, q.podGen = ep, p, p.gen
	q.arrived = s.k.Now()
	q.pending = -1
	q.parent, q.child = -1, -1
	return q
}

func (s *System) release(q *request) {
	q.live = false
	s.free = append(s.free, q.slot)
}

// pick chooses the live pod with the fewest requests in flight, the load
// balancer's least-connections rule; ties go round robin.
func (s *System) pick(v *svc) *pod {
	if v.live == 0 {
		return nil
	}
	best := -1
	for i := range v.live {
		j := (v.rr + i) % v.live
		if best < 0 || v.pods[j].inFlight < v.pods[best].inFlight {
			best = j
		}
	}
	v.rr = (v.rr + 1) % v.live
	return v.pods[best]
}

// arrive is a user's request to ep (attempt 0 the first time).
func (s *System) arrive(ep *endpoint, attempt int) {
	s.m.add(s.m.requests, 1)
	s.m.add(s.m.svcRequests[ep.svc.idx], 1)
	v := ep.svc
	now := s.k.Now()
	var d admission.Decision
	if v.limited {
		d = v.gate.AdmitRequest(s.k.Epoch().Add(now))
		if !d.Admitted {
			s.userFailed(ep, attempt, CauseRefused)
			return
		}
	}
	p := s.pick(v)
	if p == nil {
		if v.limited {
			_ = v.gate.Release(d.Ticket)
		}
		s.userFailed(ep, attempt, CauseKilled)
		return
	}
	q := s.newRequest(ep, p)
	q.external, q.attempt = true, attempt
	if v.limited {
		q.ticket, q.gated = d.Ticket, true
	}
	p.inFlight++
	q.counted = true
	s.m.svcIn[v.idx]++
	if ep.cfg.Timeout > 0 {
		ep.deadlines = append(ep.deadlines, deadline{ref: q.ref(), at: now + ep.cfg.Timeout})
		if !s.k.IsPending(ep.dlEvent) {
			ep.dlEvent = s.k.At(now+ep.cfg.Timeout, s, evTimeout, int64(ep.idx))
		}
	}
	q.leaky = ep.cfg.Leak > 0 && s.users.Float64() < ep.cfg.Leak
	s.advance(q)
}

// userFailed counts a failure the user saw and maybe retries.
func (s *System) userFailed(ep *endpoint, attempt int, c Cause) {
	s.causes[c]++
	s.m.add(s.m.errors, 1)
	s.m.add(s.m.svcErrors[ep.svc.idx], 1)
	if c == CauseRefused {
		s.m.add(s.m.refused, 1)
	}
	if c == CauseTimeout {
		s.m.add(s.m.timeouts, 1)
	}
	if ep.cfg.Retry > 0 && s.users.Float64() < ep.cfg.Retry {
		wait := sim.DurationOf(s.users.ExpFloat64() * ep.cfg.RetryAfter.Seconds())
		s.k.After(wait, s, evRetry, int64(attempt+1)<<32|int64(ep.idx))
	}
}

// draw samples a lognormal cost in seconds.
func (s *System) draw(c Cost) float64 {
	m := c.Mean.Seconds()
	if c.CV == 0 || m == 0 {
		return m
	}
	s2 := math.Log1p(c.CV * c.CV)
	return m * math.Exp(math.Sqrt(s2)*s.costs.NormFloat64()-s2/2)
}

// alive reports whether q's process still runs (no restart under it).
func (q *request) alive() bool { return q.pod.gen == q.podGen }

// stepDone is the end of a CPU or fan-out step.
func (s *System) stepDone(r int64) {
	if q, ok := s.lookup(r); ok {
		q.step++
		q.pending = -1
		s.advance(q)
	}
}

// advance runs q's steps from its current one until one has to wait.
func (s *System) advance(q *request) {
	if !q.alive() {
		s.fail(q, CauseKilled)
		return
	}
	for q.step < len(q.ep.steps) {
		st := &q.ep.steps[q.step]
		if st.Off {
			q.step++
			q.pending = -1
			continue
		}
		switch st.Kind {
		case StepCPU:
			w := s.draw(st.Cost)
			if w > 0 {
				q.pod.cpu.Submit(q.ref(), w)
				return
			}
		case StepWait:
			if q.pending < 0 {
				q.pending = 0
				if w := s.draw(st.Cost); w > 0 {
					s.k.After(sim.DurationOf(w), s, evWaitDone, q.ref())
					return
				}
			}
		case StepFanout:
			n := st.GroupSize
			if st.Fanout == Broadcast {
				n = q.pod.svc.connectionsPerPod()
			}
			if w := st.PerRecipient.Seconds() * float64(n); w > 0 {
				s.m.add(s.m.deliveries, float64(n))
				q.pod.cpu.Submit(q.ref(), w)
				return
			}
		case StepQuery:
			if q.pending < 0 {
				q.pending = s.rowsToLoad(st)
				if st.Batched && q.pending > 0 {
					q.pending = 1
				}
			}
			if q.pending > 0 {
				s.query(q, st)
				return
			}
		case StepStock:
			if s.stock(q, st) {
				return
			}
		case StepCall:
			s.call(q, st)
			return
		case StepEnqueue:
			if !s.enqueue(st.queue) {
				s.fail(q, CauseQueueFull)
				return
			}
		}
		q.step++
		q.pending = -1
	}
	s.finish(q)
}

func (v *svc) connectionsPerPod() int {
	n := v.cfg.Connections
	if v.cfg.ConnectionLimit > 0 {
		n = min(n, v.cfg.ConnectionLimit)
	}
	return n
}

// rowsToLoad is how many of a query step's rows need the database: all
// of them without a cache, the misses with one.
func (s *System) rowsToLoad(st *step) int {
	if st.cache == nil {
		return st.Rows
	}
	c := st.cache
	now := s.k.Now()
	n := 0
	for range st.Rows {
		key := uint64(s.users.IntN(c.cfg.Keys))
		exists := true
		if c.cfg.Missing > 0 && s.users.Float64() < c.cfg.Missing {
			// An id that does not exist, from as many again: lookups
			// of missing ids repeat (a scan, a stale link), which is
			// what caching a miss stops.
			key = uint64(c.cfg.Keys) + uint64(s.users.IntN(c.cfg.Keys))
			exists = false
		}
		if c.c.Get(key, exists, now) == cache.Miss {
			n++
		}
	}
	return n
}

// withConn runs then with a connection to d from q's pod's pool.
func (s *System) withConn(q *request, d *database, then func(q *request)) {
	if q.hasConn {
		then(q)
		return
	}
	pool := q.pod.pools[q.pod.svc.poolIdx[d.idx]]
	r := q.ref()
	pool.Acquire(func(c db.Conn, err error) {
		q, ok := s.lookup(r)
		if !ok {
			if err == nil {
				pool.Release(c)
			}
			return
		}
		if err != nil {
			s.fail(q, causeOf(err))
			return
		}
		q.conn, q.pool, q.hasConn = c, pool, true
		if !q.alive() {
			s.fail(q, CauseKilled)
			return
		}
		then(q)
	})
}

// putConn gives q's connection back, or leaks it on q's exception path.
// It reports false when it leaked (q then fails).
func (s *System) putConn(q *request) bool {
	if !q.hasConn {
		return true
	}
	q.hasConn = false
	if q.leaky {
		q.leaky = false
		q.pool.Leak(q.conn)
		s.m.add(s.m.leaks, 1)
		return false
	}
	q.pool.Release(q.conn)
	return true
}

// query runs one query of a query step.
func (s *System) query(q *request, st *step) {
	cost := s.draw(st.Query)
	if st.Batched {
		cost += st.RowCost.Seconds() * float64(st.Rows)
	}
	s.withConn(q, st.db, func(q *request) {
		r := q.ref()
		st.db.inst.Exec(q.conn, cost, func(err error) {
			q, ok := s.lookup(r)
			if !ok {
				return
			}
			if err != nil {
				s.fail(q, causeOf(err))
				return
			}
			if !s.putConn(q) {
				s.fail(q, CauseLeak)
				return
			}
			q.pending--
			if q.pending == 0 {
				q.step++
				q.pending = -1
			}
			s.advance(q)
		})
	})
}

// stock runs a stock step; it reports true when q now waits.
func (s *System) stock(q *request, st *step) bool {
	if st.stock == 0 && st.Degrade {
		// Sold out, and the shop has switched to pre-sale: the answer
		// needs no stock check.
		s.soldOut++
		s.finish(q)
		return true
	}
	if st.Mode == Atomic {
		if q.pending < 0 {
			q.pending = 0
			if w := s.draw(st.Hold); w > 0 {
				s.k.After(sim.DurationOf(w), s, evWaitDone, q.ref())
				return true
			}
		}
		if !s.decrement(st) {
			s.finish(q) // sold out: answered
			return true
		}
		return false
	}
	s.withConn(q, st.db, func(q *request) {
		r := q.ref()
		st.db.inst.Lock(q.conn, st.row, st.LockTimeout, func(err error) {
			q, ok := s.lookup(r)
			if !ok {
				return
			}
			if err != nil {
				s.fail(q, causeOf(err))
				return
			}
			st.db.inst.Exec(q.conn, s.draw(st.Query), func(err error) {
				q, ok := s.lookup(r)
				if !ok {
					return
				}
				if err != nil {
					st.db.inst.Unlock(q.conn, st.row)
					s.fail(q, causeOf(err))
					return
				}
				// The row stays locked while the transaction writes its
				// log synchronously, then commits.
				s.k.After(sim.DurationOf(s.draw(st.Hold)), s, evHoldDone, r)
			})
		})
	})
	return true
}

// stockHeld commits a pessimistic stock decrement.
func (s *System) stockHeld(q *request) {
	st := &q.ep.steps[q.step]
	st.db.inst.Unlock(q.conn, st.row)
	had := s.decrement(st)
	if !s.putConn(q) {
		s.fail(q, CauseLeak)
		return
	}
	if !had {
		s.finish(q) // sold out: answered
		return
	}
	q.step++
	q.pending = -1
	s.advance(q)
}

// decrement takes one item; it reports false when none was left.
func (s *System) decrement(st *step) bool {
	if st.stock == 0 {
		s.soldOut++
		return false
	}
	st.stock--
	s.orders++
	s.m.add(s.m.orders, 1)
	return true
}

// call makes a synchronous call from q to st's callee.
func (s *System) call(q *request, st *step) {
	callee := st.callee
	p := s.pick(callee.svc)
	if p == nil {
		s.fail(q, CauseCallTimeout)
		return
	}
	c := s.newRequest(callee, p)
	c.parent = q.ref()
	q.child = c.ref()
	p.inFlight++
	c.counted = true
	if st.CallTimeout > 0 {
		q.callTimer = s.k.After(st.CallTimeout, s, evCallTimeout, q.ref())
	}
	c.leaky = callee.cfg.Leak > 0 && s.users.Float64() < callee.cfg.Leak
	s.advance(c)
}

// enqueue pushes a message; it reports false when the queue is full.
func (s *System) enqueue(qu *queue) bool {
	if qu.cfg.Capacity > 0 && qu.len() >= qu.cfg.Capacity {
		return false
	}
	qu.items = append(qu.items, message{enqueued: s.k.Now()})
	qu.peak = max(qu.peak, qu.len())
	s.dispatch(qu)
	return true
}

// dispatch hands waiting messages to free consumers.
func (s *System) dispatch(qu *queue) {
	v := qu.consumer.svc
	for qu.len() > 0 {
		var free *pod
		for _, p := range v.pods[:v.live] {
			if p.busy[qu.idx] < qu.cfg.Consumers && (free == nil || p.busy[qu.idx] < free.busy[qu.idx]) {
				free = p
			}
		}
		if free == nil {
			return
		}
		qu.head++
		if qu.head > 1024 && qu.head*2 > len(qu.items) {
			qu.items = append(qu.items[:0], qu.items[qu.head:]...)
			qu.head = 0
		}
		free.busy[qu.idx]++
		c := s.newRequest(qu.consumer, free)
		c.queue = qu
		c.leaky = qu.consumer.cfg.Leak > 0 && s.users.Float64() < qu.consumer.cfg.Leak
		s.advance(c)
	}
}

// fail ends q with a failure.
func (s *System) fail(q *request, c Cause) {
	if q.hasConn {
		if q.leaky {
			s.putConn(q)
		} else {
			q.hasConn = false
			q.pool.Release(q.conn)
		}
	}
	s.end(q, c, false)
}

// finish ends q successfully.
func (s *System) finish(q *request) { s.end(q, 0, true) }

func (s *System) end(q *request, c Cause, ok bool) {
	now := s.k.Now()
	if q.child >= 0 {
		if ch, live := s.lookup(q.child); live {
			ch.parent = -1
		}
	}
	s.k.Cancel(q.callTimer)
	if q.counted && q.pod.gen == q.podGen {
		q.pod.inFlight--
	}
	if q.external {
		s.m.svcIn[q.ep.svc.idx]--
		if q.gated {
			_ = q.ep.svc.gate.Release(q.ticket)
		}
		switch {
		case q.abandoned:
			s.wasted++
		case ok:
			rt := (now - q.arrived).Seconds()
			s.m.add(s.m.goodput, 1)
			s.m.add(s.m.svcGoodput[q.ep.svc.idx], 1)
			s.latency.Record(rt)
			s.all.Record(rt)
			s.svcLat[q.ep.svc.idx].Record(rt)
			if rt > s.cfg.Slow.Seconds() {
				s.m.add(s.m.slow, 1)
				s.m.add(s.m.svcSlow[q.ep.svc.idx], 1)
			}
			s.followups(q.ep)
		default:
			s.userFailed(q.ep, q.attempt, c)
		}
	}
	if q.queue != nil {
		qu := q.queue
		if q.pod.gen == q.podGen {
			q.pod.busy[qu.idx]--
		}
		if ok {
			qu.consumed++
			s.m.add(s.m.consumed[qu.idx], 1)
		} else {
			// At-least-once delivery: the message goes back on the
			// queue a second later. Not at once: a consumer failing
			// fast (its database down) would take it again at the
			// same instant, for ever.
			s.k.After(redeliverDelay, s, evRedeliver, int64(qu.idx))
		}
		s.release(q)
		s.dispatch(qu)
		return
	}
	parent := q.parent
	s.release(q)
	if parent >= 0 {
		if p, live := s.lookup(parent); live {
			p.child = -1
			s.k.Cancel(p.callTimer)
			if !ok {
				s.fail(p, c)
				return
			}
			p.step++
			p.pending = -1
			s.advance(p)
		}
	}
}

// expire abandons every request of ep whose deadline has come, and
// schedules the next deadline.
func (s *System) expire(ep *endpoint) {
	now := s.k.Now()
	for ep.dlHead < len(ep.deadlines) && ep.deadlines[ep.dlHead].at <= now {
		if q, ok := s.lookup(ep.deadlines[ep.dlHead].ref); ok {
			s.abandon(q, CauseTimeout)
		}
		ep.dlHead++
	}
	if ep.dlHead > 1024 && ep.dlHead*2 > len(ep.deadlines) {
		ep.deadlines = append(ep.deadlines[:0], ep.deadlines[ep.dlHead:]...)
		ep.dlHead = 0
	}
	if ep.dlHead < len(ep.deadlines) {
		ep.dlEvent = s.k.At(ep.deadlines[ep.dlHead].at, s, evTimeout, int64(ep.idx))
	}
}

// abandon is the caller giving up on q: it is counted as failed now, and
// the server, which is not told, goes on with it.
func (s *System) abandon(q *request, c Cause) {
	if q.abandoned || !q.external {
		return
	}
	q.abandoned = true
	s.userFailed(q.ep, q.attempt, c)
}

func (s *System) followups(ep *endpoint) {
	for _, f := range ep.cfg.Followups {
		target := s.endpointNamed(ep.svc.cfg.Name, f.Endpoint)
		for range f.Count {
			if s.users.Float64() < f.Share {
				s.k.After(f.After, s, evRetry, int64(target.idx)) // a fresh request, attempt 0
			}
		}
	}
}
