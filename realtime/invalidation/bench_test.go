package invalidation

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The benchmark workload is a chat app: every subscription watches one
// conversation's messages (a prefix range on messages.by_conversation) and
// one user profile (a point read on users.by_id); one in five also runs a
// full-text search on messages.search with one or two Zipf-distributed
// words, filtered to its conversation (search within a chat). Ten subscribers per conversation, five per user. A commit is a new
// message: its conversation key and sender's profile key, plus the message's
// eight tokens; benchKeysPerCommit keys per commit in the key-only case.

const (
	benchConvIndex   = "messages.by_conversation"
	benchUserIndex   = "users.by_id"
	benchSearchIndex = "messages.search"
	benchVocabulary  = 50_000
	// benchKeysPerCommit is the commit size of the key-matching
	// benchmarks: a transaction that writes a few documents, each with an
	// old and a new key in a couple of indexes.
	benchKeysPerCommit = 16
)

type benchWorld struct {
	subs  int
	convs int
	users int
	zipf  *rand.Zipf
	rng   *rand.Rand
	words []string
}

func newBenchWorld(subs int) *benchWorld {
	rng := rand.New(rand.NewPCG(7, uint64(subs)))
	w := &benchWorld{
		subs:  subs,
		convs: max(1, subs/10),
		users: max(1, subs/5),
		rng:   rng,
		zipf:  rand.NewZipf(rng, 1.1, 1, benchVocabulary-1),
		words: make([]string, benchVocabulary),
	}
	for i := range w.words {
		w.words[i] = fmt.Sprintf("w%05d", i)
	}
	return w
}

// benchID spreads small integers over the key space, as random document ids
// are.
func benchID(n int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n)*0x9e3779b97f4a7c15)
	return b[:]
}

func (w *benchWorld) readSet() ReadSet {
	conv := w.rng.IntN(w.convs)
	rs := ReadSet{Ranges: []IndexRange{
		{Index: benchConvIndex, Interval: Prefix(benchID(conv))},
		{Index: benchUserIndex, Interval: Point(benchID(w.rng.IntN(w.users)))},
	}}
	if w.rng.IntN(5) == 0 {
		terms := []string{w.words[w.zipf.Uint64()]}
		if w.rng.IntN(2) == 0 {
			terms = append(terms, w.words[w.zipf.Uint64()])
		}
		rs.Searches = []SearchRead{{Index: benchSearchIndex, Terms: terms, Filters: []FieldEq{{Field: "conversation", Value: string(benchID(conv))}}}}
	}
	return rs
}

// keyCommit writes benchKeysPerCommit keys: half new messages in random
// conversations, half profile updates.
func (w *benchWorld) keyCommit(ts Timestamp) Commit {
	c := Commit{TS: ts, Keys: make([]IndexKey, 0, benchKeysPerCommit)}
	for i := range benchKeysPerCommit {
		if i%2 == 0 {
			key := append(benchID(w.rng.IntN(w.convs)), benchID(int(ts)*benchKeysPerCommit+i)...)
			c.Keys = append(c.Keys, IndexKey{Index: benchConvIndex, Key: key})
		} else {
			c.Keys = append(c.Keys, IndexKey{Index: benchUserIndex, Key: benchID(w.rng.IntN(w.users))})
		}
	}
	return c
}

// messageCommit is one chat message: its conversation key, the sender's
// profile and the message's tokens.
func (w *benchWorld) messageCommit(ts Timestamp) Commit {
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = w.words[w.zipf.Uint64()]
	}
	conv := benchID(w.rng.IntN(w.convs))
	return Commit{TS: ts,
		Keys: []IndexKey{
			{Index: benchConvIndex, Key: append(conv, benchID(int(ts))...)},
			{Index: benchUserIndex, Key: benchID(w.rng.IntN(w.users))},
		},
		Docs: []SearchDoc{{Index: benchSearchIndex, Tokens: tokens, Fields: []FieldEq{{Field: "conversation", Value: string(conv)}}}},
	}
}

