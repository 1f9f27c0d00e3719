package invalidation

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"stormglass/realtime/clock"
)

// Handler is what a Service calls on its worker goroutine, one call at a
// time, in the order the engine produced the work.
type Handler interface {
	// Rerun is called for each update that is due. The handler re-runs
	// the query (here or on its own pool) and calls Service.Refresh with
	// the new read set and the timestamp it read at, then pushes the new
	// result to the client.
	Rerun(ctx context.Context, u Update)
	// Notice is called for each notice: close the connection's socket
	// with n.Reason, or fail the one query.
	Notice(ctx context.Context, n Notice)
}

// Service is the concurrency-safe face of an Engine for a real server:
// every method may be called from any goroutine (the WebSocket readers, the
// commit path), and Run's worker goroutine hands due updates and notices to
// a Handler. It adds a mutex and a worker around the same core the
// simulator drives, nothing else.
type Service struct {
	mu      sync.Mutex
	eng     *Engine
	clk     clock.Clock
	handler Handler
	wake    chan struct{}
}

// NewService makes a service around a new engine. rnd is used under the
// service's lock, so a non-thread-safe source such as rand.NewPCG is fine.
func NewService(cfg Config, clk clock.Clock, rnd rand.Source, h Handler) (*Service, error) {
	eng, err := New(cfg, clk, rnd)
	if err != nil {
		return nil, err
	}
	return &Service{eng: eng, clk: clk, handler: h, wake: make(chan struct{}, 1)}, nil
}

// Run is the worker loop: it delivers notices and due updates to the
// handler, sleeps until the next splayed update is ready or new work
// arrives, and returns ctx.Err() when ctx is done. Call it once.
func (s *Service) Run(ctx context.Context) error {
	for {
		s.mu.Lock()
		notices := s.eng.TakeNotices()
		u, due := s.eng.Next()
		wait := time.Duration(-1)
		if !due {
			if at, ok := s.eng.NextReady(); ok {
				wait = max(0, at.Sub(s.clk.Now()))
			}
		}
		s.mu.Unlock()

		for _, n := range notices {
			s.handler.Notice(ctx, n)
		}
		if due {
			s.handler.Rerun(ctx, u)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if due || len(notices) > 0 {
			continue
		}
		var timer clock.Timer
		var ready chan struct{}
		if wait >= 0 {
			ready = make(chan struct{})
			timer = s.clk.AfterFunc(wait, func() { close(ready) })
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-ready:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// signal wakes the worker if it sleeps; a wake already pending suffices.
func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Subscribe is Engine.Subscribe.
func (s *Service) Subscribe(conn ConnID, rs ReadSet, ts Timestamp) (SubID, error) {
	s.mu.Lock()
	defer s.signal()
	defer s.mu.Unlock()
	return s.eng.Subscribe(conn, rs, ts)
}

// SubscribeAll is Engine.SubscribeAll.
func (s *Service) SubscribeAll(conn ConnID, sets []ReadSet, ts Timestamp) ([]SubID, error) {
	s.mu.Lock()
	defer s.signal()
	defer s.mu.Unlock()
	return s.eng.SubscribeAll(conn, sets, ts)
}

// Refresh is Engine.Refresh; handlers call it after a re-run.
func (s *Service) Refresh(id SubID, rs ReadSet, ts Timestamp) error {
	s.mu.Lock()
	defer s.signal()
	defer s.mu.Unlock()
	return s.eng.Refresh(id, rs, ts)
}

// Unsubscribe is Engine.Unsubscribe.
func (s *Service) Unsubscribe(id SubID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Unsubscribe(id)
}

// CloseConnection is Engine.CloseConnection.
func (s *Service) CloseConnection(conn ConnID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.CloseConnection(conn)
}

// Commit is Engine.Commit; the returned slice is the caller's own.
func (s *Service) Commit(c Commit) ([]Hit, error) {
	s.mu.Lock()
	defer s.signal()
	defer s.mu.Unlock()
	hits, err := s.eng.Commit(c)
	return slices.Clone(hits), err
}

// CommitBatch is Engine.CommitBatch; the returned slice is the caller's own.
func (s *Service) CommitBatch(cs []Commit) ([]Hit, error) {
	s.mu.Lock()
	defer s.signal()
	defer s.mu.Unlock()
	hits, err := s.eng.CommitBatch(cs)
	return slices.Clone(hits), err
}

// Pending is Engine.Pending.
func (s *Service) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Pending()
}

// Stats is Engine.Stats.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Stats()
}

// Subscriptions is Engine.Subscriptions.
func (s *Service) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Subscriptions()
}

// SetQueueLimit is Engine.SetQueueLimit.
func (s *Service) SetQueueLimit(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.SetQueueLimit(n)
}

// SetOverflow is Engine.SetOverflow.
func (s *Service) SetOverflow(p OverflowPolicy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.SetOverflow(p)
}

// SetSplay is Engine.SetSplay.
func (s *Service) SetSplay(sp Splay) error {
	s.mu.Lock()
	defer s.signal() // a shorter delay may make an update due sooner
	defer s.mu.Unlock()
	return s.eng.SetSplay(sp)
}

// SetLegacyMetadataReads is Engine.SetLegacyMetadataReads.
func (s *Service) SetLegacyMetadataReads(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eng.SetLegacyMetadataReads(on)
}
