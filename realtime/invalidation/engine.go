package invalidation

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"stormglass/realtime/clock"
)

// Stats are the engine's cumulative counters since New.
type Stats struct {
	Subscribed, Unsubscribed, Refreshed uint64
	// Commits applied, and the keys, documents and metadata writes they
	// carried.
	Commits, Keys, Docs, MetadataWrites uint64
	// Invalidations counts subscriptions hit by commits (one hit by k
	// commits counts k times). Late counts subscriptions found already
	// invalid when made or refreshed at an old timestamp; FirstRuns counts
	// subscriptions made at timestamp zero, queued for their first run.
	Invalidations, Late, FirstRuns uint64
	// Queue traffic: entries made, invalidations merged into an entry
	// already pending, entries taken by Next, entries delayed by splay.
	Enqueued, Coalesced, Dequeued, Splayed uint64
	// Overflows counts invalidations that found the queue full; the policy
	// turned them into closed connections (and the subscriptions those
	// dropped), rejected subscriptions, or shed invalidations.
	Overflows, ConnectionsClosed, SubscriptionsClosed, Rejected, Shed uint64
	// RefusedSubscribes counts Subscribe calls refused with ErrOverloaded.
	RefusedSubscribes uint64
	// MaxPending is the longest the queue has been.
	MaxPending int
}

type subSlot struct {
	id       SubID // zero when the slot is free
	conn     ConnID
	ts       Timestamp
	nodes    int32 // chain of interval memberships
	searches int32 // chain of search reads
	metas    int32 // chain of metadata reads
	connPrev int32
	connNext int32
	heapPos  int32 // queue position + 1; zero when not pending
	stale    bool
}

// index is everything the engine keeps about one index name: the interval
// B+tree of range reads, the inverted index of search reads, and derived
// readers of its metadata. Range and search indexes share the namespace.
type index struct {
	root   int32
	search *searchIndex
	meta   []int32
}

type loggedKey struct {
	index int32 // -1: an index nobody has read
	key   string
}

type loggedDoc struct {
	index  int32
	tokens []string
	fields []FieldEq
}

type loggedMeta struct {
	index   int32
	changes bool
}

// invalidates reports whether the metadata write invalidates the readers
// of its index: only when it changes searchable data, unless the legacy
// behaviour makes every metadata write count.
func (m loggedMeta) invalidates(legacy bool) bool { return m.changes || legacy }

// loggedCommit is a commit with its index names resolved and its keys
// copied, as matched and as kept in the write log.
type loggedCommit struct {
	ts   Timestamp
	keys []loggedKey
	docs []loggedDoc
	meta []loggedMeta
}

// Engine is the invalidation engine: it holds live subscriptions' read
// sets, matches commits against them, and keeps the bounded queue of
// subscriptions waiting for their re-run. It is not safe for concurrent use;
// Service wraps it for services. See the package documentation.
type Engine struct {
	cfg Config
	clk clock.Clock
	rnd *rand.Rand

	subs     []subSlot // [0] is the nil sentinel
	freeSubs []int32
	byID     map[SubID]int32
	conns    map[ConnID]int32 // first slot of the connection's list
	lastID   SubID
	stale    int

	indexes     []index
	indexByName map[string]int32

	nodes      []ivNode // [0] is the nil sentinel
	freeNodes  []int32
	tree       []btNode // [0] is the nil sentinel
	freeTree   []int32
	btPath     []btStep
	ivByKey    map[ivKey]int32
	members    []ivMember // [0] is the nil sentinel
	freeMember []int32
	searches   []searchRead // [0] is the nil sentinel
	freeSearch []int32
	metas      []metaRead // [0] is the nil sentinel
	freeMeta   []int32

	queue updateQueue

	log     []loggedCommit // ring of the last WriteLogLimit commits
	logHead int
	logLen  int
	scratch loggedCommit
	horizon Timestamp // newest commit dropped from the log
	lastTS  Timestamp

	docEpoch uint32 // marks search reads already judged for this document
	rawHits  []Hit  // this match's hits, unsorted, with repeats
	lanes    [stabLanes]stabLane
	packed   []uint64
	radixTmp []uint64
	hits     []Hit
	batch    []Hit
	notices  []Notice
	stats    Stats
}

