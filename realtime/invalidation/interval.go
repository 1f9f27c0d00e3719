package invalidation

// The interval map: every distinct key interval any subscription reads is
// a node of a treap, one treap per index, all nodes in one arena addressed
// by int32 (index 0 is the nil sentinel). Subscriptions that read the same
// interval (every member of a conversation watching its messages) share
// one node and sit in its subscriber list, so the tree grows with the
// distinct intervals, not the subscribers, and a hit reads a contiguous
// list instead of chasing each subscription. The treap is a binary search tree ordered
// by (start, node index) and a max-heap on random priorities, so its depth
// is O(log n) in expectation whatever order intervals arrive in. Each node
// also records which node in its subtree has the greatest end: a stabbing
// query for key k skips any subtree whose greatest end is at or below k, and
// any right subtree of a node that starts after k. That visits O((m+1) log n)
// nodes for m matching intervals, where the linear scan visited all n.
//
// Nodes carry no parent pointers: removal finds a node by descending from
// the root with its (start, index) key, which is unique.
//
// A query is bound by memory latency, not arithmetic: at a million
// subscriptions most nodes it visits are cache misses. So each node is split
// in two. The hot half (40 bytes) holds what a visit
// reads: the children, and the first eight bytes of the start, the end and
// each child subtree's greatest end, packed big-endian into integers. Comparing
// those prefixes settles almost every comparison; only when a prefix ties
// does the visit read the full keys in the cold half.

type ivHot struct {
	startPfx uint64
	endPfx   uint64 // ^0 when unbounded
	// The greatest end's prefix in the left and right subtrees, so a
	// visit decides whether to enter a child without touching it.
	leftMaxPfx  uint64
	rightMaxPfx uint64
	left        int32
	right       int32
}

type ivNode struct {
	start     string
	end       string // exclusive; ignored when unbounded
	subs      []ivSub
	maxEnd    int32 // node with the greatest end in this subtree
	prio      uint32
	index     int32 // owning index
	unbounded bool
}

// ivSub is a subscription reading a node's interval. It copies what a hit
// reports (id, connection, timestamp) so matching never touches the
// subscription itself.
type ivSub struct {
	id     SubID
	conn   ConnID
	ts     Timestamp
	member int32
}

// ivMember links a subscription to one node it reads: the subscription
// keeps a chain of them to find its nodes, and each knows its position in
// the node's list for O(1) removal.
type ivMember struct {
	node int32
	pos  int32
	next int32
}

// ivKey identifies a distinct interval on an index.
type ivKey struct {
	index     int32
	start     string
	end       string
	unbounded bool
}

// keyPrefix packs the first eight bytes of k big-endian, zero-padded. If
// keyPrefix(a) < keyPrefix(b) then a < b; equal prefixes decide nothing.
func keyPrefix(k string) uint64 {
	var p uint64
	n := min(len(k), 8)
	for i := 0; i < n; i++ {
		p |= uint64(k[i]) << (56 - 8*i)
	}
	return p
}

// ivLess orders nodes by start, then by arena index, a total order.
func (e *Engine) ivLess(a, b int32) bool {
	if pa, pb := e.hot[a].startPfx, e.hot[b].startPfx; pa != pb {
		return pa < pb
	}
	sa, sb := e.nodes[a].start, e.nodes[b].start
	if sa != sb {
		return sa < sb
	}
	return a < b
}

// endBelow reports whether node a's end is below node b's (unbounded is
// above everything).
func (e *Engine) endBelow(a, b int32) bool {
	if pa, pb := e.hot[a].endPfx, e.hot[b].endPfx; pa != pb {
		return pa < pb
	}
	na, nb := &e.nodes[a], &e.nodes[b]
	if nb.unbounded {
		return !na.unbounded
	}
	return !na.unbounded && na.end < nb.end
}

// endAbove reports whether node n's end lies above key (whose prefix is
// pfx), so that an interval starting at or before key contains it.
func (e *Engine) endAbove(n int32, key string, pfx uint64) bool {
	if p := e.hot[n].endPfx; p != pfx {
		return p > pfx
	}
	nd := &e.nodes[n]
	return nd.unbounded || nd.end > key
}

