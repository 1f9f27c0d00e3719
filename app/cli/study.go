package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"stormglass/models/contention"
)

// backoffStudy reruns the AWS Architecture Blog's 2015 backoff study with
// the production backoff package on the simulator, and prints its table.
func backoffStudy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backoff-study", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 100, "runs per point (2 to 10000)")
	maxClients := fs.Int("clients", 100, "the largest client count; points at 10, 20, … up to it (10 to 1000)")
	seed := fs.Uint64("seed", 2015, "run seed: the same seed gives the same table")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: stormglass backoff-study [flags]\n\n"+
			"N clients update one row with optimistic concurrency and retry with each\n"+
			"backoff of the 2015 study; prints write calls and completion time.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	switch {
	case *runs < 2 || *runs > 10000:
		fmt.Fprintf(stderr, "stormglass backoff-study: flag -runs: %d is out of range: expected 2 to 10000 (a confidence interval needs 2)\n", *runs)
		return ExitUsage
	case *maxClients < 10 || *maxClients > 1000:
		fmt.Fprintf(stderr, "stormglass backoff-study: flag -clients: %d is out of range: expected 10 to 1000\n", *maxClients)
		return ExitUsage
	}
	opt := contention.SweepOptions{Runs: *runs}
	for n := 10; n <= *maxClients; n += 10 {
		opt.Clients = append(opt.Clients, n)
	}
	algs := contention.StudyAlgorithms()
	bar := newProgressBar(stderr, "simulating", len(opt.Clients)*len(algs), *quiet)
	opt.Progress = func(done, _ int) { bar.set(done) }
	points, err := contention.Sweep(ctx, *seed, opt)
	bar.done()
	if err != nil {
		fmt.Fprintf(stderr, "stormglass backoff-study: %v\n", err)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "Backoff study (AWS Architecture Blog, 2015): clients contend on one row with\n"+
		"optimistic concurrency; network delay |N(10 ms, 2 ms)|, base 5 ms, cap 2 s;\n"+
		"%d runs per point, seed %d.\n\n%s", *runs, *seed, contention.Table(points))
	return ExitOK
}
