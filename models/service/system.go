package service

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"stormglass/models/cache"
	"stormglass/models/db"
	"stormglass/realtime/admission"
	"stormglass/sim"
	"stormglass/sim/stats"
)

// Failure causes: why a request a user made did not succeed.
type Cause uint8

// Causes, in the order the summary reports them.
const (
	CauseRefused      Cause = iota // the edge said "busy, retry later"
	CauseTimeout                   // the caller stopped waiting
	CausePoolTimeout               // no database connection within the acquire timeout
	CauseReset                     // the database connection was broken (ECONNRESET)
	CauseDatabaseDown              // the database refused: down or out of connections
	CauseLockTimeout               // a row lock was not granted in time
	CauseLeak                      // the exception path that leaked its connection
	CauseCallTimeout               // a call to another service was not answered in time
	CauseQueueFull                 // the message queue was full
	CauseKilled                    // the process restarted under it
	numCauses
)

var causeNames = [numCauses]string{"refused", "timeout", "pool_timeout", "reset", "database_down", "lock_timeout", "leak", "call_timeout", "queue_full", "killed"}

func (c Cause) String() string {
	if c < numCauses {
		return causeNames[c]
	}
	return fmt.Sprintf("Cause(%d)", uint8(c))
}

func causeOf(err error) Cause {
	switch {
	case errors.Is(err, db.ErrAcquireTimeout):
		return CausePoolTimeout
	case errors.Is(err, db.ErrReset):
		return CauseReset
	case errors.Is(err, db.ErrLockTimeout):
		return CauseLockTimeout
	case errors.Is(err, db.ErrDown), errors.Is(err, db.ErrTooManyConnections):
		return CauseDatabaseDown
	}
	return CauseKilled
}

// Event kinds the System handles; the argument is a request reference or
// an index.
const (
	evArrival     int32 = iota // arg: endpoint index
	evRetry                    // arg: endpoint index
	evTimeout                  // arg: request reference
	evWaitDone                 // arg: request reference
	evHoldDone                 // arg: request reference
	evCallTimeout              // arg: request reference
	evJobStart                 // arg: job index
	evJobEnd                   // arg: job index
	evSample
	evRedeliver // arg: queue index
)

// System is a running Config on a kernel. It is driven single-threaded by
// the kernel's events; its methods are called from the simulation
// goroutine or between runs.
type System struct {
	k       *sim.Kernel
	cfg     Config
	horizon time.Duration
	started bool

	arrivals *rand.Rand // interarrival times
	costs    *rand.Rand // step costs
	users    *rand.Rand // retries, leaks, follow-ups, keys

	dbs    []*database
	caches []*cacheState
	queues []*queue
	svcs   []*svc
	eps    []*endpoint // every endpoint, across services
	jobs   []jobRef

	reqs []*request
	free []int32

	m       *meter
	latency *stats.Histogram   // this interval's successes
	svcLat  []*stats.Histogram // the run's successes, per service
	all     *stats.Histogram   // the run's
	causes  [numCauses]float64
	orders  float64
	soldOut float64
	wasted  float64 // requests finished after their caller had left
}

type jobRef struct {
	svc *svc
	job Job
}

type database struct {
	cfg  Database
	inst *db.Instance
	idx  int
}

type cacheState struct {
	cfg Cache
	c   *cache.Cache
	idx int
	// last interval's counts, for the hit-ratio series
	lastHits, lastLookups uint64
}

type queue struct {
	cfg      Queue
	idx      int
	consumer *endpoint
	items    []message // FIFO, head at items[head]
	head     int
	consumed float64
	peak     int
}

type message struct{ enqueued time.Duration }

func (q *queue) len() int { return len(q.items) - q.head }

type svc struct {
	cfg     Service
	idx     int
	pods    []*pod
	live    int // pods taking traffic: the first live of pods
	gate    *admission.Gate
	limited bool // the gate has a limit to apply; without one it is not asked
	eps     []*endpoint
	rr      int
	poolIdx []int // database index → position in pod.pools, −1 if none
}

type pod struct {
	svc      *svc
	idx      int
	cpu      *sim.CPU
	pools    []*db.Pool
	inFlight int
	gen      uint32 // process generation: a restart kills what ran before
	busy     []int  // per queue: consumers working
	lastBusy float64
	lastCap  float64
}

type endpoint struct {
	svc   *svc
	cfg   Endpoint
	idx   int // in System.eps
	steps []step
	scale float64 // load factor on the arrival profile
	next  sim.EventID
	// deadlines are the users' timeouts in the order they fall: every
	// request of an endpoint waits the same Timeout, so arrival order is
	// deadline order and one kernel event (for the head) serves them all,
	// instead of one timer per request in the event heap.
	deadlines []deadline
	dlHead    int
	dlEvent   sim.EventID
}

type deadline struct {
	ref int64
	at  time.Duration
}

type step struct {
	Step
	db     *database
	cache  *cacheState
	callee *endpoint
	queue  *queue
	stock  int64 // items left (stock steps)
	row    int64 // the hot row's id (stock steps)
}

// request is one request in progress. Requests live in a slab of
// pointers reused through a free list, so a pointer stays valid while the
// slab grows; events name a request by slot and generation, so an event
// for a finished request is recognised and dropped.
type request struct {
	slot     int32
	gen      uint32
	live     bool
	ep       *endpoint
	pod      *pod
	podGen   uint32
	arrived  time.Duration
	external bool
	attempt  int
	counted  bool // counts in its pod's inFlight (users' requests and calls)
	ticket   admission.Ticket
	gated    bool

	step    int
	pending int // queries left in a query step; −1 on entering a step
	conn    db.Conn
	pool    *db.Pool
	hasConn bool
	leaky   bool

	abandoned bool // the caller stopped waiting

	parent    int64 // reference of a caller waiting on this call, −1 if none
	child     int64 // reference of the call this request waits on, −1
	callTimer sim.EventID
	queue     *queue // consumer of this queue's message, or nil
}

func (q *request) ref() int64 { return int64(q.slot)<<32 | int64(q.gen) }

func (s *System) lookup(r int64) (*request, bool) {
	slot, gen := int32(r>>32), uint32(r)
	if slot < 0 || int(slot) >= len(s.reqs) {
		return nil, false
	}
	q := s.reqs[slot]
	return q, q.live && q.gen == gen
}
