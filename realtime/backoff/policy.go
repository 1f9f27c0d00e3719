package backoff

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// ErrInvalidPolicy is wrapped by every error about a policy's values.
var ErrInvalidPolicy = errors.New("invalid backoff policy")

// Close reasons the package knows by name. Any string may be a reason;
// these two change what a policy does.
const (
	// ReasonOverloaded is the close reason of a server whose update queue
	// overflowed; the 2025 client's fix waits longer after it.
	ReasonOverloaded = "overloaded"
	// ReasonTimeout marks an attempt that timed out; a retry budget
	// charges more for it, as AWS SDKs do.
	ReasonTimeout = "timeout"
)

// Jitter is how a delay is randomised around the exponential curve.
type Jitter int

const (
	// NoJitter waits exactly min(Cap, Initial·Multiplier^n): clients that
	// failed together retry together.
	NoJitter Jitter = iota
	// FullJitter waits uniformly in [0, d], d the capped exponential delay.
	FullJitter
	// EqualJitter waits d/2 plus uniformly [0, d/2].
	EqualJitter
	// DecorrelatedJitter waits min(Cap, uniform [Initial, 3·previous)),
	// the previous delay starting at Initial; Multiplier is unused.
	DecorrelatedJitter
	// ProportionalJitter waits d·(1 + uniform [−f, f)), f the
	// JitterFraction: ±50 % in the 2025 reactive client, ±20 % in gRPC. The
	// cap bounds d, so the delay reaches Cap·(1+f).
	ProportionalJitter
)

var jitterNames = [...]string{"none", "full", "equal", "decorrelated", "proportional"}

func (j Jitter) String() string {
	if j >= 0 && int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return fmt.Sprintf("Jitter(%d)", int(j))
}

// ParseJitter reads a jitter kind by its String name.
func ParseJitter(s string) (Jitter, error) {
	if i := slices.Index(jitterNames[:], s); i >= 0 {
		return Jitter(i), nil
	}
	return 0, fmt.Errorf("backoff: jitter %q: want one of %s: %w", s, strings.Join(jitterNames[:], ", "), ErrInvalidPolicy)
}

// Reset is when a reconnecting client forgets its failures, so its next
// failure waits Initial again. It decides whether a herd forms: a client
// that resets as soon as a connection opens never backs off from a server
// that accepts connections and then drops them.
type Reset int

const (
	// ResetOnConnect resets when a connection (or attempt) succeeds.
	ResetOnConnect Reset = iota
	// ResetOnFirstMessage resets on the first server message after
	// connecting: the 2025 reactive client before its fix, and gRPC (its
	// first settings frame). For an idle tab that message comes at once.
	ResetOnFirstMessage
	// ResetWhenSynced resets only once every query and mutation has
	// re-synced: the 2025 client after its fix.
	ResetWhenSynced
	// ResetWhenStable resets once a connection has stayed up StableFor.
	ResetWhenStable
)

var resetNames = [...]string{"on-connect", "on-first-message", "when-synced", "when-stable"}

func (r Reset) String() string {
	if r >= 0 && int(r) < len(resetNames) {
		return resetNames[r]
	}
	return fmt.Sprintf("Reset(%d)", int(r))
}

// ParseReset reads a reset policy by its String name.
func ParseReset(s string) (Reset, error) {
	if i := slices.Index(resetNames[:], s); i >= 0 {
		return Reset(i), nil
	}
	return 0, fmt.Errorf("backoff: reset %q: want one of %s: %w", s, strings.Join(resetNames[:], ", "), ErrInvalidPolicy)
}

// Policy is a reconnect or retry policy. The n-th consecutive failure
// (n from 0) waits the capped exponential delay
//
//	d(n) = min(Cap, Initial·Multiplier^n)
//
// randomised by Jitter. A Policy is a value: copy it freely; a Backoff
// keeps the state of one client.
type Policy struct {
	// Name identifies the policy in reports.
	Name string
	// Initial is the delay after the first failure (> 0).
	Initial time.Duration
	// Multiplier grows the delay per consecutive failure (≥ 1).
	Multiplier float64
	// Cap bounds the exponential delay (≥ Initial).
	Cap time.Duration
	// Jitter randomises each delay.
	Jitter Jitter
	// JitterFraction is f of ProportionalJitter, in (0, 1]; 0 otherwise.
	JitterFraction float64
	// ReasonInitial replaces Initial after a failure with a given close
	// reason: the 2025 client's fix waits 3 s, not 1 s, after "overloaded".
	ReasonInitial map[string]time.Duration
	// MaxAttempts is how many consecutive failures are retried before
	// giving up; 0 retries forever.
	MaxAttempts int
	// Reset is when the failure count returns to zero.
	Reset Reset
	// StableFor is how long a connection must stay up to count as healthy
	// under ResetWhenStable (> 0 then; 0 otherwise).
	StableFor time.Duration
	// MinConnectTimeout, when set, bounds each connection attempt from
	// below: an attempt may take max(MinConnectTimeout, current delay),
	// gRPC's connection backoff rule. 0 leaves attempts unbounded here.
	MinConnectTimeout time.Duration
}

