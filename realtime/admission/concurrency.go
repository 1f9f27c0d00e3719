package admission

import (
	"errors"
	"fmt"
)

// ErrUnknownSlot is returned when releasing a slot that was never handed
// out, or was already released. A counter that silently went below zero
// would hide exactly the leak or double release that exhausts a pool
// (incident 3: pool leaks under exceptions), so it is an error instead.
var ErrUnknownSlot = errors.New("unknown or already released slot")

// Slot is one unit in flight in a ConcurrencyLimit, handed out by
// TryAcquire and handed back to Release. The zero Slot is never handed out.
type Slot uint64

// ConcurrencyStats counts what a ConcurrencyLimit did.
type ConcurrencyStats struct {
	Acquired     uint64 // slots handed out
	Refused      uint64 // acquisitions refused because the limit was reached
	Released     uint64 // slots handed back
	BadReleases  uint64 // releases of unknown or already released slots
	InFlight     int    // slots held now
	PeakInFlight int    // most slots held at once
}

// ConcurrencyLimit admits at most Max units in flight. It is a plain
// struct driven single-threaded; Service adds the lock for services.
type ConcurrencyLimit struct {
	max   int
	next  Slot
	held  map[Slot]struct{}
	stats ConcurrencyStats
}

// NewConcurrencyLimit makes a limit from cfg, or returns an error wrapping
// ErrInvalidConfig.
func NewConcurrencyLimit(cfg ConcurrencyConfig) (*ConcurrencyLimit, error) {
	cfg, err := cfg.resolve("ConcurrencyConfig")
	if err != nil {
		return nil, err
	}
	return newConcurrencyLimit(cfg), nil
}

func newConcurrencyLimit(cfg ConcurrencyConfig) *ConcurrencyLimit {
	return &ConcurrencyLimit{max: cfg.Max, held: make(map[Slot]struct{})}
}

// Max returns the limit, 0 for none.
func (c *ConcurrencyLimit) Max() int { return c.max }

// InFlight returns the number of slots held.
func (c *ConcurrencyLimit) InFlight() int { return len(c.held) }

// SetMax changes the limit live. Lowering it below the number in flight
// revokes nothing: new acquisitions are refused until enough are released.
func (c *ConcurrencyLimit) SetMax(n int) error { return c.setMax("ConcurrencyConfig", n) }

// setMax is SetMax naming the field path in errors.
func (c *ConcurrencyLimit) setMax(path string, n int) error {
	if err := checkMax(path+".Max", n); err != nil {
		return err
	}
	c.max = n
	return nil
}

// hasRoom reports whether one more unit may be acquired.
func (c *ConcurrencyLimit) hasRoom() bool { return c.max == 0 || len(c.held) < c.max }

// TryAcquire takes a slot if fewer than Max are held, and counts a refusal
// otherwise.
func (c *ConcurrencyLimit) TryAcquire() (Slot, bool) {
	if !c.hasRoom() {
		c.stats.Refused++
		return 0, false
	}
	return c.acquire(), true
}

// acquire takes a slot without checking the limit; callers check hasRoom.
func (c *ConcurrencyLimit) acquire() Slot {
	c.next++
	s := c.next
	c.held[s] = struct{}{}
	c.stats.Acquired++
	c.stats.PeakInFlight = max(c.stats.PeakInFlight, len(c.held))
	return s
}

// Release hands a slot back. A slot that was never handed out or was
// already released is an error wrapping ErrUnknownSlot, and changes
// nothing but the BadReleases count.
func (c *ConcurrencyLimit) Release(s Slot) error {
	if !c.release(s) {
		return fmt.Errorf("admission: release slot %d (%d in flight, limit %d): %w", s, len(c.held), c.max, ErrUnknownSlot)
	}
	return nil
}

// release frees slot s and reports whether it was held.
func (c *ConcurrencyLimit) release(s Slot) bool {
	if _, ok := c.held[s]; !ok {
		c.stats.BadReleases++
		return false
	}
	delete(c.held, s)
	c.stats.Released++
	return true
}

// Stats returns the counts so far.
func (c *ConcurrencyLimit) Stats() ConcurrencyStats {
	st := c.stats
	st.InFlight = len(c.held)
	return st
}
