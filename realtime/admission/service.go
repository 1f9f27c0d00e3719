package admission

import (
	"errors"
	"sync"
	"time"

	"stormglass/realtime/clock"
)

// Service is the concurrency-safe face of a Gate for a real server: every
// method may be called from any goroutine, and the time of each call is
// read from the clock under the lock, so decisions see time in the order
// they are made. It adds a mutex and a clock around the same core the
// simulator drives, nothing else: no goroutine, no timer.
type Service struct {
	mu   sync.Mutex
	gate *Gate
	clk  clock.Clock
}

// NewService makes a service around a new Gate, or returns the error
// NewGate reports.
func NewService(cfg Config, clk clock.Clock) (*Service, error) {
	if clk == nil {
		return nil, errors.New("admission: NewService needs a clock (clock.Real{} for the wall clock)")
	}
	g, err := NewGate(cfg)
	if err != nil {
		return nil, err
	}
	return &Service{gate: g, clk: clk}, nil
}

// AdmitRequest decides about one request now; see Gate.AdmitRequest.
func (s *Service) AdmitRequest() Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.AdmitRequest(s.clk.Now())
}

// AdmitConnection decides about one new connection now; see
// Gate.AdmitConnection.
func (s *Service) AdmitConnection() Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.AdmitConnection(s.clk.Now())
}

// Release hands back a ticket; see Gate.Release.
func (s *Service) Release(t Ticket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.Release(t)
}

// ObservePause tells the service about a GC pause of length d that has
// just ended; see Degrader.ObservePause.
func (s *Service) ObservePause(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate.ObservePause(s.clk.Now(), d)
}

// Level returns the degradation level now.
func (s *Service) Level() Level {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.Level(s.clk.Now())
}

// ShouldClose reports whether a connection last active at lastActive
// should be closed now; see Gate.ShouldClose.
func (s *Service) ShouldClose(lastActive time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.ShouldClose(s.clk.Now(), lastActive)
}

// IdleToClose returns the indexes of lastActive whose connections should
// be closed now, all decided at one instant; see Degrader.IdleToClose.
func (s *Service) IdleToClose(lastActive []time.Time) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.IdleToClose(s.clk.Now(), lastActive)
}

// SetRate changes kind's rate now (0 removes the limit).
func (s *Service) SetRate(kind Kind, perSecond float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.SetRateAt(s.clk.Now(), kind, perSecond)
}

// SetBurst changes kind's burst now (0 for the default).
func (s *Service) SetBurst(kind Kind, burst int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.SetBurstAt(s.clk.Now(), kind, burst)
}

// SetMaxInFlight changes kind's concurrency limit (0 removes it).
func (s *Service) SetMaxInFlight(kind Kind, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.SetMaxInFlight(kind, n)
}

// Config returns the configuration in use; see Gate.Config.
func (s *Service) Config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.Config()
}

// Stats returns the counts so far.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.Stats()
}
