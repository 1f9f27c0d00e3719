package reactive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"stormglass/models/hardware"
	"stormglass/realtime/backoff"
	"stormglass/realtime/invalidation"
	"stormglass/sim"
	"stormglass/sim/stats"
)

// Index names of the chat app's data.
const (
	indexThreads  = "threads_by_user"    // a user's conversations
	indexMessages = "messages_by_thread" // a conversation's messages
	indexSearch   = "messages_search"    // full-text search over messages
	indexProfile  = "user_documents"     // a user's profile, settings, usage
)

// Close reasons besides invalidation.ReasonOverloaded.
const (
	reasonRefused    = "refused"
	reasonInactivity = "inactivity"
)

// vocabulary is how many distinct words messages and searches draw from.
const vocabulary = 5000

// Event kinds.
const (
	evArrival int32 = iota + 1
	evRate
	evAttempt
	evDetect
	evSessionEnd
	evReload
	evMessage
	evTick
	evFlush
	evCompacted
	evWake
	evDeployed
	evResubscribe
	evCompactRetry
)

// Client states.
const (
	stGone uint8 = iota
	stWaiting
	stConnecting
	stConnected
)

// A client's queries: its conversation list, the open conversation's
// messages, more range reads, and last, for some tabs, full-text searches.
const (
	qThreads = iota
	qMessages
)

// MaxQueries bounds a tab's queries (RangeQueries plus SearchQueries).
const MaxQueries = 8

type client struct {
	life     uint32 // bumps when the tab closes or reloads: its timers lapse
	gen      uint32 // bumps on every connection change: stale attempts lapse
	state    uint8
	version  uint8
	fg       bool
	initial  bool  // the current connection is the tab's first since loading
	unsynced uint8 // queries without a result on the current connection
	nq       uint8
	nsearch  uint8 // the last nsearch queries are full-text searches
	subs     [MaxQueries]invalidation.SubID
	bo       *backoff.Backoff
	sets     []invalidation.ReadSet
}

func (c *client) conn(idx int) invalidation.ConnID {
	return invalidation.ConnID(uint64(idx)<<32 | uint64(c.gen))
}

func splitConn(conn invalidation.ConnID) (idx int, gen uint32) {
	return int(uint64(conn) >> 32), uint32(conn)
}

func pack(idx int, tag uint32) int64 { return int64(idx)<<32 | int64(tag) }
func unpack(arg int64) (idx int, tag uint32) {
	return int(uint64(arg) >> 32), uint32(arg)
}

type run struct {
	client   int32
	q        uint8
	conn     invalidation.ConnID
	sub      invalidation.SubID
	ts       invalidation.Timestamp
	enqueued time.Duration
}

// Backend is a reactive backend, its search index and its app's clients on
// one simulation kernel. Like the kernel it is driven from one goroutine.
type Backend struct {
	k        *sim.Kernel
	cfg      Config
	eng      *invalidation.Engine
	cpu      *sim.CPU
	pop      *rand.Rand // population, sessions, messages
	costs    *rand.Rand // query costs
	boSource rand.Source
	zipf     *rand.Zipf
	words    []string

	clients   []client
	release   uint8
	tier      hardware.Tier
	instances int
	down      bool
	deploys   int // deploys in progress
	// pendingTiers are the targets of deploys, by the order they began.
	pendingTiers []pendingTier

	handshakes int     // accepted, waiting for a gateway thread or on one
	shaking    int     // on a gateway thread
	acceptQ    []int64 // accepted handshakes waiting for a thread: pack(idx, gen)
	connected  int
	// Counts the sampler reads, kept as tabs change rather than counted.
	foreground, inSync int
	versionOpen        []int // open tabs per client version
	running            int   // queries on the CPU
	runs               []run
	freeRuns           []int32
	wake               sim.EventID
	ts                 invalidation.Timestamp

	memDocs, segments int
	compacting        bool
	compactor         *backoff.Backoff // retries failed compactions
	compactRetrying   bool
	compactBusy       float64 // the CPU's busy-core area when the compaction began
	compactCap        float64 // and its capacity area
	flushAt           sim.EventID
	msgSeq            uint64

	rateIdx int
	rate    float64
	arrival sim.EventID

	m       *meter
	horizon time.Duration
	// inFlight is the time-weighted number of queries queued or running;
	// runTime sums the time each finished run spent from its queueing to
	// its end, over runsDone runs: Little's law's L, W and λ.
	inFlight *stats.TimeWeighted
	runTime  float64
	runsDone int64
	lastStat invalidation.Stats
	started  bool
}

