package backoff

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"time"

	"stormglass/realtime/clock"
)

// Reasons a Backoff gives up; Next wraps them.
var (
	// ErrMaxAttempts: the policy's MaxAttempts consecutive failures were
	// all retried already.
	ErrMaxAttempts = errors.New("retry attempts exhausted")
	// ErrBudgetExhausted: the shared retry budget has too few tokens left.
	ErrBudgetExhausted = errors.New("retry budget exhausted")
)

// Backoff is one client's reconnect (or one request's retry) state under a
// Policy: how many consecutive failures it has seen, and what it has heard
// from the server since it last connected. It is not safe for concurrent
// use: a client owns its Backoff, as it owns its connection. A Budget may
// be shared.
type Backoff struct {
	policy Policy
	clk    clock.Clock
	rnd    *rand.Rand
	budget *Budget

	failures    int           // consecutive failures since the last reset
	prev        time.Duration // the last decorrelated delay; 0 after a reset
	connected   bool
	connectedAt time.Time
	heard       bool // a server message arrived on this connection
	retryCost   int  // budget tokens the retry that led here took
	stats       Stats
}

// Stats counts what a Backoff did.
type Stats struct {
	Failures       uint64 // calls to Next
	Retries        uint64 // delays granted
	GaveUp         uint64 // refusals for MaxAttempts
	BudgetRefusals uint64 // refusals for an empty budget
	Resets         uint64 // times a positive failure count returned to 0
	Connects       uint64 // calls to Connected
}

// New makes a Backoff for p, taking time from clk (for ResetWhenStable)
// and randomness from src, so a simulation reproduces its delays from its
// seed.
func New(p Policy, clk clock.Clock, src rand.Source) (*Backoff, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if clk == nil || src == nil {
		return nil, fmt.Errorf("backoff: New needs a clock and a random source")
	}
	p.ReasonInitial = maps.Clone(p.ReasonInitial) // the caller may change its map
	return &Backoff{policy: p, clk: clk, rnd: rand.New(src)}, nil
}

// UseBudget makes every retry take tokens from budget (shared with other
// clients) and every success refill it. nil removes the budget.
func (b *Backoff) UseBudget(budget *Budget) { b.budget = budget }

// Policy returns the policy in force.
func (b *Backoff) Policy() Policy { return b.policy }

// Next records a failure — a failed attempt, or a connection closed for
// reason — and returns how long to wait before the next attempt. It
// returns an error wrapping ErrMaxAttempts or ErrBudgetExhausted when the
// client should give up instead.
func (b *Backoff) Next(reason string) (time.Duration, error) {
	b.stats.Failures++
	b.resetIfStable()
	b.connected, b.heard = false, false
	p := &b.policy
	if p.MaxAttempts > 0 && b.failures >= p.MaxAttempts {
		b.stats.GaveUp++
		return 0, fmt.Errorf("backoff: policy %q: %d consecutive failures already retried: %w", p.Name, b.failures, ErrMaxAttempts)
	}
	if b.budget != nil {
		cost, ok := b.budget.TryRetry(reason == ReasonTimeout)
		if !ok {
			b.stats.BudgetRefusals++
			return 0, fmt.Errorf("backoff: policy %q: a retry costs %d tokens, the budget holds %d: %w", p.Name, cost, b.budget.Tokens(), ErrBudgetExhausted)
		}
		b.retryCost = cost
	}
	d := b.delay(reason)
	b.failures++
	b.stats.Retries++
	return d, nil
}

// delay draws the wait after b.failures earlier consecutive failures.
func (b *Backoff) delay(reason string) time.Duration {
	p := &b.policy
	base := p.Base(b.failures, reason)
	switch p.Jitter {
	case FullJitter:
		return time.Duration(b.rnd.Float64() * float64(base))
	case EqualJitter:
		half := base / 2
		return half + time.Duration(b.rnd.Float64()*float64(base-half))
	case DecorrelatedJitter:
		lo := p.initial(reason)
		prev := max(b.prev, lo)
		d := min(p.Cap, lo+time.Duration(b.rnd.Float64()*float64(3*prev-lo)))
		b.prev = d
		return d
	case ProportionalJitter:
		return time.Duration(float64(base) * (1 + p.JitterFraction*(2*b.rnd.Float64()-1)))
	}
	return base
}

// Connected records that an attempt succeeded: the connection is open (or
// the request went through). It refills the budget and, under
// ResetOnConnect, forgets the failures.
func (b *Backoff) Connected() {
	b.stats.Connects++
	b.connected, b.heard = true, false
	b.connectedAt = b.clk.Now()
	if b.budget != nil {
		b.budget.Succeeded(b.retryCost)
		b.retryCost = 0
	}
	if b.policy.Reset == ResetOnConnect {
		b.reset()
	}
}

// MessageReceived records a message from the server. The first one on a
// connection resets the failures under ResetOnFirstMessage.
func (b *Backoff) MessageReceived() {
	if !b.connected || b.heard {
		return
	}
	b.heard = true
	if b.policy.Reset == ResetOnFirstMessage {
		b.reset()
	}
}

// Synced records that every query and mutation has re-synced on the
// current connection: the client is healthy again. It resets the failures
// under ResetWhenSynced.
func (b *Backoff) Synced() {
	if b.connected && b.policy.Reset == ResetWhenSynced {
		b.reset()
	}
}

// Failures is the count of consecutive failures the next delay grows from.
func (b *Backoff) Failures() int {
	b.resetIfStable()
	return b.failures
}

// ConnectTimeout is how long the next connection attempt may take under a
// policy with MinConnectTimeout: the larger of it and the current
// (unjittered) delay, as gRPC does. It is 0 when the policy sets no
// minimum.
func (b *Backoff) ConnectTimeout() time.Duration {
	if b.policy.MinConnectTimeout == 0 {
		return 0
	}
	return max(b.policy.MinConnectTimeout, b.policy.Base(max(0, b.Failures()-1), ""))
}

// Reset forgets the failures at once, whatever the policy.
func (b *Backoff) Reset() { b.reset() }

// Stats returns the counters.
func (b *Backoff) Stats() Stats { return b.stats }

func (b *Backoff) reset() {
	if b.failures > 0 {
		b.stats.Resets++
	}
	b.failures, b.prev = 0, 0
}

// resetIfStable applies ResetWhenStable lazily: a connection that has
// been up StableFor by now has been healthy, whenever it is asked.
func (b *Backoff) resetIfStable() {
	if b.policy.Reset == ResetWhenStable && b.connected && b.clk.Now().Sub(b.connectedAt) >= b.policy.StableFor {
		b.reset()
	}
}
