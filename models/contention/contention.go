package contention

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"stormglass/realtime/backoff"
	"stormglass/sim"
	"stormglass/sim/stats"
)

// The study's constants.
const (
	NetMean = 10 * time.Millisecond
	NetSD   = 2 * time.Millisecond
	Base    = 5 * time.Millisecond
	Cap     = 2 * time.Second
)

// Algorithm is a retry rule: a backoff policy, or none.
type Algorithm struct {
	Name   string
	Policy *backoff.Policy // nil: retry after the network delay alone
}

// StudyAlgorithms are the five rules the 2015 study compared, in its
// order.
func StudyAlgorithms() []Algorithm {
	exp := backoff.Policy{Name: "exponential", Initial: 2 * Base, Multiplier: 2, Cap: Cap, Jitter: backoff.NoJitter}
	decorr := backoff.Policy{Name: "decorrelated", Initial: Base, Multiplier: 1, Cap: Cap, Jitter: backoff.DecorrelatedJitter}
	equal := exp
	equal.Name, equal.Jitter = "equal-jitter", backoff.EqualJitter
	full := backoff.AWSFullJitter()
	full.Name = "full-jitter"
	return []Algorithm{
		{"exponential", &exp}, {"decorrelated", &decorr}, {"equal-jitter", &equal}, {"full-jitter", &full}, {"none", nil},
	}
}

// Result is one run's outcome.
type Result struct {
	Calls      int           // conditional writes, successful or not
	Reads      int           // version reads
	Completion time.Duration // when the last client succeeded
}

// Run plays one run with n clients on a fresh kernel seeded by streams.
func Run(ctx context.Context, n int, alg Algorithm, streams sim.Streams) (Result, error) {
	if n < 1 {
		return Result{}, fmt.Errorf("contention: %d clients: want at least 1", n)
	}
	k := sim.NewKernel(sim.Config{Seed: streams.Seed()})
	net := streams.Rand("network")
	delay := func() time.Duration {
		return time.Duration(math.Abs(net.NormFloat64()*float64(NetSD) + float64(NetMean)))
	}
	var res Result
	var failed error
	version := 0
	for i := range n {
		var b *backoff.Backoff
		if alg.Policy != nil {
			var err error
			b, err = backoff.New(*alg.Policy, k.Clock(), streams.Source(fmt.Sprintf("client-%d", i)))
			if err != nil {
				return Result{}, fmt.Errorf("contention: %s: %w", alg.Name, err)
			}
		}
		var read func()
		read = func() {
			// The read arrives at the row, and its answer travels back.
			res.Reads++
			seen := version
			k.AfterFunc(delay(), func() {
				// The client sends its conditional write.
				k.AfterFunc(delay(), func() {
					res.Calls++
					ok := version == seen
					if ok {
						version++
					}
					k.AfterFunc(delay(), func() {
						if ok {
							res.Completion = max(res.Completion, k.Now())
							return
						}
						wait := delay()
						if b != nil {
							d, err := b.Next("conflict")
							if err != nil {
								failed = err // a policy that gives up cannot finish the run
								k.Stop()
								return
							}
							wait += d
						}
						k.AfterFunc(wait, read)
					})
				})
			})
		}
		k.AfterFunc(delay(), read)
	}
	if err := k.Run(ctx); err != nil {
		return Result{}, fmt.Errorf("contention: %s with %d clients: %w", alg.Name, n, err)
	}
	if failed != nil {
		return Result{}, fmt.Errorf("contention: %s with %d clients: %w", alg.Name, n, failed)
	}
	if version != n {
		return Result{}, fmt.Errorf("contention: %s with %d clients: %d writes succeeded", alg.Name, n, version)
	}
	return res, nil
}

// Point is one algorithm at one client count, over many runs.
type Point struct {
	Algorithm  string
	Clients    int
	Calls      stats.Summary // write calls per run
	Completion stats.Summary // completion time per run, in milliseconds
}

// SweepOptions sets up Sweep.
type SweepOptions struct {
	Clients    []int // default 10, 20, …, 100
	Runs       int   // replications per point; default 100
	Algorithms []Algorithm
	Workers    int                   // 0: GOMAXPROCS; results do not depend on it
	Progress   func(done, total int) // after each point
}

// Sweep runs every algorithm at every client count. Point (algorithm a,
// clients n) uses the same seeds for every a (common random numbers), so
// differences between algorithms are not differences between seeds.
func Sweep(ctx context.Context, seed uint64, opt SweepOptions) ([]Point, error) {
	if len(opt.Clients) == 0 {
		for n := 10; n <= 100; n += 10 {
			opt.Clients = append(opt.Clients, n)
		}
	}
	if opt.Runs == 0 {
		opt.Runs = 100
	}
	if opt.Algorithms == nil {
		opt.Algorithms = StudyAlgorithms()
	}
	var points []Point
	total := len(opt.Clients) * len(opt.Algorithms)
	for _, n := range opt.Clients {
		for _, alg := range opt.Algorithms {
			r, err := sim.Replicate(ctx, seed+uint64(n), sim.ReplicateOptions{Replications: opt.Runs, Workers: opt.Workers},
				func(ctx context.Context, _ int, s sim.Streams) (map[string]float64, error) {
					res, err := Run(ctx, n, alg, s)
					if err != nil {
						return nil, err
					}
					return map[string]float64{"calls": float64(res.Calls), "completion_ms": float64(res.Completion) / 1e6}, nil
				})
			if err != nil {
				return nil, err
			}
			calls, _ := r.Metric("calls")
			done, _ := r.Metric("completion_ms")
			points = append(points, Point{Algorithm: alg.Name, Clients: n, Calls: calls.Summary, Completion: done.Summary})
			if opt.Progress != nil {
				opt.Progress(len(points), total)
			}
		}
	}
	return points, nil
}

// Table formats points as two blocks, calls and completion time, one row
// per client count and one column per algorithm, each mean with its 95 %
// confidence half-width.
func Table(points []Point) string {
	var algs []string
	var clients []int
	cell := map[string]Point{}
	key := func(alg string, n int) string { return fmt.Sprintf("%s/%d", alg, n) }
	for _, p := range points {
		if !slices.Contains(algs, p.Algorithm) {
			algs = append(algs, p.Algorithm)
		}
		if !slices.Contains(clients, p.Clients) {
			clients = append(clients, p.Clients)
		}
		cell[key(p.Algorithm, p.Clients)] = p
	}
	var b strings.Builder
	for _, block := range []struct {
		title string
		get   func(Point) stats.Summary
		unit  string
	}{{"write calls per run", func(p Point) stats.Summary { return p.Calls }, ""},
		{"completion time per run", func(p Point) stats.Summary { return p.Completion }, ", ms"}} {
		fmt.Fprintf(&b, "%s (mean ± 95%% CI half-width%s)\n%-8s", block.title, block.unit, "clients")
		for _, a := range algs {
			fmt.Fprintf(&b, " %16s", a)
		}
		b.WriteByte('\n')
		for _, n := range clients {
			fmt.Fprintf(&b, "%-8d", n)
			for _, a := range algs {
				text := "-"
				if p, ok := cell[key(a, n)]; ok {
					s := block.get(p)
					text = fmt.Sprintf("%.0f ± %.0f", s.Mean, s.HalfWidth)
				}
				fmt.Fprintf(&b, " %16s", text)
			}
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return b.String()
}
