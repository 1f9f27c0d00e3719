package invalidation

// The interval map: every distinct key interval any subscription reads is
// an interval node in one arena addressed by int32 (index 0 is the nil
// sentinel). Subscriptions that read the same interval (every member of a
// conversation watching its messages) share one node and sit in its
// subscriber list, so the map grows with the distinct intervals, not the
// subscribers, and a hit reads a contiguous list instead of chasing each
// subscription.
//
// Each index keeps its intervals in a B+tree ordered by (start, node
// index), a total order. Every entry of an inner node summarises its
// subtree: the least start and the greatest end in it. A stabbing query for
// key k enters an entry only if its least start is at or below k and its
// greatest end above k, so it walks O((m+1) log n) tree nodes for m
// matching intervals, where the linear scan visited all n subscriptions.
//
// Why a B+tree and not a binary tree: at a million subscriptions the query
// is bound by memory latency. A balanced binary tree over 2e5 intervals is
// about 25 levels deep in expectation for a treap, each level a cache miss
// whose address is known only once its parent arrives. With btOrder entries
// per node the tree is about five levels deep, and the entries a visit
// compares sit in a few adjacent cache lines the processor fetches together.
//
// Entries hold the first eight bytes of each start and end, packed
// big-endian into integers, and each key's length (capped at 9). Those
// settle every comparison except two keys both longer than eight bytes that
// share their first eight; only then does a visit read the full key in the
// interval node.

const (
	// btOrder is the most entries a tree node holds.
	btOrder = 16
	// btMinFill is the fewest a node other than the root holds.
	btMinFill = btOrder / 2
	// btLongKey is the length recorded for keys longer than a prefix.
	btLongKey = 9
)

