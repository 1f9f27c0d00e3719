package invalidation

// The brute-force reference model of the engine, written from the contract
// (SEMANTICS.md: "exact semantics (the contract the oracle checks)") and
// nothing else: subscriptions sit in a slice in age order, the queue is a
// slice in enqueue order, the write log is a slice of copied commits, and
// every commit is checked against every subscription with the overlap rule
// as written (bytes.Compare, strings.HasPrefix). It is slow on purpose; the
// oracle (oracle_test.go) and the fuzz target (fuzz_test.go) run it side by
// side with the engine and compare everything observable.
//
// Splay: with splay in force a new entry's Ready is a random draw from the
// engine's injected rand.Source, which the reference cannot know. The oracle
// therefore keeps splay out of reach: it may switch the knob on, but only
// with a Threshold above any queue length the run can reach, so that
// "n > Threshold" never holds. The model panics if splay would apply.
//
// Readings of the contract where it is not explicit (listed in the report):
//   - SubIDs: the contract only says they are engine-assigned and never
//     reused. The model numbers its own subscriptions 1, 2, 3, ... (one per
//     subscription made, including one a late overflow ends at once) and the
//     oracle keeps a bijection between the model's and the engine's ids,
//     fixed when the engine first shows an id; a clash is a failure.
//   - Subscribe refused (invalid read set, or ErrOverloaded before anything
//     is made) returns id 0.
//   - SubscribeAll that stops at a late overflow returns the ids of the
//     subscriptions made before the failing one: the one the overflow ended
//     is not "made" (it is not live); its id is seen only in the notice.
//     On a validation error it returns no ids.
//   - Validation order: Commit checks the write set before the timestamp;
//     CommitBatch checks item by item (write set, then timestamp) and
//     reports the first failing item's class. Refresh checks the id before
//     the read set. Subscribe validates before the RejectSubscription
//     refusal.
//   - LegacyMetadataReads is read when a commit is checked against a
//     subscription: for a commit being applied, at the commit; for a LATE
//     CHECK against the write log, at the time of the check (the log keeps
//     writes, not verdicts).
//   - Knob errors: SetQueueLimit(n <= 0), SetOverflow(p > Shed) and a Splay
//     with a negative Threshold or PerPending are refused and change
//     nothing; SetSplay fills zero fields with the defaults.

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// refClock is the virtual clock both the engine and the model read: the
// manual clock of the engine's own tests, which panics if the core ever
// arms a timer.
type refClock = manualClock

// refSub is one live subscription of the model.
type refSub struct {
	id    SubID
	conn  ConnID
	rs    ReadSet // a deep copy of the caller's
	ts    Timestamp
	age   uint64 // creation order; Refresh keeps it
	stale bool
	live  bool
}

// refEntry is one pending queue entry.
type refEntry struct {
	sub      *refSub
	ts       Timestamp
	enqueued time.Time
	ready    time.Time
	seq      uint64 // enqueue sequence
}

// refStats are the counters the contract defines, named as in Stats.
type refStats struct {
	Commits, Keys, Docs, MetadataWrites     uint64
	Invalidations, Late, FirstRuns          uint64
	Enqueued, Coalesced, Dequeued           uint64
	Overflows, ConnectionsClosed            uint64
	SubscriptionsClosed, Rejected, Shed     uint64
	MaxPending                              int
	LateHorizon                             uint64 // late checks decided by the horizon (not in Stats)
	RefusedAtEntry                          uint64 // ErrOverloaded before a subscription was made (not compared)
	HitsReturned, BatchHitsReturned, Update uint64 // coverage only
	EndedWithinCommit                       uint64 // hits on subscriptions an earlier overflow of the same commit ended (coverage only)
}

// refModel is the reference engine.
type refModel struct {
	clk        *refClock
	queueLimit int
	overflow   OverflowPolicy
	splay      Splay
	legacy     bool
	logLimit   int

	subs    []*refSub   // live subscriptions, oldest first
	queue   []*refEntry // pending entries, in enqueue order
	log     []Commit    // the last logLimit applied commits, oldest first
	horizon Timestamp   // TS of the newest commit dropped from the log
	lastTS  Timestamp

	lastID  SubID
	lastAge uint64
	seq     uint64
	notices []Notice
	stats   refStats
}

