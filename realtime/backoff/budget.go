package backoff

import (
	"fmt"
	"sync"
)

// Defaults of BudgetConfig: the retry quota of AWS SDKs' standard retry
// mode.
const (
	DefaultBudgetCapacity = 500
	DefaultRetryCost      = 5
	DefaultTimeoutCost    = 10
	DefaultSuccessRefill  = 1
)

// BudgetConfig sizes a retry budget. Zero fields take the defaults.
type BudgetConfig struct {
	// Capacity is the most tokens the budget holds, and where it starts.
	Capacity int
	// RetryCost is what a retry takes.
	RetryCost int
	// TimeoutCost is what a retry after a timeout takes.
	TimeoutCost int
	// SuccessRefill is what a success at the first attempt gives back; a
	// success after a retry gives back that retry's cost.
	SuccessRefill int
}

// Budget is a retry budget shared by many clients: a bucket of tokens that
// retries drain and successes refill. While the service is healthy,
// successes keep it full and it changes nothing; when most calls fail, it
// empties and the clients stop retrying, so retries cannot multiply the
// load on a service that is already down. It is safe for concurrent use.
type Budget struct {
	cfg BudgetConfig

	mu     sync.Mutex
	tokens int
	stats  BudgetStats
}

// BudgetStats counts a Budget's traffic.
type BudgetStats struct {
	Retries  uint64 // retries granted
	Refusals uint64 // retries refused for want of tokens
	Refills  uint64 // successes that gave tokens back
}

// NewBudget makes a full budget.
func NewBudget(cfg BudgetConfig) (*Budget, error) {
	if cfg.Capacity == 0 {
		cfg.Capacity = DefaultBudgetCapacity
	}
	if cfg.RetryCost == 0 {
		cfg.RetryCost = DefaultRetryCost
	}
	if cfg.TimeoutCost == 0 {
		cfg.TimeoutCost = DefaultTimeoutCost
	}
	if cfg.SuccessRefill == 0 {
		cfg.SuccessRefill = DefaultSuccessRefill
	}
	if cfg.Capacity < 0 {
		return nil, fmt.Errorf("backoff: budget Capacity = %d: want a positive count: %w", cfg.Capacity, ErrInvalidPolicy)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"RetryCost", cfg.RetryCost}, {"TimeoutCost", cfg.TimeoutCost}, {"SuccessRefill", cfg.SuccessRefill}} {
		if f.v < 0 || f.v > cfg.Capacity {
			return nil, fmt.Errorf("backoff: budget %s = %d: want a positive count at most Capacity (%d): %w", f.name, f.v, cfg.Capacity, ErrInvalidPolicy)
		}
	}
	return &Budget{cfg: cfg, tokens: cfg.Capacity}, nil
}

// Config returns the budget's sizes, defaults filled in.
func (b *Budget) Config() BudgetConfig { return b.cfg }

// Tokens is what the budget holds now.
func (b *Budget) Tokens() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

// Stats returns the counters.
func (b *Budget) Stats() BudgetStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// TryRetry takes the tokens one retry costs, reporting the cost and
// whether the retry may go ahead. Backoff.Next calls it; call it directly
// to budget retries without a Backoff.
func (b *Budget) TryRetry(afterTimeout bool) (cost int, ok bool) {
	cost = b.cfg.RetryCost
	if afterTimeout {
		cost = b.cfg.TimeoutCost
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < cost {
		b.stats.Refusals++
		return cost, false
	}
	b.tokens -= cost
	b.stats.Retries++
	return cost, true
}

// Succeeded gives tokens back for a success: retryCost if the success came
// from a retry that took that much, SuccessRefill when retryCost is 0.
func (b *Budget) Succeeded(retryCost int) {
	refill := retryCost
	if refill <= 0 {
		refill = b.cfg.SuccessRefill
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.cfg.Capacity, b.tokens+refill)
	b.stats.Refills++
}