func (w *benchWorld) commits(n int, gen func(Timestamp) Commit) []Commit {
	cs := make([]Commit, n)
	for i := range cs {
		cs[i] = gen(Timestamp(i + 2))
	}
	return cs
}

func benchEngine(tb testing.TB, w *benchWorld, sets []ReadSet) *Engine {
	tb.Helper()
	e, err := New(Config{}, &manualClock{now: time.Unix(0, 0)}, rand.NewPCG(1, 2))
	if err != nil {
		tb.Fatal(err)
	}
	for i, rs := range sets {
		if _, err := e.Subscribe(ConnID(i/4), rs, 1); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

// linearMatcher is the matcher the real engine used before mid-2025: every
// commit is checked against every subscription's read set. It is written
// as well as a linear scan can be: the commit's keys are grouped per index
// and sorted once, so each interval costs one binary search.
type linearMatcher struct {
	subs []linearSub
	hits []int
}

type linearSub struct {
	ranges   []linearRange
	searches []SearchRead
}

type linearRange struct {
	index      string
	start, end string
	unbounded  bool
}

func newLinearMatcher(sets []ReadSet) *linearMatcher {
	m := &linearMatcher{subs: make([]linearSub, len(sets))}
	for i, rs := range sets {
		for _, r := range rs.Ranges {
			m.subs[i].ranges = append(m.subs[i].ranges, linearRange{r.Index, string(r.Start), string(r.End), r.Unbounded})
		}
		m.subs[i].searches = rs.Searches
	}
	return m
}

func (m *linearMatcher) match(c Commit) []int {
	keys := map[string][]string{}
	for _, k := range c.Keys {
		keys[k.Index] = append(keys[k.Index], string(k.Key))
	}
	for _, ks := range keys {
		slices.Sort(ks)
	}
	m.hits = m.hits[:0]
	for i := range m.subs {
		if m.subs[i].hitBy(keys, c.Docs) {
			m.hits = append(m.hits, i)
		}
	}
	return m.hits
}

func (s *linearSub) hitBy(keys map[string][]string, docs []SearchDoc) bool {
	for _, r := range s.ranges {
		ks := keys[r.index]
		j, _ := slices.BinarySearch(ks, r.start)
		if j < len(ks) && (r.unbounded || ks[j] < r.end) {
			return true
		}
	}
	for _, q := range s.searches {
		for _, d := range docs {
			if d.Index != q.Index || !filtersMatch(q.Filters, d.Fields) {
				continue
			}
			for _, t := range q.Terms {
				if slices.Contains(d.Tokens, t) {
					return true
				}
			}
		}
	}
	return false
}

// TestLinearMatcherAgreesWithTheEngine keeps the benchmark's baseline
// honest: it must find what the engine finds.
func TestLinearMatcherAgreesWithTheEngine(t *testing.T) {
	w := newBenchWorld(3000)
	sets := make([]ReadSet, w.subs)
	for i := range sets {
		sets[i] = w.readSet()
	}
	e := benchEngine(t, w, sets)
	lin := newLinearMatcher(sets)
	total := 0
	for i, c := range append(w.commits(100, w.keyCommit), w.commits(100, w.messageCommit)...) {
		hits, err := e.Match(c)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int, len(hits))
		for j, h := range hits {
			got[j] = int(h.Sub) - 1 // subscriptions were made in order, ids from 1
		}
		if want := lin.match(c); !slices.Equal(got, want) {
			t.Fatalf("commit %d: engine %v, linear %v", i, got, want)
		}
		total += len(got)
	}
	if total < 1000 {
		t.Fatalf("only %d hits in 200 commits: the workload does not exercise matching", total)
	}
}

var benchSizes = []int{10_000, 100_000, 1_000_000}

func benchName(n int) string {
	return strings.NewReplacer("10000000", "1e7", "1000000", "1e6", "100000", "1e5", "10000", "1e4").Replace(fmt.Sprint(n))
}

// BenchmarkMatchKeys: commits of benchKeysPerCommit index keys against n
// live subscriptions, the engine against the linear scan. keys/s is the
// goal's unit.
func BenchmarkMatchKeys(b *testing.B) {
	for _, n := range benchSizes {
		w := newBenchWorld(n)
		sets := make([]ReadSet, n)
		for i := range sets {
			sets[i] = w.readSet()
		}
		commits := w.commits(1024, w.keyCommit)
		e := benchEngine(b, w, sets)
		b.Run("engine/subs="+benchName(n), func(b *testing.B) {
			hits := 0
			for i := 0; b.Loop(); i++ {
				h, _ := e.Match(commits[i%len(commits)])
				hits += len(h)
			}
			b.ReportMetric(float64(b.N*benchKeysPerCommit)/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(hits)/float64(b.N), "hits/commit")
		})
		lin := newLinearMatcher(sets)
		b.Run("linear/subs="+benchName(n), func(b *testing.B) {
			hits := 0
			for i := 0; b.Loop(); i++ {
				hits += len(lin.match(commits[i%len(commits)]))
			}
			b.ReportMetric(float64(b.N*benchKeysPerCommit)/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(hits)/float64(b.N), "hits/commit")
		})
		runtime.KeepAlive(e)
	}
}

// BenchmarkCommitMessages: the whole commit path (matching keys and tokens,
// queueing, write log) for chat messages. The queue is drained as a worker
// would, so it never overflows.
func BenchmarkCommitMessages(b *testing.B) {
	for _, n := range benchSizes {
		w := newBenchWorld(n)
		sets := make([]ReadSet, n)
		for i := range sets {
			sets[i] = w.readSet()
		}
		e := benchEngine(b, w, sets)
		templates := w.commits(1024, w.messageCommit)
		b.Run("engine/subs="+benchName(n), func(b *testing.B) {
			ts := e.LastCommit()
			hits := 0
			for i := 0; b.Loop(); i++ {
				ts++
				c := templates[i%len(templates)]
				c.TS = ts
				h, err := e.Commit(c)
				if err != nil {
					b.Fatal(err)
				}
				hits += len(h)
				for {
					if _, ok := e.Next(); !ok {
						break
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
			b.ReportMetric(float64(hits)/float64(b.N), "hits/commit")
		})
		lin := newLinearMatcher(sets)
		b.Run("linear/subs="+benchName(n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				lin.match(templates[i%len(templates)])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

// BenchmarkSubscriptionMemory reports the heap held per live subscription
// (two intervals, a search on one in five) and the cost of subscribing and
// unsubscribing.
func BenchmarkSubscriptionMemory(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("subs="+benchName(n), func(b *testing.B) {
			w := newBenchWorld(n)
			sets := make([]ReadSet, n)
			for i := range sets {
				sets[i] = w.readSet()
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			e := benchEngine(b, w, sets)
			runtime.GC()
			runtime.ReadMemStats(&after)
			perSub := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
			// Steady churn: one subscription ends, another begins.
			ids := make([]SubID, 0, n)
			for id := SubID(1); id <= SubID(n); id++ {
				ids = append(ids, id)
			}
			for i := 0; b.Loop(); i++ {
				j := i % n
				e.Unsubscribe(ids[j])
				id, err := e.Subscribe(ConnID(j), sets[j], 1)
				if err != nil {
					b.Fatal(err)
				}
				ids[j] = id
			}
			b.ReportMetric(perSub, "B/sub")
			runtime.KeepAlive(e)
		})
	}
}

// TestBenchWorkloadPrefixCoversMessages guards the workload: a prefix read must cover its
// conversation's message keys.
func TestBenchWorkloadPrefixCoversMessages(t *testing.T) {
	iv := Prefix(benchID(3))
	if !iv.Contains(append(benchID(3), benchID(99)...)) || iv.Contains(append(benchID(4), benchID(99)...)) {
		t.Fatal("conversation prefix read does not cover exactly its messages")
	}
	if !bytes.Equal(Point(benchID(5)).Start, benchID(5)) {
		t.Fatal("point read does not start at its key")
	}
}
