package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"stormglass/knob"
	"stormglass/scenarios"
	"stormglass/sim"
)

// Session is one replication of a plan run live, as the desktop app
// replays an incident: advanced a stretch of simulated time at a time,
// with knobs turned between stretches taking effect at the current
// simulated time and recorded on its timeline.
//
// A session is replication 0 of the plan: advanced to the horizon with no
// knob turned, its series, events and figures are those of replication 0
// of Run with the same plan, to the bit. Its figures have no confidence
// interval (one replication); Run gives those.
//
// A Session is not safe for concurrent use: one goroutine drives it (see
// Player) and hands copies to others.
type Session struct {
	plan *scenarios.Plan
	k    *sim.Kernel
	w    *scenarios.World
	err  error // the error that stopped the run, if any
	// turned reports a knob changed during the session: the closed form
	// of the plan's network no longer describes the run.
	turned bool
}

// ErrSessionOver is returned by Advance once the session has reached its
// horizon or stopped on an error.
var ErrSessionOver = errors.New("the replay is over")

// NewSession builds the plan's world, ready to advance from time 0.
func NewSession(plan *scenarios.Plan) (*Session, error) {
	k, w, err := startWorld(plan, sim.NewStreams(plan.Seed).Replication(0))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", plan.Scenario.File, err)
	}
	return &Session{plan: plan, k: k, w: w}, nil
}

// Plan returns the plan the session runs.
func (s *Session) Plan() *scenarios.Plan { return s.plan }

// Now is the current simulated time, from 0 to the horizon.
func (s *Session) Now() time.Duration { return s.k.Now() }

// Horizon is where the session ends.
func (s *Session) Horizon() time.Duration { return s.plan.Horizon }

// Over reports whether the session has reached its horizon or stopped on
// an error (Err).
func (s *Session) Over() bool { return s.err != nil || s.k.Now() >= s.plan.Horizon }

// Err is the error that stopped the session, if one did.
func (s *Session) Err() error { return s.err }

// Events returns the session's events so far, in time order.
func (s *Session) Events() []scenarios.Event { return s.w.Events() }

// Series returns the series recorded so far: point i covers the interval
// ending at (i+1)·Plan().Sample.
func (s *Session) Series() []scenarios.Series { return s.w.Series() }

// Values returns the knobs' current values.
func (s *Session) Values() knob.Values { return s.w.Values() }

// AdvanceTo runs the simulation until simulated time t (at most the
// horizon). A cancelled ctx stops it early, at a consistent point, from
// which it can advance again; an error from the model ends the session.
func (s *Session) AdvanceTo(ctx context.Context, t time.Duration) error {
	if s.Over() {
		return ErrSessionOver
	}
	t = min(max(t, s.k.Now()), s.plan.Horizon)
	err := s.k.RunUntil(ctx, t)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return err
	}
	s.err = fmt.Errorf("%s at %v: %w", s.plan.Scenario.File, s.k.Now(), err)
	return s.err
}

// Set turns knobs now: each is checked, a knob that cannot change mid-run
// is refused with the reason, and on any error nothing changes. The change
// is recorded as a "set" event at the current time.
func (s *Session) Set(as []scenarios.Assignment) error {
	if s.Over() {
		return ErrSessionOver
	}
	if err := s.w.Set(as); err != nil {
		return err
	}
	s.turned = true
	return nil
}

// Result summarises the session so far as a one-replication result: its
// figures to the current time, the timeline as it happened (knob changes
// included) and the series. The knob table holds the values at time 0.
func (s *Session) Result() *Result {
	plan := *s.plan
	plan.Replications = 1
	plan.Horizon = s.k.Now()
	res := &sim.Replicated{Runs: []map[string]float64{flatten(s.w.Measure())}}
	var model string
	var theory map[string]float64
	if !plan.ChangesModel() && !s.turned {
		model, theory, _ = s.w.Theory()
	}
	return summarise(&plan, res, s.w.Events(), s.w.Series(), model, theory)
}
