package admission

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func newRate(t *testing.T, perSecond float64, burst int) *RateLimit {
	t.Helper()
	r, err := NewRateLimit(RateConfig{PerSecond: perSecond, Burst: burst})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rateCases span the flash sale's 5,000/s and slow, fractional rates.
var rateCases = []struct {
	perSecond float64
	burst     int
}{
	{5000, 500}, {5000, 1}, {1000, 0}, {37.5, 4}, {2, 2}, {0.5, 1}, {123.25, 17},
}

// TestRateLongRunAboveLimit offers load at 2 to 10 times the limit, with
// seeded random gaps no longer than a token's time, and checks that
// exactly burst + rate·T are admitted over a run of length T, within one.
// With burst >= 2 and gaps under a token's time the bucket never
// overflows after its first burst is spent, so no token is lost. A bucket
// of one token is full whenever a token has accrued, and the part of a
// token earned between then and the next arrival is lost by design: there
// only the upper bound burst + rate·T is checked.
func TestRateLongRunAboveLimit(t *testing.T) {
	for i, tc := range rateCases {
		rng := rand.New(rand.NewPCG(uint64(i), 0xA1))
		r := newRate(t, tc.perSecond, tc.burst)
		burst := r.Burst()
		offered := tc.perSecond * (2 + 8*rng.Float64())
		const tokens = 5000 // run long enough to earn this many tokens
		span := seconds(tokens / tc.perSecond)
		var admitted, refused, asked int
		at, last := t0, t0
		for at.Sub(t0) <= span {
			asked++
			last = at
			if ok, _ := r.AllowN(at, 1); ok {
				admitted++
			} else {
				refused++
			}
			// Gaps uniform in (0, 2/offered]: the mean is 1/offered and
			// the longest is below one token's time.
			at = at.Add(seconds((1 - rng.Float64()) * 2 / offered))
		}
		want := float64(burst) + tc.perSecond*last.Sub(t0).Seconds()
		if tc.burst == 1 {
			if float64(admitted) > want {
				t.Errorf("rate %v burst 1 over %v: admitted %d, more than burst + rate·T = %.2f", tc.perSecond, last.Sub(t0), admitted, want)
			}
		} else if math.Abs(float64(admitted)-want) > 1 {
			t.Errorf("rate %v burst %d offered %.1f/s over %v: admitted %d, want burst + rate·T = %.2f (±1)",
				tc.perSecond, burst, offered, last.Sub(t0), admitted, want)
		}
		if st := r.Stats(); st.Admitted != uint64(admitted) || st.Refused != uint64(refused) || admitted+refused != asked {
			t.Errorf("rate %v: stats %+v, counted admitted %d refused %d of %d", tc.perSecond, st, admitted, refused, asked)
		}
	}
}

// TestRateBelowLimitRefusesNothing offers load below the limit, as single
// arrivals spaced more than a token apart and as bursts of the bucket's
// size spaced more than a bucket apart: nothing may be refused.
func TestRateBelowLimitRefusesNothing(t *testing.T) {
	for i, tc := range rateCases {
		rng := rand.New(rand.NewPCG(uint64(i), 0xB2))
		r := newRate(t, tc.perSecond, tc.burst)
		token := 1 / tc.perSecond
		at := t0
		for n := 0; n < 3000; n++ {
			if ok, retry := r.AllowN(at, 1); !ok {
				t.Fatalf("rate %v: spaced arrival %d refused (retry after %v)", tc.perSecond, n, retry)
			}
			at = at.Add(seconds(token * (1.001 + 2*rng.Float64())))
		}
		bucket := float64(r.Burst()) * token
		for b := 0; b < 50; b++ {
			at = at.Add(seconds(bucket * (1.001 + rng.Float64())))
			for n := range r.Burst() {
				if ok, _ := r.AllowN(at, 1); !ok {
					t.Fatalf("rate %v: arrival %d of burst %d refused after a full refill", tc.perSecond, n, b)
				}
			}
		}
		if st := r.Stats(); st.Refused != 0 {
			t.Fatalf("rate %v: %d refused below the limit", tc.perSecond, st.Refused)
		}
	}
}

// TestRateBurstAfterIdle: after an idle spell long enough to refill, a
// burst of exactly Burst is admitted at one instant, and no more.
func TestRateBurstAfterIdle(t *testing.T) {
	for _, tc := range rateCases {
		r := newRate(t, tc.perSecond, tc.burst)
		at := t0
		for r.TokensAt(at) >= 1 { // drain
			r.AllowN(at, 1)
		}
		at = at.Add(seconds(float64(r.Burst())/tc.perSecond) + time.Millisecond)
		for n := range r.Burst() {
			if ok, _ := r.AllowN(at, 1); !ok {
				t.Fatalf("rate %v burst %d: request %d of the burst refused", tc.perSecond, r.Burst(), n)
			}
		}
		if ok, _ := r.AllowN(at, 1); ok {
			t.Fatalf("rate %v burst %d: request beyond the burst admitted", tc.perSecond, r.Burst())
		}
	}
}

// TestRateRetryAfterIsExact: whenever a request is refused with
// retry-after d, the same request is refused at d-1ns and admitted at d.
func TestRateRetryAfterIsExact(t *testing.T) {
	for i, tc := range rateCases {
		rng := rand.New(rand.NewPCG(uint64(i), 0xC3))
		r := newRate(t, tc.perSecond, tc.burst)
		at := t0
		checked := 0
		for step := 0; step < 2000; step++ {
			n := 1 + rng.IntN(r.Burst())
			ok, d := r.AllowN(at, n)
			if ok {
				at = at.Add(seconds(rng.Float64() * float64(n) / tc.perSecond / 2))
				continue
			}
			if d <= 0 || d == Never {
				t.Fatalf("rate %v: refused %d with retry-after %v", tc.perSecond, n, d)
			}
			if ok, _ := r.AllowN(at.Add(d-1), n); ok {
				t.Fatalf("rate %v: %d admitted 1ns before the retry-after %v: the hint is not the shortest wait", tc.perSecond, n, d)
			}
			if ok, _ := r.AllowN(at.Add(d), n); !ok {
				t.Fatalf("rate %v: %d refused at the retry-after %v", tc.perSecond, n, d)
			}
			checked++
			at = at.Add(d)
		}
		if checked < 100 {
			t.Fatalf("rate %v: only %d refusals checked", tc.perSecond, checked)
		}
	}
}

// TestRateMoreThanBurstNeverAdmitted: no wait admits n > burst.
func TestRateMoreThanBurstNeverAdmitted(t *testing.T) {
	r := newRate(t, 10, 3)
	if ok, d := r.AllowN(t0.Add(time.Hour), 4); ok || d != Never {
		t.Fatalf("AllowN(4) with burst 3 = %v, %v; want refused, Never", ok, d)
	}
	if d, ok := r.ReserveN(t0.Add(time.Hour), 4); ok || d != Never {
		t.Fatalf("ReserveN(4) with burst 3 = %v, %v; want refused, Never", d, ok)
	}
}

// TestRateReserveN: a reservation borrows from the future, and the debt
// shows in the delay of the next reservation and in AllowN's retry-after.
func TestRateReserveN(t *testing.T) {
	const perSecond = 100
	r := newRate(t, perSecond, 10)
	if d, ok := r.ReserveN(t0, 10); !ok || d != 0 {
		t.Fatalf("reserving a full bucket: %v, %v; want no wait", d, ok)
	}
	d, ok := r.ReserveN(t0, 5)
	if want := seconds(5.0 / perSecond); !ok || d.Round(time.Microsecond) != want {
		t.Fatalf("reserving 5 from an empty bucket: %v, %v; want %v", d, ok, want)
	}
	_, retry := r.AllowN(t0, 1)
	if want := seconds(6.0 / perSecond); retry.Round(time.Microsecond) != want {
		t.Fatalf("retry-after behind a 5-token debt = %v, want %v", retry, want)
	}
	if st := r.Stats(); st.Reserved != 2 || st.Refused != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRateLiveChanges: SetLimitAt and SetBurstAt act from the time given,
// a defaulted burst follows the rate, and 0 removes the limit.
func TestRateLiveChanges(t *testing.T) {
	r := newRate(t, 5000, 0)
	if r.Burst() != 500 {
		t.Fatalf("default burst at 5000/s = %d, want a tenth of a second: 500", r.Burst())
	}
	// Run at 5000/s for a second, then at 1000/s for two: above the limit
	// throughout, so admissions follow the rate in force.
	at := t0
	count := func(until time.Time) int {
		n := 0
		for ; at.Before(until); at = at.Add(50 * time.Microsecond) {
			if ok, _ := r.AllowN(at, 1); ok {
				n++
			}
		}
		return n
	}
	first := count(t0.Add(time.Second))
	if err := r.SetLimitAt(at, 1000); err != nil {
		t.Fatal(err)
	}
	if r.Burst() != 100 {
		t.Fatalf("defaulted burst after SetLimitAt(1000) = %d, want 100", r.Burst())
	}
	second := count(at.Add(2 * time.Second))
	if math.Abs(float64(first)-(500+5000)) > 1 || math.Abs(float64(second)-2000) > 1 {
		t.Fatalf("admitted %d in the first second at 5000/s (want 5500), %d in two seconds at 1000/s (want 2000)", first, second)
	}

	// A larger burst, after a long enough idle spell, admits that many.
	if err := r.SetBurstAt(at, 300); err != nil {
		t.Fatal(err)
	}
	at = at.Add(time.Second)
	n := 0
	for ok := true; ok; n++ {
		ok, _ = r.AllowN(at, 1)
	}
	if n-1 != 300 {
		t.Fatalf("burst after SetBurstAt(300) and idle = %d, want 300", n-1)
	}
	if err := r.SetLimitAt(at, 2000); err != nil || r.Burst() != 300 {
		t.Fatalf("an explicit burst must not follow the rate: burst %d, err %v", r.Burst(), err)
	}

	// No limit: everything passes; turning it back on starts full.
	if err := r.SetLimitAt(at, 0); err != nil {
		t.Fatal(err)
	}
	for range 10_000 {
		if ok, _ := r.AllowN(at, 1); !ok {
			t.Fatal("refused with the limit removed")
		}
	}
	if err := r.SetLimitAt(at, 10); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.AllowN(at, 300); !ok {
		t.Fatal("a limit turned back on must start with a full bucket")
	}

	for _, bad := range []float64{-1, math.NaN(), math.Inf(1), MinRate / 2, MaxRate * 2} {
		if err := r.SetLimitAt(at, bad); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("SetLimitAt(%v) = %v, want ErrInvalidConfig", bad, err)
		}
	}
	if err := r.SetBurstAt(at, -1); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SetBurstAt(-1) = %v, want ErrInvalidConfig", err)
	}
}

// TestRateTimeNeverRunsBackwards: a call with a time earlier than one
// already seen is taken at the latest time, so it cannot earn the tokens
// of the interval twice.
func TestRateTimeNeverRunsBackwards(t *testing.T) {
	const perSecond, burst = 1, 2
	r := newRate(t, perSecond, burst)
	admitted := 0
	for _, s := range []float64{0, 0, 2, 1, 2, 2, 1.5} {
		if ok, _ := r.AllowN(t0.Add(seconds(s)), 1); ok {
			admitted++
		}
	}
	if limit := burst + perSecond*2; admitted > limit {
		t.Fatalf("admitted %d within 2 s at %d/s burst %d: more than %d", admitted, perSecond, burst, limit)
	}
}

// TestRateNoLimit: a zero rate is no limit.
func TestRateNoLimit(t *testing.T) {
	r := newRate(t, 0, 0)
	for range 100_000 {
		if ok, _ := r.AllowN(t0, 1); !ok {
			t.Fatal("refused with no limit")
		}
	}
	if !math.IsInf(r.TokensAt(t0), 1) {
		t.Fatal("TokensAt with no limit should be +Inf")
	}
}
