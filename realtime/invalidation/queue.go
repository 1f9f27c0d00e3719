package invalidation

import "time"

// The update queue is a binary min-heap ordered by (ready, seq). Without
// splay every entry is ready when it enters and the clock never goes back,
// so the order is plain FIFO; with splay, entries leave in the order their
// delays expire. Each subscription slot stores its entry's heap position
// (plus one, zero meaning "not pending"), which makes coalescing O(1) and
// removal of a closed subscription's entry O(log n).

type pendingEntry struct {
	ready    time.Time
	enqueued time.Time
	seq      uint64
	ts       Timestamp
	slot     int32
}

type updateQueue struct {
	heap []pendingEntry
	seq  uint64
}

func (q *updateQueue) less(i, j int) bool {
	a, b := &q.heap[i], &q.heap[j]
	if !a.ready.Equal(b.ready) {
		return a.ready.Before(b.ready)
	}
	return a.seq < b.seq
}

func (e *Engine) qSwap(i, j int) {
	h := e.queue.heap
	h[i], h[j] = h[j], h[i]
	e.subs[h[i].slot].heapPos = int32(i + 1)
	e.subs[h[j].slot].heapPos = int32(j + 1)
}

func (e *Engine) qUp(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !e.queue.less(i, p) {
			return
		}
		e.qSwap(i, p)
		i = p
	}
}

func (e *Engine) qDown(i int) {
	n := len(e.queue.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && e.queue.less(r, l) {
			m = r
		}
		if !e.queue.less(m, i) {
			return
		}
		e.qSwap(i, m)
		i = m
	}
}

func (e *Engine) qPush(ent pendingEntry) {
	e.queue.seq++
	ent.seq = e.queue.seq
	e.queue.heap = append(e.queue.heap, ent)
	i := len(e.queue.heap) - 1
	e.subs[ent.slot].heapPos = int32(i + 1)
	e.qUp(i)
}

// qRemove takes the entry at heap index i out of the queue.
func (e *Engine) qRemove(i int) pendingEntry {
	h := e.queue.heap
	ent := h[i]
	last := len(h) - 1
	if i != last {
		e.qSwap(i, last)
	}
	e.queue.heap = h[:last]
	e.subs[ent.slot].heapPos = 0
	if i != last {
		e.qDown(i)
		e.qUp(i)
	}
	return ent
}
