package admission

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidConfig is wrapped by every error about a bad knob value, from
// constructors, Validate and the live setters, so callers can tell a
// configuration mistake from anything else with errors.Is.
var ErrInvalidConfig = errors.New("invalid admission config")

// Defaults and valid ranges of the knobs. A zero value in a config field
// means "use the default" where a default exists; the field comments say
// which knobs have none (a zero there disables the limit).
const (
	// DefaultL1Pause is the GC pause above which new connections are
	// refused (incident 2: "L1 when a pause > 50 ms").
	DefaultL1Pause = 50 * time.Millisecond
	// DefaultL2Pause is the GC pause above which idle connections are also
	// closed (incident 2: "L2 when a pause > 120 ms").
	DefaultL2Pause = 120 * time.Millisecond
	// DefaultIdleClose is how long a connection must have been idle to be
	// closed at L2 (incident 2: "close connections idle > 30 s").
	DefaultIdleClose = 30 * time.Second
	// DefaultQuietPeriod is how long a level must see no pause above its
	// threshold before it steps down one level. The incident gives no
	// recovery rule; one minute spans many GC cycles of a busy service, so
	// a quiet minute is evidence the allocation burst (a nightly log
	// rotation, a metrics roll-up) is over, while L2 still returns to
	// normal within two minutes of the last long pause.
	DefaultQuietPeriod = time.Minute
	// DefaultBurstWindow sets the default burst of a rate limit: the tokens
	// of this much time at the configured rate, at least one. A burst of a
	// full second would let twice the rate through in the first second
	// after an idle spell; in the flash sale (incident 5) that is 10,000
	// requests against a database that collapsed above ~5,000 per second.
	// A tenth of a second keeps that first second under 1.1 times the rate.
	DefaultBurstWindow = 100 * time.Millisecond

	// MaxPauseThreshold bounds L1Pause and L2Pause: a threshold above a
	// minute would never trip in a service that is still alive.
	MaxPauseThreshold = time.Minute
	// MaxPeriod bounds IdleClose and QuietPeriod.
	MaxPeriod = 24 * time.Hour
	// MaxInFlightLimit bounds ConcurrencyConfig.Max.
	MaxInFlightLimit = 1_000_000_000
	// MinRate and MaxRate bound RateConfig.PerSecond when it is set.
	MinRate = 0.001
	MaxRate = 1e9
	// MaxBurst bounds RateConfig.Burst.
	MaxBurst = 1_000_000_000
)

// ConcurrencyConfig configures a ConcurrencyLimit.
type ConcurrencyConfig struct {
	// Max is the most units (requests, connections) in flight at once.
	// Unit: requests or connections. Range 0 to MaxInFlightLimit. No
	// default: 0 means no limit (the count in flight is still tracked).
	Max int
}

// RateConfig configures a RateLimit, a token bucket.
type RateConfig struct {
	// PerSecond is the sustained rate admitted. Unit: units per second.
	// Range MinRate to MaxRate. No default: 0 means no limit. Incident 5's
	// fix admitted 5,000 requests per second.
	PerSecond float64
	// Burst is the bucket size: the most units admitted at one instant
	// after an idle spell. Unit: units. Range 1 to MaxBurst. Default (0):
	// the tokens of DefaultBurstWindow at PerSecond, at least 1, and it
	// follows PerSecond when the rate is changed live. Setting a burst
	// without a rate is an error.
	Burst int
}

// DegradationConfig configures a Degrader. Every field defaults when zero.
type DegradationConfig struct {
	// L1Pause: a GC pause longer than this puts the service at level L1,
	// where new connections are refused. Unit: duration. Range (0,
	// MaxPauseThreshold]. Default DefaultL1Pause (50 ms).
	L1Pause time.Duration
	// L2Pause: a GC pause longer than this puts the service at level L2,
	// where idle connections are closed as well. Unit: duration. Range
	// (L1Pause, MaxPauseThreshold]. Default DefaultL2Pause (120 ms).
	L2Pause time.Duration
	// IdleClose: at L2, connections idle for longer than this are closed.
	// Unit: duration. Range (0, MaxPeriod]. Default DefaultIdleClose (30 s).
	IdleClose time.Duration
	// QuietPeriod: a level steps down by one after this long without a
	// pause above its threshold. Unit: duration. Range (0, MaxPeriod].
	// Default DefaultQuietPeriod (1 min).
	QuietPeriod time.Duration
}

// Limits are the two limits a Gate applies to one kind of unit.
type Limits struct {
	Concurrency ConcurrencyConfig
	Rate        RateConfig
}

// Config configures a Gate. The zero Config is valid: no concurrency or
// rate limits, and GC-aware degradation with the incident's thresholds.
type Config struct {
	// Requests limits requests: MaxInFlight counts requests being served,
	// the rate counts requests admitted per second.
	Requests Limits
	// Connections limits connections: MaxInFlight counts open connections,
	// the rate counts connections accepted per second (which is what
	// shields a service from a reconnect storm).
	Connections Limits
	// Degradation sets the GC-aware levels that refuse new connections.
	Degradation DegradationConfig
}

// Validate reports every bad field of c, each naming the field and what
// was expected, joined into one error that wraps ErrInvalidConfig.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

// WithDefaults returns c with every defaulted field filled in, the values
// a Gate made from c would use, or the error Validate reports.
func (c Config) WithDefaults() (Config, error) { return c.resolve() }

