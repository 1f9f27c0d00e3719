package service

import (
	"errors"
	"fmt"
	"time"

	"stormglass/models/cache"
	"stormglass/models/db"
)

// ErrConfig is wrapped by every error about a Config's values.
var ErrConfig = errors.New("invalid service configuration")

// Limits on sizes, so that no configuration can exhaust memory.
const (
	MaxPods      = 10_000
	MaxSteps     = 64
	MaxRows      = 10_000
	MaxFollowups = 100
)

// Config describes a system: services of pods, the databases, caches and
// message queues they share.
type Config struct {
	Databases []Database
	Caches    []Cache
	Queues    []Queue
	Services  []Service
	// Slow is the response time above which a request counts as slow
	// (default 1 s).
	Slow time.Duration
}

// Database is a named database instance.
type Database struct {
	Name string
	db.Config
}

// Cache is a named shared cache (with an optional local tier) over
// Keys ids; Missing is the share of lookups for ids that do not exist
// (the traffic that penetrates a cache that does not store misses),
// drawn from Keys ids that do not exist.
// Warm loads every id at the start, all at once, as a deploy or a cache
// restart does: with a fixed TTL they then expire together.
type Cache struct {
	Name string
	cache.Config
	Keys    int
	Missing float64
	Warm    bool
}

// Queue is a message queue: Enqueue steps push onto it; Consumers workers
// on each pod of Service take messages one at a time and run Endpoint's
// steps for each. Capacity bounds the messages waiting (0: unbounded).
type Queue struct {
	Name      string
	Service   string
	Endpoint  string
	Consumers int
	Capacity  int
}

// Service is a set of identical pods behind a load balancer.
type Service struct {
	Name  string
	Pods  int
	Cores float64 // per pod
	Speed float64 // work per second of a core (1 for the reference)
	// Pools are the connection pools each pod opens, one per database it
	// uses: scaling pods multiplies connections.
	Pools []Pool
	// RateLimit, when positive, is a token bucket at the edge admitting
	// that many external requests per second (Burst tokens at most); the
	// rest are told "busy, retry later".
	RateLimit float64
	Burst     int
	// MaxInFlight, when positive, caps the external requests in progress
	// per pod; more are refused at once.
	MaxInFlight int
	// Connections is the client connections each pod holds open, the
	// recipients of a broadcast; ConnectionLimit is the most one pod can
	// hold (0: no limit).
	Connections     int
	ConnectionLimit int
	Jobs            []Job
	Endpoints       []Endpoint
}

// Pool is the pool each pod of a service opens to Database.
type Pool struct {
	Database string
	db.PoolConfig
}

// Job is a background job on every pod of a service: from At for For,
// Threads runnable threads compete with the requests for the CPU (0: the
// job runs elsewhere).
type Job struct {
	Name    string
	At, For time.Duration
	Threads float64
}

// RatePoint sets an endpoint's external arrival rate from a time on.
type RatePoint struct {
	At   time.Duration
	Rate float64 // requests per second, ≥ 0
}

// Endpoint is a kind of request a service serves.
type Endpoint struct {
	Name string
	// Arrivals is the rate of external requests (Poisson), piecewise
	// constant; none means the endpoint is only called by other services
	// or queues.
	Arrivals []RatePoint
	// Timeout is how long the caller waits (nginx's upstream timeout, the
	// user's patience); 0 waits for ever. The server is not told: work
	// already started goes on.
	Timeout time.Duration
	// Retry is the share of failed or refused requests the user tries
	// again, after a mean of RetryAfter (exponential).
	Retry      float64
	RetryAfter time.Duration
	// Leak is the share of requests that take an exception path which
	// never returns its database connection; they fail.
	Leak      float64
	Steps     []Step
	Followups []Followup
}

// Followup is traffic a successful response brings: Count requests to
// Endpoint (same service) After later, each with probability Share (the
// page's prefetch of its other tabs).
type Followup struct {
	Endpoint string
	Count    int
	After    time.Duration
	Share    float64
}

// Cost is a lognormal duration: its mean and coefficient of variation
// (0 for a fixed one).
type Cost struct {
	Mean time.Duration
	CV   float64
}

