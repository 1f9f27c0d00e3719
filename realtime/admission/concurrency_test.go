package admission

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// t0 is the start of every test's virtual time: the flash sale's 03:17.
var t0 = time.Date(2025, 6, 1, 3, 17, 0, 0, time.UTC)

// TestConcurrencyNeverExceedsMax drives random acquire/release streams and
// checks the limit against a model: an acquisition succeeds exactly when
// fewer than Max are held, in flight never exceeds Max, and the counts
// match what was done.
func TestConcurrencyNeverExceedsMax(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0xC0))
		maxInFlight := 1 + rng.IntN(16)
		c, err := NewConcurrencyLimit(ConcurrencyConfig{Max: maxInFlight})
		if err != nil {
			t.Fatal(err)
		}
		var held []Slot
		var tries, acquired, refused, released uint64
		acquireBias := 0.3 + 0.5*rng.Float64() // some runs saturate, some drain
		for step := 0; step < 5000; step++ {
			if len(held) == 0 || rng.Float64() < acquireBias {
				tries++
				s, ok := c.TryAcquire()
				if want := len(held) < maxInFlight; ok != want {
					t.Fatalf("seed %d step %d: TryAcquire ok=%v with %d of %d held, want %v", seed, step, ok, len(held), maxInFlight, want)
				}
				if ok {
					acquired++
					held = append(held, s)
				} else {
					refused++
				}
			} else {
				i := rng.IntN(len(held))
				if err := c.Release(held[i]); err != nil {
					t.Fatalf("seed %d step %d: release of a held slot: %v", seed, step, err)
				}
				released++
				held[i] = held[len(held)-1]
				held = held[:len(held)-1]
			}
			if c.InFlight() != len(held) || c.InFlight() > maxInFlight {
				t.Fatalf("seed %d step %d: InFlight %d, model %d, max %d", seed, step, c.InFlight(), len(held), maxInFlight)
			}
		}
		st := c.Stats()
		if st.Acquired != acquired || st.Refused != refused || st.Released != released || st.Acquired+st.Refused != tries {
			t.Fatalf("seed %d: stats %+v, model acquired %d refused %d released %d tries %d", seed, st, acquired, refused, released, tries)
		}
		if st.PeakInFlight > maxInFlight {
			t.Fatalf("seed %d: peak %d above max %d", seed, st.PeakInFlight, maxInFlight)
		}
	}
}

// TestConcurrencyBadReleaseIsAnError checks that releasing a slot never
// handed out, or twice, fails and frees no capacity: a silent underflow
// would let Max+1 in.
func TestConcurrencyBadReleaseIsAnError(t *testing.T) {
	c, err := NewConcurrencyLimit(ConcurrencyConfig{Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.TryAcquire()
	b, _ := c.TryAcquire()
	if err := c.Release(a); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Slot{0, a, b + 100} {
		if err := c.Release(s); !errors.Is(err, ErrUnknownSlot) {
			t.Fatalf("Release(%d) = %v, want ErrUnknownSlot", s, err)
		}
	}
	if c.InFlight() != 1 {
		t.Fatalf("InFlight %d after bad releases, want 1", c.InFlight())
	}
	if _, ok := c.TryAcquire(); !ok {
		t.Fatal("one slot should be free")
	}
	if _, ok := c.TryAcquire(); ok {
		t.Fatal("bad releases freed capacity: a third slot was handed out with Max 2")
	}
	if st := c.Stats(); st.BadReleases != 3 || st.Released != 1 {
		t.Fatalf("stats %+v, want 3 bad releases and 1 release", st)
	}
}

// TestConcurrencySetMaxLive lowers the limit below the count in flight:
// nothing is revoked, and acquisitions are refused until enough drain.
func TestConcurrencySetMaxLive(t *testing.T) {
	c, _ := NewConcurrencyLimit(ConcurrencyConfig{Max: 4})
	var held []Slot
	for range 4 {
		s, _ := c.TryAcquire()
		held = append(held, s)
	}
	if err := c.SetMax(2); err != nil {
		t.Fatal(err)
	}
	for i, s := range held[:3] {
		if _, ok := c.TryAcquire(); ok {
			t.Fatalf("acquired with %d in flight and max 2", c.InFlight())
		}
		if err := c.Release(s); err != nil {
			t.Fatalf("release %d: %v", i, err)
		}
	}
	if _, ok := c.TryAcquire(); !ok {
		t.Fatal("refused with 1 in flight and max 2")
	}
	if err := c.SetMax(-1); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetMax(-1) = %v, want ErrInvalidConfig", err)
	}
}

// TestConcurrencyNoLimit: Max 0 admits everything and still counts.
func TestConcurrencyNoLimit(t *testing.T) {
	c, _ := NewConcurrencyLimit(ConcurrencyConfig{})
	for i := range 1000 {
		if _, ok := c.TryAcquire(); !ok {
			t.Fatalf("refused acquisition %d with no limit", i)
		}
	}
	if st := c.Stats(); st.InFlight != 1000 || st.PeakInFlight != 1000 || st.Refused != 0 {
		t.Fatalf("stats %+v", st)
	}
}
