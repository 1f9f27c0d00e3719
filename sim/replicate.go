package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"stormglass/sim/stats"
)

// ReplicationFunc runs replication rep of an experiment with its own random
// streams and returns its metrics by name. It must build its own model (one
// kernel per replication): replications run concurrently.
type ReplicationFunc func(ctx context.Context, rep int, streams Streams) (map[string]float64, error)

// ReplicateOptions control Replicate.
type ReplicateOptions struct {
	// Replications is how many to run; with a target, the number run before
	// the first check. At least 2 for a confidence interval. Default 10.
	Replications int
	// Workers is how many run at once; 0 means GOMAXPROCS. Results do not
	// depend on it.
	Workers int
	// Confidence is the confidence level of the intervals. Default 0.95.
	Confidence float64

	// TargetRelHalfWidth, if > 0, adds replications in batches of BatchSize
	// until every metric in TargetMetrics (every metric, if empty) has a
	// confidence-interval half-width at most this fraction of its mean, or
	// MaxReplications have run. The batches are fixed in size, so where the
	// run stops depends on the seed alone, not on the machine.
	TargetRelHalfWidth float64
	TargetMetrics      []string
	BatchSize          int // default 4
	MaxReplications    int // default 100

	// Progress, if set, is called after each replication finishes, from the
	// goroutine that ran it (calls do not overlap).
	Progress func(done, planned int)
}

// MetricSummary is one metric across replications.
type MetricSummary struct {
	Name string
	stats.Summary
}

// Replicated is the outcome of Replicate.
type Replicated struct {
	// Runs holds each replication's metrics, by replication index.
	Runs []map[string]float64
	// Metrics summarises every metric, sorted by name.
	Metrics []MetricSummary
	// TargetMet reports whether the relative half-width target was reached
	// (always true without a target).
	TargetMet bool
}

// Metric returns the summary of the named metric.
func (r *Replicated) Metric(name string) (MetricSummary, bool) {
	i, ok := slices.BinarySearchFunc(r.Metrics, name, func(m MetricSummary, n string) int {
		switch {
		case m.Name < n:
			return -1
		case m.Name > n:
			return 1
		}
		return 0
	})
	if !ok {
		return MetricSummary{}, false
	}
	return r.Metrics[i], true
}

// Replicate runs independent replications of an experiment in parallel and
// summarises each metric with a Student-t confidence interval. Replication
// i always gets NewStreams(seed).Replication(i), so the outcome is the same
// on any machine and for any number of workers.
func Replicate(ctx context.Context, seed uint64, opt ReplicateOptions, run ReplicationFunc) (*Replicated, error) {
	if opt.Replications == 0 {
		opt.Replications = 10
	}
	if opt.Replications < 1 {
		return nil, fmt.Errorf("sim: replications must be at least 1, got %d", opt.Replications)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Confidence == 0 {
		opt.Confidence = 0.95
	}
	if !(opt.Confidence > 0 && opt.Confidence < 1) {
		return nil, fmt.Errorf("sim: confidence must be in (0, 1), got %v", opt.Confidence)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 4
	}
	if opt.MaxReplications <= 0 {
		opt.MaxReplications = 100
	}
	base := NewStreams(seed)
	res := &Replicated{}
	planned := opt.Replications
	for {
		from := len(res.Runs)
		res.Runs = append(res.Runs, make([]map[string]float64, planned-from)...)
		if err := runBatch(ctx, base, from, planned, opt, res.Runs, run); err != nil {
			return nil, err
		}
		var err error
		if res.Metrics, err = summarize(res.Runs, opt.Confidence); err != nil {
			return nil, err
		}
		res.TargetMet = targetMet(res.Metrics, opt)
		if res.TargetMet || planned >= opt.MaxReplications {
			return res, nil
		}
		planned = min(planned+opt.BatchSize, opt.MaxReplications)
	}
}

func runBatch(ctx context.Context, base Streams, from, to int, opt ReplicateOptions, out []map[string]float64, run ReplicationFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errs := make([]error, to-from)
	var mu sync.Mutex
	done := from
	var wg sync.WaitGroup
	for range min(opt.Workers, to-from) {
		wg.Go(func() {
			for i := range next {
				m, err := run(ctx, i, base.Replication(i))
				if err != nil {
					errs[i-from] = fmt.Errorf("replication %d: %w", i, err)
					cancel()
					continue
				}
				out[i] = m
				if opt.Progress != nil {
					mu.Lock()
					done++
					opt.Progress(done, to)
					mu.Unlock()
				}
			}
		})
	}
feed:
	for i := from; i < to; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

func summarize(runs []map[string]float64, confidence float64) ([]MetricSummary, error) {
	names := make([]string, 0, len(runs[0]))
	for name := range runs[0] {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]MetricSummary, 0, len(names))
	xs := make([]float64, len(runs))
	for _, name := range names {
		for i, r := range runs {
			v, ok := r[name]
			if !ok {
				return nil, fmt.Errorf("sim: replication %d did not report metric %q that replication 0 did", i, name)
			}
			xs[i] = v
		}
		out = append(out, MetricSummary{Name: name, Summary: stats.Summarize(xs, confidence)})
	}
	for i, r := range runs {
		if len(r) != len(names) {
			return nil, fmt.Errorf("sim: replication %d reported %d metrics, replication 0 reported %d", i, len(r), len(names))
		}
	}
	return out, nil
}

func targetMet(ms []MetricSummary, opt ReplicateOptions) bool {
	if opt.TargetRelHalfWidth <= 0 {
		return true
	}
	for _, m := range ms {
		if len(opt.TargetMetrics) > 0 && !slices.Contains(opt.TargetMetrics, m.Name) {
			continue
		}
		if !(m.RelHalfWidth() <= opt.TargetRelHalfWidth) {
			return false
		}
	}
	return true
}