// StepKind is what a step of a request does.
type StepKind uint8

// Step kinds.
const (
	StepCPU     StepKind = iota + 1 // compute on the pod's CPU
	StepQuery                       // read rows from a database, through a cache if one is named
	StepStock                       // decrement a hot item's stock
	StepCall                        // call another service's endpoint and wait
	StepEnqueue                     // push a message onto a queue and go on
	StepFanout                      // send a message to its recipients over the pod's connections
	StepWait                        // block without CPU (a synchronous log write, a remote call outside the model)
)

var stepNames = [...]string{StepCPU: "cpu", StepQuery: "query", StepStock: "stock", StepCall: "call", StepEnqueue: "enqueue", StepFanout: "fanout", StepWait: "wait"}

func (k StepKind) String() string {
	if int(k) < len(stepNames) && stepNames[k] != "" {
		return stepNames[k]
	}
	return fmt.Sprintf("StepKind(%d)", uint8(k))
}

// StockMode is how a stock decrement is made safe.
type StockMode uint8

// Stock modes.
const (
	// Pessimistic locks the item's row in the database for the
	// transaction (SELECT … FOR UPDATE, UPDATE, commit): every buyer of a
	// hot item queues on one row lock.
	Pessimistic StockMode = iota + 1
	// Atomic decrements a counter in the cache in one atomic script; the
	// database is not touched.
	Atomic
)

func (m StockMode) String() string {
	switch m {
	case Pessimistic:
		return "pessimistic"
	case Atomic:
		return "atomic"
	}
	return fmt.Sprintf("StockMode(%d)", uint8(m))
}

// FanoutMode is who receives a message.
type FanoutMode uint8

// Fan-out modes.
const (
	Broadcast FanoutMode = iota + 1 // every connection the pod holds
	PubSub                          // the message's group only
)

func (m FanoutMode) String() string {
	switch m {
	case Broadcast:
		return "broadcast"
	case PubSub:
		return "pubsub"
	}
	return fmt.Sprintf("FanoutMode(%d)", uint8(m))
}

// Step is one step of a request; the fields its Kind uses are set.
type Step struct {
	Kind StepKind
	// Off skips the step (a feature switched off: prefetch, an async
	// hand-off); SetStepOn changes it live.
	Off bool
	// StepCPU and StepWait: how long.
	Cost Cost
	// StepQuery: Rows rows of Database, each a query of Query work (per id)
	// or one query of Query + Rows × RowCost (Batched). Through Cache, a
	// row found there needs no query. StepStock: Database and Query are
	// the row's update.
	Database string
	Query    Cost
	Rows     int
	Batched  bool
	RowCost  time.Duration
	Cache    string
	// StepStock: Mode, the item's Stock at the start, Hold (time the row
	// stays locked besides the update: a synchronous log write), the
	// database's LockTimeout, and Degrade (once sold out, answer
	// "pre-sale" at once instead of checking the stock again).
	Mode        StockMode
	Stock       int64
	Hold        Cost
	LockTimeout time.Duration
	Degrade     bool
	// StepCall: the callee, and how long to wait for it (0: for ever).
	Service, Endpoint string
	CallTimeout       time.Duration
	// StepEnqueue: the queue.
	Queue string
	// StepFanout: Fanout mode, GroupSize recipients under PubSub, and the
	// CPU cost of one send.
	Fanout       FanoutMode
	GroupSize    int
	PerRecipient time.Duration
}