// New makes an engine. Time comes from clk (splay delays, queue times) and
// randomness from rnd (splay delays); in a simulation both come from the
// kernel, so a run is reproducible from its seed.
func New(cfg Config, clk clock.Clock, rnd rand.Source) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if clk == nil || rnd == nil {
		return nil, fmt.Errorf("invalidation: New needs a clock and a random source")
	}
	r := rand.New(rnd)
	e := &Engine{
		cfg:         cfg,
		clk:         clk,
		rnd:         r,
		subs:        make([]subSlot, 1),
		byID:        map[SubID]int32{},
		conns:       map[ConnID]int32{},
		indexByName: map[string]int32{},
		nodes:       make([]ivNode, 1),
		tree:        make([]btNode, 1),
		ivByKey:     map[ivKey]int32{},
		members:     make([]ivMember, 1),
		searches:    make([]searchRead, 1),
		metas:       make([]metaRead, 1),
		log:         make([]loggedCommit, max(0, cfg.WriteLogLimit)),
	}
	return e, nil
}

// Config returns the knobs in force, defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// SetQueueLimit changes the queue bound at once, as operators did in the
// 2025 incident (10,000 to 100,000). Entries already queued above a lower
// limit stay; new invalidations overflow until the queue drains below it.
func (e *Engine) SetQueueLimit(n int) error {
	if n <= 0 {
		return fmt.Errorf("invalidation: queue limit %d: want a positive number of updates", n)
	}
	e.cfg.QueueLimit = n
	return nil
}

// SetOverflow changes the overflow policy.
func (e *Engine) SetOverflow(p OverflowPolicy) error {
	if p > Shed {
		return fmt.Errorf("invalidation: overflow policy %v: want close-overloaded, reject or shed", p)
	}
	e.cfg.Overflow = p
	return nil
}

// SetSplay changes the splay knobs (zero fields take the defaults).
func (e *Engine) SetSplay(s Splay) error {
	c := e.cfg
	c.Splay = s
	c, err := c.withDefaults()
	if err != nil {
		return err
	}
	e.cfg.Splay = c.Splay
	return nil
}

// SetLegacyMetadataReads turns the pre-2025 behaviour on or off; it takes
// effect from the next commit (as a deploy of the fix would).
func (e *Engine) SetLegacyMetadataReads(on bool) { e.cfg.LegacyMetadataReads = on }

// Stats returns the cumulative counters.
func (e *Engine) Stats() Stats { return e.stats }

// Pending is the number of subscriptions waiting in the update queue.
func (e *Engine) Pending() int { return len(e.queue.heap) }

// Subscriptions is the number of live subscriptions.
func (e *Engine) Subscriptions() int { return len(e.byID) }

// Connections is the number of connections with at least one subscription.
func (e *Engine) Connections() int { return len(e.conns) }

// Stale is the number of live subscriptions whose invalidation was shed
// and that are not queued: their clients show stale results.
func (e *Engine) Stale() int { return e.stale }

// IsLive reports whether the subscription exists.
func (e *Engine) IsLive(id SubID) bool { _, ok := e.byID[id]; return ok }

// IsPending reports whether the subscription waits in the update queue.
func (e *Engine) IsPending(id SubID) bool {
	slot, ok := e.byID[id]
	return ok && e.subs[slot].heapPos != 0
}

// LastCommit is the timestamp of the last commit applied (zero before any).
func (e *Engine) LastCommit() Timestamp { return e.lastTS }

// TakeNotices returns the notices since the last call, oldest first, and
// forgets them. The server must act on each: close the socket, fail the
// query.
func (e *Engine) TakeNotices() []Notice {
	if len(e.notices) == 0 {
		return nil
	}
	out := e.notices
	e.notices = nil
	return out
}

// Subscribe registers a query's read set for connection conn, as of the
// timestamp ts the query ran at. If commits after ts are already applied,
// the write log decides whether the result is already stale; if so (or if
// the log no longer reaches back to ts) the subscription is queued for a
// re-run at once. At timestamp zero the query has not run yet: the
// subscription is queued for its first run, through the same bounded queue
// (a server that registers interest first and computes later, as the 2025
// engine's worker queue carried new subscriptions as well as
// invalidations). Under RejectSubscription a full queue refuses the
// subscription with ErrOverloaded; under any policy an overflow that ends
// the new subscription returns ErrOverloaded too.
func (e *Engine) Subscribe(conn ConnID, rs ReadSet, ts Timestamp) (SubID, error) {
	if err := validateReadSet(rs); err != nil {
		return 0, fmt.Errorf("invalidation: subscribe on connection %d: %w", conn, err)
	}
	return e.subscribe(conn, rs, ts)
}

