package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"stormglass/app/history"
	"stormglass/app/runner"
	"stormglass/scenarios"
)

// Results are what a job produced: one run, or two of one scenario with
// their paired differences when the replications pair up.
type Results struct {
	Runs []*runner.Result
	// Diff holds B − A per metric; nil for one run, or for two that
	// cannot be paired (NotPaired says why).
	Diff      map[string]*runner.Diff
	NotPaired string
	// Kept are the runs' ids in history, in Runs' order; 0 for a run not
	// kept.
	Kept []int64
}

// Comparison is two runs as runner.Comparison, for JSON.
func (r *Results) Comparison() *runner.Comparison {
	return &runner.Comparison{Scenario: r.Runs[0].Scenario, A: r.Runs[0], B: r.Runs[1], Diff: r.Diff}
}

// Options say where a job reports to.
type Options struct {
	// Store keeps each run; nil keeps nothing.
	Store *history.Store
	// Progress, when set, is told the share done, from 0 to 1.
	Progress func(done float64)
	// Warn, when set, is told of history trouble, which does not stop
	// the job.
	Warn func(error)
}

// Execute runs one plan, or two variants of one scenario paired on
// common random numbers, and keeps each run in history.
func Execute(ctx context.Context, plans []*scenarios.Plan, opt Options) (*Results, error) {
	if len(plans) != 1 && len(plans) != 2 {
		return nil, fmt.Errorf("jobs: %d plans: expected one, or two to compare", len(plans))
	}
	recs := make([]*recording, len(plans))
	for i, p := range plans {
		recs[i] = record(ctx, opt, history.MetaFromPlan(p))
	}
	ropt := runner.Options{Progress: opt.Progress}
	start := time.Now()
	var res *Results
	var err error
	if len(plans) == 1 {
		var r *runner.Result
		r, err = runner.Run(ctx, plans[0], ropt)
		res = &Results{Runs: []*runner.Result{r}}
	} else {
		var c *runner.Comparison
		c, err = runner.Compare(ctx, plans[0], plans[1], ropt)
		if err == nil {
			res = &Results{Runs: []*runner.Result{c.A, c.B}, Diff: c.Diff}
		}
	}
	// Compare runs the two one after the other: each gets half the time.
	wall := time.Since(start) / time.Duration(len(plans))
	for i, rec := range recs {
		var r *runner.Result
		if err == nil {
			r = res.Runs[i]
		}
		rec.finish(ctx, r, err, wall)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", plans[0].Scenario.File, err)
	}
	for _, rec := range recs {
		res.Kept = append(res.Kept, rec.id)
	}
	return res, nil
}

// ErrNoResult is wrapped when a stored run has no result to show: it
// failed, was interrupted or is still running.
var ErrNoResult = errors.New("run has no result")

// Stored are the results of runs read back from history: one, or two of
// one scenario, paired when their seeds and replications match (else
// NotPaired says why).
func Stored(runs ...*history.Run) (*Results, error) {
	if len(runs) != 1 && len(runs) != 2 {
		return nil, fmt.Errorf("jobs: %d runs: expected one, or two to compare", len(runs))
	}
	res := &Results{}
	for _, run := range runs {
		if run.Result == nil {
			why := ""
			if run.Error != "" {
				why = ": " + run.Error
			}
			return nil, fmt.Errorf("run %d is %s%s: %w", run.ID, run.Status, why, ErrNoResult)
		}
		res.Runs = append(res.Runs, run.Result)
		res.Kept = append(res.Kept, run.ID)
	}
	if len(runs) == 1 {
		return res, nil
	}
	if runs[0].ID == runs[1].ID {
		return nil, fmt.Errorf("run %d twice: give two different runs to compare", runs[0].ID)
	}
	a, b := res.Runs[0], res.Runs[1]
	if a.Scenario != b.Scenario {
		return nil, fmt.Errorf("runs %d and %d are of different scenarios (%s, %s): a comparison is of two runs of one scenario", runs[0].ID, runs[1].ID, a.Scenario, b.Scenario)
	}
	diff, err := runner.Differences(a, b)
	switch {
	case errors.Is(err, runner.ErrNotPaired):
		res.NotPaired = err.Error()
	case err != nil:
		return nil, err
	}
	res.Diff = diff
	return res, nil
}

// recording is one run being kept in history; a zero recording keeps
// nothing.
type recording struct {
	store *history.Store
	id    int64
	warn  func(error)
}

func record(ctx context.Context, opt Options, meta history.Meta) *recording {
	if opt.Store == nil {
		return &recording{}
	}
	id, err := opt.Store.Start(ctx, meta)
	if err != nil {
		warn(opt.Warn, fmt.Errorf("not kept in run history: %w", err))
		return &recording{}
	}
	return &recording{store: opt.Store, id: id, warn: opt.Warn}
}

// finish records how the run ended: its result, or its error (a
// cancelled context is an interruption).
func (r *recording) finish(ctx context.Context, res *runner.Result, runErr error, wall time.Duration) {
	if r.store == nil {
		return
	}
	var err error
	switch {
	case runErr == nil:
		err = r.store.Finish(r.id, res, wall)
	case ctx.Err() != nil:
		err = r.store.Interrupt(r.id)
	default:
		err = r.store.Fail(r.id, runErr)
	}
	if err != nil {
		warn(r.warn, fmt.Errorf("run history: %w", err))
	}
}

func warn(w func(error), err error) {
	if w != nil {
		w(err)
	}
}