// Validate reports every value the model cannot run with, joined; each
// error names the field and what was expected.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...))
	}
	if c.Slow < 0 {
		bad("slow threshold %v, expected ≥ 0", c.Slow)
	}
	names := map[string]string{}
	unique := func(kind, name string) {
		if name == "" {
			bad("a %s has no name", kind)
			return
		}
		if prev, ok := names[name]; ok {
			bad("%s %q: the name is taken by a %s", kind, name, prev)
			return
		}
		names[name] = kind
	}
	dbs := map[string]bool{}
	for _, d := range c.Databases {
		unique("database", d.Name)
		dbs[d.Name] = true
		if err := d.Config.Validate(); err != nil {
			bad("database %q: %w", d.Name, err)
		}
	}
	caches := map[string]bool{}
	for _, ch := range c.Caches {
		unique("cache", ch.Name)
		caches[ch.Name] = true
		if err := ch.Config.Validate(); err != nil {
			bad("cache %q: %w", ch.Name, err)
		}
		if ch.Keys < 1 {
			bad("cache %q: keys %d, expected at least 1", ch.Name, ch.Keys)
		}
		if !(ch.Missing >= 0 && ch.Missing <= 1) {
			bad("cache %q: missing share %g, expected in [0, 1]", ch.Name, ch.Missing)
		}
	}
	endpoints := map[string]*Endpoint{} // "service.endpoint"
	services := map[string]*Service{}
	for i := range c.Services {
		s := &c.Services[i]
		unique("service", s.Name)
		services[s.Name] = s
		for j := range s.Endpoints {
			endpoints[s.Name+"."+s.Endpoints[j].Name] = &s.Endpoints[j]
		}
	}
	queues := map[string]bool{}
	for _, q := range c.Queues {
		unique("queue", q.Name)
		queues[q.Name] = true
		if _, ok := endpoints[q.Service+"."+q.Endpoint]; !ok {
			bad("queue %q: consumer endpoint %s.%s, expected an endpoint of a service", q.Name, q.Service, q.Endpoint)
		}
		if q.Consumers < 1 || q.Consumers > 100_000 {
			bad("queue %q: consumers %d, expected 1 to 100000", q.Name, q.Consumers)
		}
		if q.Capacity < 0 {
			bad("queue %q: capacity %d, expected ≥ 0", q.Name, q.Capacity)
		}
	}
	for _, s := range c.Services {
		at := "service " + fmt.Sprintf("%q", s.Name)
		if s.Pods < 0 || s.Pods > MaxPods {
			bad("%s: pods %d, expected 0 to %d", at, s.Pods, MaxPods)
		}
		if !(s.Cores > 0) || !(s.Speed > 0) {
			bad("%s: cores %g and speed %g, expected both above 0", at, s.Cores, s.Speed)
		}
		if s.RateLimit < 0 || s.Burst < 0 || s.MaxInFlight < 0 {
			bad("%s: rate limit %g, burst %d, max in flight %d: expected ≥ 0", at, s.RateLimit, s.Burst, s.MaxInFlight)
		}
		if s.Connections < 0 || s.ConnectionLimit < 0 {
			bad("%s: connections %d and connection limit %d, expected ≥ 0", at, s.Connections, s.ConnectionLimit)
		}
		pooled := map[string]bool{}
		for _, p := range s.Pools {
			if !dbs[p.Database] {
				bad("%s: pool for database %q, expected one of the databases", at, p.Database)
			}
			if pooled[p.Database] {
				bad("%s: two pools for database %q", at, p.Database)
			}
			pooled[p.Database] = true
			if err := p.PoolConfig.Validate(); err != nil {
				bad("%s: pool for %q: %w", at, p.Database, err)
			}
		}
		for _, j := range s.Jobs {
			if j.At < 0 || j.For <= 0 || !(j.Threads >= 0) {
				bad("%s: job %q at %v for %v with %g threads, expected a start ≥ 0, a positive length and threads ≥ 0 (0: the job runs elsewhere)", at, j.Name, j.At, j.For, j.Threads)
			}
		}
		if len(s.Endpoints) == 0 {
			bad("%s: no endpoint, expected at least one", at)
		}
		seen := map[string]bool{}
		for _, e := range s.Endpoints {
			ep := fmt.Sprintf("%s endpoint %q", at, e.Name)
			if e.Name == "" || seen[e.Name] {
				bad("%s: endpoint names must be present and unique", at)
			}
			seen[e.Name] = true
			prev := time.Duration(-1)
			for _, p := range e.Arrivals {
				if p.At <= prev || !(p.Rate >= 0) || p.Rate > 1e7 {
					bad("%s: arrivals at %v rate %g/s, expected increasing times and a rate in [0, 1e7]", ep, p.At, p.Rate)
				}
				prev = p.At
			}
			if e.Timeout < 0 || e.RetryAfter < 0 {
				bad("%s: timeout %v and retry_after %v, expected ≥ 0", ep, e.Timeout, e.RetryAfter)
			}
			if !(e.Retry >= 0 && e.Retry < 1) {
				bad("%s: retry share %g, expected in [0, 1)", ep, e.Retry)
			}
			if !(e.Leak >= 0 && e.Leak <= 1) {
				bad("%s: leak share %g, expected in [0, 1]", ep, e.Leak)
			}
			if len(e.Steps) > MaxSteps {
				bad("%s: %d steps, expected at most %d", ep, len(e.Steps), MaxSteps)
			}
			if len(e.Followups) > MaxFollowups {
				bad("%s: %d follow-ups, expected at most %d", ep, len(e.Followups), MaxFollowups)
			}
			for _, f := range e.Followups {
				if _, ok := endpoints[s.Name+"."+f.Endpoint]; !ok {
					bad("%s: follow-up to %q, expected an endpoint of the same service", ep, f.Endpoint)
				}
				if f.Count < 0 || f.Count > 1000 || f.After < 0 || !(f.Share >= 0 && f.Share <= 1) {
					bad("%s: follow-up %+v, expected count 0 to 1000, after ≥ 0, share in [0, 1]", ep, f)
				}
			}
			for k, st := range e.Steps {
				sp := fmt.Sprintf("%s step %d (%s)", ep, k+1, st.Kind)
				checkCost := func(what string, c Cost, positive bool) {
					if c.Mean < 0 || (positive && c.Mean == 0) || !(c.CV >= 0 && c.CV <= 10) {
						bad("%s: %s %v (cv %g), expected a mean %s and a cv in [0, 10]", sp, what, c.Mean, c.CV, map[bool]string{true: "above 0", false: "≥ 0"}[positive])
					}
				}
				needPool := func() {
					if !dbs[st.Database] {
						bad("%s: database %q, expected one of the databases", sp, st.Database)
					} else if !pooled[st.Database] {
						bad("%s: service %q has no pool for database %q", sp, s.Name, st.Database)
					}
				}
				switch st.Kind {
				case StepCPU, StepWait:
					checkCost("cost", st.Cost, false)
				case StepQuery:
					needPool()
					checkCost("query", st.Query, true)
					if st.Rows < 1 || st.Rows > MaxRows || st.RowCost < 0 {
						bad("%s: rows %d and row cost %v, expected 1 to %d rows and a cost ≥ 0", sp, st.Rows, st.RowCost, MaxRows)
					}
					if st.Cache != "" && !caches[st.Cache] {
						bad("%s: cache %q, expected one of the caches", sp, st.Cache)
					}
				case StepStock:
					if st.Mode != Pessimistic && st.Mode != Atomic {
						bad("%s: mode %v, expected pessimistic or atomic", sp, st.Mode)
					}
					if st.Mode == Pessimistic {
						needPool()
						checkCost("query", st.Query, true)
						if st.LockTimeout <= 0 {
							bad("%s: lock timeout %v, expected above 0", sp, st.LockTimeout)
						}
					}
					checkCost("hold", st.Hold, false)
					if st.Stock < 0 {
						bad("%s: stock %d, expected ≥ 0", sp, st.Stock)
					}
				case StepCall:
					if _, ok := endpoints[st.Service+"."+st.Endpoint]; !ok {
						bad("%s: callee %s.%s, expected an endpoint of a service", sp, st.Service, st.Endpoint)
					}
					if st.CallTimeout < 0 {
						bad("%s: call timeout %v, expected ≥ 0", sp, st.CallTimeout)
					}
				case StepEnqueue:
					if !queues[st.Queue] {
						bad("%s: queue %q, expected one of the queues", sp, st.Queue)
					}
				case StepFanout:
					if st.Fanout != Broadcast && st.Fanout != PubSub {
						bad("%s: fan-out %v, expected broadcast or pubsub", sp, st.Fanout)
					}
					if st.GroupSize < 0 || st.PerRecipient < 0 {
						bad("%s: group size %d and per-recipient cost %v, expected ≥ 0", sp, st.GroupSize, st.PerRecipient)
					}
				default:
					bad("%s: unknown step kind", sp)
				}
			}
		}
	}
	if err := checkCalls(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