// refNew builds the model from a Config with the defaults of api.go.
func refNew(cfg Config, clk *refClock) (*refModel, error) {
	m := &refModel{clk: clk, queueLimit: cfg.QueueLimit, overflow: cfg.Overflow, legacy: cfg.LegacyMetadataReads, logLimit: cfg.WriteLogLimit}
	if m.queueLimit == 0 {
		m.queueLimit = DefaultQueueLimit
	}
	if m.queueLimit < 0 {
		return nil, fmt.Errorf("ref: queue limit %d", m.queueLimit)
	}
	if m.overflow > Shed {
		return nil, fmt.Errorf("ref: overflow %d", m.overflow)
	}
	if err := m.SetSplay(cfg.Splay); err != nil {
		return nil, err
	}
	if m.logLimit == 0 {
		m.logLimit = DefaultWriteLogLimit
	}
	if m.logLimit < 0 {
		m.logLimit = 0
	}
	return m, nil
}

// ---- the overlap rule ----

// refContains is [Start, End) by bytes.Compare; Unbounded has no upper end.
func refContains(iv Interval, key []byte) bool {
	if bytes.Compare(key, iv.Start) < 0 {
		return false
	}
	if iv.Unbounded {
		return true
	}
	return bytes.Compare(key, iv.End) < 0
}

