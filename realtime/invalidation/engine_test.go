package invalidation

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"stormglass/realtime/clock"
)

// manualClock is a clock that moves only when told.
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }
func (c *manualClock) AfterFunc(time.Duration, func()) clock.Timer {
	panic("the engine core must not arm timers")
}

func newTestEngine(t testing.TB, cfg Config) (*Engine, *manualClock) {
	t.Helper()
	clk := &manualClock{now: time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)}
	e, err := New(cfg, clk, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	return e, clk
}

func mustSub(t testing.TB, e *Engine, conn ConnID, rs ReadSet, ts Timestamp) SubID {
	t.Helper()
	id, err := e.Subscribe(conn, rs, ts)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustCommit(t testing.TB, e *Engine, c Commit) []Hit {
	t.Helper()
	hits, err := e.Commit(c)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(hits)
}

func subsOf(hits []Hit) []SubID {
	out := make([]SubID, len(hits))
	for i, h := range hits {
		out[i] = h.Sub
	}
	return out
}

func rangeRead(index string, iv Interval) ReadSet {
	return ReadSet{Ranges: []IndexRange{{Index: index, Interval: iv}}}
}

func searchReadSet(index string, terms ...string) ReadSet {
	return ReadSet{Searches: []SearchRead{{Index: index, Terms: terms}}}
}

func TestIntervalHelpers(t *testing.T) {
	cases := []struct {
		name string
		iv   Interval
		in   []string
		out  []string
	}{
		{"point", Point([]byte("b")), []string{"b"}, []string{"a", "b\x00", "ba", "c", ""}},
		{"span", Span([]byte("b"), []byte("d")), []string{"b", "c", "czz"}, []string{"a", "d", "da"}},
		{"from", From([]byte("m")), []string{"m", "z", "\xff\xff"}, []string{"", "l"}},
		{"prefix", Prefix([]byte("ab")), []string{"ab", "ab\x00", "abzz", "ab\xff"}, []string{"a", "ac", "b"}},
		{"prefix ff", Prefix([]byte("a\xff")), []string{"a\xff", "a\xff\xff"}, []string{"a", "b", "a\xfe"}},
		{"prefix all ff", Prefix([]byte("\xff")), []string{"\xff", "\xff\x01"}, []string{"\xfe"}},
		{"everything", Interval{Unbounded: true}, []string{"", "a"}, nil},
	}
	for _, c := range cases {
		for _, k := range c.in {
			if !c.iv.Contains([]byte(k)) {
				t.Errorf("%s: %q should be inside", c.name, k)
			}
		}
		for _, k := range c.out {
			if c.iv.Contains([]byte(k)) {
				t.Errorf("%s: %q should be outside", c.name, k)
			}
		}
	}
}

func TestRangeAndPointReads(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	conv := mustSub(t, e, 1, rangeRead("messages.by_conv", Prefix([]byte("c1/"))), 1)
	user := mustSub(t, e, 2, rangeRead("users.by_id", Point([]byte("u7"))), 1)
	other := mustSub(t, e, 3, rangeRead("messages.by_conv", Prefix([]byte("c2/"))), 1)

	hits := mustCommit(t, e, Commit{TS: 2, Keys: []IndexKey{
		{Index: "messages.by_conv", Key: []byte("c1/0042")},
		{Index: "users.by_id", Key: []byte("u7")},
		{Index: "users.by_id", Key: []byte("u70")}, // not the point read
	}})
	if got, want := subsOf(hits), []SubID{conv, user}; !slices.Equal(got, want) {
		t.Fatalf("hits = %v, want %v", got, want)
	}
	for _, h := range hits {
		if h.TS != 2 {
			t.Errorf("hit %v: TS = %d, want 2", h, h.TS)
		}
	}
	if e.IsPending(other) {
		t.Error("the other conversation's subscription was queued")
	}
	// A key on an index nobody reads, and the same key on another index,
	// hit nothing.
	if hits := mustCommit(t, e, Commit{TS: 3, Keys: []IndexKey{{Index: "users.by_id", Key: []byte("c1/0042")}, {Index: "nobody", Key: []byte("u7")}}}); len(hits) != 0 {
		t.Fatalf("hits on the wrong index: %v", hits)
	}
}

func TestCommitAtOrBeforeTheSubscriptionsTimestampDoesNotHit(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	id := mustSub(t, e, 1, rangeRead("t", Point([]byte("k"))), 10)
	if hits := mustCommit(t, e, Commit{TS: 10, Keys: []IndexKey{{Index: "t", Key: []byte("k")}}}); len(hits) != 0 {
		t.Fatalf("a commit the query already saw invalidated it: %v", hits)
	}
	if hits := mustCommit(t, e, Commit{TS: 11, Keys: []IndexKey{{Index: "t", Key: []byte("k")}}}); !slices.Equal(subsOf(hits), []SubID{id}) {
		t.Fatalf("hits = %v, want [%d]", hits, id)
	}
}

func TestSearchTermsPrefixesAndFilters(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	hello := mustSub(t, e, 1, searchReadSet("messages.search", "hello"), 1)
	prefix := mustSub(t, e, 2, ReadSet{Searches: []SearchRead{{Index: "messages.search", Prefixes: []string{"wor"}}}}, 1)
	filtered := mustSub(t, e, 3, ReadSet{Searches: []SearchRead{{
		Index: "messages.search", Terms: []string{"hello"}, Filters: []FieldEq{{Field: "channel", Value: "c1"}},
	}}}, 1)
	otherIndex := mustSub(t, e, 4, searchReadSet("docs.search", "hello"), 1)

	hits := mustCommit(t, e, Commit{TS: 2, Docs: []SearchDoc{{
		Index: "messages.search", Tokens: []string{"hello", "world"}, Fields: []FieldEq{{Field: "channel", Value: "c2"}},
	}}})
	if got, want := subsOf(hits), []SubID{hello, prefix}; !slices.Equal(got, want) {
		t.Fatalf("hits = %v, want %v (filter c1 must not match a c2 document)", got, want)
	}
	hits = mustCommit(t, e, Commit{TS: 3, Docs: []SearchDoc{{
		Index: "messages.search", Tokens: []string{"hello"}, Fields: []FieldEq{{Field: "channel", Value: "c1"}},
	}}})
	if got, want := subsOf(hits), []SubID{hello, filtered}; !slices.Equal(got, want) {
		t.Fatalf("hits = %v, want %v", got, want)
	}
	hits = mustCommit(t, e, Commit{TS: 4, Docs: []SearchDoc{{Index: "messages.search", Tokens: []string{"wo", "helloo"}}}})
	if len(hits) != 0 {
		t.Fatalf("a shorter token than the prefix, or a longer one than the term, matched: %v", hits)
	}
	if e.IsPending(otherIndex) {
		t.Fatal("a document on one search index hit a search on another")
	}
}

// The rule the 2025 fix introduced: a flush or compaction that changes no
// searchable data never invalidates anything, whoever read the index.
func TestNoOpCompactionInvalidatesNothing(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	mustSub(t, e, 1, searchReadSet("messages.search", "hello"), 1)
	mustSub(t, e, 2, ReadSet{Metadata: []string{"messages.search"}}, 1)
	mustSub(t, e, 3, rangeRead("messages.search", Interval{Unbounded: true}), 1)
	for ts := Timestamp(2); ts < 50; ts++ {
		hits := mustCommit(t, e, Commit{TS: ts, Metadata: []MetadataWrite{{Index: "messages.search"}}})
		if len(hits) != 0 {
			t.Fatalf("compaction at %d invalidated %v", ts, hits)
		}
	}
	if e.Pending() != 0 || e.Stats().Invalidations != 0 {
		t.Fatalf("pending %d, invalidations %d, want none", e.Pending(), e.Stats().Invalidations)
	}
}

func TestMetadataWriteThatChangesSearchableData(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	search := mustSub(t, e, 1, searchReadSet("messages.search", "hello"), 1)
	meta := mustSub(t, e, 2, ReadSet{Metadata: []string{"messages.search"}}, 1)
	mustSub(t, e, 3, rangeRead("messages.search", Interval{Unbounded: true}), 1)
	mustSub(t, e, 4, searchReadSet("other.search", "hello"), 1)
	hits := mustCommit(t, e, Commit{TS: 2, Metadata: []MetadataWrite{{Index: "messages.search", ChangesSearchableData: true}}})
	if got, want := subsOf(hits), []SubID{search, meta}; !slices.Equal(got, want) {
		t.Fatalf("hits = %v, want %v", got, want)
	}
}

// LegacyMetadataReads reproduces the bug: every compaction invalidates every
// search subscription on the index, and only those.
func TestLegacyMetadataReadsInvalidateEverySearchOnTheIndex(t *testing.T) {
	e, _ := newTestEngine(t, Config{LegacyMetadataReads: true})
	var want []SubID
	for i := range 500 {
		id := mustSub(t, e, ConnID(i), searchReadSet("messages.search", "w"+string(rune('a'+i%26))), 1)
		want = append(want, id)
		mustSub(t, e, ConnID(i), searchReadSet("other.search", "x"), 1)
		mustSub(t, e, ConnID(i), rangeRead("messages.by_conv", Prefix([]byte{byte(i)})), 1)
	}
	hits := mustCommit(t, e, Commit{TS: 2, Metadata: []MetadataWrite{{Index: "messages.search"}}})
	if got := subsOf(hits); !slices.Equal(got, want) {
		t.Fatalf("legacy compaction hit %d subscriptions, want exactly the %d searches on the index", len(got), len(want))
	}
	// The fix, deployed live, stops it from the next commit.
	e.SetLegacyMetadataReads(false)
	if hits := mustCommit(t, e, Commit{TS: 3, Metadata: []MetadataWrite{{Index: "messages.search"}}}); len(hits) != 0 {
		t.Fatalf("after the fix a compaction hit %d", len(hits))
	}
}

func TestCoalescingKeepsOneEntryWithTheEarliestTimestamp(t *testing.T) {
	e, clk := newTestEngine(t, Config{})
	id := mustSub(t, e, 1, rangeRead("t", Prefix([]byte("a"))), 1)
	first := clk.now.Add(time.Millisecond) // the first commit comes 1 ms in
	for ts := Timestamp(2); ts <= 6; ts++ {
		clk.now = clk.now.Add(time.Millisecond)
		mustCommit(t, e, Commit{TS: ts, Keys: []IndexKey{{Index: "t", Key: []byte("a1")}}})
	}
	if e.Pending() != 1 {
		t.Fatalf("pending = %d, want 1", e.Pending())
	}
	if s := e.Stats(); s.Enqueued != 1 || s.Coalesced != 4 || s.Invalidations != 5 {
		t.Fatalf("stats = %+v, want 1 enqueued, 4 coalesced, 5 invalidations", s)
	}
	u, ok := e.Next()
	if !ok || u.Sub != id || u.TS != 2 || !u.Enqueued.Equal(first) || !u.Ready.Equal(first) {
		t.Fatalf("Next = %+v, %v; want sub %d at TS 2 enqueued %v", u, ok, id, first)
	}
	if _, ok := e.Next(); ok {
		t.Fatal("a second update for one subscription")
	}
}

func TestCommitBatchReportsEarliestTimestampInOrder(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	a := mustSub(t, e, 1, rangeRead("t", Point([]byte("a"))), 1)
	b := mustSub(t, e, 1, rangeRead("t", Point([]byte("b"))), 1)
	hits, err := e.CommitBatch([]Commit{
		{TS: 5, Keys: []IndexKey{{Index: "t", Key: []byte("b")}}},
		{TS: 6, Keys: []IndexKey{{Index: "t", Key: []byte("a")}, {Index: "t", Key: []byte("b")}}},
		{TS: 7, Keys: []IndexKey{{Index: "t", Key: []byte("a")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Hit{{Sub: b, Conn: 1, TS: 5}, {Sub: a, Conn: 1, TS: 6}}
	if !slices.Equal(hits, want) {
		t.Fatalf("batch hits = %v, want %v", hits, want)
	}
	// A batch with one bad item applies nothing.
	_, err = e.CommitBatch([]Commit{{TS: 8}, {TS: 8}})
	if !errors.Is(err, ErrCommitOrder) || e.LastCommit() != 7 {
		t.Fatalf("err = %v, last commit %d; want ErrCommitOrder and nothing applied", err, e.LastCommit())
	}
}

// overflowSetup fills a queue of limit 2 and returns the engine and a
// subscription on connection 9 (which also has a second subscription) that
// the next commit will overflow.
func overflowSetup(t *testing.T, policy OverflowPolicy) (e *Engine, victim, sibling SubID) {
	t.Helper()
	e, _ = newTestEngine(t, Config{QueueLimit: 2, Overflow: policy})
	mustSub(t, e, 1, rangeRead("t", Point([]byte("a"))), 1)
	mustSub(t, e, 2, rangeRead("t", Point([]byte("b"))), 1)
	victim = mustSub(t, e, 9, rangeRead("t", Point([]byte("c"))), 1)
	sibling = mustSub(t, e, 9, rangeRead("t", Point([]byte("d"))), 1)
	mustCommit(t, e, Commit{TS: 2, Keys: []IndexKey{{Index: "t", Key: []byte("a")}, {Index: "t", Key: []byte("b")}}})
	if e.Pending() != 2 {
		t.Fatalf("pending = %d, want a full queue of 2", e.Pending())
	}
	mustCommit(t, e, Commit{TS: 3, Keys: []IndexKey{{Index: "t", Key: []byte("c")}}})
	return e, victim, sibling
}

func TestOverflowCloseOverloaded(t *testing.T) {
	e, victim, sibling := overflowSetup(t, CloseOverloaded)
	if e.IsLive(victim) || e.IsLive(sibling) {
		t.Fatal("the overloaded connection's subscriptions survived")
	}
	want := []Notice{{Kind: ConnectionClosed, Conn: 9, Sub: victim, Reason: ReasonOverloaded, Subscriptions: 2}}
	if got := e.TakeNotices(); !slices.Equal(got, want) {
		t.Fatalf("notices = %+v, want %+v", got, want)
	}
	if s := e.Stats(); s.Overflows != 1 || s.ConnectionsClosed != 1 || s.SubscriptionsClosed != 2 {
		t.Fatalf("stats = %+v", s)
	}
	if e.TakeNotices() != nil {
		t.Fatal("TakeNotices must forget what it returned")
	}
	// The reconnecting client re-subscribes all its queries at once.
	ids, err := e.SubscribeAll(9, []ReadSet{rangeRead("t", Point([]byte("c"))), rangeRead("t", Point([]byte("d")))}, 3)
	if err != nil || len(ids) != 2 || !e.IsLive(ids[0]) || !e.IsLive(ids[1]) {
		t.Fatalf("resubscribe = %v, %v", ids, err)
	}
}

func TestOverflowRejectSubscription(t *testing.T) {
	e, victim, sibling := overflowSetup(t, RejectSubscription)
	if e.IsLive(victim) || !e.IsLive(sibling) {
		t.Fatal("reject must end only the overflowing subscription")
	}
	want := []Notice{{Kind: SubscriptionRejected, Conn: 9, Sub: victim, Reason: ReasonOverloaded, Subscriptions: 1}}
	if got := e.TakeNotices(); !slices.Equal(got, want) {
		t.Fatalf("notices = %+v, want %+v", got, want)
	}
	if _, err := e.Subscribe(5, rangeRead("t", Point([]byte("z"))), 3); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("subscribe on a full queue: err = %v, want ErrOverloaded", err)
	}
	if s := e.Stats(); s.Rejected != 1 || s.RefusedSubscribes != 1 {
		t.Fatalf("stats = %+v", s)
	}
	e.Next()
	if _, err := e.Subscribe(5, rangeRead("t", Point([]byte("z"))), 3); err != nil {
		t.Fatalf("subscribe once the queue has room: %v", err)
	}
}

func TestOverflowShed(t *testing.T) {
	e, victim, sibling := overflowSetup(t, Shed)
	if !e.IsLive(victim) || !e.IsLive(sibling) || e.IsPending(victim) {
		t.Fatal("shed must keep the subscription live and unqueued")
	}
	if e.Stale() != 1 || e.Stats().Shed != 1 || e.TakeNotices() != nil {
		t.Fatalf("stale %d, shed %d; want 1 and 1, no notice", e.Stale(), e.Stats().Shed)
	}
	// Once there is room, the next invalidation queues it and it is no
	// longer stale.
	e.Next()
	mustCommit(t, e, Commit{TS: 4, Keys: []IndexKey{{Index: "t", Key: []byte("c")}}})
	if !e.IsPending(victim) || e.Stale() != 0 {
		t.Fatalf("pending %v, stale %d", e.IsPending(victim), e.Stale())
	}
}

func TestRaisingTheQueueLimitLive(t *testing.T) {
	e, _ := newTestEngine(t, Config{QueueLimit: 1, Overflow: Shed})
	for i := range 5 {
		mustSub(t, e, ConnID(i), rangeRead("t", Point([]byte{byte(i)})), 1)
	}
	if err := e.SetQueueLimit(0); err == nil {
		t.Fatal("a zero queue limit was accepted")
	}
	mustCommit(t, e, Commit{TS: 2, Keys: []IndexKey{{Index: "t", Key: []byte{0}}, {Index: "t", Key: []byte{1}}}})
	if err := e.SetQueueLimit(10); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, e, Commit{TS: 3, Keys: []IndexKey{{Index: "t", Key: []byte{2}}, {Index: "t", Key: []byte{3}}}})
	if e.Pending() != 3 || e.Stats().Shed != 1 {
		t.Fatalf("pending %d, shed %d; want 3 and 1", e.Pending(), e.Stats().Shed)
	}
}

// Splay: with more than Threshold pending, each new entry waits a uniform
// delay in [0, n × PerPending]; at or below it, none.
func TestSplayBoundsAndSpread(t *testing.T) {
	const subs = 2000
	e, clk := newTestEngine(t, Config{QueueLimit: subs, Splay: Splay{Enabled: true}})
	for i := range subs {
		mustSub(t, e, ConnID(i), rangeRead("t", Point([]byte{byte(i >> 8), byte(i)})), 1)
	}
	ts := Timestamp(2)
	var fractions []float64
	for i := range subs {
		mustCommit(t, e, Commit{TS: ts, Keys: []IndexKey{{Index: "t", Key: []byte{byte(i >> 8), byte(i)}}}})
		ts++
	}
	// Read back every entry's delay: drain with the clock far ahead.
	start := clk.now
	clk.now = clk.now.Add(time.Hour)
	got := 0
	var last time.Time
	for {
		u, ok := e.Next()
		if !ok {
			break
		}
		if u.Ready.Before(last) {
			t.Fatalf("updates left out of ready order: %v after %v", u.Ready, last)
		}
		last = u.Ready
		if !u.Enqueued.Equal(start) {
			t.Fatalf("enqueued %v, want %v", u.Enqueued, start)
		}
		// The subscription at key i was the i-th invalidation, made with i
		// entries pending.
		i := int(u.Sub) - 1
		delay := u.Ready.Sub(u.Enqueued)
		bound := time.Duration(i) * DefaultSplayPerPending
		switch {
		case i <= DefaultSplayThreshold && delay != 0:
			t.Fatalf("entry made with %d pending was delayed %v; the threshold is %d", i, delay, DefaultSplayThreshold)
		case delay < 0 || delay > bound:
			t.Fatalf("entry made with %d pending was delayed %v, outside [0, %v]", i, delay, bound)
		case i > DefaultSplayThreshold:
			fractions = append(fractions, float64(delay)/float64(bound))
		}
		got++
	}
	if got != subs {
		t.Fatalf("drained %d updates, want %d", got, subs)
	}
	if s := e.Stats().Splayed; s != uint64(len(fractions)) {
		t.Fatalf("splayed = %d, want %d", s, len(fractions))
	}
	// delay/bound is uniform on [0,1]: mean 1/2, standard deviation
	// 1/sqrt(12); allow four standard errors.
	var sum float64
	for _, f := range fractions {
		sum += f
	}
	mean := sum / float64(len(fractions))
	if se := 1 / math.Sqrt(12*float64(len(fractions))); math.Abs(mean-0.5) > 4*se {
		t.Fatalf("mean delay fraction %.4f, want 0.5 ± %.4f", mean, 4*se)
	}
}

func TestNextWaitsForTheSplayDelay(t *testing.T) {
	e, clk := newTestEngine(t, Config{Splay: Splay{Enabled: true, Threshold: 1, PerPending: time.Second}})
	for i := range 3 {
		mustSub(t, e, ConnID(i), rangeRead("t", Point([]byte{byte(i)})), 1)
	}
	mustCommit(t, e, Commit{TS: 2, Keys: []IndexKey{{Index: "t", Key: []byte{0}}, {Index: "t", Key: []byte{1}}, {Index: "t", Key: []byte{2}}}})
	// Two entries are ready now; the third (made with 2 > 1 pending) waits
	// up to 2 s.
	for range 2 {
		if _, ok := e.Next(); !ok {
			t.Fatal("an undelayed entry was not ready")
		}
	}
	ready, ok := e.NextReady()
	if !ok || ready.Before(clk.now) || ready.After(clk.now.Add(2*time.Second)) {
		t.Fatalf("NextReady = %v, %v", ready, ok)
	}
	if ready.After(clk.now) {
		if _, ok := e.Next(); ok {
			t.Fatal("Next returned an entry before its splay delay ran out")
		}
	}
	clk.now = ready
	if _, ok := e.Next(); !ok {
		t.Fatal("the entry was not ready at its ready time")
	}
}

func TestLifecycle(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	a := mustSub(t, e, 1, rangeRead("t", Point([]byte("a"))), 1)
	b := mustSub(t, e, 1, searchReadSet("s", "x"), 1)
	c := mustSub(t, e, 2, rangeRead("t", Point([]byte("a"))), 1)
	if e.Subscriptions() != 3 || e.Connections() != 2 {
		t.Fatalf("subs %d conns %d", e.Subscriptions(), e.Connections())
	}
	mustCommit(t, e, Commit{TS: 2, Keys: []IndexKey{{Index: "t", Key: []byte("a")}}})
	if !e.Unsubscribe(c) || e.Unsubscribe(c) || e.IsPending(c) || e.Pending() != 1 {
		t.Fatal("unsubscribe must end the subscription once and drop its pending update")
	}
	if n := e.CloseConnection(1); n != 2 || e.IsLive(a) || e.IsLive(b) || e.Pending() != 0 || e.Connections() != 0 {
		t.Fatalf("close connection ended %d", n)
	}
	if hits := mustCommit(t, e, Commit{TS: 3, Keys: []IndexKey{{Index: "t", Key: []byte("a")}}, Docs: []SearchDoc{{Index: "s", Tokens: []string{"x"}}}}); len(hits) != 0 {
		t.Fatalf("ended subscriptions were hit: %v", hits)
	}
	if err := e.Refresh(a, ReadSet{}, 3); !errors.Is(err, ErrUnknownSubscription) {
		t.Fatalf("refresh of an ended subscription: %v", err)
	}
}

func TestRefreshReplacesTheReadSet(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	id := mustSub(t, e, 1, rangeRead("t", Point([]byte("a"))), 1)
	mustCommit(t, e, Commit{TS: 2, Keys: []IndexKey{{Index: "t", Key: []byte("a")}}})
	u, _ := e.Next()
	// The re-run at 2 now reads "b" instead of "a".
	if err := e.Refresh(u.Sub, rangeRead("t", Point([]byte("b"))), 2); err != nil {
		t.Fatal(err)
	}
	if hits := mustCommit(t, e, Commit{TS: 3, Keys: []IndexKey{{Index: "t", Key: []byte("a")}}}); len(hits) != 0 {
		t.Fatal("the old read set still invalidates")
	}
	if hits := mustCommit(t, e, Commit{TS: 4, Keys: []IndexKey{{Index: "t", Key: []byte("b")}}}); !slices.Equal(subsOf(hits), []SubID{id}) {
		t.Fatal("the new read set does not invalidate")
	}
	// A refresh drops the pending update the re-run covered.
	if err := e.Refresh(id, rangeRead("t", Point([]byte("b"))), 4); err != nil || e.IsPending(id) {
		t.Fatalf("refresh at 4: %v, pending %v", err, e.IsPending(id))
	}
}

// A query that ran at an older timestamp is checked against the commits
// since, from the write log; beyond the log it is invalid conservatively.
func TestLateSubscriptionUsesTheWriteLog(t *testing.T) {
	e, _ := newTestEngine(t, Config{WriteLogLimit: 3})
	for ts := Timestamp(1); ts <= 6; ts++ { // log keeps 4, 5, 6; horizon 3
		mustCommit(t, e, Commit{TS: ts, Keys: []IndexKey{{Index: "t", Key: []byte{byte('a' + ts)}}}})
	}
	clean := mustSub(t, e, 1, rangeRead("t", Point([]byte("z"))), 3)
	if e.IsPending(clean) {
		t.Fatal("a subscription no logged commit hits was queued")
	}
	hit := mustSub(t, e, 2, rangeRead("t", Span([]byte("e"), []byte("h"))), 3) // keys e(4) f(5) g(6)
	tooOld := mustSub(t, e, 3, rangeRead("t", Point([]byte("z"))), 2)
	for _, c := range []struct {
		id SubID
		ts Timestamp
	}{{hit, 4}, {tooOld, 3}} {
		if !e.IsPending(c.id) {
			t.Fatalf("subscription %d not queued", c.id)
		}
	}
	u1, _ := e.Next()
	u2, _ := e.Next()
	if u1.Sub != hit || u1.TS != 4 || u2.Sub != tooOld || u2.TS != 3 {
		t.Fatalf("updates %+v %+v; want hit at 4 (earliest logged hit) and too-old at the horizon 3", u1, u2)
	}
	if e.Stats().Late != 2 {
		t.Fatalf("late = %d, want 2", e.Stats().Late)
	}
}

func TestBadInputIsRefusedWithItsField(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	bad := []struct {
		rs   ReadSet
		want string
	}{
		{rangeRead("", Point([]byte("a"))), "ranges[0]: no index name"},
		{rangeRead("t", Span([]byte("b"), []byte("b"))), `ranges[0] on "t": empty interval`},
		{ReadSet{Searches: []SearchRead{{Index: "s"}}}, `searches[0] on "s": no terms`},
		{ReadSet{Metadata: []string{"ok", ""}}, "metadata[1]: no index name"},
	}
	for _, b := range bad {
		_, err := e.Subscribe(1, b.rs, 1)
		if !errors.Is(err, ErrInvalidReadSet) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("err = %v, want ErrInvalidReadSet mentioning %q", err, b.want)
		}
	}
	if e.Subscriptions() != 0 {
		t.Fatal("a refused read set was registered")
	}
	if _, err := e.Commit(Commit{TS: 1, Docs: []SearchDoc{{Tokens: []string{"x"}}}}); !errors.Is(err, ErrInvalidWriteSet) || !strings.Contains(err.Error(), "docs[0]") {
		t.Errorf("commit without index: %v", err)
	}
	mustCommit(t, e, Commit{TS: 5})
	if _, err := e.Commit(Commit{TS: 5}); !errors.Is(err, ErrCommitOrder) {
		t.Errorf("repeated timestamp: %v", err)
	}
	for _, cfg := range []Config{{QueueLimit: -1}, {Overflow: 9}, {Splay: Splay{Threshold: -1}}} {
		if _, err := New(cfg, &manualClock{}, rand.NewPCG(1, 1)); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if _, err := ParseOverflowPolicy("drop"); err == nil {
		t.Error("unknown policy name accepted")
	}
	for _, p := range []OverflowPolicy{CloseOverloaded, RejectSubscription, Shed} {
		if q, err := ParseOverflowPolicy(p.String()); err != nil || q != p {
			t.Errorf("round trip of %v: %v, %v", p, q, err)
		}
	}
}

// Config returns knobs that mean the same thing when given back to New:
// a saved configuration must not turn "no write log" into the default.
func TestConfigRoundTrips(t *testing.T) {
	for _, cfg := range []Config{{}, {WriteLogLimit: -1, QueueLimit: 7, Overflow: Shed, LegacyMetadataReads: true}, {Splay: Splay{Enabled: true, Threshold: 3}}} {
		e, _ := newTestEngine(t, cfg)
		again, _ := newTestEngine(t, e.Config())
		if e.Config() != again.Config() {
			t.Errorf("config %+v became %+v after a round trip", e.Config(), again.Config())
		}
	}
}

// A subscription made at timestamp zero has not run: it waits for its first
// run in the bounded queue, and a full queue closes its connection as an
// overflowing invalidation would: a reconnect storm overflows the queue.
func TestFirstRunsGoThroughTheQueue(t *testing.T) {
	e, _ := newTestEngine(t, Config{QueueLimit: 2})
	if _, err := e.Commit(Commit{TS: 7, Keys: []IndexKey{{Index: "t", Key: []byte("a")}}}); err != nil {
		t.Fatal(err)
	}
	ids, err := e.SubscribeAll(1, []ReadSet{rangeRead("t", Point([]byte("x"))), rangeRead("t", Point([]byte("y")))}, 0)
	if err != nil || len(ids) != 2 {
		t.Fatalf("first subscriptions: %v %v", ids, err)
	}
	for _, id := range ids {
		if !e.IsPending(id) {
			t.Fatalf("subscription %d at timestamp 0 not queued for its first run", id)
		}
	}
	computed := mustSub(t, e, 2, rangeRead("t", Point([]byte("w"))), 7)
	third, err := e.Subscribe(2, rangeRead("t", Point([]byte("z"))), 0)
	if !errors.Is(err, ErrOverloaded) || third != computed+1 {
		t.Fatalf("third first run with a queue of 2: id %d err %v, want id %d and ErrOverloaded", third, err, computed+1)
	}
	ns := e.TakeNotices()
	if len(ns) != 1 || ns[0].Conn != 2 || ns[0].Reason != ReasonOverloaded || ns[0].Sub != third || ns[0].Subscriptions != 2 {
		t.Fatalf("notices %+v; want connection 2 closed overloaded by subscription %d, ending 2", ns, third)
	}
	if e.IsLive(computed) || e.IsLive(third) || e.Subscriptions() != 2 {
		t.Fatalf("connection 2's subscriptions survived its closing (%d live)", e.Subscriptions())
	}
	u, ok := e.Next()
	if !ok || u.Sub != ids[0] || u.TS != 7 {
		t.Fatalf("next %+v %v; want the first subscription, to read at or after the last commit 7", u, ok)
	}
	if s := e.Stats(); s.FirstRuns != 3 || s.Late != 0 || s.Subscribed != 4 || s.Overflows != 1 || s.ConnectionsClosed != 1 || s.SubscriptionsClosed != 2 {
		t.Fatalf("stats %+v; want 3 first runs, none late, 4 subscribed, 1 overflow closing 1 connection of 2 subscriptions", s)
	}
}

// A batch of unrun queries the queue has room for only in part takes a
// shortcut (nothing indexed, nothing queued); its outcome must be the
// reference model's, which makes, queues and drops each subscription:
// every room from none to all but one, with and without earlier
// subscriptions on the connection.
func TestFirstRunBatchesCutShortMatchTheModel(t *testing.T) {
	for room := 0; room < 4; room++ {
		for _, earlier := range []bool{false, true} {
			cfg := Config{QueueLimit: 6, Overflow: CloseOverloaded}
			e, clk := newTestEngine(t, cfg)
			m, err := refNew(cfg, clk)
			if err != nil {
				t.Fatal(err)
			}
			both := func(f func(x interface {
				SubscribeAll(ConnID, []ReadSet, Timestamp) ([]SubID, error)
			}) ([]SubID, error)) {
				ei, ee := f(e)
				mi, me := f(m)
				if !slices.Equal(ei, mi) || errors.Is(ee, ErrOverloaded) != errors.Is(me, ErrOverloaded) {
					t.Fatalf("room %d, earlier %v: engine %v %v, model %v %v", room, earlier, ei, ee, mi, me)
				}
			}
			set := func(k string) ReadSet { return rangeRead("t", Point([]byte(k))) }
			if earlier {
				both(func(x interface {
					SubscribeAll(ConnID, []ReadSet, Timestamp) ([]SubID, error)
				}) ([]SubID, error) {
					return x.SubscribeAll(2, []ReadSet{set("e")}, 1)
				})
			}
			filler := make([]ReadSet, cfg.QueueLimit-room)
			for i := range filler {
				filler[i] = set(string(rune('a' + i)))
			}
			both(func(x interface {
				SubscribeAll(ConnID, []ReadSet, Timestamp) ([]SubID, error)
			}) ([]SubID, error) {
				return x.SubscribeAll(1, filler, 0)
			})
			both(func(x interface {
				SubscribeAll(ConnID, []ReadSet, Timestamp) ([]SubID, error)
			}) ([]SubID, error) {
				return x.SubscribeAll(2, []ReadSet{set("w"), set("x"), set("y"), set("z")}, 0)
			})
			if en, mn := e.TakeNotices(), m.TakeNotices(); !slices.Equal(en, mn) || len(en) != 1 {
				t.Fatalf("room %d, earlier %v: notices engine %+v, model %+v; want one closing connection 2", room, earlier, en, mn)
			}
			if es, ms := refStatsOf(e.Stats()), m.stats.shared(); es != ms {
				t.Fatalf("room %d, earlier %v: stats engine %+v, model %+v", room, earlier, es, ms)
			}
			if e.Pending() != m.Pending() || e.Subscriptions() != len(m.subs) {
				t.Fatalf("room %d, earlier %v: pending %d/%d, live %d/%d", room, earlier, e.Pending(), m.Pending(), e.Subscriptions(), len(m.subs))
			}
		}
	}
}
