package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrConfig is wrapped by every error about a Config's values.
var ErrConfig = errors.New("invalid cache configuration")

// Config describes a cache.
type Config struct {
	// TTL is how long an entry lives; TTLSpread, when positive, makes it
	// uniform in [TTL, TTL + TTLSpread] (300–420 s: TTL 300s, spread 120s).
	TTL, TTLSpread time.Duration
	// NegativeTTL, when positive, stores a lookup of a key that does not
	// exist that long, so repeated lookups stop reaching the database.
	NegativeTTL time.Duration
	// LocalTTL, when positive, adds a local tier in front of the shared
	// one, holding entries that long.
	LocalTTL time.Duration
}

// Validate reports every value the cache cannot run with, joined.
func (c Config) Validate() error {
	var errs []error
	if c.TTL <= 0 {
		errs = append(errs, fmt.Errorf("%w: TTL %v, expected above 0", ErrConfig, c.TTL))
	}
	if c.TTLSpread < 0 || c.NegativeTTL < 0 || c.LocalTTL < 0 {
		errs = append(errs, fmt.Errorf("%w: spread %v, negative TTL %v, local TTL %v: expected ≥ 0", ErrConfig, c.TTLSpread, c.NegativeTTL, c.LocalTTL))
	}
	return errors.Join(errs...)
}

// Outcome is where a lookup was answered.
type Outcome uint8

// Outcomes.
const (
	LocalHit  Outcome = iota + 1 // the local tier had it
	SharedHit                    // the shared tier had it
	Miss                         // the database must be asked
)

func (o Outcome) String() string {
	switch o {
	case LocalHit:
		return "local-hit"
	case SharedHit:
		return "shared-hit"
	case Miss:
		return "miss"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Stats counts lookups by outcome.
type Stats struct {
	LocalHits, SharedHits, Misses uint64
	// NegativeHits are hits on stored misses (included in the hits).
	NegativeHits uint64
}

// HitRatio is the share of lookups answered by a tier.
func (s Stats) HitRatio() float64 {
	n := s.LocalHits + s.SharedHits + s.Misses
	if n == 0 {
		return 0
	}
	return float64(s.LocalHits+s.SharedHits) / float64(n)
}

type entry struct {
	until  time.Duration
	exists bool
}

// Cache is a read-through cache with an optional local tier.
type Cache struct {
	cfg    Config
	rnd    *rand.Rand
	shared map[uint64]entry
	local  map[uint64]entry
	stats  Stats
}

// New makes an empty cache drawing TTLs from src.
func New(cfg Config, src rand.Source) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cache{cfg: cfg, rnd: rand.New(src), shared: map[uint64]entry{}}
	if cfg.LocalTTL > 0 {
		c.local = map[uint64]entry{}
	}
	return c, nil
}

// Get looks key up at time now; exists says whether the key exists in the
// database (what a load on a miss would find). On a miss the caller loads
// it and the cache stores the result: a found key for its TTL, a missing
// one for NegativeTTL (or not at all).
func (c *Cache) Get(key uint64, exists bool, now time.Duration) Outcome {
	if c.local != nil {
		if e, ok := c.local[key]; ok && now < e.until {
			c.stats.LocalHits++
			if !e.exists {
				c.stats.NegativeHits++
			}
			return LocalHit
		}
	}
	if e, ok := c.shared[key]; ok && now < e.until {
		c.stats.SharedHits++
		if !e.exists {
			c.stats.NegativeHits++
		}
		c.storeLocal(key, e.exists, now)
		return SharedHit
	}
	c.stats.Misses++
	c.Store(key, exists, now)
	return Miss
}

// Store puts a loaded value in the cache at now, as a miss's load or a
// warm-up does.
func (c *Cache) Store(key uint64, exists bool, now time.Duration) {
	ttl := c.cfg.TTL
	if !exists {
		ttl = c.cfg.NegativeTTL
		if ttl <= 0 {
			delete(c.shared, key)
			return
		}
	} else if c.cfg.TTLSpread > 0 {
		ttl += time.Duration(c.rnd.Int64N(int64(c.cfg.TTLSpread) + 1))
	}
	c.shared[key] = entry{until: now + ttl, exists: exists}
	c.storeLocal(key, exists, now)
}

func (c *Cache) storeLocal(key uint64, exists bool, now time.Duration) {
	if c.local != nil {
		c.local[key] = entry{until: now + c.cfg.LocalTTL, exists: exists}
	}
}

// Stats returns the counters.
func (c *Cache) Stats() Stats { return c.stats }