// subtreeAbove reports whether some interval in the subtree rooted at n
// (whose greatest end has prefix maxPfx) ends above key.
func (e *Engine) subtreeAbove(n int32, maxPfx uint64, key string, pfx uint64) bool {
	if maxPfx != pfx {
		return maxPfx > pfx
	}
	return e.endAbove(e.nodes[n].maxEnd, key, pfx)
}

// startAfter reports whether node n starts after key.
func (e *Engine) startAfter(n int32, key string, pfx uint64) bool {
	if p := e.hot[n].startPfx; p != pfx {
		return p > pfx
	}
	return e.nodes[n].start > key
}

// contains reports whether key is in node n's interval.
func (e *Engine) contains(n int32, key string) bool {
	pfx := keyPrefix(key)
	return !e.startAfter(n, key, pfx) && e.endAbove(n, key, pfx)
}

// ivFix recomputes t's max-end annotations from its children.
func (e *Engine) ivFix(t int32) {
	m := t
	h := &e.hot[t]
	h.leftMaxPfx, h.rightMaxPfx = 0, 0
	if l := h.left; l != 0 {
		lm := e.nodes[l].maxEnd
		h.leftMaxPfx = e.hot[lm].endPfx
		if e.endBelow(m, lm) {
			m = lm
		}
	}
	if r := h.right; r != 0 {
		rm := e.nodes[r].maxEnd
		h.rightMaxPfx = e.hot[rm].endPfx
		if e.endBelow(m, rm) {
			m = rm
		}
	}
	e.nodes[t].maxEnd = m
}

// ivInsert inserts node x (its children nil) into the treap rooted at t and
// returns the new root.
func (e *Engine) ivInsert(t, x int32) int32 {
	if t == 0 {
		e.ivFix(x)
		return x
	}
	if e.nodes[x].prio > e.nodes[t].prio {
		l, r := e.ivSplit(t, x)
		e.hot[x].left, e.hot[x].right = l, r
		e.ivFix(x)
		return x
	}
	if e.ivLess(x, t) {
		e.hot[t].left = e.ivInsert(e.hot[t].left, x)
	} else {
		e.hot[t].right = e.ivInsert(e.hot[t].right, x)
	}
	e.ivFix(t)
	return t
}

// ivSplit splits the treap rooted at t into the nodes ordered before x and
// the rest.
func (e *Engine) ivSplit(t, x int32) (before, after int32) {
	if t == 0 {
		return 0, 0
	}
	if e.ivLess(t, x) {
		a, b := e.ivSplit(e.hot[t].right, x)
		e.hot[t].right = a
		e.ivFix(t)
		return t, b
	}
	a, b := e.ivSplit(e.hot[t].left, x)
	e.hot[t].left = b
	e.ivFix(t)
	return a, t
}

// ivMerge joins two treaps, every node of a ordered before every node of b.
func (e *Engine) ivMerge(a, b int32) int32 {
	if a == 0 {
		return b
	}
	if b == 0 {
		return a
	}
	if e.nodes[a].prio > e.nodes[b].prio {
		e.hot[a].right = e.ivMerge(e.hot[a].right, b)
		e.ivFix(a)
		return a
	}
	e.hot[b].left = e.ivMerge(a, e.hot[b].left)
	e.ivFix(b)
	return b
}

// ivDelete removes node x from the treap rooted at t and returns the new
// root. x must be in the treap.
func (e *Engine) ivDelete(t, x int32) int32 {
	if t == 0 {
		panic("invalidation: interval node missing from its index (engine invariant broken)")
	}
	if t == x {
		return e.ivMerge(e.hot[t].left, e.hot[t].right)
	}
	if e.ivLess(x, t) {
		e.hot[t].left = e.ivDelete(e.hot[t].left, x)
	} else {
		e.hot[t].right = e.ivDelete(e.hot[t].right, x)
	}
	e.ivFix(t)
	return t
}