// Validate reports the first value out of range, naming the field and what
// it should be.
func (p Policy) Validate() error {
	bad := func(field string, got any, want string) error {
		return fmt.Errorf("backoff: policy %q: %s = %v: want %s: %w", p.Name, field, got, want, ErrInvalidPolicy)
	}
	switch {
	case p.Initial <= 0:
		return bad("Initial", p.Initial, "a positive duration")
	case math.IsNaN(p.Multiplier) || p.Multiplier < 1 || math.IsInf(p.Multiplier, 0):
		return bad("Multiplier", p.Multiplier, "a finite number at least 1")
	case p.Cap < p.Initial:
		return bad("Cap", p.Cap, fmt.Sprintf("at least Initial (%v)", p.Initial))
	case p.Jitter < NoJitter || p.Jitter > ProportionalJitter:
		return bad("Jitter", p.Jitter, "one of "+strings.Join(jitterNames[:], ", "))
	case p.Jitter == ProportionalJitter && !(p.JitterFraction > 0 && p.JitterFraction <= 1):
		return bad("JitterFraction", p.JitterFraction, "a fraction in (0, 1] for proportional jitter")
	case p.Jitter != ProportionalJitter && p.JitterFraction != 0:
		return bad("JitterFraction", p.JitterFraction, "0 unless Jitter is proportional")
	case p.MaxAttempts < 0:
		return bad("MaxAttempts", p.MaxAttempts, "0 (retry forever) or a positive count")
	case p.Reset < ResetOnConnect || p.Reset > ResetWhenStable:
		return bad("Reset", p.Reset, "one of "+strings.Join(resetNames[:], ", "))
	case p.Reset == ResetWhenStable && p.StableFor <= 0:
		return bad("StableFor", p.StableFor, "a positive duration when Reset is when-stable")
	case p.Reset != ResetWhenStable && p.StableFor != 0:
		return bad("StableFor", p.StableFor, "0 unless Reset is when-stable")
	case p.MinConnectTimeout < 0:
		return bad("MinConnectTimeout", p.MinConnectTimeout, "0 or a positive duration")
	}
	for _, reason := range slices.Sorted(maps.Keys(p.ReasonInitial)) {
		if d := p.ReasonInitial[reason]; d <= 0 || d > p.Cap {
			return bad(fmt.Sprintf("ReasonInitial[%q]", reason), d, fmt.Sprintf("a positive duration at most Cap (%v)", p.Cap))
		}
	}
	return nil
}

// initial is the first delay after a failure with the given reason.
func (p *Policy) initial(reason string) time.Duration {
	if d, ok := p.ReasonInitial[reason]; ok {
		return d
	}
	return p.Initial
}

// Base is the capped exponential delay d(n) after n earlier consecutive
// failures, before jitter, for a failure with the given reason.
func (p Policy) Base(n int, reason string) time.Duration {
	d := float64(p.initial(reason)) * math.Pow(p.Multiplier, float64(n))
	if d >= float64(p.Cap) {
		return p.Cap
	}
	return time.Duration(d)
}

// MaxDelay is the longest delay the policy can produce: Cap, or
// Cap·(1+f) with proportional jitter.
func (p Policy) MaxDelay() time.Duration {
	if p.Jitter == ProportionalJitter {
		return time.Duration(float64(p.Cap) * (1 + p.JitterFraction))
	}
	return p.Cap
}

// The presets reproduce policies named in Stormglass's INCIDENTS.md.

// Reactive2025Before is the reactive client's reconnect policy before the
// 2025 outage: 100 ms, ×2, cap 16 s, ±50 %, and the failure count reset on
// the first server message, which for an idle tab arrives at once, so the
// backoff never grew and reconnects came back as a herd.
func Reactive2025Before() Policy {
	return Policy{Name: "reactive-2025-before", Initial: 100 * time.Millisecond, Multiplier: 2, Cap: 16 * time.Second,
		Jitter: ProportionalJitter, JitterFraction: 0.5, Reset: ResetOnFirstMessage}
}

// Reactive2025After is the fixed client: 1 s (3 s after "overloaded"),
// ×2, cap 16 s, ±50 %, reset only once every query and mutation has
// re-synced. At the cap its reconnects spread uniformly over 8–24 s, as
// measured in the field.
func Reactive2025After() Policy {
	return Policy{Name: "reactive-2025-after", Initial: time.Second, Multiplier: 2, Cap: 16 * time.Second,
		Jitter: ProportionalJitter, JitterFraction: 0.5, Reset: ResetWhenSynced,
		ReasonInitial: map[string]time.Duration{ReasonOverloaded: 3 * time.Second}}
}

// GRPC is gRPC's connection backoff: 1 s, ×1.6, cap 120 s, ±20 %, a
// minimum connect timeout of 20 s, reset when the server's first settings
// frame arrives.
func GRPC() Policy {
	return Policy{Name: "grpc", Initial: time.Second, Multiplier: 1.6, Cap: 120 * time.Second,
		Jitter: ProportionalJitter, JitterFraction: 0.2, Reset: ResetOnFirstMessage, MinConnectTimeout: 20 * time.Second}
}

// AWSFullJitter is the full-jitter policy of the AWS Architecture Blog's
// 2015 backoff study: base 5 ms, cap 2 s, ×2, each delay uniform in
// [0, d]; the first retry's d is 2·base, as in the study's simulator.
func AWSFullJitter() Policy {
	return Policy{Name: "aws-full-jitter", Initial: 10 * time.Millisecond, Multiplier: 2, Cap: 2 * time.Second,
		Jitter: FullJitter, Reset: ResetOnConnect}
}

// Presets lists every preset, in a fixed order.
func Presets() []Policy {
	return []Policy{Reactive2025Before(), Reactive2025After(), GRPC(), AWSFullJitter()}
}

// Preset returns the preset with the given Name.
func Preset(name string) (Policy, error) {
	var names []string
	for _, p := range Presets() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Policy{}, fmt.Errorf("backoff: no preset %q: want one of %s: %w", name, strings.Join(names, ", "), ErrInvalidPolicy)
}