func (c Config) resolve() (Config, error) {
	var errs []error
	var err error
	if c.Requests.Concurrency, err = c.Requests.Concurrency.resolve("Config.Requests.Concurrency"); err != nil {
		errs = append(errs, err)
	}
	if c.Requests.Rate, err = c.Requests.Rate.resolve("Config.Requests.Rate"); err != nil {
		errs = append(errs, err)
	}
	if c.Connections.Concurrency, err = c.Connections.Concurrency.resolve("Config.Connections.Concurrency"); err != nil {
		errs = append(errs, err)
	}
	if c.Connections.Rate, err = c.Connections.Rate.resolve("Config.Connections.Rate"); err != nil {
		errs = append(errs, err)
	}
	if c.Degradation, err = c.Degradation.resolve("Config.Degradation"); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate reports every bad field of c, wrapping ErrInvalidConfig.
func (c ConcurrencyConfig) Validate() error {
	_, err := c.resolve("ConcurrencyConfig")
	return err
}

func (c ConcurrencyConfig) resolve(path string) (ConcurrencyConfig, error) {
	if err := checkMax(path+".Max", c.Max); err != nil {
		return c, err
	}
	return c, nil
}

func checkMax(field string, n int) error {
	if n < 0 || n > MaxInFlightLimit {
		return invalid(field, n, fmt.Sprintf("0 (no limit) to %d units in flight", MaxInFlightLimit))
	}
	return nil
}

// Validate reports every bad field of c, wrapping ErrInvalidConfig.
func (c RateConfig) Validate() error {
	_, err := c.resolve("RateConfig")
	return err
}

// WithDefaults returns c with the default burst filled in, or the error
// Validate reports.
func (c RateConfig) WithDefaults() (RateConfig, error) { return c.resolve("RateConfig") }

func (c RateConfig) resolve(path string) (RateConfig, error) {
	var errs []error
	if err := checkRate(path+".PerSecond", c.PerSecond); err != nil {
		errs = append(errs, err)
	}
	if err := checkBurst(path+".Burst", c.Burst); err != nil {
		errs = append(errs, err)
	}
	if c.PerSecond == 0 && c.Burst != 0 {
		errs = append(errs, fmt.Errorf("%s.Burst %d without %s.PerSecond: want a rate for the burst to apply to, or Burst 0: %w",
			path, c.Burst, path, ErrInvalidConfig))
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if c.PerSecond > 0 && c.Burst == 0 {
		c.Burst = defaultBurst(c.PerSecond)
	}
	return c, nil
}

func checkRate(field string, r float64) error {
	if r == 0 {
		return nil
	}
	if math.IsNaN(r) || r < MinRate || r > MaxRate {
		return invalid(field, r, fmt.Sprintf("0 (no limit) or %g to %g units per second", MinRate, MaxRate))
	}
	return nil
}

func checkBurst(field string, b int) error {
	if b < 0 || b > MaxBurst {
		return invalid(field, b, fmt.Sprintf("0 (default: %v of the rate) or 1 to %d units", DefaultBurstWindow, MaxBurst))
	}
	return nil
}

// defaultBurst is the tokens of DefaultBurstWindow at perSecond, rounded
// up, at least 1 and at most MaxBurst.
func defaultBurst(perSecond float64) int {
	b := math.Ceil(perSecond * DefaultBurstWindow.Seconds())
	return int(min(max(b, 1), MaxBurst))
}

// Validate reports every bad field of c, wrapping ErrInvalidConfig.
func (c DegradationConfig) Validate() error {
	_, err := c.resolve("DegradationConfig")
	return err
}

// WithDefaults returns c with every zero field set to its default, or the
// error Validate reports.
func (c DegradationConfig) WithDefaults() (DegradationConfig, error) {
	return c.resolve("DegradationConfig")
}

func (c DegradationConfig) resolve(path string) (DegradationConfig, error) {
	var errs []error
	l2Defaulted := c.L2Pause == 0
	c.L1Pause = orDefault(c.L1Pause, DefaultL1Pause)
	c.L2Pause = orDefault(c.L2Pause, DefaultL2Pause)
	c.IdleClose = orDefault(c.IdleClose, DefaultIdleClose)
	c.QuietPeriod = orDefault(c.QuietPeriod, DefaultQuietPeriod)

	l1ok := c.L1Pause > 0 && c.L1Pause <= MaxPauseThreshold
	if !l1ok {
		errs = append(errs, invalid(path+".L1Pause", c.L1Pause, fmt.Sprintf("a duration in (0, %v]", MaxPauseThreshold)))
	}
	switch {
	case c.L2Pause <= 0 || c.L2Pause > MaxPauseThreshold:
		errs = append(errs, invalid(path+".L2Pause", c.L2Pause, fmt.Sprintf("a duration in (0, %v], above L1Pause", MaxPauseThreshold)))
	case l1ok && c.L2Pause <= c.L1Pause:
		what := fmt.Sprintf("a duration above L1Pause %v, since L2 is the more severe level", c.L1Pause)
		if l2Defaulted {
			what += "; set L2Pause explicitly when raising L1Pause past the default L2Pause"
		}
		errs = append(errs, invalid(path+".L2Pause", c.L2Pause, what))
	}
	if c.IdleClose <= 0 || c.IdleClose > MaxPeriod {
		errs = append(errs, invalid(path+".IdleClose", c.IdleClose, fmt.Sprintf("a duration in (0, %v]", MaxPeriod)))
	}
	if c.QuietPeriod <= 0 || c.QuietPeriod > MaxPeriod {
		errs = append(errs, invalid(path+".QuietPeriod", c.QuietPeriod, fmt.Sprintf("a duration in (0, %v]", MaxPeriod)))
	}
	return c, errors.Join(errs...)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// invalid is the one shape of a knob error: field, value, expectation.
func invalid(field string, value any, want string) error {
	return fmt.Errorf("%s %v: want %s: %w", field, value, want, ErrInvalidConfig)
}