// New builds a backend on kernel k, drawing randomness from streams;
// sample is the interval of its time series and horizon the run's length.
func New(k *sim.Kernel, streams sim.Streams, cfg Config, sample, horizon time.Duration) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sample <= 0 {
		return nil, fmt.Errorf("%w: sample interval %v must be positive", ErrConfig, sample)
	}
	eng, err := invalidation.New(cfg.Invalidation, k.Clock(), streams.Source("reactive.invalidation"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	b := &Backend{
		k: k, cfg: cfg, eng: eng,
		pop:       streams.Rand("reactive.population"),
		costs:     streams.Rand("reactive.costs"),
		boSource:  streams.Source("reactive.backoff"),
		tier:      cfg.Tier,
		instances: cfg.Instances,
		m:         newMeter(sample),
		horizon:   horizon,
		inFlight:  stats.NewTimeWeighted(0, 0),
	}
	b.zipf = rand.NewZipf(streams.Rand("reactive.words"), 1.1, 1, vocabulary-1)
	b.words = make([]string, vocabulary)
	for i := range b.words {
		b.words[i] = "w" + strconv.Itoa(i)
	}
	b.release = b.versionIndex(cfg.Clients.Release)
	b.versionOpen = make([]int, len(cfg.Clients.Versions))
	if s := cfg.Search; s.CompactionStarved > 0 {
		p := backoff.Policy{Name: "compactor", Initial: s.CompactionRetry, Multiplier: 2, Cap: s.CompactionRetryCap, Reset: backoff.ResetOnConnect}
		if b.compactor, err = backoff.New(p, k.Clock(), streams.Source("reactive.compactor")); err != nil {
			return nil, fmt.Errorf("%w: compaction retry: %w", ErrConfig, err)
		}
	}
	b.cpu = sim.NewCPU(k, "service", float64(cfg.Instances*cfg.Tier.Cores), cfg.Tier.Speed)
	b.cpu.OnDone = b.jobDone
	return b, nil
}

func (b *Backend) versionIndex(name string) uint8 {
	for i, v := range b.cfg.Clients.Versions {
		if v.Name == name {
			return uint8(i)
		}
	}
	return 0
}

// Start opens the initial tabs, starts arrivals, the search index's
// schedule and the sampling. Call it once, before running the kernel.
func (b *Backend) Start() {
	if b.started {
		return
	}
	b.started = true
	// A first, empty commit: timestamp zero means "never run" to the
	// engine, and the initial tabs' results are as of this commit.
	b.commit(invalidation.Commit{})
	cl := b.cfg.Clients
	initial := b.versionIndex(cl.InitialVersion)
	for i := range cl.InitialBackground + cl.InitialForeground {
		fg := i >= cl.InitialBackground
		idx := b.newClient(fg, initial)
		b.openSynced(idx)
	}
	b.setRate(0)
	b.scheduleFlush()
	b.k.After(b.m.interval, b, evTick, 0)
	b.pump()
}

// Handle dispatches the backend's events.
func (b *Backend) Handle(ev sim.Event) {
	switch ev.Kind {
	case evArrival:
		b.arrive()
	case evRate:
		b.setRate(int(ev.Arg))
	case evAttempt:
		if idx, gen := unpack(ev.Arg); b.clients[idx].gen == gen {
			b.attempt(idx)
		}
	case evDetect:
		if idx, gen := unpack(ev.Arg); b.clients[idx].gen == gen {
			b.m.add(sDiscInactivity, 1)
			b.retry(idx, reasonInactivity)
		}
	case evSessionEnd:
		if idx, life := unpack(ev.Arg); b.clients[idx].life == life {
			b.endSession(idx)
		}
	case evReload:
		if idx, life := unpack(ev.Arg); b.clients[idx].life == life {
			b.reload(idx)
		}
	case evMessage:
		if idx, life := unpack(ev.Arg); b.clients[idx].life == life {
			b.message(idx)
		}
	case evResubscribe:
		if idx, gen := unpack(ev.Arg); b.clients[idx].gen == gen {
			b.resubscribe(idx)
		}
	case evTick:
		b.tick()
	case evFlush:
		b.flushDue()
	case evCompacted:
		b.compacted()
	case evCompactRetry:
		b.compactRetrying = false
		b.maybeCompact()
	case evWake:
		b.wake = sim.EventID{}
		b.pump()
	case evDeployed:
		b.deployed(ev.Arg)
	}
}

// ---- population ----

func (b *Backend) newClient(fg bool, version uint8) int {
	idx := len(b.clients)
	// Keys lead with the user's number so that the engine's 8-byte key
	// prefixes tell users apart without reading whole keys.
	user := binary.BigEndian.AppendUint32(nil, uint32(idx))
	thread := append(append([]byte(nil), user...), 't')
	sets := []invalidation.ReadSet{
		{Ranges: []invalidation.IndexRange{{Index: indexThreads, Interval: invalidation.Prefix(user)}}},
		{Ranges: []invalidation.IndexRange{{Index: indexMessages, Interval: invalidation.Prefix(thread)}}},
	}
	// Further range queries read the user's own documents (profile,
	// settings, usage), which this workload never writes.
	for i := range b.cfg.Clients.RangeQueries - 2 {
		key := append(append([]byte(nil), user...), 'p', byte(i))
		sets = append(sets, invalidation.ReadSet{Ranges: []invalidation.IndexRange{{Index: indexProfile, Interval: invalidation.Point(key)}}})
	}
	nsearch := 0
	if b.pop.Float64() < b.cfg.Clients.SearchShare {
		nsearch = b.cfg.Clients.SearchQueries
		owner := []invalidation.FieldEq{{Field: "user", Value: strconv.Itoa(idx)}}
		for range nsearch {
			sets = append(sets, invalidation.ReadSet{Searches: []invalidation.SearchRead{{
				Index: indexSearch, Terms: []string{b.words[b.zipf.Uint64()]}, Filters: owner,
			}}})
		}
	}
	b.clients = append(b.clients, client{fg: fg, version: version, nq: uint8(len(sets)), nsearch: uint8(nsearch), sets: sets, initial: true})
	c := &b.clients[idx]
	c.bo = b.newBackoff(version)
	b.versionOpen[version]++
	if fg {
		b.foreground++
	}
	b.userTimers(idx)
	return idx
}

func (b *Backend) newBackoff(version uint8) *backoff.Backoff {
	bo, err := backoff.New(b.cfg.Clients.Versions[version].Backoff, b.k.Clock(), b.boSource)
	if err != nil {
		panic(fmt.Sprintf("reactive: a validated backoff policy was refused: %v", err)) // validate() rules this out
	}
	return bo
}

// userTimers schedules what the user does next with the tab.
func (b *Backend) userTimers(idx int) {
	c := &b.clients[idx]
	cl := b.cfg.Clients
	arg := pack(idx, c.life)
	if c.fg {
		b.k.After(b.exp(cl.Session), b, evSessionEnd, arg)
		b.k.After(b.exp(cl.MessageInterval), b, evMessage, arg)
		b.k.After(b.exp(cl.ReloadForeground), b, evReload, arg)
	} else {
		b.k.After(b.exp(cl.ReloadBackground), b, evReload, arg)
	}
}

func (b *Backend) exp(mean time.Duration) time.Duration {
	return time.Duration(b.pop.ExpFloat64() * float64(mean))
}

// openSynced opens an initial tab: connected, its results current.
func (b *Backend) openSynced(idx int) {
	c := &b.clients[idx]
	c.state = stConnected
	c.initial = false
	b.connected++
	ids, err := b.eng.SubscribeAll(c.conn(idx), c.sets, b.ts)
	if err != nil {
		panic(fmt.Sprintf("reactive: initial subscriptions refused: %v", err)) // read sets are built valid
	}
	copy(c.subs[:], ids)
	b.noteSync(c, false)
}

// synced reports whether the tab counts towards the SLO: in the
// foreground, connected, every query's result current.
func synced(c *client) bool { return c.fg && c.state == stConnected && c.unsynced == 0 }

// noteSync updates the in-sync count after a change to c, given whether
// it was in sync before.
func (b *Backend) noteSync(c *client, was bool) {
	switch now := synced(c); {
	case now && !was:
		b.inSync++
	case was && !now:
		b.inSync--
	}
}

func (b *Backend) setRate(i int) {
	pts := b.cfg.Clients.Arrivals
	b.rateIdx = i
	if i < len(pts) {
		b.rate = pts[i].Rate
		if i+1 < len(pts) {
			b.k.At(pts[i+1].At, b, evRate, int64(i+1))
		}
	}
	b.k.Cancel(b.arrival)
	b.arrival = sim.EventID{}
	if b.rate > 0 {
		b.arrival = b.k.After(time.Duration(b.pop.ExpFloat64()/b.rate*float64(time.Second)), b, evArrival, 0)
	}
}

func (b *Backend) arrive() {
	idx := b.newClient(true, b.release)
	b.attempt(idx)
	b.arrival = b.k.After(time.Duration(b.pop.ExpFloat64()/b.rate*float64(time.Second)), b, evArrival, 0)
}

func (b *Backend) endSession(idx int) {
	c := &b.clients[idx]
	was := synced(c)
	c.fg = false
	b.foreground--
	b.noteSync(c, was)
	if b.pop.Float64() < b.cfg.Clients.KeepOpen {
		c.life++
		b.userTimers(idx)
		return
	}
	b.close(idx)
	c.state = stGone
	c.life++
	b.versionOpen[c.version]--
	b.m.add(sDiscLeft, 1)
	// A closed tab never returns (its user comes back as a new tab): let
	// its read sets and backoff go, most of a day's tabs are closed ones.
	c.sets, c.bo = nil, nil
}

// close ends the tab's connection or attempt, whatever its state.
func (b *Backend) close(idx int) {
	c := &b.clients[idx]
	was := synced(c)
	if c.state == stConnected {
		b.eng.CloseConnection(c.conn(idx))
		b.connected--
		b.noteInFlight()
	}
	c.gen++
	c.state = stWaiting
	b.noteSync(c, was)
}

// reload loads the released client version into the tab and reconnects.
func (b *Backend) reload(idx int) {
	c := &b.clients[idx]
	b.close(idx)
	b.m.add(sDiscReload, 1)
	c.life++
	b.versionOpen[c.version]--
	c.version = b.release
	b.versionOpen[c.version]++
	c.bo = b.newBackoff(c.version)
	c.initial = true
	b.userTimers(idx)
	b.attempt(idx)
}

func (b *Backend) message(idx int) {
	c := &b.clients[idx]
	if !c.fg {
		return
	}
	b.k.After(b.exp(b.cfg.Clients.MessageInterval), b, evMessage, pack(idx, c.life))
	b.m.add(sMessages, 1)
	if c.state != stConnected || c.unsynced != 0 {
		b.m.add(sErrors, 1) // the app cannot send while out of sync
		return
	}
	b.msgSeq++
	thread := c.sets[qMessages].Ranges[0].Start
	msgKey := binary.BigEndian.AppendUint64(append([]byte(nil), thread...), b.msgSeq)
	threadKey := thread // the user's conversation, in their thread list
	tokens := make([]string, 6)
	for i := range tokens {
		tokens[i] = b.words[b.zipf.Uint64()]
	}
	b.commit(invalidation.Commit{
		Keys: []invalidation.IndexKey{{Index: indexMessages, Key: msgKey}, {Index: indexThreads, Key: threadKey}},
		Docs: []invalidation.SearchDoc{{Index: indexSearch, Tokens: tokens, Fields: []invalidation.FieldEq{{Field: "user", Value: strconv.Itoa(idx)}}}},
	})
	b.memDocs++
	if b.memDocs >= b.cfg.Search.FlushDocs {
		b.flush()
	}
}

// ---- connections ----

// attempt is a connection attempt: refused at once when the service is
// down or full, else a handshake on the CPU.
func (b *Backend) attempt(idx int) {
	c := &b.clients[idx]
	g := b.cfg.Gateway
	if b.down || b.handshakes >= g.Backlog*b.instances || b.connected >= g.ConnectionLimit*b.instances {
		b.m.add(sConnectFailures, 1)
		b.m.add(sErrors, 1)
		b.retry(idx, reasonRefused)
		return
	}
	c.gen++
	c.state = stConnecting
	b.handshakes++
	b.acceptQ = append(b.acceptQ, pack(idx, c.gen))
	b.startHandshakes()
}

// startHandshakes gives waiting handshakes the free gateway threads. A
// thread shares the cores with the query workers: the CPU is shared by
// threads, so a flood of connects slows queries but cannot starve them.
func (b *Backend) startHandshakes() {
	g := b.cfg.Gateway
	for b.shaking < g.Threads*b.instances && len(b.acceptQ) > 0 && !b.down {
		arg := b.acceptQ[0]
		b.acceptQ = b.acceptQ[1:]
		if idx, gen := unpack(arg); b.clients[idx].gen != gen {
			b.handshakes-- // the tab gave up meanwhile
			continue
		}
		b.shaking++
		b.cpu.Submit(^arg, g.HandshakeCost.Seconds())
	}
}

// retry schedules the tab's next attempt by its backoff policy.
func (b *Backend) retry(idx int, reason string) {
	c := &b.clients[idx]
	c.gen++
	c.state = stWaiting
	d, err := c.bo.Next(reason)
	if err != nil {
		// The policy gave up; the tab shows an error until it is
		// reloaded, and its reload timer still runs.
		return
	}
	b.k.After(d, b, evAttempt, pack(idx, c.gen))
}

func (b *Backend) handshakeDone(idx int, gen uint32) {
	b.handshakes--
	b.shaking--
	defer b.startHandshakes()
	c := &b.clients[idx]
	if c.gen != gen || c.state != stConnecting {
		return // the tab closed or reloaded meanwhile
	}
	if b.down {
		b.m.add(sConnectFailures, 1)
		b.m.add(sErrors, 1)
		b.retry(idx, reasonRefused)
		return
	}
	c.state = stConnected
	b.connected++
	b.m.add(sConnects, 1)
	// The server's first message arrives at once: the pre-2025 client
	// forgets its failures here, however soon the server drops it again.
	c.bo.Connected()
	c.bo.MessageReceived()
	cause := sQReconnect
	if c.initial {
		cause = sQInitial
	}
	b.m.add(cause, float64(c.nq))
	b.m.add(sQueries, float64(c.nq))
	c.unsynced = 1<<c.nq - 1
	c.subs = [MaxQueries]invalidation.SubID{}
	// Every query is registered unrun (timestamp zero) and waits for its
	// first run in the update queue, which may be full.
	ids, _ := b.eng.SubscribeAll(c.conn(idx), c.sets, 0)
	copy(c.subs[:], ids)
	b.afterEngine()
	if c.state == stConnected && len(ids) < int(c.nq) {
		b.retryLater(idx) // refused, not closed: the reject policy
	}
}

// retryLater retries, after the version's initial delay, the queries of a
// connected tab the engine refused or rejected (the reject policy).
func (b *Backend) retryLater(idx int) {
	c := &b.clients[idx]
	b.k.After(b.cfg.Clients.Versions[c.version].Backoff.Initial, b, evResubscribe, pack(idx, c.gen))
}

// resubscribe retries the queries a RejectSubscription policy refused.
func (b *Backend) resubscribe(idx int) {
	c := &b.clients[idx]
	if c.state != stConnected {
		return
	}
	for q := range int(c.nq) {
		if c.subs[q] == 0 || !b.eng.IsLive(c.subs[q]) {
			b.m.add(sQueries, 1)
			b.m.add(sQReconnect, 1)
			was := synced(c)
			c.unsynced |= 1 << q
			b.noteSync(c, was)
			id, err := b.eng.Subscribe(c.conn(idx), c.sets[q], 0)
			if err != nil {
				c.subs[q] = 0
				b.afterEngine()
				if c.state == stConnected {
					b.retryLater(idx) // still full: try the rest later
				}
				return
			}
			c.subs[q] = id
		}
	}
	b.afterEngine()
}

// afterEngine carries out the engine's notices and feeds the workers.
func (b *Backend) afterEngine() {
	for _, n := range b.eng.TakeNotices() {
		idx, gen := splitConn(n.Conn)
		c := &b.clients[idx]
		if c.gen != gen || c.state != stConnected {
			continue
		}
		switch n.Kind {
		case invalidation.ConnectionClosed:
			was := synced(c)
			c.state = stWaiting
			b.noteSync(c, was)
			b.connected--
			b.m.add(sDiscOverloaded, 1)
			b.m.add(sErrors, 1)
			b.retry(idx, n.Reason)
		case invalidation.SubscriptionRejected:
			// The query failed: the tab no longer has its result, and a
			// run of it in flight will find it gone.
			for q := range int(c.nq) {
				if c.subs[q] == n.Sub {
					was := synced(c)
					c.subs[q] = 0
					c.unsynced |= 1 << q
					b.noteSync(c, was)
				}
			}
			b.m.add(sErrors, 1)
			b.retryLater(idx)
		}
	}
	b.pump()
}

// ---- workers ----

// pump starts queued runs while query slots are free.
func (b *Backend) pump() {
	defer b.noteInFlight()
	if b.down {
		return
	}
	for b.running < b.cfg.Workers.Concurrency*b.instances {
		u, ok := b.eng.Next()
		if !ok {
			if at, ok := b.eng.NextReady(); ok && !b.k.IsPending(b.wake) {
				b.wake = b.k.At(max(at.Sub(b.k.Epoch()), b.k.Now()), b, evWake, 0)
			}
			return
		}
		b.start(u)
	}
}

// noteInFlight records the queries queued or running now.
func (b *Backend) noteInFlight() {
	b.inFlight.Set(b.k.Now(), float64(b.eng.Pending()+b.running))
}

func (b *Backend) start(u invalidation.Update) {
	idx, _ := splitConn(u.Conn)
	c := &b.clients[idx]
	q := 0
	for q < int(c.nq) && c.subs[q] != u.Sub {
		q++
	}
	if q == int(c.nq) {
		return // not this tab's current subscription (cannot happen: closing drops them)
	}
	r := run{client: int32(idx), q: uint8(q), conn: u.Conn, sub: u.Sub, ts: b.ts,
		enqueued: u.Enqueued.Sub(b.k.Epoch())}
	var slot int32
	if n := len(b.freeRuns); n > 0 {
		slot = b.freeRuns[n-1]
		b.freeRuns = b.freeRuns[:n-1]
		b.runs[slot] = r
	} else {
		slot = int32(len(b.runs))
		b.runs = append(b.runs, r)
	}
	cost := b.cfg.Workers.Range
	if q >= int(c.nq-c.nsearch) {
		cost = b.cfg.Workers.Search
	}
	b.running++
	b.cpu.Submit(int64(slot), b.draw(cost))
}

// draw samples a lognormal cost with the given mean and cv, in seconds.
func (b *Backend) draw(c Cost) float64 {
	m := c.Mean.Seconds()
	if c.CV == 0 {
		return m
	}
	s2 := math.Log1p(c.CV * c.CV)
	return m * math.Exp(math.Sqrt(s2)*b.costs.NormFloat64()-s2/2)
}

func (b *Backend) jobDone(id int64, _ time.Duration) {
	if id < 0 {
		idx, gen := unpack(^id)
		b.handshakeDone(idx, gen)
		return
	}
	r := b.runs[id]
	b.runTime += (b.k.Now() - r.enqueued).Seconds()
	b.runsDone++
	b.freeRuns = append(b.freeRuns, int32(id))
	b.running--
	b.m.add(sQExecuted, 1)
	c := &b.clients[r.client]
	if c.state == stConnected && c.conn(int(r.client)) == r.conn && c.subs[r.q] == r.sub {
		lat := (b.k.Now() - r.enqueued).Seconds()
		b.m.latency.Record(lat)
		b.m.all.Record(lat)
		// A re-run reads the same ranges and words: the tab's read sets are
		// fixed for its life.
		if err := b.eng.RefreshSame(r.sub, r.ts); err != nil && !errors.Is(err, invalidation.ErrOverloaded) {
			panic(fmt.Sprintf("reactive: refresh: %v", err)) // a live subscription with a valid read set
		}
		if c.unsynced&(1<<r.q) != 0 {
			c.unsynced &^= 1 << r.q
			if c.unsynced == 0 {
				c.initial = false
				c.bo.Synced()
				b.noteSync(c, false)
			}
		}
	}
	b.afterEngine()
}

// commit applies a write set at the next timestamp and counts the
// subscriptions it invalidated.
func (b *Backend) commit(c invalidation.Commit) {
	b.ts++
	c.TS = b.ts
	hits, err := b.eng.Commit(c)
	if err != nil {
		panic(fmt.Sprintf("reactive: commit: %v", err)) // timestamps increase, indexes are named
	}
	b.m.add(sQInvalidation, float64(len(hits)))
	b.m.add(sQueries, float64(len(hits)))
	b.afterEngine()
}

// ---- search index ----

func (b *Backend) scheduleFlush() {
	b.k.Cancel(b.flushAt)
	b.flushAt = b.k.After(b.cfg.Search.FlushInterval, b, evFlush, 0)
}

func (b *Backend) flushDue() {
	if b.memDocs > 0 {
		b.flush()
		return
	}
	b.scheduleFlush()
}

// flush writes the memory segment out as a new segment and rewrites the
// index's metadata, changing nothing a search can find.
func (b *Backend) flush() {
	b.memDocs = 0
	b.segments++
	b.m.add(sFlushes, 1)
	b.scheduleFlush()
	b.metadataWrite()
	b.maybeCompact()
}

func (b *Backend) maybeCompact() {
	s := b.cfg.Search
	if s.Compaction && !b.compacting && !b.compactRetrying && b.segments >= s.CompactionSegments {
		b.compacting = true
		now := b.k.Now()
		b.compactBusy, b.compactCap = b.cpu.Stats.BusyCores.Area(now), b.cpu.Stats.Cores.Area(now)
		b.k.After(s.CompactionTime, b, evCompacted, 0)
	}
}

func (b *Backend) compacted() {
	b.compacting = false
	n := min(b.segments, b.cfg.Search.CompactionMaxSegments)
	if !b.cfg.Search.Compaction || n < 2 {
		return
	}
	if b.compactor != nil {
		now := b.k.Now()
		busy, capacity := b.cpu.Stats.BusyCores.Area(now)-b.compactBusy, b.cpu.Stats.Cores.Area(now)-b.compactCap
		if capacity <= 0 || busy >= b.cfg.Search.CompactionStarved*capacity {
			// Starved of CPU (or run during an outage): the compaction
			// fails and the compactor backs off, so compaction all but
			// stops in a storm while flushes go on.
			b.m.add(sCompactionFailures, 1)
			d, _ := b.compactor.Next(backoff.ReasonTimeout)
			b.compactRetrying = true
			b.k.After(d, b, evCompactRetry, 0)
			return
		}
		b.compactor.Connected()
	}
	b.segments -= n - 1
	b.m.add(sCompactions, 1)
	b.metadataWrite()
	b.maybeCompact()
}

func (b *Backend) metadataWrite() {
	b.commit(invalidation.Commit{Metadata: []invalidation.MetadataWrite{{Index: indexSearch, ChangesSearchableData: false}}})
}

// ---- sampling ----

func (b *Backend) tick() {
	m := b.m
	dt := m.interval.Seconds()
	fg, latest, open := b.foreground, b.versionOpen[b.release], 0
	for _, n := range b.versionOpen {
		open += n
	}
	st := b.eng.Stats()
	m.add(sOverflows, float64(st.Overflows-b.lastStat.Overflows))
	b.lastStat = st
	// Counters become rates over the interval; gauges are read now.
	var vals [nSeries]float64
	for s := range nSeries {
		m.totals[s] += m.counts[s]
		vals[s] = m.counts[s] / dt
		m.counts[s] = 0
	}
	gauge := func(s int, v float64) { vals[s] = v }
	gauge(sConnected, float64(b.connected))
	gauge(sForeground, float64(fg))
	attain := 1.0
	if fg > 0 {
		attain = float64(b.inSync) / float64(fg)
	}
	gauge(sSLO, attain)
	share := 0.0
	if open > 0 {
		share = float64(latest) / float64(open)
	}
	gauge(sLatestShare, share)
	gauge(sQueueDepth, float64(b.eng.Pending()))
	now := b.k.Now()
	busy, capacity := b.cpu.Stats.BusyCores.Area(now), b.cpu.Stats.Cores.Area(now)
	util := 0.0
	if capacity > m.lastCap {
		util = (busy - m.lastBusy) / (capacity - m.lastCap)
	}
	m.lastBusy, m.lastCap = busy, capacity
	gauge(sCPU, util)
	if m.latency.Count() > 0 { // else 0: no query finished in the interval
		gauge(sLatencyP50, m.latency.P50())
		gauge(sLatencyP99, m.latency.P99())
	}
	gauge(sSegments, float64(b.segments))
	m.latency.Reset()
	for s := range nSeries {
		m.series[s] = append(m.series[s], vals[s])
	}
	if next := now + m.interval; next <= b.horizon {
		b.k.After(m.interval, b, evTick, 0)
	}
}

// ---- control ----

// SetQueueLimit changes the update queue's bound at once.
func (b *Backend) SetQueueLimit(n int) error { return b.eng.SetQueueLimit(n) }

// SetLegacyMetadataReads turns the pre-2025 metadata-read bug on or off, as
// a deploy of the engine fix would.
func (b *Backend) SetLegacyMetadataReads(on bool) { b.eng.SetLegacyMetadataReads(on) }

// SetRelease makes tabs that load from now on run the named version.
func (b *Backend) SetRelease(name string) error {
	for i, v := range b.cfg.Clients.Versions {
		if v.Name == name {
			b.release = uint8(i)
			return nil
		}
	}
	return fmt.Errorf("%w: no client version %q", ErrConfig, name)
}

// SetOverflow changes the update queue's overflow policy, by name.
func (b *Backend) SetOverflow(name string) error {
	p, err := invalidation.ParseOverflowPolicy(name)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return b.eng.SetOverflow(p)
}

// SetSplay turns the invalidation splay on or off.
func (b *Backend) SetSplay(on bool) error {
	s := b.eng.Config().Splay
	s.Enabled = on
	return b.eng.SetSplay(s)
}

// SetCompaction turns search index compaction on or off.
func (b *Backend) SetCompaction(on bool) {
	b.cfg.Search.Compaction = on
	b.maybeCompact()
}

// SetConcurrency changes the queries an instance runs at once.
func (b *Backend) SetConcurrency(n int) error {
	if n < 1 {
		return fmt.Errorf("%w: concurrency %d, expected at least 1", ErrConfig, n)
	}
	b.cfg.Workers.Concurrency = n
	b.pump()
	return nil
}

// Deploy moves the service to instances on tier. The old processes go at
// once, silently: every connection is dead, and each tab notices when it
// has heard nothing for its version's inactivity timeout. For gap the
// service refuses connections; then it serves on the new hardware.
func (b *Backend) Deploy(tier hardware.Tier, instances int, gap time.Duration) error {
	if err := tier.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if instances < 1 {
		return fmt.Errorf("%w: instances %d, expected at least 1", ErrConfig, instances)
	}
	hb := b.cfg.Gateway.Heartbeat
	for i := range b.clients {
		c := &b.clients[i]
		if c.state != stConnected && c.state != stConnecting {
			continue
		}
		b.close(i)
		// The last ping came up to one heartbeat ago.
		inact := b.cfg.Clients.Versions[c.version].Inactivity
		wait := inact - time.Duration(b.pop.Float64()*float64(min(hb, inact)))
		b.k.After(wait, b, evDetect, pack(i, c.gen))
	}
	b.handshakes = b.shaking // those on the CPU finish, to no avail
	b.acceptQ = b.acceptQ[:0]
	b.down = true
	b.deploys++
	b.cpu.SetCapacity(0, b.tier.Speed)
	b.k.After(gap, b, evDeployed, int64(len(b.pendingTiers)))
	b.pendingTiers = append(b.pendingTiers, pendingTier{tier, instances})
	return nil
}

type pendingTier struct {
	tier      hardware.Tier
	instances int
}

func (b *Backend) deployed(i int64) {
	p := b.pendingTiers[i]
	b.tier, b.instances = p.tier, p.instances
	if b.deploys--; b.deploys == 0 {
		b.down = false
		b.cpu.SetCapacity(float64(b.instances*b.tier.Cores), b.tier.Speed)
		b.pump()
		b.startHandshakes()
	}
}

// Tier returns the hardware the service runs on and its instances.
func (b *Backend) Tier() (hardware.Tier, int) { return b.tier, b.instances }

// ---- results ----

// Series returns the time series recorded so far, in SeriesInfo order.
func (b *Backend) Series() [][]float64 {
	out := make([][]float64, nSeries)
	for s := range nSeries {
		out[s] = append([]float64(nil), b.m.series[s]...)
	}
	return out
}

// Summary returns the run's figures, in SummaryInfo order.
func (b *Backend) Summary() []Figure {
	figs := b.m.summary(b.horizon)
	figs = append(figs,
		Figure{Name: "clients_total", Value: float64(len(b.clients))},
		Figure{Name: "query_latency", Value: b.m.all.Mean(), Min: b.m.all.Min(), Max: b.m.all.Max(),
			P50: b.m.all.P50(), P95: b.m.all.P95(), P99: b.m.all.P99(), Count: b.m.all.Count()},
	)
	return figs
}

// EngineStats returns the invalidation engine's counters.
func (b *Backend) EngineStats() invalidation.Stats { return b.eng.Stats() }