// refSearchHitsDoc: every filter has an equal field in the doc, and some
// token equals a term or begins with a prefix.
func refSearchHitsDoc(q SearchRead, d SearchDoc) bool {
	for _, f := range q.Filters {
		ok := false
		for _, fd := range d.Fields {
			if fd.Field == f.Field && fd.Value == f.Value {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	for _, tok := range d.Tokens {
		for _, term := range q.Terms {
			if tok == term {
				return true
			}
		}
		for _, p := range q.Prefixes {
			if strings.HasPrefix(tok, p) {
				return true
			}
		}
	}
	return false
}

// refHits is the rule "commit C hits subscription S" with the legacy flag
// given.
func refHits(c *Commit, s *refSub, legacy bool) bool {
	if c.TS <= s.ts {
		return false
	}
	for _, k := range c.Keys {
		for _, r := range s.rs.Ranges {
			if r.Index == k.Index && refContains(r.Interval, k.Key) {
				return true
			}
		}
	}
	for _, d := range c.Docs {
		for _, q := range s.rs.Searches {
			if q.Index == d.Index && refSearchHitsDoc(q, d) {
				return true
			}
		}
	}
	for _, mw := range c.Metadata {
		if !legacy && !mw.ChangesSearchableData {
			continue // a write that changes nothing searchable hits nothing
		}
		x := mw.Index
		if slices.Contains(s.rs.Metadata, x) {
			return true
		}
		for _, q := range s.rs.Searches {
			if q.Index == x {
				return true
			}
		}
	}
	return false
}

// ---- validation ----

func refValidateReadSet(rs ReadSet) error {
	for _, r := range rs.Ranges {
		if r.Index == "" {
			return fmt.Errorf("ref: range without index: %w", ErrInvalidReadSet)
		}
		if !r.Unbounded && bytes.Compare(r.Start, r.End) >= 0 {
			return fmt.Errorf("ref: empty interval: %w", ErrInvalidReadSet)
		}
	}
	for _, q := range rs.Searches {
		if q.Index == "" {
			return fmt.Errorf("ref: search without index: %w", ErrInvalidReadSet)
		}
		if len(q.Terms) == 0 && len(q.Prefixes) == 0 {
			return fmt.Errorf("ref: search without terms: %w", ErrInvalidReadSet)
		}
	}
	for _, x := range rs.Metadata {
		if x == "" {
			return fmt.Errorf("ref: metadata read without index: %w", ErrInvalidReadSet)
		}
	}
	return nil
}

func refValidateCommit(c Commit) error {
	for _, k := range c.Keys {
		if k.Index == "" {
			return fmt.Errorf("ref: key without index: %w", ErrInvalidWriteSet)
		}
	}
	for _, d := range c.Docs {
		if d.Index == "" {
			return fmt.Errorf("ref: doc without index: %w", ErrInvalidWriteSet)
		}
	}
	for _, mw := range c.Metadata {
		if mw.Index == "" {
			return fmt.Errorf("ref: metadata write without index: %w", ErrInvalidWriteSet)
		}
	}
	return nil
}

// ---- deep copies (the caller may reuse its slices) ----

func refCloneReadSet(rs ReadSet) ReadSet {
	var out ReadSet
	for _, r := range rs.Ranges {
		out.Ranges = append(out.Ranges, IndexRange{Index: r.Index, Interval: Interval{
			Start: bytes.Clone(r.Start), End: bytes.Clone(r.End), Unbounded: r.Unbounded}})
	}
	for _, q := range rs.Searches {
		out.Searches = append(out.Searches, SearchRead{Index: q.Index,
			Terms: slices.Clone(q.Terms), Prefixes: slices.Clone(q.Prefixes), Filters: slices.Clone(q.Filters)})
	}
	out.Metadata = slices.Clone(rs.Metadata)
	return out
}

func refCloneCommit(c Commit) Commit {
	out := Commit{TS: c.TS, Metadata: slices.Clone(c.Metadata)}
	for _, k := range c.Keys {
		out.Keys = append(out.Keys, IndexKey{Index: k.Index, Key: bytes.Clone(k.Key)})
	}
	for _, d := range c.Docs {
		out.Docs = append(out.Docs, SearchDoc{Index: d.Index, Tokens: slices.Clone(d.Tokens), Fields: slices.Clone(d.Fields)})
	}
	return out
}

// ---- lookups ----

func (m *refModel) find(id SubID) *refSub {
	for _, s := range m.subs {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (m *refModel) entryOf(s *refSub) int {
	for i, e := range m.queue {
		if e.sub == s {
			return i
		}
	}
	return -1
}

// end removes a live subscription and its pending entry.
func (m *refModel) end(s *refSub) {
	if i := m.entryOf(s); i >= 0 {
		m.queue = slices.Delete(m.queue, i, i+1)
	}
	i := slices.Index(m.subs, s)
	m.subs = slices.Delete(m.subs, i, i+1)
	s.live = false
}

// closeConn ends every live subscription of conn and returns how many.
func (m *refModel) closeConn(conn ConnID) int {
	var victims []*refSub
	for _, s := range m.subs {
		if s.conn == conn {
			victims = append(victims, s)
		}
	}
	for _, s := range victims {
		m.end(s)
	}
	return len(victims)
}

// ---- ENQUEUE ----

// enqueue is ENQUEUE(sub, ts); it reports whether the subscription is still
// live afterwards.
func (m *refModel) enqueue(s *refSub, ts Timestamp) bool {
	if i := m.entryOf(s); i >= 0 {
		m.queue[i].ts = min(m.queue[i].ts, ts)
		m.stats.Coalesced++
		return true
	}
	if n := len(m.queue); n < m.queueLimit {
		if m.splay.Enabled && n > m.splay.Threshold {
			panic("refModel: splay would draw a random delay; the oracle must keep Threshold above the queue limit")
		}
		now := m.clk.Now()
		m.seq++
		m.queue = append(m.queue, &refEntry{sub: s, ts: ts, enqueued: now, ready: now, seq: m.seq})
		s.stale = false
		m.stats.Enqueued++
		m.stats.MaxPending = max(m.stats.MaxPending, len(m.queue))
		return true
	}
	m.stats.Overflows++
	switch m.overflow {
	case CloseOverloaded:
		k := m.closeConn(s.conn)
		m.stats.ConnectionsClosed++
		m.stats.SubscriptionsClosed += uint64(k)
		m.notices = append(m.notices, Notice{Kind: ConnectionClosed, Conn: s.conn, Sub: s.id, Reason: ReasonOverloaded, Subscriptions: k})
		return false
	case RejectSubscription:
		m.end(s)
		m.stats.Rejected++
		m.notices = append(m.notices, Notice{Kind: SubscriptionRejected, Conn: s.conn, Sub: s.id, Reason: ReasonOverloaded, Subscriptions: 1})
		return false
	default: // Shed
		s.stale = true
		m.stats.Shed++
		return true
	}
}

// lateCheck is the LATE CHECK of Subscribe and Refresh; it reports whether
// the subscription is still live.
func (m *refModel) lateCheck(s *refSub) bool {
	if s.ts == 0 { // never run: queued for its first run
		m.stats.FirstRuns++
		return m.enqueue(s, m.lastTS)
	}
	var at Timestamp
	if s.ts < m.horizon {
		at = m.horizon
		m.stats.LateHorizon++
	} else {
		for i := range m.log {
			if c := &m.log[i]; c.TS > s.ts && refHits(c, s, m.legacy) {
				at = c.TS
				break
			}
		}
	}
	if at == 0 {
		return true
	}
	m.stats.Late++
	return m.enqueue(s, at)
}

// ---- the API ----

func (m *refModel) Subscribe(conn ConnID, rs ReadSet, ts Timestamp) (SubID, error) {
	if err := refValidateReadSet(rs); err != nil {
		return 0, err
	}
	return m.subscribe(conn, rs, ts)
}

func (m *refModel) subscribe(conn ConnID, rs ReadSet, ts Timestamp) (SubID, error) {
	if m.overflow == RejectSubscription && len(m.queue) >= m.queueLimit {
		m.stats.RefusedAtEntry++
		return 0, fmt.Errorf("ref: queue full: %w", ErrOverloaded)
	}
	m.lastID++
	m.lastAge++
	s := &refSub{id: m.lastID, conn: conn, rs: refCloneReadSet(rs), ts: ts, age: m.lastAge, live: true}
	m.subs = append(m.subs, s)
	if !m.lateCheck(s) {
		return s.id, fmt.Errorf("ref: late and overflowed: %w", ErrOverloaded)
	}
	return s.id, nil
}

func (m *refModel) SubscribeAll(conn ConnID, sets []ReadSet, ts Timestamp) ([]SubID, error) {
	for _, rs := range sets {
		if err := refValidateReadSet(rs); err != nil {
			return nil, err
		}
	}
	var ids []SubID
	for _, rs := range sets {
		id, err := m.subscribe(conn, rs, ts)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (m *refModel) Refresh(id SubID, rs ReadSet, ts Timestamp) error {
	s := m.find(id)
	if s == nil {
		return fmt.Errorf("ref: refresh %d: %w", id, ErrUnknownSubscription)
	}
	if err := refValidateReadSet(rs); err != nil {
		return err
	}
	s.rs = refCloneReadSet(rs)
	s.ts = ts
	if i := m.entryOf(s); i >= 0 {
		m.queue = slices.Delete(m.queue, i, i+1)
	}
	s.stale = false
	if !m.lateCheck(s) {
		return fmt.Errorf("ref: refresh late and overflowed: %w", ErrOverloaded)
	}
	return nil
}

func (m *refModel) Unsubscribe(id SubID) bool {
	s := m.find(id)
	if s == nil {
		return false
	}
	m.end(s)
	return true
}

func (m *refModel) CloseConnection(conn ConnID) int { return m.closeConn(conn) }

// match is the rule applied to every live subscription, oldest first.
func (m *refModel) match(c *Commit) []*refSub {
	var hit []*refSub
	for _, s := range m.subs {
		if refHits(c, s, m.legacy) {
			hit = append(hit, s)
		}
	}
	return hit
}

func (m *refModel) Match(c Commit) ([]Hit, error) {
	if err := refValidateCommit(c); err != nil {
		return nil, err
	}
	var hits []Hit
	for _, s := range m.match(&c) {
		hits = append(hits, Hit{Sub: s.id, Conn: s.conn, TS: c.TS})
	}
	return hits, nil
}

// apply applies one validated commit and returns the subscriptions it hit,
// oldest first.
func (m *refModel) apply(c Commit) []*refSub {
	c = refCloneCommit(c)
	hit := m.match(&c)
	for _, s := range hit {
		if s.live { // an earlier overflow in this commit may have ended it
			m.enqueue(s, c.TS)
		} else {
			m.stats.EndedWithinCommit++
		}
	}
	m.log = append(m.log, c)
	for len(m.log) > m.logLimit {
		m.horizon = m.log[0].TS
		m.log = m.log[1:]
	}
	m.lastTS = c.TS
	m.stats.Commits++
	m.stats.Keys += uint64(len(c.Keys))
	m.stats.Docs += uint64(len(c.Docs))
	m.stats.MetadataWrites += uint64(len(c.Metadata))
	m.stats.Invalidations += uint64(len(hit))
	return hit
}

func (m *refModel) Commit(c Commit) ([]Hit, error) {
	if err := refValidateCommit(c); err != nil {
		return nil, err
	}
	if c.TS <= m.lastTS {
		return nil, fmt.Errorf("ref: commit %d after %d: %w", c.TS, m.lastTS, ErrCommitOrder)
	}
	var hits []Hit
	for _, s := range m.apply(c) {
		hits = append(hits, Hit{Sub: s.id, Conn: s.conn, TS: c.TS})
	}
	m.stats.HitsReturned += uint64(len(hits))
	return hits, nil
}

func (m *refModel) CommitBatch(cs []Commit) ([]Hit, error) {
	last := m.lastTS
	for _, c := range cs {
		if err := refValidateCommit(c); err != nil {
			return nil, err
		}
		if c.TS <= last {
			return nil, fmt.Errorf("ref: batch commit %d after %d: %w", c.TS, last, ErrCommitOrder)
		}
		last = c.TS
	}
	type first struct {
		s  *refSub
		ts Timestamp
	}
	var firsts []first
	for _, c := range cs {
		for _, s := range m.apply(c) {
			seen := false
			for _, f := range firsts {
				if f.s == s {
					seen = true // commits come in TS order: the first is the earliest
				}
			}
			if !seen {
				firsts = append(firsts, first{s, c.TS})
			}
		}
	}
	sort.SliceStable(firsts, func(i, j int) bool {
		if firsts[i].ts != firsts[j].ts {
			return firsts[i].ts < firsts[j].ts
		}
		return firsts[i].s.age < firsts[j].s.age
	})
	var hits []Hit
	for _, f := range firsts {
		hits = append(hits, Hit{Sub: f.s.id, Conn: f.s.conn, TS: f.ts})
	}
	m.stats.BatchHitsReturned += uint64(len(hits))
	return hits, nil
}

// head is the entry with the smallest (Ready, enqueue sequence), or -1.
func (m *refModel) head() int {
	best := -1
	for i, e := range m.queue {
		if best < 0 {
			best = i
			continue
		}
		b := m.queue[best]
		if e.ready.Before(b.ready) || (e.ready.Equal(b.ready) && e.seq < b.seq) {
			best = i
		}
	}
	return best
}

func (m *refModel) Next() (Update, bool) {
	i := m.head()
	if i < 0 || m.queue[i].ready.After(m.clk.Now()) {
		return Update{}, false
	}
	e := m.queue[i]
	m.queue = slices.Delete(m.queue, i, i+1)
	m.stats.Dequeued++
	m.stats.Update++
	return Update{Sub: e.sub.id, Conn: e.sub.conn, TS: e.ts, Enqueued: e.enqueued, Ready: e.ready}, true
}

func (m *refModel) NextReady() (time.Time, bool) {
	i := m.head()
	if i < 0 {
		return time.Time{}, false
	}
	return m.queue[i].ready, true
}

func (m *refModel) SetQueueLimit(n int) error {
	if n <= 0 {
		return fmt.Errorf("ref: queue limit %d", n)
	}
	m.queueLimit = n
	return nil
}

func (m *refModel) SetOverflow(p OverflowPolicy) error {
	if p > Shed {
		return fmt.Errorf("ref: overflow %d", p)
	}
	m.overflow = p
	return nil
}

func (m *refModel) SetSplay(s Splay) error {
	if s.Threshold == 0 {
		s.Threshold = DefaultSplayThreshold
	}
	if s.PerPending == 0 {
		s.PerPending = DefaultSplayPerPending
	}
	if s.Threshold < 0 || s.PerPending < 0 {
		return fmt.Errorf("ref: splay %+v", s)
	}
	m.splay = s
	return nil
}

func (m *refModel) SetLegacyMetadataReads(on bool) { m.legacy = on }

func (m *refModel) TakeNotices() []Notice {
	out := m.notices
	m.notices = nil
	return out
}

func (m *refModel) Pending() int { return len(m.queue) }

func (m *refModel) Subscriptions() int { return len(m.subs) }

func (m *refModel) Connections() int {
	var conns []ConnID
	for _, s := range m.subs {
		if !slices.Contains(conns, s.conn) {
			conns = append(conns, s.conn)
		}
	}
	return len(conns)
}

func (m *refModel) Stale() int {
	n := 0
	for _, s := range m.subs {
		if s.stale {
			n++
		}
	}
	return n
}

func (m *refModel) IsLive(id SubID) bool { return m.find(id) != nil }

func (m *refModel) IsPending(id SubID) bool {
	s := m.find(id)
	return s != nil && m.entryOf(s) >= 0
}

func (m *refModel) LastCommit() Timestamp { return m.lastTS }

// refStatsOf projects the engine's Stats onto the counters the model keeps.
func refStatsOf(s Stats) refStats {
	return refStats{
		Commits: s.Commits, Keys: s.Keys, Docs: s.Docs, MetadataWrites: s.MetadataWrites,
		Invalidations: s.Invalidations, Late: s.Late, FirstRuns: s.FirstRuns,
		Enqueued: s.Enqueued, Coalesced: s.Coalesced, Dequeued: s.Dequeued,
		Overflows: s.Overflows, ConnectionsClosed: s.ConnectionsClosed,
		SubscriptionsClosed: s.SubscriptionsClosed, Rejected: s.Rejected, Shed: s.Shed,
		MaxPending: s.MaxPending,
	}
}

// shared returns the counters both sides keep (the coverage-only ones
// zeroed).
func (s refStats) shared() refStats {
	s.LateHorizon, s.RefusedAtEntry, s.HitsReturned, s.BatchHitsReturned, s.Update, s.EndedWithinCommit = 0, 0, 0, 0, 0, 0
	return s
}
