package heartbeat

import (
	"errors"
	"fmt"
	"time"
)

// Defaults and limits of Config. The defaults are the remediation of
// incident 2 (ping every 10 s, write deadline 2 s, dead after 3 missed
// pongs) plus a pong timeout of half the interval.
const (
	DefaultPingInterval = 10 * time.Second
	// DefaultPongTimeout is the pong timeout at the default interval; in
	// general the default is half of PingInterval.
	DefaultPongTimeout = DefaultPingInterval / 2
	// DefaultWriteTimeout is the write deadline of a ping, capped at the
	// pong timeout when that is shorter.
	DefaultWriteTimeout = 2 * time.Second
	DefaultMissedPongs  = 3

	// MinPingInterval keeps a misconfigured monitor from busy-looping.
	MinPingInterval = time.Millisecond
	// MaxPingInterval: a slower heartbeat cannot keep a NAT mapping alive
	// (idle timeouts are about 300 s) nor detect anything in useful time.
	MaxPingInterval = time.Hour
	// MaxMissedPongs bounds how long a silent connection may be kept.
	MaxMissedPongs = 100
)

// ErrInvalidConfig is wrapped by every error about a Config or a missing
// constructor argument; test with errors.Is.
var ErrInvalidConfig = errors.New("invalid heartbeat configuration")

// Config sets the timers of a heartbeat. The zero value is the default
// configuration; a zero field takes its default.
type Config struct {
	// PingInterval is the time between two pings, from Start on.
	// Default 10 s; valid from MinPingInterval to MaxPingInterval.
	PingInterval time.Duration
	// PongTimeout is how long after a ping a frame from the peer must
	// arrive for the ping to count as answered. Default PingInterval/2
	// (5 s); valid above 0 and at most PingInterval, so that each ping is
	// answered or timed out before the next one goes out.
	PongTimeout time.Duration
	// WriteTimeout is the deadline given to the writer of each ping
	// (Output.WriteDeadline); a write that fails or misses it kills the
	// connection. Default 2 s, or PongTimeout when that is shorter; valid
	// above 0 and at most PongTimeout, so that a ping is on the wire
	// before its pong is due.
	WriteTimeout time.Duration
	// MissedPongs is how many pings in a row may go unanswered before the
	// connection is dead. Default 3; valid from 1 to MaxMissedPongs.
	MissedPongs int
}

// WithDefaults returns c with every zero field set to its default. It does
// not validate; Validate does.
func (c Config) WithDefaults() Config {
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PongTimeout == 0 {
		c.PongTimeout = c.PingInterval / 2
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = min(DefaultWriteTimeout, c.PongTimeout)
	}
	if c.MissedPongs == 0 {
		c.MissedPongs = DefaultMissedPongs
	}
	return c
}

// Validate reports whether c, with defaults for its zero fields, is usable.
// The error names the first field out of range and the range expected, and
// wraps ErrInvalidConfig.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.PingInterval < MinPingInterval || c.PingInterval > MaxPingInterval:
		return fmt.Errorf("heartbeat: PingInterval %v: want from %v to %v: %w",
			c.PingInterval, MinPingInterval, MaxPingInterval, ErrInvalidConfig)
	case c.PongTimeout <= 0 || c.PongTimeout > c.PingInterval:
		return fmt.Errorf("heartbeat: PongTimeout %v: want above 0 and at most PingInterval (%v): %w",
			c.PongTimeout, c.PingInterval, ErrInvalidConfig)
	case c.WriteTimeout <= 0 || c.WriteTimeout > c.PongTimeout:
		return fmt.Errorf("heartbeat: WriteTimeout %v: want above 0 and at most PongTimeout (%v): %w",
			c.WriteTimeout, c.PongTimeout, ErrInvalidConfig)
	case c.MissedPongs < 1 || c.MissedPongs > MaxMissedPongs:
		return fmt.Errorf("heartbeat: MissedPongs %d: want from 1 to %d: %w",
			c.MissedPongs, MaxMissedPongs, ErrInvalidConfig)
	}
	return nil
}

// DetectionWindow returns the bound on detection derived in the package
// doc: when the path to the peer dies at an instant D (every frame crossing
// the point of loss from D on is lost, and pings cross it as they are
// sent), the connection is declared Dead at or after D+earliest and before
// D+latest, where
//
//	earliest = (MissedPongs−1)·PingInterval + PongTimeout
//	latest   =  MissedPongs·PingInterval    + PongTimeout
//
// With the defaults: 25 s and 35 s. A one-way delay d between this end and
// the point of loss moves both d earlier. Zero fields count as their
// defaults; the result means nothing for a Config that fails Validate.
func (c Config) DetectionWindow() (earliest, latest time.Duration) {
	c = c.WithDefaults()
	earliest = time.Duration(c.MissedPongs-1)*c.PingInterval + c.PongTimeout
	return earliest, earliest + c.PingInterval
}
