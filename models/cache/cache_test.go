package cache

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func newCache(t *testing.T, cfg Config) *Cache {
	t.Helper()
	c, err := New(cfg, rand.NewPCG(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidate(t *testing.T) {
	for _, cfg := range []Config{{}, {TTL: time.Second, TTLSpread: -1}, {TTL: time.Second, NegativeTTL: -1}} {
		if _, err := New(cfg, rand.NewPCG(1, 2)); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", cfg, err)
		}
	}
}

// For a key requested as a Poisson stream of rate λ with entries kept T
// from the miss that loaded them, the hit ratio is λT / (1 + λT).
func TestHitRatioOfATTLCacheUnderPoissonLookups(t *testing.T) {
	for _, c := range []struct {
		rate float64 // lookups per second per key
		ttl  time.Duration
	}{
		{2, 3 * time.Second},
		{0.1, 5 * time.Second},
		{10, 300 * time.Millisecond},
	} {
		cache := newCache(t, Config{TTL: c.ttl})
		rng := rand.New(rand.NewPCG(7, 8))
		const keys = 200
		next := make([]time.Duration, keys)
		for k := range next {
			next[k] = time.Duration(rng.ExpFloat64() / c.rate * float64(time.Second))
		}
		horizon := time.Duration(400_000/c.rate/keys) * time.Second // about 400,000 lookups
		for k := range keys {
			for now := next[k]; now < horizon; now += time.Duration(rng.ExpFloat64() / c.rate * float64(time.Second)) {
				cache.Get(uint64(k), true, now)
			}
		}
		x := c.rate * c.ttl.Seconds()
		want := x / (1 + x)
		s := cache.Stats()
		n := float64(s.SharedHits + s.Misses)
		if got := s.HitRatio(); math.Abs(got-want) > 4*math.Sqrt(want*(1-want)/n)+1e-3 {
			t.Errorf("λ=%v/s, T=%v: hit ratio %.4f over %.0f lookups, want λT/(1+λT) = %.4f", c.rate, c.ttl, got, n, want)
		}
	}
}

// Keys loaded together with one TTL expire together: for ten seconds
// every lookup misses and reaches the database. A TTL drawn from 300–420 s
// spreads the same expiries over two minutes.
func TestAvalancheAndItsRemedy(t *testing.T) {
	const keys = 12_000 // each looked up every 10 s: 1,200 lookups a second
	worst := func(cfg Config) (peak, total uint64) {
		c := newCache(t, cfg)
		for k := range keys {
			c.Store(uint64(k), true, 0) // a warm-up loads every key at once
		}
		for s := 1; s <= 700; s++ {
			before := c.Stats().Misses
			for k := s % 10; k < keys; k += 10 {
				c.Get(uint64(k), true, time.Duration(s)*time.Second)
			}
			peak = max(peak, c.Stats().Misses-before)
		}
		return peak, c.Stats().Misses
	}
	fixedPeak, fixedTotal := worst(Config{TTL: 300 * time.Second})
	spreadPeak, spreadTotal := worst(Config{TTL: 300 * time.Second, TTLSpread: 120 * time.Second})
	if fixedPeak != keys/10 {
		t.Fatalf("fixed TTL: worst second %d misses, want every lookup of that second (%d)", fixedPeak, keys/10)
	}
	if spreadPeak > fixedPeak/4 || spreadTotal > fixedTotal {
		t.Fatalf("randomised TTL: worst second %d misses (fixed %d), total %d (fixed %d); want the peak cut fourfold, no more misses",
			spreadPeak, fixedPeak, spreadTotal, fixedTotal)
	}
	t.Logf("worst second: %d misses with a fixed TTL, %d with 300–420 s", fixedPeak, spreadPeak)
}

// A key that does not exist is not stored: every lookup reaches the
// database. Storing the miss for a minute lets one lookup a minute through.
func TestPenetrationAndCachingMisses(t *testing.T) {
	run := func(cfg Config) Stats {
		c := newCache(t, cfg)
		for s := range 600 {
			for i := range 10 { // 10 lookups a second of one id that does not exist
				c.Get(424242, false, time.Duration(s)*time.Second+time.Duration(i)*100*time.Millisecond)
			}
		}
		return c.Stats()
	}
	if s := run(Config{TTL: 5 * time.Minute}); s.Misses != 6000 || s.HitRatio() != 0 {
		t.Fatalf("without caching misses: %+v, want all 6000 lookups missing", s)
	}
	if s := run(Config{TTL: 5 * time.Minute, NegativeTTL: time.Minute}); s.Misses != 10 || s.NegativeHits != 5990 {
		t.Fatalf("caching misses for a minute: %+v, want 10 misses (one a minute) and 5990 hits on the stored miss", s)
	}
}

// A local tier answers before the shared one while its entry lives, then
// hands back to the shared tier, which refills it.
func TestLocalTierBeforeTheShared(t *testing.T) {
	c := newCache(t, Config{TTL: time.Minute, LocalTTL: 5 * time.Second})
	want := []struct {
		at  time.Duration
		out Outcome
	}{
		{0, Miss}, {time.Second, LocalHit}, {5 * time.Second, SharedHit}, {6 * time.Second, LocalHit},
		{10 * time.Second, SharedHit}, {61 * time.Second, Miss}, {62 * time.Second, LocalHit},
	}
	for _, w := range want {
		if got := c.Get(1, true, w.at); got != w.out {
			t.Fatalf("at %v: %v, want %v", w.at, got, w.out)
		}
	}
	if s := c.Stats(); s.LocalHits != 3 || s.SharedHits != 2 || s.Misses != 2 {
		t.Fatalf("stats %+v", s)
	}
}
