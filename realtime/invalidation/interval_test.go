package invalidation

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The oracle test proves what matching returns; these tests prove the
// interval B+tree underneath keeps its shape through growth and shrinkage,
// and that the prefix shortcuts agree with full key comparisons where they
// are most likely to go wrong: keys that share their first eight bytes,
// keys of exactly eight bytes, zero and 0xff bytes, and unbounded ends.

// treeKeys draws keys that stress the eight-byte prefix: short keys, keys
// that are one zero byte longer than another, and long keys that only
// differ after a shared eight-byte head.
func treeKey(r *rand.Rand) string {
	heads := []string{"", "a", "a\x00", "ab", "conv0001", "conv0002", "\xff\xff\xff\xff\xff\xff\xff\xff"}
	k := heads[r.IntN(len(heads))]
	for n := r.IntN(4); n > 0; n-- {
		k += string("\x00ab\xff"[r.IntN(4)])
	}
	return k
}

func treeInterval(r *rand.Rand) Interval {
	a, b := treeKey(r), treeKey(r)
	switch {
	case r.IntN(8) == 0:
		return From([]byte(a))
	case r.IntN(4) == 0:
		return Point([]byte(a))
	case a == b:
		return Point([]byte(a))
	case a > b:
		a, b = b, a
	}
	return Span([]byte(a), []byte(b))
}

// checkTrees walks every index's tree and fails on any broken invariant:
// leaves at one depth, fill between btMinFill and btOrder (the root
// excepted), entries in strict (start, node) order, each leaf entry equal
// to its interval's description, each inner entry equal to its child's
// summary with the true least start and greatest end, and every live
// interval in exactly one leaf.
func checkTrees(t *testing.T, e *Engine) {
	t.Helper()
	seen := map[int32]bool{}
	for ix := range e.indexes {
		root := e.indexes[ix].root
		if root == 0 {
			continue
		}
		var ivs []int32
		leafDepth := -1
		var walk func(tn int32, depth int) (least, greatest int32)
		walk = func(tn int32, depth int) (least, greatest int32) {
			if seen[tn] {
				t.Fatalf("index %d: tree node %d reached twice", ix, tn)
			}
			seen[tn] = true
			nd := &e.tree[tn]
			switch {
			case nd.n < 1 || nd.n > btOrder:
				t.Fatalf("index %d: node %d holds %d entries", ix, tn, nd.n)
			case tn != root && nd.n < btMinFill:
				t.Fatalf("index %d: node %d holds %d entries, fewer than %d", ix, tn, nd.n, btMinFill)
			case tn == root && !nd.leaf && nd.n < 2:
				t.Fatalf("index %d: inner root with one child", ix)
			}
			for i := range int(nd.n) {
				var lo, hi int32
				if nd.leaf {
					if leafDepth < 0 {
						leafDepth = depth
					} else if leafDepth != depth {
						t.Fatalf("index %d: leaves at depths %d and %d", ix, leafDepth, depth)
					}
					x := nd.child[i]
					if got, want := nd.entry(i), e.leafEntry(x); got != want {
						t.Fatalf("index %d: leaf entry %+v, interval says %+v", ix, got, want)
					}
					ivs = append(ivs, x)
					lo, hi = x, x
				} else {
					lo, hi = walk(nd.child[i], depth+1)
					if got, want := nd.entry(i), e.summary(nd.child[i]); got != want {
						t.Fatalf("index %d: inner entry %+v, child summary %+v", ix, got, want)
					}
					if nd.first[i] != lo || !sameEnd(e, nd.maxEnd[i], hi) {
						t.Fatalf("index %d: entry names first %d / max end %d, subtree has %d / %d", ix, nd.first[i], nd.maxEnd[i], lo, hi)
					}
				}
				if i == 0 {
					least, greatest = lo, hi
				} else if endBelowFull(e, greatest, hi) {
					greatest = hi
				}
			}
			return least, greatest
		}
		walk(root, 0)
		for i := 1; i < len(ivs); i++ {
			a, b := &e.nodes[ivs[i-1]], &e.nodes[ivs[i]]
			if a.start > b.start || a.start == b.start && ivs[i-1] >= ivs[i] {
				t.Fatalf("index %d: leaves out of order: %q (node %d) before %q (node %d)", ix, a.start, ivs[i-1], b.start, ivs[i])
			}
		}
		live := 0
		for k, x := range e.ivByKey {
			if k.index == int32(ix) {
				live++
				if !slices.Contains(ivs, x) {
					t.Fatalf("index %d: interval %q..%q not in the tree", ix, k.start, k.end)
				}
			}
		}
		if live != len(ivs) {
			t.Fatalf("index %d: %d intervals live, %d in the tree", ix, live, len(ivs))
		}
	}
	if reach, free := len(seen), len(e.freeTree); reach+free != len(e.tree)-1 {
		t.Fatalf("%d tree nodes reachable and %d free, of %d allocated", reach, free, len(e.tree)-1)
	}
}

// endBelowFull compares two intervals' ends on their full keys.
func endBelowFull(e *Engine, a, b int32) bool {
	na, nb := &e.nodes[a], &e.nodes[b]
	if na.unbounded || nb.unbounded {
		return !na.unbounded && nb.unbounded
	}
	return na.end < nb.end
}

func sameEnd(e *Engine, a, b int32) bool { return !endBelowFull(e, a, b) && !endBelowFull(e, b, a) }

