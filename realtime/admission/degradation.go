package admission

import (
	"fmt"
	"time"
)

// Level is a GC-aware degradation level.
type Level uint8

const (
	// Normal: everything is admitted (subject to the limits).
	Normal Level = iota
	// L1RefuseNew: a GC pause exceeded L1Pause; new connections are
	// refused, connections already open are served.
	L1RefuseNew
	// L2CloseIdle: a GC pause exceeded L2Pause; new connections are
	// refused and connections idle longer than IdleClose are closed.
	L2CloseIdle
)

// String returns "normal", "L1" or "L2".
func (l Level) String() string {
	switch l {
	case Normal:
		return "normal"
	case L1RefuseNew:
		return "L1"
	case L2CloseIdle:
		return "L2"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Pause is one GC stop-the-world pause: when it ended and how long it was.
type Pause struct {
	At       time.Time
	Duration time.Duration
}

// DegradationStats counts what a Degrader saw and decided.
type DegradationStats struct {
	Pauses       uint64        // pauses observed
	PausesOverL1 uint64        // pauses longer than L1Pause (those over L2Pause included)
	PausesOverL2 uint64        // pauses longer than L2Pause
	LongestPause time.Duration // longest pause observed
	Escalations  uint64        // times the level went up
	StepDowns    uint64        // times the recovery rule lowered the level by one
	// RefusedConnections counts AdmitConnection answers of false.
	RefusedConnections uint64
	// IdleClosed counts ShouldClose answers of true (IdleToClose counts
	// each index it returns).
	IdleClosed uint64
	// Level is the level at the latest time the Degrader was told about.
	Level Level
}

// Degrader turns observed GC pauses into a degradation level and answers
// what that level allows. It owns no connections: the caller asks
// AdmitConnection before accepting one and ShouldClose (or IdleToClose)
// for the ones it holds. The level is a function of the pauses observed
// and the time asked about, evaluated when asked; no timer runs. A time
// earlier than the latest one seen is taken as the latest.
type Degrader struct {
	cfg   DegradationConfig
	level Level
	// quietSince is when the current level's quiet period started: when
	// the level was entered, or the latest pause over its threshold since.
	quietSince time.Time
	// lastOver[L] is the latest pause over level L's threshold: the pause
	// that explains why the service is at L.
	lastOver [3]Pause
	latest   time.Time
	stats    DegradationStats
}

// NewDegrader makes a degrader at level Normal from cfg (zero fields take
// their defaults), or returns an error wrapping ErrInvalidConfig.
func NewDegrader(cfg DegradationConfig) (*Degrader, error) {
	cfg, err := cfg.resolve("DegradationConfig")
	if err != nil {
		return nil, err
	}
	return &Degrader{cfg: cfg}, nil
}

// Config returns the configuration in use, defaults filled in.
func (dg *Degrader) Config() DegradationConfig { return dg.cfg }

// threshold returns the pause a level's entry requires.
func (dg *Degrader) threshold(l Level) time.Duration {
	if l == L2CloseIdle {
		return dg.cfg.L2Pause
	}
	return dg.cfg.L1Pause
}

// advance moves the degrader to time at (or the latest time seen, if
// later) and applies the recovery rule: each full QuietPeriod at a level
// without a pause over its threshold lowers the level by one, the next
// quiet period starting at that step, so the result does not depend on
// how often the degrader is asked.
func (dg *Degrader) advance(at time.Time) time.Time {
	if at.Before(dg.latest) {
		at = dg.latest
	}
	dg.latest = at
	for dg.level > Normal {
		stepAt := dg.quietSince.Add(dg.cfg.QuietPeriod)
		if at.Before(stepAt) {
			break
		}
		dg.level--
		dg.quietSince = stepAt
		dg.stats.StepDowns++
	}
	return at
}

// ObservePause tells the degrader about a GC pause of length d that ended
// at time at. A pause over L2Pause moves to L2 from any level; a pause
// over L1Pause moves Normal to L1 and restarts L1's quiet period, but does
// not hold L2 (only a pause over L2Pause does). Shorter pauses change
// nothing but the counts.
func (dg *Degrader) ObservePause(at time.Time, d time.Duration) {
	at = dg.advance(at)
	p := Pause{At: at, Duration: d}
	dg.stats.Pauses++
	dg.stats.LongestPause = max(dg.stats.LongestPause, d)
	switch {
	case d > dg.cfg.L2Pause:
		dg.stats.PausesOverL1++
		dg.stats.PausesOverL2++
		dg.lastOver[L1RefuseNew] = p
		dg.lastOver[L2CloseIdle] = p
		dg.enter(L2CloseIdle, at)
	case d > dg.cfg.L1Pause:
		dg.stats.PausesOverL1++
		dg.lastOver[L1RefuseNew] = p
		if dg.level <= L1RefuseNew {
			dg.enter(L1RefuseNew, at)
		}
	}
}

// enter sets the level to l (l >= the current level) and restarts its
// quiet period at at.
func (dg *Degrader) enter(l Level, at time.Time) {
	if l > dg.level {
		dg.stats.Escalations++
	}
	dg.level = l
	dg.quietSince = at
}

// Level returns the level at time at.
func (dg *Degrader) Level(at time.Time) Level {
	dg.advance(at)
	return dg.level
}

// Cause returns the level at time at, and for L1 and L2 the pause that
// explains it (the latest pause over the level's threshold) with that
// threshold.
func (dg *Degrader) Cause(at time.Time) (l Level, p Pause, threshold time.Duration) {
	dg.advance(at)
	if dg.level == Normal {
		return Normal, Pause{}, 0
	}
	return dg.level, dg.lastOver[dg.level], dg.threshold(dg.level)
}

// AdmitConnection reports whether a new connection may be accepted at
// time at: only at level Normal. Refusals are counted.
func (dg *Degrader) AdmitConnection(at time.Time) bool {
	if dg.Level(at) != Normal {
		dg.stats.RefusedConnections++
		return false
	}
	return true
}

// ShouldClose reports whether a connection last active at lastActive
// should be closed at time at: only at L2, and only when it has been idle
// for longer than IdleClose. Answers of true are counted, so ask once per
// connection per sweep and close the ones it names.
func (dg *Degrader) ShouldClose(at, lastActive time.Time) bool {
	at = dg.advance(at)
	if dg.level != L2CloseIdle || at.Sub(lastActive) <= dg.cfg.IdleClose {
		return false
	}
	dg.stats.IdleClosed++
	return true
}

// IdleToClose returns, in ascending order, the indexes i of lastActive for
// which ShouldClose(at, lastActive[i]) holds: the caller keeps its
// connections in its own slice and passes their last-activity times.
func (dg *Degrader) IdleToClose(at time.Time, lastActive []time.Time) []int {
	var idx []int
	for i, t := range lastActive {
		if dg.ShouldClose(at, t) {
			idx = append(idx, i)
		}
	}
	return idx
}

// Stats returns the counts so far.
func (dg *Degrader) Stats() DegradationStats {
	st := dg.stats
	st.Level = dg.level
	return st
}