// SubscribeAll subscribes every read set for one connection at one
// timestamp, as a reconnecting client that re-ran all its queries does. All
// read sets are validated before any is registered; it stops at the first
// refusal and returns the subscriptions made before it.
func (e *Engine) SubscribeAll(conn ConnID, sets []ReadSet, ts Timestamp) ([]SubID, error) {
	for i, rs := range sets {
		if err := validateReadSet(rs); err != nil {
			return nil, fmt.Errorf("invalidation: subscribe on connection %d: query %d: %w", conn, i, err)
		}
	}
	if ts == 0 && e.cfg.Overflow == CloseOverloaded && !e.cfg.Splay.Enabled {
		if room := e.cfg.QueueLimit - len(e.queue.heap); room >= 0 && room < len(sets) {
			return e.firstRunsOverflow(conn, room, len(sets))
		}
	}
	ids := make([]SubID, 0, len(sets))
	for i, rs := range sets {
		id, err := e.subscribe(conn, rs, ts)
		if err != nil {
			return ids, fmt.Errorf("invalidation: subscribe on connection %d: query %d of %d: %w", conn, i, len(sets), err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (e *Engine) subscribe(conn ConnID, rs ReadSet, ts Timestamp) (SubID, error) {
	if e.cfg.Overflow == RejectSubscription && len(e.queue.heap) >= e.cfg.QueueLimit {
		e.stats.RefusedSubscribes++
		return 0, fmt.Errorf("update queue full (%d of %d): %w", len(e.queue.heap), e.cfg.QueueLimit, ErrOverloaded)
	}
	if ts == 0 && e.cfg.Overflow == CloseOverloaded && len(e.queue.heap) >= e.cfg.QueueLimit {
		return e.firstRunOverflow(conn)
	}
	slot := e.newSlot(conn, ts)
	e.indexReads(slot, rs)
	e.stats.Subscribed++
	id := e.subs[slot].id
	if !e.lateCheck(slot) {
		return id, fmt.Errorf("already invalid at timestamp %d and the update queue is full: %w", ts, ErrOverloaded)
	}
	return id, nil
}

// RefreshSame is Refresh for a re-run that read exactly the read set the
// subscription already has, the common case of a query re-run over the same
// ranges and words: it skips taking the read set out of the indexes and
// putting it back. The pending update is dropped and the write log checked
// for commits after ts, as in Refresh.
func (e *Engine) RefreshSame(id SubID, ts Timestamp) error {
	slot, ok := e.byID[id]
	if !ok {
		return fmt.Errorf("invalidation: refresh subscription %d: %w", id, ErrUnknownSubscription)
	}
	// Interval nodes keep a copy of each reader's timestamp, so a stab
	// need not visit the subscription; bring the copies up to date.
	for m := e.subs[slot].nodes; m != 0; m = e.members[m].next {
		mb := &e.members[m]
		e.nodes[mb.node].subs[mb.pos].ts = ts
	}
	return e.refreshed(slot, id, ts)
}

// refreshed completes a refresh once the read set is indexed: the new
// timestamp, no pending update, no stale mark, and the late check.
func (e *Engine) refreshed(slot int32, id SubID, ts Timestamp) error {
	s := &e.subs[slot]
	s.ts = ts
	if s.heapPos != 0 {
		e.qRemove(int(s.heapPos - 1))
	}
	if s.stale {
		s.stale = false
		e.stale--
	}
	e.stats.Refreshed++
	if !e.lateCheck(slot) {
		return fmt.Errorf("invalidation: refresh subscription %d: already invalid at timestamp %d and the update queue is full: %w", id, ts, ErrOverloaded)
	}
	return nil
}

// firstRunsOverflow is SubscribeAll of n unrun queries when the queue has
// room for only the first room of them, under CloseOverloaded without
// splay: those would be made and queued, the next would overflow and close
// the connection, taking them with it. The outcome, ids, counters and
// notice are those of that path; only the indexing and queueing of
// subscriptions dropped in the same call are skipped.
func (e *Engine) firstRunsOverflow(conn ConnID, room, n int) ([]SubID, error) {
	ids := make([]SubID, room)
	for i := range ids {
		e.lastID++
		ids[i] = e.lastID
	}
	e.stats.Subscribed += uint64(room)
	e.stats.FirstRuns += uint64(room)
	e.stats.Enqueued += uint64(room)
	if room > 0 {
		e.stats.MaxPending = max(e.stats.MaxPending, len(e.queue.heap)+room)
	}
	_, err := e.firstRunOverflow(conn)
	e.stats.SubscriptionsClosed += uint64(room)
	e.notices[len(e.notices)-1].Subscriptions += room
	return ids, fmt.Errorf("invalidation: subscribe on connection %d: query %d of %d: %w", conn, room, n, err)
}

// firstRunOverflow is Subscribe of a query that has not run when the queue
// is full under CloseOverloaded: the subscription would be made, find no
// room for its first run and close its connection at once. The outcome,
// counters and notice are those of that path; only the indexing of a read
// set dropped in the same call is skipped, which in a reconnect storm is
// most of the engine's work.
func (e *Engine) firstRunOverflow(conn ConnID) (SubID, error) {
	e.lastID++
	id := e.lastID
	e.stats.Subscribed++
	e.stats.FirstRuns++
	e.stats.Overflows++
	k := e.closeConn(conn) + 1 // the new subscription with the others
	e.stats.ConnectionsClosed++
	e.stats.SubscriptionsClosed += uint64(k)
	e.notices = append(e.notices, Notice{Kind: ConnectionClosed, Conn: conn, Sub: id, Reason: ReasonOverloaded, Subscriptions: k})
	return id, fmt.Errorf("no result yet and the update queue is full: %w", ErrOverloaded)
}

// Refresh replaces a subscription's read set after its re-run at ts. A
// pending update is dropped (the re-run saw those commits) and the write
// log is checked for commits after ts, as in Subscribe.
func (e *Engine) Refresh(id SubID, rs ReadSet, ts Timestamp) error {
	slot, ok := e.byID[id]
	if !ok {
		return fmt.Errorf("invalidation: refresh subscription %d: %w", id, ErrUnknownSubscription)
	}
	if err := validateReadSet(rs); err != nil {
		return fmt.Errorf("invalidation: refresh subscription %d: %w", id, err)
	}
	e.removeReads(slot)
	e.subs[slot].ts = ts // indexing reads the subscription's timestamp
	e.indexReads(slot, rs)
	return e.refreshed(slot, id, ts)
}

// Unsubscribe ends a subscription; it reports false if it was not live.
func (e *Engine) Unsubscribe(id SubID) bool {
	slot, ok := e.byID[id]
	if !ok {
		return false
	}
	e.removeSub(slot)
	e.stats.Unsubscribed++
	return true
}

// CloseConnection ends every subscription of a connection (the client
// went away) and returns how many there were.
func (e *Engine) CloseConnection(conn ConnID) int {
	n := e.closeConn(conn)
	e.stats.Unsubscribed += uint64(n)
	return n
}

// Match returns the live subscriptions c's writes would invalidate, oldest
// subscription first, without applying c: no queue, no log, no order check.
// The slice is reused by the next call.
func (e *Engine) Match(c Commit) ([]Hit, error) {
	if err := validateCommit(c); err != nil {
		return nil, fmt.Errorf("invalidation: %w", err)
	}
	lc := &e.scratch
	e.resolve(lc, c, false)
	e.match(lc)
	return e.hits, nil
}

// Commit applies one commit: it finds the subscriptions it invalidates
// (oldest first), queues each for its re-run (coalescing, overflow policy)
// and keeps the commit in the write log. The returned slice is reused by
// the next call.
func (e *Engine) Commit(c Commit) ([]Hit, error) {
	if err := validateCommit(c); err != nil {
		return nil, fmt.Errorf("invalidation: %w", err)
	}
	if c.TS <= e.lastTS {
		return nil, fmt.Errorf("invalidation: commit at timestamp %d after %d: %w", c.TS, e.lastTS, ErrCommitOrder)
	}
	e.apply(c)
	return e.hits, nil
}

// CommitBatch applies commits in order, as a worker catching up on the
// write log does, and returns each invalidated subscription once with the
// earliest commit timestamp that hit it, ordered by that timestamp, then
// oldest subscription first. The batch is validated whole before any commit
// is applied. The returned slice is reused by the next call.
func (e *Engine) CommitBatch(cs []Commit) ([]Hit, error) {
	last := e.lastTS
	for i, c := range cs {
		if err := validateCommit(c); err != nil {
			return nil, fmt.Errorf("invalidation: batch item %d of %d: %w", i, len(cs), err)
		}
		if c.TS <= last {
			return nil, fmt.Errorf("invalidation: batch item %d of %d: commit at timestamp %d after %d: %w", i, len(cs), c.TS, last, ErrCommitOrder)
		}
		last = c.TS
	}
	e.batch = e.batch[:0]
	for _, c := range cs {
		e.apply(c)
		e.batch = append(e.batch, e.hits...)
	}
	// Commits came in timestamp order, so the first hit of a subscription
	// in a stable sort by subscription is its earliest.
	slices.SortStableFunc(e.batch, func(a, b Hit) int { return cmp.Compare(a.Sub, b.Sub) })
	out := e.batch[:0]
	for i, h := range e.batch {
		if i == 0 || h.Sub != e.batch[i-1].Sub {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b Hit) int {
		if c := cmp.Compare(a.TS, b.TS); c != 0 {
			return c
		}
		return cmp.Compare(a.Sub, b.Sub)
	})
	e.batch = out
	return out, nil
}

func (e *Engine) apply(c Commit) {
	lc := &e.scratch
	if len(e.log) > 0 {
		lc = e.logReserve()
	}
	e.resolve(lc, c, true)
	e.match(lc)
	for _, h := range e.hits {
		slot := e.byID[h.Sub]
		if slot != 0 { // an overflow earlier in this commit may have ended it
			e.enqueue(slot, c.TS)
		}
	}
	if len(e.log) == 0 {
		e.horizon = c.TS
	}
	e.lastTS = c.TS
	e.stats.Commits++
	e.stats.Keys += uint64(len(c.Keys))
	e.stats.Docs += uint64(len(c.Docs))
	e.stats.MetadataWrites += uint64(len(c.Metadata))
	e.stats.Invalidations += uint64(len(e.hits))
}

// Next takes the next update that is ready by the clock's now, if any. The
// subscription stays live with its old read set until Refresh.
func (e *Engine) Next() (Update, bool) {
	if len(e.queue.heap) == 0 || e.queue.heap[0].ready.After(e.clk.Now()) {
		return Update{}, false
	}
	ent := e.qRemove(0)
	e.stats.Dequeued++
	s := &e.subs[ent.slot]
	return Update{Sub: s.id, Conn: s.conn, TS: ent.ts, Enqueued: ent.enqueued, Ready: ent.ready}, true
}

// NextReady returns when the head of the queue is (or was) ready; false
// when the queue is empty. A driver sleeps until then when Next has none.
func (e *Engine) NextReady() (time.Time, bool) {
	if len(e.queue.heap) == 0 {
		return time.Time{}, false
	}
	return e.queue.heap[0].ready, true
}

// enqueue queues a subscription invalidated at ts and reports whether the
// subscription is still live afterwards.
func (e *Engine) enqueue(slot int32, ts Timestamp) bool {
	s := &e.subs[slot]
	if s.heapPos != 0 {
		if ent := &e.queue.heap[s.heapPos-1]; ts < ent.ts {
			ent.ts = ts
		}
		e.stats.Coalesced++
		return true
	}
	n := len(e.queue.heap)
	if n < e.cfg.QueueLimit {
		now := e.clk.Now()
		ready := now
		if e.cfg.Splay.Enabled && n > e.cfg.Splay.Threshold {
			ready = now.Add(e.splayDelay(n))
			e.stats.Splayed++
		}
		if s.stale {
			s.stale = false
			e.stale--
		}
		e.qPush(pendingEntry{ready: ready, enqueued: now, ts: ts, slot: slot})
		e.stats.Enqueued++
		e.stats.MaxPending = max(e.stats.MaxPending, n+1)
		return true
	}
	e.stats.Overflows++
	switch e.cfg.Overflow {
	case RejectSubscription:
		id, conn := s.id, s.conn
		e.removeSub(slot)
		e.stats.Rejected++
		e.notices = append(e.notices, Notice{Kind: SubscriptionRejected, Conn: conn, Sub: id, Reason: ReasonOverloaded, Subscriptions: 1})
		return false
	case Shed:
		if !s.stale {
			s.stale = true
			e.stale++
		}
		e.stats.Shed++
		return true
	default: // CloseOverloaded
		id, conn := s.id, s.conn
		k := e.closeConn(conn)
		e.stats.ConnectionsClosed++
		e.stats.SubscriptionsClosed += uint64(k)
		e.notices = append(e.notices, Notice{Kind: ConnectionClosed, Conn: conn, Sub: id, Reason: ReasonOverloaded, Subscriptions: k})
		return false
	}
}

// splayDelay draws a delay uniform in [0, pending × PerPending].
func (e *Engine) splayDelay(pending int) time.Duration {
	per := e.cfg.Splay.PerPending
	bound := uint64(math.MaxInt64)
	if per > 0 && int64(pending) <= math.MaxInt64/int64(per) {
		bound = uint64(pending) * uint64(per)
	}
	return time.Duration(e.rnd.Uint64N(bound + 1))
}

// lateCheck queues a subscription made (or refreshed) at a timestamp older
// than the last commit if a logged commit since invalidates it, or if the
// log no longer reaches back that far. It reports whether the subscription
// is still live.
func (e *Engine) lateCheck(slot int32) bool {
	ts := e.subs[slot].ts
	if ts == 0 {
		// Timestamp zero: the query has not run yet. Its first run waits in
		// the update queue like a re-run, so a burst of new subscriptions
		// (every tab of a reconnect storm re-running all its queries) meets
		// the same bound, as it did in the 2025 engine.
		e.stats.FirstRuns++
		return e.enqueue(slot, e.lastTS)
	}
	if ts >= e.lastTS {
		return true
	}
	var at Timestamp
	if ts < e.horizon {
		at = e.horizon
	} else {
		first := sort.Search(e.logLen, func(i int) bool { return e.logAt(i).ts > ts })
		for i := first; i < e.logLen; i++ {
			if lc := e.logAt(i); e.subHitBy(slot, lc) {
				at = lc.ts
				break
			}
		}
	}
	if at == 0 {
		return true
	}
	e.stats.Late++
	return e.enqueue(slot, at)
}

// subHitBy is the direct test of one subscription against one commit.
func (e *Engine) subHitBy(slot int32, lc *loggedCommit) bool {
	s := &e.subs[slot]
	for _, k := range lc.keys {
		for m := s.nodes; m != 0; m = e.members[m].next {
			if n := e.members[m].node; e.nodes[n].index == k.index && e.contains(n, k.key) {
				return true
			}
		}
	}
	for _, d := range lc.docs {
		for r := s.searches; r != 0; r = e.searches[r].next {
			if q := &e.searches[r]; q.index == d.index && readMatchesDoc(q, d.tokens, d.fields) {
				return true
			}
		}
	}
	for _, m := range lc.meta {
		if !m.invalidates(e.cfg.LegacyMetadataReads) {
			continue
		}
		for r := s.metas; r != 0; r = e.metas[r].next {
			if e.metas[r].index == m.index {
				return true
			}
		}
		for r := s.searches; r != 0; r = e.searches[r].next {
			if e.searches[r].index == m.index {
				return true
			}
		}
	}
	return false
}

// match fills e.hits with the live subscriptions lc invalidates, oldest
// first.
func (e *Engine) match(lc *loggedCommit) {
	e.rawHits = e.rawHits[:0]
	e.ivStabAll(lc.keys, lc.ts)
	for _, d := range lc.docs {
		if d.index >= 0 {
			if si := e.indexes[d.index].search; si != nil {
				e.docEpoch++
				if e.docEpoch == 0 {
					for i := range e.searches {
						e.searches[i].mark = 0
					}
					e.docEpoch = 1
				}
				e.matchDoc(si, d.tokens, d.fields, lc.ts)
			}
		}
	}
	for _, m := range lc.meta {
		if m.index < 0 || !m.invalidates(e.cfg.LegacyMetadataReads) {
			continue
		}
		in := &e.indexes[m.index]
		for _, r := range in.meta {
			e.hit(e.metas[r].sub, lc.ts)
		}
		if in.search != nil {
			for _, r := range in.search.members {
				e.hit(e.searches[r].sub, lc.ts)
			}
		}
	}
	e.sortHits()
}

// sortHits fills e.hits from e.rawHits: one hit per subscription, oldest
// subscription first. The common case packs (id, position) into one integer
// and radix-sorts those; a comparator sort handles ids too large to pack.
func (e *Engine) sortHits() {
	const posBits = 24
	raw := e.rawHits
	e.hits = e.hits[:0]
	if len(raw) < 1<<posBits && e.lastID < 1<<(64-posBits) {
		e.packed = e.packed[:0]
		for i, h := range raw {
			e.packed = append(e.packed, uint64(h.Sub)<<posBits|uint64(i))
		}
		sorted := e.radixSort(e.packed, posBits, uint64(e.lastID))
		for _, p := range sorted {
			h := raw[p&(1<<posBits-1)]
			if n := len(e.hits); n == 0 || e.hits[n-1].Sub != h.Sub {
				e.hits = append(e.hits, h)
			}
		}
		return
	}
	slices.SortFunc(raw, func(a, b Hit) int { return cmp.Compare(a.Sub, b.Sub) })
	for _, h := range raw {
		if n := len(e.hits); n == 0 || e.hits[n-1].Sub != h.Sub {
			e.hits = append(e.hits, h)
		}
	}
}

// radixSortMin is the fewest items worth a radix sort; below it the
// counting passes cost more than comparing.
const radixSortMin = 32

// radixSort sorts keys by their bits from shift up, where no key exceeds
// maxID<<shift, and returns the sorted slice (keys itself or e.radixTmp).
// Sorting a commit's hits is on the hot path: for the hundred or so hits of
// a typical commit, stable byte-wise passes over the id's few significant
// bytes take a fifth of the time of a comparison sort, whose branches on
// random ids mispredict about half the time. The pass is stable and the
// keys arrive in position order, so ties keep their first occurrence
// first, as a full sort of the packed keys would.
func (e *Engine) radixSort(keys []uint64, shift uint, maxID uint64) []uint64 {
	if len(keys) < radixSortMin {
		slices.Sort(keys)
		return keys
	}
	e.radixTmp = slices.Grow(e.radixTmp[:0], len(keys))[:len(keys)]
	src, dst := keys, e.radixTmp
	for ; maxID != 0; maxID >>= 8 {
		var count [257]int
		for _, k := range src {
			count[(k>>shift)&0xff+1]++
		}
		for d := 1; d < len(count); d++ {
			count[d] += count[d-1]
		}
		for _, k := range src {
			d := (k >> shift) & 0xff
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
		shift += 8
	}
	return src
}

// hit records that the subscription in slot is invalidated by a commit at
// ts, unless it ran at or after ts.
func (e *Engine) hit(slot int32, ts Timestamp) {
	if s := &e.subs[slot]; s.ts < ts {
		e.rawHits = append(e.rawHits, Hit{Sub: s.id, Conn: s.conn, TS: ts})
	}
}

// resolve fills lc from c: index names become index numbers (made when
// create is set, -1 for unknown names otherwise) and keys are copied.
func (e *Engine) resolve(lc *loggedCommit, c Commit, create bool) {
	id := func(name string) int32 {
		if create {
			return e.indexID(name)
		}
		if ix, ok := e.indexByName[name]; ok {
			return ix
		}
		return -1
	}
	lc.ts = c.TS
	lc.keys = lc.keys[:0]
	for _, k := range c.Keys {
		lc.keys = append(lc.keys, loggedKey{index: id(k.Index), key: string(k.Key)})
	}
	lc.docs = lc.docs[:0]
	for _, d := range c.Docs {
		// Strings are immutable, so sharing the caller's is safe; the
		// slices are copied because the caller may reuse them.
		lc.docs = append(lc.docs, loggedDoc{
			index:  id(d.Index),
			tokens: slices.Clone(d.Tokens),
			fields: slices.Clone(d.Fields),
		})
	}
	lc.meta = lc.meta[:0]
	for _, m := range c.Metadata {
		lc.meta = append(lc.meta, loggedMeta{index: id(m.Index), changes: m.ChangesSearchableData})
	}
}

// logReserve makes room for the next commit at the end of the write log,
// dropping the oldest when full, and returns the entry to fill.
func (e *Engine) logReserve() *loggedCommit {
	limit := len(e.log)
	if e.logLen == limit {
		e.horizon = e.log[e.logHead].ts
		e.logHead = (e.logHead + 1) % limit
		e.logLen--
	}
	lc := &e.log[(e.logHead+e.logLen)%limit]
	e.logLen++
	return lc
}

func (e *Engine) logAt(i int) *loggedCommit { return &e.log[(e.logHead+i)%len(e.log)] }

func (e *Engine) indexID(name string) int32 {
	if ix, ok := e.indexByName[name]; ok {
		return ix
	}
	ix := int32(len(e.indexes))
	e.indexes = append(e.indexes, index{})
	e.indexByName[name] = ix
	return ix
}

func (e *Engine) newSlot(conn ConnID, ts Timestamp) int32 {
	slot := takeSlot(&e.subs, &e.freeSubs)
	e.lastID++
	head := e.conns[conn]
	e.subs[slot] = subSlot{id: e.lastID, conn: conn, ts: ts, connNext: head}
	if head != 0 {
		e.subs[head].connPrev = slot
	}
	e.conns[conn] = slot
	e.byID[e.lastID] = slot
	return slot
}

func (e *Engine) indexReads(slot int32, rs ReadSet) {
	for _, r := range rs.Ranges {
		e.addRangeRead(slot, r)
	}
	for _, q := range rs.Searches {
		e.addSearchRead(slot, q)
	}
	for _, m := range rs.Metadata {
		e.addMetaRead(slot, m)
	}
}

// addRangeRead adds the subscription to the node of r's interval, making
// the node if no one read that interval yet.
func (e *Engine) addRangeRead(slot int32, r IndexRange) {
	key := ivKey{index: e.indexID(r.Index), start: string(r.Start), unbounded: r.Unbounded}
	if !r.Unbounded {
		key.end = string(r.End)
	}
	x, ok := e.ivByKey[key]
	if !ok {
		x = e.ivAlloc(key.start, key.end, key.unbounded)
		e.nodes[x].index = key.index
		e.indexes[key.index].root = e.btInsert(e.indexes[key.index].root, x)
		e.ivByKey[key] = x
	}
	m := takeSlot(&e.members, &e.freeMember)
	s := &e.subs[slot]
	n := &e.nodes[x]
	e.members[m] = ivMember{node: x, pos: int32(len(n.subs)), next: s.nodes}
	n.subs = append(n.subs, ivSub{id: s.id, conn: s.conn, ts: s.ts, member: m})
	s.nodes = m
}

// removeRangeRead takes one membership out of its node, and the node out
// of its tree when it was the last reader.
func (e *Engine) removeRangeRead(m int32) {
	x := e.members[m].node
	n := &e.nodes[x]
	n.subs = swapRemove(n.subs, e.members[m].pos, func(s ivSub, pos int32) { e.members[s.member].pos = pos })
	if len(n.subs) == 0 {
		delete(e.ivByKey, ivKey{index: n.index, start: n.start, end: n.end, unbounded: n.unbounded})
		e.indexes[n.index].root = e.btDelete(e.indexes[n.index].root, x)
		e.ivFree(x)
	}
	e.members[m] = ivMember{}
	e.freeMember = append(e.freeMember, m)
}

func (e *Engine) removeReads(slot int32) {
	s := &e.subs[slot]
	for m := s.nodes; m != 0; {
		next := e.members[m].next
		e.removeRangeRead(m)
		m = next
	}
	for r := s.searches; r != 0; {
		next := e.searches[r].next
		e.removeSearchRead(r)
		r = next
	}
	for m := s.metas; m != 0; {
		next := e.metas[m].next
		e.removeMetaRead(m)
		m = next
	}
	s.nodes, s.searches, s.metas = 0, 0, 0
}

func (e *Engine) removeSub(slot int32) {
	e.removeReads(slot)
	s := &e.subs[slot]
	if s.heapPos != 0 {
		e.qRemove(int(s.heapPos - 1))
	}
	if s.stale {
		e.stale--
	}
	if s.connPrev != 0 {
		e.subs[s.connPrev].connNext = s.connNext
	} else if s.connNext != 0 {
		e.conns[s.conn] = s.connNext
	} else {
		delete(e.conns, s.conn)
	}
	if s.connNext != 0 {
		e.subs[s.connNext].connPrev = s.connPrev
	}
	delete(e.byID, s.id)
	*s = subSlot{}
	e.freeSubs = append(e.freeSubs, slot)
}

func (e *Engine) closeConn(conn ConnID) int {
	n := 0
	for slot := e.conns[conn]; slot != 0; slot = e.conns[conn] {
		e.removeSub(slot)
		n++
	}
	return n
}

func validateReadSet(rs ReadSet) error {
	for i, r := range rs.Ranges {
		if r.Index == "" {
			return fmt.Errorf("read set: ranges[%d]: no index name: %w", i, ErrInvalidReadSet)
		}
		if !r.Unbounded && bytes.Compare(r.Start, r.End) >= 0 {
			return fmt.Errorf("read set: ranges[%d] on %q: empty interval [%q, %q), want start below end: %w",
				i, r.Index, r.Start, r.End, ErrInvalidReadSet)
		}
	}
	for i, q := range rs.Searches {
		if q.Index == "" {
			return fmt.Errorf("read set: searches[%d]: no index name: %w", i, ErrInvalidReadSet)
		}
		if len(q.Terms)+len(q.Prefixes) == 0 {
			return fmt.Errorf("read set: searches[%d] on %q: no terms or prefixes, want at least one: %w", i, q.Index, ErrInvalidReadSet)
		}
	}
	for i, m := range rs.Metadata {
		if m == "" {
			return fmt.Errorf("read set: metadata[%d]: no index name: %w", i, ErrInvalidReadSet)
		}
	}
	return nil
}

func validateCommit(c Commit) error {
	for i, k := range c.Keys {
		if k.Index == "" {
			return fmt.Errorf("commit at timestamp %d: keys[%d]: no index name: %w", c.TS, i, ErrInvalidWriteSet)
		}
	}
	for i, d := range c.Docs {
		if d.Index == "" {
			return fmt.Errorf("commit at timestamp %d: docs[%d]: no index name: %w", c.TS, i, ErrInvalidWriteSet)
		}
	}
	for i, m := range c.Metadata {
		if m.Index == "" {
			return fmt.Errorf("commit at timestamp %d: metadata[%d]: no index name: %w", c.TS, i, ErrInvalidWriteSet)
		}
	}
	return nil
}

// takeSlot returns a free index of an arena, growing it when none is free.
// Arenas address their items by int32 and keep index 0 as nil.
func takeSlot[T any](items *[]T, free *[]int32) int32 {
	if n := len(*free); n > 0 {
		i := (*free)[n-1]
		*free = (*free)[:n-1]
		return i
	}
	var zero T
	*items = append(*items, zero)
	return int32(len(*items) - 1)
}

// swapRemove removes list[i] by moving the last item into its place, and
// tells moved the item's new position so it can update its back pointer.
func swapRemove[T any](list []T, i int32, moved func(item T, pos int32)) []T {
	last := len(list) - 1
	if int(i) != last {
		list[i] = list[last]
		moved(list[i], i)
	}
	return list[:last]
}
