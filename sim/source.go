package sim

import "time"

// Source generates arrivals of a renewal process: customers numbered 0, 1,
// 2, ... whose interarrival times are independent draws from a sampler (a
// Poisson process when the sampler is exponential). Each customer is handed
// to the arrive function, which brings it into the model, for example
// Station.Arrive.
type Source struct {
	k       *Kernel
	inter   func() time.Duration
	arrive  func(id int64)
	next    int64
	limit   int64
	pending EventID
}

// NewSource returns a stopped source; Start starts it.
func NewSource(k *Kernel, inter func() time.Duration, arrive func(id int64)) *Source {
	return &Source{k: k, inter: inter, arrive: arrive}
}

// Start makes the first customer arrive now and the rest follow. Starting a
// running source does nothing.
func (s *Source) Start() {
	if !s.k.IsPending(s.pending) && (s.limit == 0 || s.next < s.limit) {
		s.pending = s.k.After(0, s, 0, 0)
	}
}

// Stop cancels the next arrival; Start resumes.
func (s *Source) Stop() { s.k.Cancel(s.pending) }

// SetLimit stops the source once n customers in all have arrived; 0 means
// no limit.
func (s *Source) SetLimit(n int64) { s.limit = n }

// Arrivals returns how many customers have arrived.
func (s *Source) Arrivals() int64 { return s.next }

// Handle brings in the next customer and schedules the one after.
func (s *Source) Handle(Event) {
	s.arrive(s.next)
	s.next++
	if s.limit == 0 || s.next < s.limit {
		s.pending = s.k.After(s.inter(), s, 0, 0)
	}
}
