package sim

// Ring is a growable FIFO buffer. Unlike a slice used as a queue
// (s = s[1:]), it reuses its storage, so a queue that fills and drains for
// hours allocates only when it reaches a new high-water mark. The zero
// value is an empty ring.
type Ring[T any] struct {
	buf  []T
	head int
	n    int
}

// Len is the number of elements.
func (r *Ring[T]) Len() int { return r.n }

// Push appends v.
func (r *Ring[T]) Push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// Pop removes the oldest element. The ring must not be empty.
func (r *Ring[T]) Pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero // let the garbage collector have what it referenced
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

// At returns a pointer to the i-th oldest element, 0 ≤ i < Len.
func (r *Ring[T]) At(i int) *T { return &r.buf[(r.head+i)&(len(r.buf)-1)] }

// Clear empties the ring, keeping its storage.
func (r *Ring[T]) Clear() {
	for r.n > 0 {
		r.Pop()
	}
	r.head = 0
}

// grow doubles the storage; the length stays a power of two so that
// indexing is a mask instead of a division.
func (r *Ring[T]) grow() {
	size := max(8, 2*len(r.buf))
	buf := make([]T, size)
	for i := range r.n {
		buf[i] = *r.At(i)
	}
	r.buf, r.head = buf, 0
}
