package clock

import "time"

// Clock is a source of time and of deferred calls.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc arranges for f to be called once, d after Now. A d of zero or
	// less calls f as soon as the clock can, never synchronously inside
	// AfterFunc itself.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call made with AfterFunc. Its methods follow
// time.Timer's for a timer made by time.AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not run yet. It reports whether it
	// stopped the call (false when the call already ran or was stopped).
	Stop() bool
	// Reset re-arms the timer to call f, d from now, whether or not it had
	// already run or been stopped. It reports whether the timer was pending.
	Reset(d time.Duration) bool
}

// Real is the wall clock. Its zero value is ready to use.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc: f runs on its own goroutine.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Since returns the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }
