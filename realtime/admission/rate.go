package admission

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// Never is the retry-after of a request no wait can admit: more units at
// once than the burst.
const Never = time.Duration(math.MaxInt64)

// RateStats counts what a RateLimit did.
type RateStats struct {
	Admitted uint64 // AllowN calls that took their tokens
	Refused  uint64 // AllowN and ReserveN calls refused
	Reserved uint64 // ReserveN calls that reserved their tokens
}

// RateLimit is a token bucket: it holds up to Burst tokens, refills at
// PerSecond tokens per second, and admits a unit when it can take a token.
// It is golang.org/x/time/rate's Limiter driven only through its
// explicit-time methods, so the simulator can run it on virtual time, plus
// an exact retry-after and counts. A time earlier than the latest one seen
// is taken as the latest: time never runs backwards here, which keeps a
// late caller from being credited tokens twice.
type RateLimit struct {
	perSecond      float64
	burst          int
	burstDefaulted bool          // burst follows the rate (RateConfig.Burst was 0)
	lim            *rate.Limiter // nil when there is no limit
	latest         time.Time
	stats          RateStats
}

// NewRateLimit makes a token bucket from cfg, full, or returns an error
// wrapping ErrInvalidConfig.
func NewRateLimit(cfg RateConfig) (*RateLimit, error) {
	resolved, err := cfg.resolve("RateConfig")
	if err != nil {
		return nil, err
	}
	return newRateLimit(resolved, cfg.Burst == 0), nil
}

func newRateLimit(cfg RateConfig, burstDefaulted bool) *RateLimit {
	r := &RateLimit{perSecond: cfg.PerSecond, burst: cfg.Burst, burstDefaulted: burstDefaulted}
	if r.perSecond > 0 {
		r.lim = rate.NewLimiter(rate.Limit(r.perSecond), r.burst)
	}
	return r
}

// PerSecond returns the rate, 0 for no limit.
func (r *RateLimit) PerSecond() float64 { return r.perSecond }

// Burst returns the bucket size, 0 when there is no limit.
func (r *RateLimit) Burst() int { return r.burst }

// clamp returns at, or the latest time seen if at is earlier, and records
// it as the latest.
func (r *RateLimit) clamp(at time.Time) time.Time {
	if at.Before(r.latest) {
		return r.latest
	}
	r.latest = at
	return at
}

// TokensAt returns the tokens in the bucket at time at (negative while
// reservations are outstanding), or +Inf when there is no limit.
func (r *RateLimit) TokensAt(at time.Time) float64 {
	if r.lim == nil {
		return math.Inf(1)
	}
	if at.Before(r.latest) {
		at = r.latest
	}
	return r.lim.TokensAt(at)
}

// AllowN takes n tokens at time at if the bucket holds them. When it does
// not, nothing is taken and retryAfter is the shortest wait after which
// the same call would succeed if nothing else took tokens meanwhile (Never
// when n exceeds the burst, or n is negative).
func (r *RateLimit) AllowN(at time.Time, n int) (ok bool, retryAfter time.Duration) {
	at = r.clamp(at)
	switch {
	case n < 0:
		r.stats.Refused++
		return false, Never
	case r.lim == nil || r.lim.AllowN(at, n):
		r.stats.Admitted++
		return true, 0
	}
	r.stats.Refused++
	return false, r.retryAfter(at, n)
}

// ReserveN takes n tokens at time at, borrowing from the future if the
// bucket is short, and returns how long the caller must wait before
// acting; a caller that queues work instead of shedding it uses this. It
// refuses (Never, false) only when n exceeds the burst or is negative.
// Reserved tokens delay every later caller.
func (r *RateLimit) ReserveN(at time.Time, n int) (delay time.Duration, ok bool) {
	at = r.clamp(at)
	if n < 0 {
		r.stats.Refused++
		return Never, false
	}
	if r.lim == nil {
		r.stats.Reserved++
		return 0, true
	}
	res := r.lim.ReserveN(at, n)
	if !res.OK() {
		r.stats.Refused++
		return Never, false
	}
	r.stats.Reserved++
	return res.DelayFrom(at), true
}

// retryAfter is the least d at which AllowN(at+d, n) would succeed if no
// other call came first. rate's own delay (Reservation.DelayFrom) is
// truncated to the nanosecond and can be off by one either way, so this
// estimates d from the deficit and then settles it with admits, which asks
// the limiter for its token count.
func (r *RateLimit) retryAfter(at time.Time, n int) time.Duration {
	if n > r.burst {
		return Never
	}
	deficit := float64(n) - r.lim.TokensAt(at)
	if deficit <= 0 {
		return 0
	}
	ns := math.Ceil(deficit / r.perSecond * float64(time.Second))
	if ns >= float64(Never) {
		return Never
	}
	d := time.Duration(ns)
	for i := 0; i < 64 && d > 0 && r.admits(at.Add(d-1), n); i++ {
		d--
	}
	step := time.Duration(1)
	for i := 0; !r.admits(at.Add(d), n); i++ {
		if d > Never-step {
			return Never
		}
		d += step
		if i >= 64 {
			step *= 2
		}
	}
	return d
}

// admits reports whether AllowN(at, n) would succeed, by rate's own rule:
// the wait for the missing tokens, in whole nanoseconds, is zero.
func (r *RateLimit) admits(at time.Time, n int) bool {
	missing := float64(n) - r.lim.TokensAt(at)
	return missing <= 0 || time.Duration(missing/r.perSecond*float64(time.Second)) <= 0
}

// SetLimitAt changes the rate live at time at; tokens earned before at
// are kept. 0 removes the limit. Turning a limit on from none starts with
// a full bucket. A defaulted burst follows the new rate.
func (r *RateLimit) SetLimitAt(at time.Time, perSecond float64) error {
	return r.setLimitAt("RateConfig", at, perSecond)
}

// setLimitAt is SetLimitAt naming the field path in errors.
func (r *RateLimit) setLimitAt(path string, at time.Time, perSecond float64) error {
	if err := checkRate(path+".PerSecond", perSecond); err != nil {
		return err
	}
	at = r.clamp(at)
	r.perSecond = perSecond
	switch {
	case perSecond == 0:
		r.lim = nil
		if r.burstDefaulted {
			r.burst = 0
		}
	case r.lim == nil:
		if r.burstDefaulted {
			r.burst = defaultBurst(perSecond)
		}
		r.lim = rate.NewLimiter(rate.Limit(perSecond), r.burst)
	default:
		r.lim.SetLimitAt(at, rate.Limit(perSecond))
		if r.burstDefaulted {
			r.burst = defaultBurst(perSecond)
			r.lim.SetBurstAt(at, r.burst)
		}
	}
	return nil
}

// SetBurstAt changes the bucket size live at time at. 0 returns to the
// default, which follows the rate. Tokens above a lowered burst are
// dropped at the next call. Without a rate the burst is kept for when one
// is set.
func (r *RateLimit) SetBurstAt(at time.Time, burst int) error {
	return r.setBurstAt("RateConfig", at, burst)
}

// setBurstAt is SetBurstAt naming the field path in errors.
func (r *RateLimit) setBurstAt(path string, at time.Time, burst int) error {
	if err := checkBurst(path+".Burst", burst); err != nil {
		return err
	}
	at = r.clamp(at)
	r.burstDefaulted = burst == 0
	switch {
	case burst != 0:
		r.burst = burst
	case r.perSecond > 0:
		r.burst = defaultBurst(r.perSecond)
	default:
		r.burst = 0
	}
	if r.lim != nil {
		r.lim.SetBurstAt(at, r.burst)
	}
	return nil
}

// Config returns the current rate and burst.
func (r *RateLimit) Config() RateConfig { return RateConfig{PerSecond: r.perSecond, Burst: r.burst} }

// Stats returns the counts so far.
func (r *RateLimit) Stats() RateStats { return r.stats }
