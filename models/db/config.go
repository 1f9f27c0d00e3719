package db

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrConfig is wrapped by every error about a Config's or a PoolConfig's
// values.
var ErrConfig = errors.New("invalid database configuration")

// Errors a query, a lock or a borrower may see.
var (
	// ErrDown: the instance is restarting and accepts no connection.
	ErrDown = errors.New("database down")
	// ErrTooManyConnections: MaxConnections are open (MySQL error 1040).
	ErrTooManyConnections = errors.New("too many connections")
	// ErrReset: the connection was broken by a restart of the instance.
	ErrReset = errors.New("read ECONNRESET")
	// ErrClosed: the connection was closed by its own side (or by a pool
	// reclaiming it) before or while it was used.
	ErrClosed = errors.New("connection closed")
	// ErrAcquireTimeout: no pooled connection came free in time.
	ErrAcquireTimeout = errors.New("connection acquire timed out")
	// ErrLockTimeout: the row stayed locked by another transaction for
	// the whole timeout (MySQL error 1205).
	ErrLockTimeout = errors.New("lock wait timeout exceeded")
	// ErrProcessRestarted: the application process restarted while the
	// borrower waited; its request died with the process.
	ErrProcessRestarted = errors.New("application process restarted")
)

// Config describes a database instance. Memory figures are in bytes.
type Config struct {
	// Cores is how many queries execute at full speed at once (like
	// sim.CPU's cores); > 0, may be fractional.
	Cores float64
	// Speed is the work per second of one core: a query of cost 1 takes
	// 1/Speed seconds alone; > 0.
	Speed float64
	// Knee is the number of queries executing at once beyond which the
	// instance thrashes; ≥ 1.
	Knee int
	// Thrash is how much each query executing past the knee divides the
	// throughput: C(n) is multiplied by 1/(1 + Thrash·(n − Knee)); ≥ 0.
	Thrash float64
	// MaxConnections is max_connections; ≥ 1.
	MaxConnections int
	// MemoryBase is what the instance holds with no connection (buffer
	// pool, dictionary); ≥ 0.
	MemoryBase float64
	// MemoryPerConnection is what a fresh connection holds; ≥ 0.
	MemoryPerConnection float64
	// MemoryGrowth is what a connection's buffers grow by per query it
	// runs (per-thread buffers kept until it closes); ≥ 0 …
	MemoryGrowth float64
	// MemoryAging is what a connection's footprint grows by per second it
	// stays open (session caches and allocator fragmentation that a
	// long-lived connection accumulates, whatever it runs), up to the same
	// MemoryPerConnectionMax; ≥ 0. It is applied every AgingStep.
	MemoryAging float64
	// … up to MemoryPerConnectionMax per connection; ≥
	// MemoryPerConnection.
	MemoryPerConnectionMax float64
	// MemoryLimit is the memory above which the instance is killed (OOM)
	// and restarts; 0 means no limit, otherwise above MemoryBase.
	MemoryLimit float64
	// RestartTime is how long the instance is down after an OOM (and after
	// Restart(0)); > 0.
	RestartTime time.Duration
	// DeadlockCheck is the work InnoDB's deadlock detection does per
	// transaction already waiting on a row, each time a lock request must
	// wait for that row: a request that finds k waiters queued runs a
	// check of cost DeadlockCheck·k (as a query's cost: seconds on one
	// core of speed 1) on the instance's cores. ≥ 0; 0 = off
	// (innodb_deadlock_detect=OFF).
	DeadlockCheck time.Duration
}

// finite reports whether x is a finite number (not NaN, not ±Inf).
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Validate reports every value the instance cannot run with, joined; each
// error wraps ErrConfig and names the field and the range it expects.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("%w: %s %v, expected %s", ErrConfig, field, v, want))
	}
	if !(c.Cores > 0) || !finite(c.Cores) {
		bad("Cores", c.Cores, "above 0 and finite")
	}
	if !(c.Speed > 0) || !finite(c.Speed) {
		bad("Speed", c.Speed, "above 0 and finite")
	}
	if c.Knee < 1 {
		bad("Knee", c.Knee, "at least 1")
	}
	if !(c.Thrash >= 0) || !finite(c.Thrash) {
		bad("Thrash", c.Thrash, "at least 0 and finite")
	}
	if c.MaxConnections < 1 {
		bad("MaxConnections", c.MaxConnections, "at least 1")
	}
	if !(c.MemoryBase >= 0) || !finite(c.MemoryBase) {
		bad("MemoryBase", c.MemoryBase, "at least 0 and finite")
	}
	if !(c.MemoryPerConnection >= 0) || !finite(c.MemoryPerConnection) {
		bad("MemoryPerConnection", c.MemoryPerConnection, "at least 0 and finite")
	}
	if !(c.MemoryAging >= 0) || !finite(c.MemoryAging) {
		bad("MemoryAging", c.MemoryAging, "at least 0 and finite")
	}
	if !(c.MemoryGrowth >= 0) || !finite(c.MemoryGrowth) {
		bad("MemoryGrowth", c.MemoryGrowth, "at least 0 and finite")
	}
	if !(c.MemoryPerConnectionMax >= c.MemoryPerConnection) || !finite(c.MemoryPerConnectionMax) {
		bad("MemoryPerConnectionMax", c.MemoryPerConnectionMax,
			fmt.Sprintf("at least MemoryPerConnection (%v) and finite", c.MemoryPerConnection))
	}
	switch {
	case !(c.MemoryLimit >= 0) || !finite(c.MemoryLimit):
		bad("MemoryLimit", c.MemoryLimit, "0 (no limit) or above MemoryBase, finite")
	case c.MemoryLimit > 0 && !(c.MemoryLimit > c.MemoryBase):
		// A limit at or under the base would kill the instance as soon as
		// it came up, for ever.
		bad("MemoryLimit", c.MemoryLimit, fmt.Sprintf("0 (no limit) or above MemoryBase (%v)", c.MemoryBase))
	}
	if c.RestartTime <= 0 {
		bad("RestartTime", c.RestartTime, "above 0")
	}
	if c.DeadlockCheck < 0 {
		bad("DeadlockCheck", c.DeadlockCheck, "at least 0 (0 = off)")
	}
	return errors.Join(errs...)
}