// stabLanes is how many keys ivStabAll walks at once.
const stabLanes = 8

// stabLane is one key's walk: the node it stands on (0 when it must take
// the next subtree from its stack) and the subtrees it still has to visit.
type stabLane struct {
	key   string
	pfx   uint64
	t     int32
	stack []int32
}

// ivStabAll reports (into e.rawHits) every subscription whose interval
// contains one of the keys, for a commit at ts.
//
// A walk down a large treap is a chain of cache misses, each node's address
// known only once its parent arrives. Walking stabLanes keys side by side,
// one node of each per round, gives the processor that many independent
// chains, so their misses overlap instead of queueing.
func (e *Engine) ivStabAll(keys []loggedKey, ts Timestamp) {
	lanes := &e.lanes
	active := 0
	next := 0
	for next < len(keys) || active > 0 {
		// Fill idle lanes with the next keys whose index has intervals.
		for i := range lanes {
			l := &lanes[i]
			if l.t != 0 || len(l.stack) > 0 {
				continue
			}
			for next < len(keys) {
				k := keys[next]
				next++
				if k.index < 0 {
					continue
				}
				root := e.indexes[k.index].root
				pfx := keyPrefix(k.key)
				if root != 0 && e.endAbove(e.nodes[root].maxEnd, k.key, pfx) {
					l.key, l.pfx, l.t = k.key, pfx, root
					active++
					break
				}
			}
		}
		// One step of every busy lane.
		for i := range lanes {
			l := &lanes[i]
			if l.t == 0 {
				if len(l.stack) == 0 {
					continue
				}
				l.t = l.stack[len(l.stack)-1]
				l.stack = l.stack[:len(l.stack)-1]
			}
			l.t = e.stabStep(l, ts)
			if l.t == 0 && len(l.stack) == 0 {
				active--
				l.key = "" // do not keep the commit's key alive
			}
		}
	}
}

// stabStep visits lane l's node, which is known to have an interval ending
// above the key in its subtree, and returns the node to visit next (0 when
// this branch is done; a left subtree to visit later goes on the stack).
func (e *Engine) stabStep(l *stabLane, ts Timestamp) int32 {
	t := l.t
	h := &e.hot[t]
	if e.startAfter(t, l.key, l.pfx) {
		// t and its right subtree start after key.
		if h.left != 0 && e.subtreeAbove(h.left, h.leftMaxPfx, l.key, l.pfx) {
			return h.left
		}
		return 0
	}
	if h.left != 0 && e.subtreeAbove(h.left, h.leftMaxPfx, l.key, l.pfx) {
		l.stack = append(l.stack, h.left)
	}
	if e.endAbove(t, l.key, l.pfx) {
		for _, s := range e.nodes[t].subs {
			if s.ts < ts {
				e.rawHits = append(e.rawHits, Hit{Sub: s.id, Conn: s.conn, TS: ts})
			}
		}
	}
	if h.right != 0 && e.subtreeAbove(h.right, h.rightMaxPfx, l.key, l.pfx) {
		return h.right
	}
	return 0
}

// ivAlloc takes a free arena node and sets its interval.
func (e *Engine) ivAlloc(start, end string, unbounded bool) int32 {
	x := takeSlot(&e.nodes, &e.freeNodes)
	if int(x) == len(e.hot) {
		e.hot = append(e.hot, ivHot{})
	}
	endPfx := ^uint64(0)
	if !unbounded {
		endPfx = keyPrefix(end)
	}
	e.hot[x] = ivHot{startPfx: keyPrefix(start), endPfx: endPfx}
	e.nodes[x] = ivNode{start: start, end: end, unbounded: unbounded}
	return x
}

// ivFree returns node x to the arena, dropping its strings for the GC.
func (e *Engine) ivFree(x int32) {
	e.nodes[x] = ivNode{}
	e.hot[x] = ivHot{}
	e.freeNodes = append(e.freeNodes, x)
}