// ivNode is one distinct interval and the subscriptions reading it.
type ivNode struct {
	start     string
	end       string // exclusive; ignored when unbounded
	subs      []ivSub
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

// btNode is a node of an index's interval B+tree. Its entries are kept in
// (start, interval node) order and stored column by column, so a visit
// reads the prefixes of all entries from adjacent cache lines.
type btNode struct {
	startPfx [btOrder]uint64 // least start in the entry
	endPfx   [btOrder]uint64 // greatest end in the entry; ^0 when unbounded
	startLen [btOrder]uint8
	endLen   [btOrder]uint8 // btLongKey when unbounded
	// child is the entry's interval node in a leaf, its subtree's tree
	// node in an inner node.
	child [btOrder]int32
	// first and maxEnd name the interval nodes holding the least start
	// and the greatest end, read when prefixes tie. In a leaf both equal
	// child.
	first  [btOrder]int32
	maxEnd [btOrder]int32
	n      int32
	leaf   bool
}

// btEntry is one entry of a btNode, moved between nodes as a unit.
type btEntry struct {
	startPfx, endPfx uint64
	startLen, endLen uint8
	child            int32
	first, maxEnd    int32
}

func (nd *btNode) entry(i int) btEntry {
	return btEntry{nd.startPfx[i], nd.endPfx[i], nd.startLen[i], nd.endLen[i], nd.child[i], nd.first[i], nd.maxEnd[i]}
}

func (nd *btNode) setEntry(i int, en btEntry) {
	nd.startPfx[i], nd.endPfx[i] = en.startPfx, en.endPfx
	nd.startLen[i], nd.endLen[i] = en.startLen, en.endLen
	nd.child[i], nd.first[i], nd.maxEnd[i] = en.child, en.first, en.maxEnd
}

// insertEntry shifts entries i.. right by one and puts en at i; the node
// must have room.
func (nd *btNode) insertEntry(i int, en btEntry) {
	n := int(nd.n)
	copy(nd.startPfx[i+1:n+1], nd.startPfx[i:n])
	copy(nd.endPfx[i+1:n+1], nd.endPfx[i:n])
	copy(nd.startLen[i+1:n+1], nd.startLen[i:n])
	copy(nd.endLen[i+1:n+1], nd.endLen[i:n])
	copy(nd.child[i+1:n+1], nd.child[i:n])
	copy(nd.first[i+1:n+1], nd.first[i:n])
	copy(nd.maxEnd[i+1:n+1], nd.maxEnd[i:n])
	nd.setEntry(i, en)
	nd.n++
}

// removeEntry drops entry i, shifting the rest left.
func (nd *btNode) removeEntry(i int) {
	n := int(nd.n)
	copy(nd.startPfx[i:n-1], nd.startPfx[i+1:n])
	copy(nd.endPfx[i:n-1], nd.endPfx[i+1:n])
	copy(nd.startLen[i:n-1], nd.startLen[i+1:n])
	copy(nd.endLen[i:n-1], nd.endLen[i+1:n])
	copy(nd.child[i:n-1], nd.child[i+1:n])
	copy(nd.first[i:n-1], nd.first[i+1:n])
	copy(nd.maxEnd[i:n-1], nd.maxEnd[i+1:n])
	nd.setEntry(n-1, btEntry{})
	nd.n--
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

// keyLen is len(k) capped at btLongKey.
func keyLen(k string) uint8 { return uint8(min(len(k), btLongKey)) }

// probe is a key prepared for comparisons against tree entries.
type probe struct {
	key string
	pfx uint64
	len uint8
}

func newProbe(key string) probe { return probe{key, keyPrefix(key), keyLen(key)} }

// Two keys with equal prefixes and lengths (capped) a and b: if either is
// at most eight bytes long, the shorter one is the other cut short (the
// padding is zeros), so length alone orders them. Only when both are long
// do the full keys decide.

// startAtOrBelow reports whether entry i's least start is at or below the
// probe's key.
func (e *Engine) startAtOrBelow(nd *btNode, i int, p *probe) bool {
	if sp := nd.startPfx[i]; sp != p.pfx {
		return sp < p.pfx
	}
	if l := nd.startLen[i]; l < btLongKey || p.len < btLongKey {
		return l <= p.len
	}
	return e.nodes[nd.first[i]].start <= p.key
}

// endAbove reports whether entry i's greatest end lies above the probe's
// key.
func (e *Engine) endAbove(nd *btNode, i int, p *probe) bool {
	if ep := nd.endPfx[i]; ep != p.pfx {
		return ep > p.pfx
	}
	if l := nd.endLen[i]; l < btLongKey || p.len < btLongKey {
		return l > p.len
	}
	n := &e.nodes[nd.maxEnd[i]]
	return n.unbounded || n.end > p.key
}

// entryBefore reports whether entry i of nd sorts before interval node x
// (whose start is described by sp and sl) in (start, node index) order.
func (e *Engine) entryBefore(nd *btNode, i int, x int32, sp uint64, sl uint8) bool {
	if p := nd.startPfx[i]; p != sp {
		return p < sp
	}
	l := nd.startLen[i]
	switch {
	case l != sl && (l < btLongKey || sl < btLongKey):
		return l < sl
	case l == btLongKey && sl == btLongKey:
		if a, b := e.nodes[nd.first[i]].start, e.nodes[x].start; a != b {
			return a < b
		}
	}
	return nd.first[i] < x // equal starts
}

// endGreater reports whether entry a's greatest end is above entry b's
// (unbounded is above everything).
func (e *Engine) endGreater(a, b *btEntry) bool {
	if a.endPfx != b.endPfx {
		return a.endPfx > b.endPfx
	}
	if a.endLen < btLongKey || b.endLen < btLongKey {
		return a.endLen > b.endLen
	}
	na, nb := &e.nodes[a.maxEnd], &e.nodes[b.maxEnd]
	if na.unbounded || nb.unbounded {
		return !nb.unbounded
	}
	return na.end > nb.end
}

// leafEntry describes interval node x as a leaf entry.
func (e *Engine) leafEntry(x int32) btEntry {
	n := &e.nodes[x]
	en := btEntry{startPfx: keyPrefix(n.start), startLen: keyLen(n.start), child: x, first: x, maxEnd: x,
		endPfx: ^uint64(0), endLen: btLongKey}
	if !n.unbounded {
		en.endPfx, en.endLen = keyPrefix(n.end), keyLen(n.end)
	}
	return en
}

// summary describes tree node t as an entry of its parent: its first
// entry's start and its greatest end.
func (e *Engine) summary(t int32) btEntry {
	nd := &e.tree[t]
	s := nd.entry(0)
	s.child = t
	for i := 1; i < int(nd.n); i++ {
		if en := nd.entry(i); e.endGreater(&en, &s) {
			s.endPfx, s.endLen, s.maxEnd = en.endPfx, en.endLen, en.maxEnd
		}
	}
	return s
}

// btStep is one level of a descent: the inner node and the entry taken.
type btStep struct {
	node  int32
	entry int
}

// descend walks from the root towards the leaf where interval node x sorts,
// recording the path in e.btPath, and returns the leaf.
func (e *Engine) descend(root, x int32) int32 {
	e.btPath = e.btPath[:0]
	sp, sl := keyPrefix(e.nodes[x].start), keyLen(e.nodes[x].start)
	t := root
	for !e.tree[t].leaf {
		nd := &e.tree[t]
		i := int(nd.n) - 1
		// The last entry starting at or before x: x itself when it
		// is the first of a subtree, on a removal.
		for i > 0 && nd.first[i] != x && !e.entryBefore(nd, i, x, sp, sl) {
			i--
		}
		e.btPath = append(e.btPath, btStep{t, i})
		t = nd.child[i]
	}
	return t
}

// btInsert adds interval node x to the tree rooted at root and returns the
// new root.
func (e *Engine) btInsert(root, x int32) int32 {
	en := e.leafEntry(x)
	if root == 0 {
		root = e.btAlloc(true)
		e.tree[root].insertEntry(0, en)
		return root
	}
	leaf := e.descend(root, x)
	nd := &e.tree[leaf]
	pos := int(nd.n)
	for pos > 0 && !e.entryBefore(nd, pos-1, x, en.startPfx, en.startLen) {
		pos--
	}
	sibling := e.insertAt(leaf, pos, en)
	child := leaf
	for level := len(e.btPath) - 1; level >= 0; level-- {
		step := e.btPath[level]
		e.tree[step.node].setEntry(step.entry, e.summary(child))
		if sibling != 0 {
			sibling = e.insertAt(step.node, step.entry+1, e.summary(sibling))
		}
		child = step.node
	}
	if sibling != 0 {
		newRoot := e.btAlloc(false)
		e.tree[newRoot].insertEntry(0, e.summary(root))
		e.tree[newRoot].insertEntry(1, e.summary(sibling))
		root = newRoot
	}
	return root
}

// insertAt puts en at position i of node t. A full node splits in half
// first; insertAt then returns the new right half, which the caller must
// add to the parent.
func (e *Engine) insertAt(t int32, i int, en btEntry) (sibling int32) {
	if e.tree[t].n < btOrder {
		e.tree[t].insertEntry(i, en)
		return 0
	}
	sibling = e.btAlloc(e.tree[t].leaf)
	nd, sib := &e.tree[t], &e.tree[sibling]
	half := btOrder / 2
	for j := half; j < btOrder; j++ {
		sib.setEntry(j-half, nd.entry(j))
		nd.setEntry(j, btEntry{})
	}
	nd.n, sib.n = int32(half), int32(btOrder-half)
	if i <= half {
		nd.insertEntry(i, en)
	} else {
		sib.insertEntry(i-half, en)
	}
	return sibling
}

// btDelete removes interval node x from the tree rooted at root and
// returns the new root. x must be in the tree.
func (e *Engine) btDelete(root, x int32) int32 {
	leaf := e.descend(root, x)
	nd := &e.tree[leaf]
	pos := -1
	for i := range int(nd.n) {
		if nd.child[i] == x {
			pos = i
			break
		}
	}
	if pos < 0 {
		panic("invalidation: interval node missing from its index (engine invariant broken)")
	}
	nd.removeEntry(pos)
	child := leaf
	for level := len(e.btPath) - 1; level >= 0; level-- {
		step := e.btPath[level]
		e.rebalance(step.node, step.entry, child)
		child = step.node
	}
	switch r := &e.tree[root]; {
	case r.leaf && r.n == 0:
		e.btFree(root)
		return 0
	case !r.leaf && r.n == 1:
		only := r.child[0]
		e.btFree(root)
		return only
	}
	return root
}

// rebalance refreshes parent p's entry i for child c after a removal below
// it, topping c up from a sibling or merging it into one when it fell
// below btMinFill.
func (e *Engine) rebalance(p int32, i int, c int32) {
	pn := &e.tree[p]
	if e.tree[c].n >= btMinFill {
		pn.setEntry(i, e.summary(c))
		return
	}
	if i > 0 {
		left := pn.child[i-1]
		ln, cn := &e.tree[left], &e.tree[c]
		if ln.n > btMinFill {
			cn.insertEntry(0, ln.entry(int(ln.n)-1))
			ln.removeEntry(int(ln.n) - 1)
			pn.setEntry(i-1, e.summary(left))
			pn.setEntry(i, e.summary(c))
			return
		}
		for j := range int(cn.n) {
			ln.insertEntry(int(ln.n), cn.entry(j))
		}
		e.btFree(c)
		pn.removeEntry(i)
		pn.setEntry(i-1, e.summary(left))
		return
	}
	right := pn.child[i+1]
	cn, rn := &e.tree[c], &e.tree[right]
	if rn.n > btMinFill {
		cn.insertEntry(int(cn.n), rn.entry(0))
		rn.removeEntry(0)
		pn.setEntry(i, e.summary(c))
		pn.setEntry(i+1, e.summary(right))
		return
	}
	for j := range int(rn.n) {
		cn.insertEntry(int(cn.n), rn.entry(j))
	}
	e.btFree(right)
	pn.removeEntry(i + 1)
	pn.setEntry(i, e.summary(c))
}

// stabLanes is how many keys ivStabAll walks at once.
const stabLanes = 16

// stabLane is one key's walk: the tree nodes it still has to visit.
type stabLane struct {
	probe probe
	stack []int32
}

// ivStabAll reports (into e.rawHits) every subscription whose interval
// contains one of the keys, for a commit at ts.
//
// Each tree node a walk visits is a cache miss whose address is known only
// once its parent has been read. Walking stabLanes keys side by side, one
// node of each per round, gives the processor that many independent
// chains, so their misses overlap instead of queueing.
func (e *Engine) ivStabAll(keys []loggedKey, ts Timestamp) {
	lanes := &e.lanes
	active := 0
	next := 0
	for next < len(keys) || active > 0 {
		// Fill idle lanes with the next keys whose index has intervals.
		for i := range lanes {
			l := &lanes[i]
			if len(l.stack) > 0 {
				continue
			}
			for next < len(keys) {
				k := keys[next]
				next++
				if k.index < 0 {
					continue
				}
				if root := e.indexes[k.index].root; root != 0 {
					l.probe = newProbe(k.key)
					l.stack = append(l.stack, root)
					active++
					break
				}
			}
		}
		// One node of every busy lane.
		for i := range lanes {
			l := &lanes[i]
			if len(l.stack) == 0 {
				continue
			}
			t := l.stack[len(l.stack)-1]
			l.stack = l.stack[:len(l.stack)-1]
			e.stabVisit(l, t, ts)
			if len(l.stack) == 0 {
				active--
				l.probe.key = "" // do not keep the commit's key alive
			}
		}
	}
}

// stabVisit reads tree node t for lane l: in a leaf it reports the
// subscriptions of every interval containing the key, in an inner node it
// stacks every child that may hold one.
func (e *Engine) stabVisit(l *stabLane, t int32, ts Timestamp) {
	nd := &e.tree[t]
	p := &l.probe
	for i := range int(nd.n) {
		if !e.startAtOrBelow(nd, i, p) {
			break // this entry and the rest start after the key
		}
		if !e.endAbove(nd, i, p) {
			continue
		}
		if !nd.leaf {
			l.stack = append(l.stack, nd.child[i])
			continue
		}
		for _, s := range e.nodes[nd.child[i]].subs {
			if s.ts < ts {
				e.rawHits = append(e.rawHits, Hit{Sub: s.id, Conn: s.conn, TS: ts})
			}
		}
	}
}

// contains reports whether key is in node n's interval.
func (e *Engine) contains(n int32, key string) bool {
	nd := &e.nodes[n]
	return nd.start <= key && (nd.unbounded || key < nd.end)
}

// ivAlloc takes a free arena node and sets its interval.
func (e *Engine) ivAlloc(start, end string, unbounded bool) int32 {
	x := takeSlot(&e.nodes, &e.freeNodes)
	e.nodes[x] = ivNode{start: start, end: end, unbounded: unbounded}
	return x
}

// ivFree returns node x to the arena, dropping its strings for the GC.
func (e *Engine) ivFree(x int32) {
	e.nodes[x] = ivNode{}
	e.freeNodes = append(e.freeNodes, x)
}

func (e *Engine) btAlloc(leaf bool) int32 {
	t := takeSlot(&e.tree, &e.freeTree)
	e.tree[t] = btNode{leaf: leaf}
	return t
}

func (e *Engine) btFree(t int32) {
	e.tree[t] = btNode{}
	e.freeTree = append(e.freeTree, t)
}
