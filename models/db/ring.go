package db

// ring is a growable FIFO buffer that reuses its storage (as sim's does),
// so a queue that fills and drains for hours allocates only when it
// reaches a new high-water mark.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) Len() int { return r.n }

func (r *ring[T]) Push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// Pop removes the oldest element. The ring must not be empty.
func (r *ring[T]) Pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero // let the garbage collector have what it referenced
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

// At returns a pointer to the i-th oldest element, 0 ≤ i < Len.
func (r *ring[T]) At(i int) *T { return &r.buf[(r.head+i)&(len(r.buf)-1)] }

// Clear empties the ring, keeping its storage.
func (r *ring[T]) Clear() {
	for r.n > 0 {
		r.Pop()
	}
	r.head = 0
}

// grow doubles the storage; the length stays a power of two so that
// indexing is a mask instead of a division.
func (r *ring[T]) grow() {
	size := max(8, 2*len(r.buf))
	buf := make([]T, size)
	for i := range r.n {
		buf[i] = *r.At(i)
	}
	r.buf, r.head = buf, 0
}
