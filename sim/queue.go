package sim

import (
	"time"

	"stormglass/sim/stats"
)

// Queue is a bounded FIFO buffer of items of type T waiting for a consumer
// that the model drives (a worker pool pulling updates, a writer draining a
// send buffer). A full queue refuses new items; what a refusal means (drop,
// close the connection, reject) is the model's decision.
type Queue[T any] struct {
	k        *Kernel
	name     string
	capacity int
	items    Ring[queued[T]]

	Stats QueueStats
}

type queued[T any] struct {
	v  T
	at time.Duration
}

// QueueStats are a queue's measurements since the last ResetStats.
type QueueStats struct {
	Since    time.Duration
	Accepted stats.Counter
	Refused  stats.Counter
	Wait     stats.Tally // seconds from Push to Pop
	Length   *stats.TimeWeighted
}

// NewQueue returns a queue holding at most capacity items, or any number if
// capacity is 0.
func NewQueue[T any](k *Kernel, name string, capacity int) *Queue[T] {
	if capacity < 0 {
		panic("sim: a queue's capacity must be 0 (unlimited) or positive")
	}
	return &Queue[T]{k: k, name: name, capacity: capacity,
		Stats: QueueStats{Since: k.Now(), Length: stats.NewTimeWeighted(k.Now(), 0)}}
}

// Name returns the queue's name.
func (q *Queue[T]) Name() string { return q.name }

// Len returns the number of items waiting.
func (q *Queue[T]) Len() int { return q.items.Len() }

// Cap returns the capacity (0 for unlimited).
func (q *Queue[T]) Cap() int { return q.capacity }

// Full reports whether Push would refuse an item.
func (q *Queue[T]) Full() bool { return q.capacity > 0 && q.items.Len() >= q.capacity }

// SetCap changes the capacity from now on (a knob turned mid-incident).
// Lowering it below the current length drops nothing: the queue refuses new
// items until it has drained below the new limit.
func (q *Queue[T]) SetCap(capacity int) {
	if capacity < 0 {
		panic("sim: a queue's capacity must be 0 (unlimited) or positive")
	}
	q.capacity = capacity
}

// Push appends v. It reports false, counting a refusal, if the queue is full.
func (q *Queue[T]) Push(v T) bool {
	if q.Full() {
		q.Stats.Refused.Inc()
		return false
	}
	now := q.k.Now()
	q.items.Push(queued[T]{v: v, at: now})
	q.Stats.Accepted.Inc()
	q.Stats.Length.Set(now, float64(q.items.Len()))
	return true
}

// Pop removes the oldest item.
func (q *Queue[T]) Pop() (T, bool) {
	if q.items.Len() == 0 {
		var zero T
		return zero, false
	}
	now := q.k.Now()
	it := q.items.Pop()
	q.Stats.Wait.Record(seconds(now - it.at))
	q.Stats.Length.Set(now, float64(q.items.Len()))
	return it.v, true
}

// ResetStats forgets the measurements so far (warm-up deletion).
func (q *Queue[T]) ResetStats() {
	now := q.k.Now()
	q.Stats.Since = now
	q.Stats.Accepted.Reset()
	q.Stats.Refused.Reset()
	q.Stats.Wait.Reset()
	q.Stats.Length.Reset(now)
}
