package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"stormglass/app/jobs"
	"stormglass/knob"
	"stormglass/scenarios"
)

// DefaultScenario is what `stormglass run` and `make run` replay when no
// scenario is named.
const DefaultScenario = "reactive-outage-2025"

// runFlags are the flags run and compare share.
type runFlags struct {
	sets         multiFlag
	seed         string
	replications int
	until        string
	format       string
	out          string
	quiet        bool
	db           dbFlag
	noHistory    bool
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.sets, "set", "set a knob, `knob=value` (repeatable); see 'stormglass knobs SCENARIO'")
	fs.StringVar(&f.seed, "seed", "", "run seed (default: the scenario's); the same seed gives the same results")
	fs.IntVar(&f.replications, "replications", 0, "independent replications, 1 to 10000 (default: the scenario's)")
	fs.StringVar(&f.until, "until", "", "simulated time to run, e.g. 30m or 2h (default: the scenario's horizon)")
	fs.StringVar(&f.format, "format", "", "output format: "+formatNames+" (default: from --out's extension, else table)")
	fs.StringVar(&f.out, "out", "", "write the result to this file (.json, .csv, .pdf: the format by extension) or, for every format at once\n(report, JSON, CSV, series, charts as PNG and SVG), to this directory (a path ending in /)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	f.db.register(fs)
	fs.BoolVar(&f.noHistory, "no-history", false, "do not keep the run in run history")
}

// planOptions turns the flags into plan options, checking each.
func (f *runFlags) planOptions(sc *scenarios.Scenario, variant string) (scenarios.PlanOptions, error) {
	opt := scenarios.PlanOptions{Variant: variant, Replications: f.replications}
	for _, s := range f.sets {
		name, v, err := sc.Knobs.ParseAssignment(s)
		if err != nil {
			return opt, usagef("flag --set %s: %v", s, err)
		}
		opt.Set = append(opt.Set, scenarios.Assignment{Knob: name, Value: v})
	}
	if f.seed != "" {
		v, err := knob.Parse(knob.Integer, f.seed)
		if err != nil || v.Int() < 0 {
			return opt, usagef("flag --seed: %q: expected a whole number ≥ 0", f.seed)
		}
		seed := uint64(v.Int())
		opt.Seed = &seed
	}
	if f.replications < 0 || f.replications > scenarios.MaxReplications {
		return opt, usagef("flag --replications: %d is out of range: expected 1 to %d", f.replications, scenarios.MaxReplications)
	}
	if f.until != "" {
		v, err := knob.Parse(knob.Duration, f.until)
		if err != nil || v.Duration() <= 0 {
			return opt, usagef("flag --until: %q: expected a positive duration with a unit, such as 30m or 2h", f.until)
		}
		opt.Horizon = v.Duration()
	}
	return opt, nil
}

// output opens where the result goes. A file is written beside its final
// name and renamed into place when complete, so a failed or interrupted
// run never leaves half a file, and an unwritable path is found before a
// long run rather than after.
type output struct {
	w    io.Writer
	file *jobs.File // nil: standard output
}

func openOutput(path string, stdout io.Writer) (*output, error) {
	if path == "" {
		return &output{w: stdout}, nil
	}
	f, err := jobs.Create(path)
	if err != nil {
		return nil, usagef("flag --out: %v", err)
	}
	return &output{w: f, file: f}, nil
}

// commit puts a file in place; abort removes the partial one.
func (o *output) commit() error {
	if o.file == nil {
		return nil
	}
	return o.file.Commit()
}

func (o *output) abort() {
	if o.file != nil {
		o.file.Abort()
	}
}

// fail prints an error for command cmd and returns its exit code: usage
// and scenario errors are 2, run failures 1.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "stormglass %s: %v\n", cmd, err)
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, scenarios.ErrInvalid) || errors.Is(err, scenarios.ErrNotFound) ||
		errors.Is(err, scenarios.ErrUnknownVariant) || errors.Is(err, knob.ErrSyntax) || errors.Is(err, knob.ErrOutOfRange) ||
		errors.Is(err, knob.ErrUnknown) || errors.Is(err, os.ErrNotExist) || errors.Is(err, scenarios.ErrPlan) {
		return ExitUsage
	}
	return ExitFailure
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "[SCENARIO] [flags]",
		"Run a scenario (a built-in name or a file; default "+DefaultScenario+") and print its summary:\n"+
			"every metric with its 95% confidence interval, the closed form where one\n"+
			"exists, the objectives' verdicts and the timeline as it happened.", stderr)
	var f runFlags
	var variant string
	fs.StringVar(&variant, "variant", "", "the variant to run (default: the first declared, or base)")
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) > 1 {
		return fail(stderr, "run", usagef("expected one scenario, got %d: %s", len(pos), strings.Join(pos, " ")))
	}
	ref := DefaultScenario
	if len(pos) == 1 {
		ref = pos[0]
	}
	var variants []string
	if variant != "" {
		variants = []string{variant}
	}
	if err := runScenarios(ctx, ref, variants, &f, formatTable, false, stdout, stderr); err != nil {
		return fail(stderr, "run", err)
	}
	return ExitOK
}

func validateCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", "FILE...",
		"Check scenario files (or built-in names) without running them. Every problem\n"+
			"is reported with its file, line, column and field.", stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) == 0 {
		return fail(stderr, "validate", usagef("expected at least one file"))
	}
	code := ExitOK
	for _, ref := range pos {
		sc, err := scenarios.Open(ref)
		if err == nil {
			for _, v := range sc.VariantNames() {
				if _, perr := sc.Plan(scenarios.PlanOptions{Variant: v}); perr != nil {
					err = perr
					break
				}
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = ExitUsage
			continue
		}
		fmt.Fprintf(stdout, "ok %s: %s (%d knobs, %d timeline entries, variants: %s)\n", ref, sc.Meta.Title,
			sc.Knobs.Len(), len(sc.Timeline), strings.Join(sc.VariantNames(), ", "))
	}
	return code
}

func scenariosCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("scenarios", "", "List the built-in scenarios.", stderr)
	if _, err := parseArgs(fs, args); err != nil {
		return parseFailed(err)
	}
	all, err := scenarios.Builtins()
	if err != nil {
		return fail(stderr, "scenarios", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTITLE\tVARIANTS")
	for _, sc := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", sc.Meta.Name, sc.Meta.Title, strings.Join(sc.VariantNames(), ", "))
	}
	tw.Flush()
	return ExitOK
}

func knobsCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("knobs", "SCENARIO [--variant V]",
		"List a scenario's knobs: type, unit, default, range and help. With --variant,\n"+
			"show the variant's values and mark the ones it changes.", stderr)
	var variant string
	fs.StringVar(&variant, "variant", "", "show this variant's values")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) != 1 {
		return fail(stderr, "knobs", usagef("expected one scenario, got %d", len(pos)))
	}
	sc, err := scenarios.Open(pos[0])
	if err != nil {
		return fail(stderr, "knobs", err)
	}
	values := sc.Knobs.Defaults()
	if variant != "" {
		plan, err := sc.Plan(scenarios.PlanOptions{Variant: variant})
		if err != nil {
			return fail(stderr, "knobs", err)
		}
		values = plan.Values
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KNOB\tTYPE\tUNIT\tVALUE\tDEFAULT\tRANGE\tHELP")
	for _, k := range sc.Knobs.All() {
		v := values[k.Name]
		mark := ""
		if !v.Equal(k.Default) {
			mark = " *"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s%s\t%s\t%s\t%s\n", k.Name, k.Kind, k.UnitText(), v, mark, k.Default, k.RangeText(), k.Help)
	}
	tw.Flush()
	if sc.Knobs.Len() == 0 {
		fmt.Fprintln(stdout, "(this scenario declares no knobs)")
	}
	return ExitOK
}

func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", "SCENARIO --variant A --variant B [flags]",
		"Run two variants of a scenario on the same random numbers and print each\n"+
			"metric side by side with the difference B − A and its 95% interval.\n"+
			"--out report.pdf writes the capacity report of both instead.", stderr)
	var f runFlags
	var variants multiFlag
	fs.Var(&variants, "variant", "a variant to compare (give exactly two)")
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) != 1 {
		return fail(stderr, "compare", usagef("expected one scenario, got %d", len(pos)))
	}
	if len(variants) != 2 {
		return fail(stderr, "compare", usagef("expected two --variant flags, got %d", len(variants)))
	}
	if err := runScenarios(ctx, pos[0], variants, &f, formatTable, false, stdout, stderr); err != nil {
		return fail(stderr, "compare", err)
	}
	return ExitOK
}

// runScenarios runs one variant of a scenario, or two compared, and
// writes the results as the flags say (fallback: the format when neither
// --format nor --out's extension names one). With summary, the summary
// table goes to stdout as well when the results go to a file.
func runScenarios(ctx context.Context, ref string, variants []string, f *runFlags, fallback string, summary bool, stdout, stderr io.Writer) error {
	format, err := chooseFormat(f.format, f.out, fallback)
	if err != nil {
		return err
	}
	sc, err := scenarios.Open(ref)
	if err != nil {
		return err
	}
	if len(variants) == 0 {
		variants = []string{""}
	}
	if format == formatSeries && len(variants) == 2 {
		return usagef("flag --format series: the series CSV holds one run; name a directory with --out to get one per run")
	}
	var plans []*scenarios.Plan
	for _, v := range variants {
		opt, err := f.planOptions(sc, v)
		if err != nil {
			return err
		}
		p, err := sc.Plan(opt)
		if err != nil {
			return err
		}
		plans = append(plans, p)
	}
	dest, err := prepare(format, f.out, f.quiet)
	if err != nil {
		return err
	}
	res, err := execute(ctx, plans, f, stderr)
	if err != nil {
		return err
	}
	if summary && f.out != "" {
		if err := dest.encode(stdout, formatTable, res, stderr); err != nil {
			return err
		}
	}
	if err := dest.write(res, stdout, stderr); err != nil {
		return err
	}
	return nil
}
