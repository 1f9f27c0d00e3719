package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"stormglass/app/history"
	"stormglass/app/jobs"
	"strings"
)

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", "[SCENARIO [--variant A [--variant B]] | RUN-ID [RUN-ID]] [flags]",
		"Write the capacity report (PDF) of a scenario's run, or of two variants\n"+
			"compared on the same random numbers, and print their summary. With run ids\n"+
			"(see 'stormglass history list') the report is made again from runs kept in\n"+
			"history, without running anything. --out DIR/ writes every format at once.\n"+
			"Default --out: SCENARIO-VARIANT[-vs-VARIANT].pdf, or run-ID[-vs-ID].pdf.", stderr)
	var f runFlags
	var variants multiFlag
	fs.Var(&variants, "variant", "a variant to report on; give two to compare them (default: the scenario's first)")
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if err := report(ctx, pos, variants, &f, setFlags(fs), stdout, stderr); err != nil {
		return fail(stderr, "report", err)
	}
	return ExitOK
}

// setFlags lists the flags given on the command line.
func setFlags(fs *flag.FlagSet) []string {
	var names []string
	fs.Visit(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

var runIDPattern = regexp.MustCompile(`^[0-9]+$`)

func report(ctx context.Context, pos, variants []string, f *runFlags, given []string, stdout, stderr io.Writer) error {
	if f.format != "" && f.format != formatPDF {
		return usagef("flag --format %s: a report is a PDF; use 'stormglass run' or --out DIR/ for the other formats", f.format)
	}
	ids := 0
	for _, p := range pos {
		if runIDPattern.MatchString(p) {
			ids++
		}
	}
	switch {
	case ids > 0 && ids < len(pos):
		return usagef("expected a scenario or run ids, got %s (a scenario file named like a number: write ./%s)", strings.Join(pos, " "), pos[0])
	case ids > 2:
		return usagef("a report holds one run or compares two, got %d run ids", ids)
	case ids == 0 && len(pos) > 1:
		return usagef("expected one scenario, got %d: %s (to compare variants give --variant twice)", len(pos), strings.Join(pos, " "))
	case len(variants) > 2:
		return usagef("a report holds one run or compares two, got %d --variant flags", len(variants))
	}
	if ids > 0 {
		for _, name := range given {
			switch name {
			case "variant", "set", "seed", "replications", "until", "no-history":
				return usagef("flag --%s: a report of stored runs runs nothing; to run again, name the scenario", name)
			}
		}
		return reportStored(ctx, pos, f, stdout, stderr)
	}
	ref := DefaultScenario
	if len(pos) == 1 {
		ref = pos[0]
	}
	if f.out == "" {
		f.out = defaultReportName(ref, variants)
	}
	if err := checkReportOut(f.out); err != nil {
		return err
	}
	f.format = ""
	return runScenarios(ctx, ref, variants, f, formatPDF, true, stdout, stderr)
}

// reportStored writes the report of runs kept in history.
func reportStored(ctx context.Context, pos []string, f *runFlags, stdout, stderr io.Writer) error {
	ids := make([]int64, len(pos))
	for i, p := range pos {
		id, err := parseRunID(p)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	if len(ids) == 2 && ids[0] == ids[1] {
		return usagef("run %d twice: give two different runs to compare", ids[0])
	}
	if f.out == "" {
		f.out = fmt.Sprintf("run-%d.pdf", ids[0])
		if len(ids) == 2 {
			f.out = fmt.Sprintf("run-%d-vs-%d.pdf", ids[0], ids[1])
		}
	}
	if err := checkReportOut(f.out); err != nil {
		return err
	}
	format := formatPDF
	if isDirPath(f.out) {
		format = formatDir
	}
	store, err := f.db.openReadOnly()
	if err != nil {
		return err
	}
	defer store.Close()
	var runs []*history.Run
	for _, id := range ids {
		run, err := store.Get(ctx, id)
		if err != nil {
			return historyErr(err)
		}
		runs = append(runs, run)
	}
	res, err := jobs.Stored(runs...)
	if err != nil {
		return usagef("%v", err)
	}
	if res.NotPaired != "" {
		fmt.Fprintf(stderr, "note: %s, so the report shows runs %d and %d without their differences (runs with the same seed and replications pair up)\n", res.NotPaired, ids[0], ids[1])
	}
	dest, err := prepare(format, f.out, f.quiet)
	if err != nil {
		return err
	}
	if err := dest.encode(stdout, formatTable, res, stderr); err != nil {
		return err
	}
	return dest.write(res, stdout, stderr)
}

// checkReportOut refuses a report --out that is neither a PDF nor a
// directory.
func checkReportOut(out string) error {
	if !isDirPath(out) && !strings.EqualFold(filepath.Ext(out), ".pdf") {
		return usagef("flag --out %s: expected a .pdf file, or a directory (ending in /) for every format", out)
	}
	return nil
}

// defaultReportName names a report after its scenario and variants.
func defaultReportName(ref string, variants []string) string {
	name := jobs.FileSafe(strings.TrimSuffix(filepath.Base(ref), filepath.Ext(ref)))
	for i, v := range variants {
		if i == 1 {
			name += "-vs"
		}
		name += "-" + jobs.FileSafe(v)
	}
	return name + ".pdf"
}