// Capacity returns C(n), the work per second the instance completes with
// n queries executing: Cores·Speed·min(1, n/Cores) / (1 + Thrash·max(0,
// n − Knee)). A closed loop of n clients issuing queries of cost w
// completes C(n)/w of them per second.
func (c Config) Capacity(n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(n) * c.rate(n)
}

// rate is each query's progress, C(n)/n, for n ≥ 1. It never divides by
// zero, and computing it directly (rather than C(n)/n) keeps it exact at
// full speed.
func (c Config) rate(n int) float64 {
	nf := float64(n)
	r := c.Speed
	if nf > c.Cores {
		r = c.Speed * c.Cores / nf
	}
	if n > c.Knee {
		r /= 1 + c.Thrash*float64(n-c.Knee)
	}
	return r
}

// Reconnect is what a pool does about connections a database restart
// broke.
type Reconnect int

const (
	// NoReconnect: the pool never learns that a connection broke; it
	// keeps lending it and every query on it fails, until the process
	// restarts (incident 4's ORM).
	NoReconnect Reconnect = iota
	// AutoReconnect: a connection found broken when returned or borrowed
	// is discarded and replaced, retrying every ReconnectDelay while the
	// database is down.
	AutoReconnect
)

// String returns "none" or "auto", the names ParseReconnect reads.
func (r Reconnect) String() string {
	switch r {
	case NoReconnect:
		return "none"
	case AutoReconnect:
		return "auto"
	}
	return fmt.Sprintf("Reconnect(%d)", int(r))
}

// ParseReconnect reads "none" or "auto".
func ParseReconnect(s string) (Reconnect, error) {
	switch s {
	case "none":
		return NoReconnect, nil
	case "auto":
		return AutoReconnect, nil
	}
	return 0, fmt.Errorf("%w: reconnect policy %q, expected none or auto", ErrConfig, s)
}

// PoolConfig describes an application process's connection pool.
type PoolConfig struct {
	// Min connections are opened at the start and kept; Max at most. The
	// pool grows by one connection when a borrower finds none idle and
	// the pool holds fewer than Max. 0 ≤ Min ≤ Max, Max ≥ 1.
	Min, Max int
	// AcquireTimeout is how long a borrower waits for a connection before
	// ErrAcquireTimeout; > 0.
	AcquireTimeout time.Duration
	// IdleTimeout closes a connection idle that long while the pool holds
	// more than Min; 0 = never.
	IdleTimeout time.Duration
	// LeakDetection reclaims (closes and replaces) a connection borrowed
	// longer than this; 0 = off.
	LeakDetection time.Duration
	// Reconnect is what the pool does about connections a restart broke.
	Reconnect Reconnect
	// ReconnectDelay is how long an AutoReconnect pool waits after a
	// failed open before trying again; > 0 for AutoReconnect, ≥ 0 (and
	// unused) for NoReconnect.
	ReconnectDelay time.Duration
}

// Validate reports every value the pool cannot run with, joined; each
// error wraps ErrConfig and names the field and the range it expects.
func (c PoolConfig) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("%w: pool %s %v, expected %s", ErrConfig, field, v, want))
	}
	if c.Max < 1 {
		bad("Max", c.Max, "at least 1")
	}
	if c.Min < 0 || c.Min > max(c.Max, 0) {
		bad("Min", c.Min, fmt.Sprintf("from 0 to Max (%d)", c.Max))
	}
	if c.AcquireTimeout <= 0 {
		bad("AcquireTimeout", c.AcquireTimeout, "above 0")
	}
	if c.IdleTimeout < 0 {
		bad("IdleTimeout", c.IdleTimeout, "at least 0 (0 = never)")
	}
	if c.LeakDetection < 0 {
		bad("LeakDetection", c.LeakDetection, "at least 0 (0 = off)")
	}
	if c.Reconnect != NoReconnect && c.Reconnect != AutoReconnect {
		bad("Reconnect", c.Reconnect, "none or auto")
	}
	switch {
	case c.ReconnectDelay < 0:
		bad("ReconnectDelay", c.ReconnectDelay, "at least 0")
	case c.Reconnect == AutoReconnect && c.ReconnectDelay == 0:
		// Retrying at once would spin at one instant while the database
		// is down.
		bad("ReconnectDelay", c.ReconnectDelay, "above 0 with auto reconnect")
	}
	return errors.Join(errs...)
}
