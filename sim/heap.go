package sim

import "time"

// entry is one slot of the event heap. It is kept small (24 bytes) because
// sifting moves entries, and the payload lives in the kernel's slot table so
// that moving an entry never touches it.
type entry struct {
	at   time.Duration
	seq  uint64 // schedule order: ties at equal times run first-in, first-out
	slot uint32
}

func (a *entry) before(b *entry) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// eventHeap is a 4-ary min-heap on (at, seq). Four children per node halves
// the depth of a binary heap and keeps the children of a node in one or two
// cache lines, which is what matters once a million events are pending.
type eventHeap []entry

func (h *eventHeap) push(e entry) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = e
}

// pop removes and returns the minimum. The heap must not be empty.
func (h *eventHeap) pop() entry {
	s := *h
	top := s[0]
	n := len(s) - 1
	last := s[n]
	*h = s[:n]
	if n > 0 {
		h.siftDown(0, last)
	}
	return top
}

// siftDown places e at or below position i of the (already shortened) heap.
func (h *eventHeap) siftDown(i int, e entry) {
	s := *h
	n := len(s)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if s[j].before(&s[m]) {
				m = j
			}
		}
		if !s[m].before(&e) {
			break
		}
		s[i] = s[m]
		i = m
	}
	s[i] = e
}

// heapify restores the heap order of an arbitrary slice in O(n).
func (h *eventHeap) heapify() {
	s := *h
	if len(s) < 2 {
		return // (len−2)/4 truncates to 0: an empty heap has no s[0]
	}
	for i := (len(s) - 2) / 4; i >= 0; i-- {
		h.siftDown(i, s[i])
	}
}