// TestIntervalTreeKeepsItsShape grows an index to thousands of intervals
// (four levels), shrinks it to nothing, and grows it again, checking every
// invariant along the way and every stab against a scan of the live
// intervals.
func TestIntervalTreeKeepsItsShape(t *testing.T) {
	const peak = 4000
	e, _ := newTestEngine(t, Config{WriteLogLimit: -1})
	r := rand.New(rand.NewPCG(11, 12))
	live := map[SubID]Interval{}
	var ids []SubID
	ts := Timestamp(1)
	stab := func() {
		key := treeKey(r)
		ts++
		hits, err := e.Commit(Commit{TS: ts, Keys: []IndexKey{{Index: "t", Key: []byte(key)}}})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []SubID
		for _, h := range hits {
			got = append(got, h.Sub)
		}
		for _, id := range ids {
			if live[id].Contains([]byte(key)) {
				want = append(want, id)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("key %q: engine hit %v, scan %v", key, got, want)
		}
		for e.Pending() > 0 {
			e.Next()
		}
	}
	maxDepth := 0
	phase := func(name string, target int) {
		for step := 0; len(ids) != target; step++ {
			grow := len(ids) < target
			if grow {
				iv := treeInterval(r)
				id := mustSub(t, e, ConnID(len(ids)), ReadSet{Ranges: []IndexRange{{Index: "t", Interval: iv}}}, ts)
				live[id] = iv
				ids = append(ids, id)
			} else {
				j := r.IntN(len(ids))
				if !e.Unsubscribe(ids[j]) {
					t.Fatalf("subscription %d was not live", ids[j])
				}
				delete(live, ids[j])
				ids = slices.Delete(ids, j, j+1)
			}
			if step%97 == 0 || len(ids) == target {
				checkTrees(t, e)
				stab()
				maxDepth = max(maxDepth, treeDepth(e))
			}
		}
		t.Logf("%s: %d subscriptions, %d distinct intervals, depth %d", name, len(ids), len(e.ivByKey), treeDepth(e))
	}
	phase("grow", peak)
	if maxDepth < 3 {
		t.Fatalf("the tree only reached depth %d: the test does not exercise inner nodes", maxDepth)
	}
	phase("shrink", 0)
	if e.indexes[0].root != 0 || len(e.freeTree) != len(e.tree)-1 {
		t.Fatalf("an emptied index kept tree nodes: root %d, %d of %d free", e.indexes[0].root, len(e.freeTree), len(e.tree)-1)
	}
	phase("grow again", peak/2)
	phase("churn down", peak/4)
}

func treeDepth(e *Engine) int {
	depth := 0
	for t := e.indexes[0].root; t != 0; depth++ {
		if e.tree[t].leaf {
			return depth + 1
		}
		t = e.tree[t].child[0]
	}
	return depth
}

// TestPrefixComparisonsAgreeWithKeys checks the shortcut comparisons on
// every pair of a set of awkward keys against Go's string order.
func TestPrefixComparisonsAgreeWithKeys(t *testing.T) {
	keys := []string{"", "\x00", "a", "a\x00", "a\x00\x00\x00\x00\x00\x00\x00", "a\x00\x00\x00\x00\x00\x00\x00\x00",
		"a\x00\x00\x00\x00\x00\x00\x00\x01", "abcdefgh", "abcdefg", "abcdefghi", "abcdefgha", "abcdefgh\x00",
		strings.Repeat("\xff", 8), strings.Repeat("\xff", 9), strings.Repeat("\xff", 7)}
	e, _ := newTestEngine(t, Config{})
	for _, a := range keys {
		x := e.ivAlloc(a, a+"\x00", false)
		nd := &btNode{leaf: true}
		nd.insertEntry(0, e.leafEntry(x))
		for _, b := range keys {
			p := newProbe(b)
			if got, want := e.startAtOrBelow(nd, 0, &p), a <= b; got != want {
				t.Errorf("start %q at or below key %q: got %v", a, b, got)
			}
			y := e.ivAlloc(b, b+"\x00", false)
			if got, want := e.entryBefore(nd, 0, y, keyPrefix(b), keyLen(b)), a < b || a == b && x < y; got != want {
				t.Errorf("interval at %q before one at %q: got %v", a, b, got)
			}
			en, other := e.leafEntry(x), e.leafEntry(y)
			if got, want := e.endGreater(&en, &other), a > b; got != want {
				t.Errorf("end %q above end %q: got %v", a+"\x00", b+"\x00", got)
			}
			e.ivFree(y)
		}
		// The end is a+"\x00"; probe against the end keys themselves.
		for _, b := range keys {
			p := newProbe(b)
			if got, want := e.endAbove(nd, 0, &p), a+"\x00" > b; got != want {
				t.Errorf("end %q above key %q: got %v", a+"\x00", b, got)
			}
		}
		u := e.ivAlloc(a, "", true)
		ue := e.leafEntry(u)
		for _, b := range keys {
			p := newProbe(b)
			un := &btNode{leaf: true}
			un.insertEntry(0, ue)
			if !e.endAbove(un, 0, &p) {
				t.Errorf("unbounded end not above key %q", b)
			}
		}
		e.ivFree(u)
		e.ivFree(x)
	}
}

// TestRadixSortMatchesASort: the hit sort must order ids exactly as a
// comparison sort does, keeping equal ids in arrival order, across id
// widths of one to five bytes.
func TestRadixSortMatchesASort(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	r := rand.New(rand.NewPCG(3, 4))
	for _, maxID := range []uint64{1, 200, 70_000, 1 << 24, 1<<40 - 1} {
		for _, n := range []int{0, 1, radixSortMin - 1, radixSortMin, 500} {
			keys := make([]uint64, n)
			for i := range keys {
				keys[i] = (1+r.Uint64N(maxID))<<24 | uint64(i)
			}
			want := slices.Clone(keys)
			slices.Sort(want)
			got := slices.Clone(e.radixSort(keys, 24, maxID))
			if !slices.Equal(got, want) {
				t.Fatalf("%d keys up to id %d: radix order differs from sort", n, maxID)
			}
		}
	}
}
