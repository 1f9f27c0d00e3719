package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim"
	"stormglass/sim/queueing"
)

// Exit codes, shared by every command.
const (
	ExitOK      = 0
	ExitFailure = 1 // the run itself failed
	ExitUsage   = 2 // bad usage or input
)

// Main runs the command named by args[0] (demo when args is empty) and
// returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return runCmd(ctx, args, stdout, stderr)
	case "validate":
		return validateCmd(ctx, args, stdout, stderr)
	case "scenarios":
		return scenariosCmd(ctx, args, stdout, stderr)
	case "knobs":
		return knobsCmd(ctx, args, stdout, stderr)
	case "compare":
		return compareCmd(ctx, args, stdout, stderr)
	case "history":
		return historyCmd(ctx, args, stdout, stderr)
	case "report":
		return reportCmd(ctx, args, stdout, stderr)
	case "demo":
		return demo(ctx, args, stdout, stderr)
	case "backoff-study":
		return backoffStudy(ctx, args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return ExitOK
	default:
		fmt.Fprintf(stderr, "stormglass: unknown command %q\n\n", cmd)
		usage(stderr)
		return ExitUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: stormglass [command] [flags]

With no command on a desktop, stormglass opens the desktop app; without a
display it runs the default command, run.

Commands:
  desktop         open the desktop app, optionally straight into a replay or a
                  comparison ('stormglass desktop -h')
  run             run a scenario and print its summary (the default command;
                  with no scenario named, the built-in `+DefaultScenario+`)
  compare         run two variants of a scenario side by side
  report          write the capacity report (PDF) of a run or of two variants,
                  or again from runs kept in history
  history         the runs kept so far: list, show ID, delete ID, export ID
  validate        check scenario files without running them
  scenarios       list the built-in scenarios
  knobs           list a scenario's knobs: unit, default, range, help
  demo            simulate an M/M/c queue and compare it with queueing theory
  backoff-study   rerun the 2015 backoff-and-jitter study with the production
                  backoff code: calls and completion time per policy
  help            show this help

SCENARIO is a built-in name (see 'stormglass scenarios') or a YAML file.
Run 'stormglass run -h' for the flags of a command. Exit codes: 0 success,
1 the run failed, 2 bad usage or input.
`)
}

type demoConfig struct {
	servers      int
	load         float64
	customers    float64
	replications int
	seed         uint64
	quiet        bool
}

func demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c demoConfig
	fs.IntVar(&c.servers, "servers", 8, "number of servers c (1 to 10000)")
	fs.Float64Var(&c.load, "load", 0.9, "utilisation ρ = λ/(c·μ), with μ = 1/s (0 < ρ < 1)")
	fs.Float64Var(&c.customers, "customers", 1e6, "customers per replication after warm-up (1000 to 1e9)")
	fs.IntVar(&c.replications, "replications", 10, "independent replications (2 to 1000)")
	fs.Uint64Var(&c.seed, "seed", 1, "run seed: the same seed gives the same results")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: stormglass demo [flags]\n\nSimulate an M/M/c queue and compare it with queueing theory.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(stderr, "stormglass demo: %v\n", err)
		return ExitUsage
	}
	if err := runDemo(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "stormglass demo: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

func (c demoConfig) validate() error {
	switch {
	case c.servers < 1 || c.servers > 10000:
		return fmt.Errorf("flag -servers: %d is out of range: expected 1 to 10000", c.servers)
	case !(c.load > 0 && c.load < 1):
		return fmt.Errorf("flag -load: %v is out of range: expected 0 < ρ < 1 (at ρ ≥ 1 the queue grows forever)", c.load)
	case !(c.customers >= 1000 && c.customers <= 1e9):
		return fmt.Errorf("flag -customers: %v is out of range: expected 1000 to 1e9", c.customers)
	case c.replications < 2 || c.replications > 1000:
		return fmt.Errorf("flag -replications: %d is out of range: expected 2 to 1000 (a confidence interval needs 2)", c.replications)
	}
	return nil
}

func runDemo(ctx context.Context, c demoConfig, stdout, stderr io.Writer) error {
	const mu = 1.0
	lambda := c.load * float64(c.servers) * mu
	theory, err := queueing.MMc(lambda, mu, c.servers)
	if err != nil {
		return err
	}
	horizon := sim.DurationOf(c.customers / lambda)
	warmup := horizon / 10
	fmt.Fprintf(stdout, "M/M/%d queue: λ = %.4g/s, μ = %g/s, ρ = %.3g; %d replications of %.3g customers after a warm-up of %.3g; seed %d\n\n",
		c.servers, lambda, mu, c.load, c.replications, c.customers, c.customers/10, c.seed)

	bar := newProgressBar(stderr, "simulating", c.replications, c.quiet)
	start := time.Now()
	res, err := sim.Replicate(ctx, c.seed, sim.ReplicateOptions{
		Replications: c.replications,
		Progress:     func(done, planned int) { bar.set(done) },
	}, func(ctx context.Context, _ int, s sim.Streams) (map[string]float64, error) {
		k := sim.NewKernel(sim.Config{Seed: s.Seed()})
		st := sim.NewStation(k, "servers", c.servers, 0,
			sim.Seconds(distuv.Exponential{Rate: mu, Src: s.Source("service")}))
		sim.NewSource(k, sim.Seconds(distuv.Exponential{Rate: lambda, Src: s.Source("arrivals")}),
			func(id int64) { st.Arrive(id) }).Start()
		if err := k.RunUntil(ctx, warmup); err != nil {
			return nil, err
		}
		st.ResetStats()
		if err := k.RunUntil(ctx, warmup+horizon); err != nil {
			return nil, err
		}
		m := st.Metrics()
		return map[string]float64{
			"Wq": m.WaitMean, "W": m.ResponseMean, "Lq": m.QueueMean, "L": m.SystemMean,
			"utilisation": m.Utilization, "events": float64(k.Events()),
		}, nil
	})
	bar.done()
	if err != nil {
		return err
	}
	wall := time.Since(start)

	fmt.Fprintf(stdout, "%-12s %12s %12s %27s %9s %s\n", "metric", "theory", "simulated", "95% confidence interval", "rel.err", "")
	rows := []struct {
		name, label string
		want        float64
	}{
		{"Wq", "Wq (s)", theory.Wq},
		{"W", "W (s)", theory.W},
		{"Lq", "Lq", theory.Lq},
		{"L", "L", theory.L},
		{"utilisation", "utilisation", theory.Rho},
	}
	inside := 0
	for _, r := range rows {
		m, _ := res.Metric(r.name)
		verdict := "theory inside the CI"
		if m.Contains(r.want) {
			inside++
		} else {
			verdict = "theory OUTSIDE the CI"
		}
		fmt.Fprintf(stdout, "%-12s %12.5g %12.5g   [%11.5g, %11.5g] %8.2f%%  %s\n",
			r.label, r.want, m.Mean, m.Lo, m.Hi, 100*math.Abs(m.Mean-r.want)/r.want, verdict)
	}
	ev, _ := res.Metric("events")
	events := int64(ev.Mean * float64(len(res.Runs)))
	fmt.Fprintf(stdout, "\n%d of %d closed forms inside their 95%% interval (about 1 in 20 may fall outside by chance).\n", inside, len(rows))
	fmt.Fprintf(stdout, "%d events in %.2fs of wall time (%.1f M events/s over %d cores).\n",
		events, wall.Seconds(), float64(events)/wall.Seconds()/1e6, min(c.replications, runtime.GOMAXPROCS(0)))
	return nil
}
