package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"stormglass/app/history"
)

// dbFlag is the --db flag of the commands that read or write run history.
type dbFlag struct{ path string }

func (f *dbFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "db", "", "run history database (default: stormglass/history.db in the user's data directory)")
}

// path is the history file the flag names, or the default one.
func (f *dbFlag) resolve() (string, error) {
	if f.path != "" {
		return f.path, nil
	}
	path, err := history.DefaultPath()
	if err != nil {
		return "", fmt.Errorf("run history: %w", err)
	}
	return path, nil
}

// open opens the history the flag names, or the default one.
func (f *dbFlag) open() (*history.Store, error) {
	path, err := f.resolve()
	if err != nil {
		return nil, err
	}
	return history.Open(path)
}

// openReadOnly opens the history for reading only: a report of stored
// runs must not change the file, and works on one it cannot write.
func (f *dbFlag) openReadOnly() (*history.Store, error) {
	path, err := f.resolve()
	if err != nil {
		return nil, err
	}
	return history.OpenOptions(path, history.Options{ReadOnly: true})
}

func historyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("history", "[list|show ID|delete ID|export ID] [flags]",
		"Every run Stormglass made, kept in SQLite: list them (newest first, the\n"+
			"default), show one's summary, delete one, or export one's result as\n"+
			"JSON (from which 'stormglass report ID' regenerates its report).", stderr)
	var db dbFlag
	db.register(fs)
	var scenario, out string
	var limit int
	fs.StringVar(&scenario, "scenario", "", "list: only runs of this scenario")
	fs.IntVar(&limit, "limit", 50, "list: at most this many runs (0: all)")
	fs.StringVar(&out, "out", "", "export: write the JSON to this file instead of standard output")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	sub := "list"
	if len(pos) > 0 {
		sub, pos = pos[0], pos[1:]
	}
	if err := runHistory(ctx, sub, pos, &db, scenario, limit, out, stdout); err != nil {
		return fail(stderr, "history", err)
	}
	return ExitOK
}

func runHistory(ctx context.Context, sub string, pos []string, db *dbFlag, scenario string, limit int, out string, stdout io.Writer) error {
	needID := sub == "show" || sub == "delete" || sub == "export"
	switch {
	case sub != "list" && !needID:
		return usagef("unknown history command %q: expected list, show ID, delete ID or export ID", sub)
	case sub == "list" && len(pos) > 0:
		return usagef("history list takes no argument, got %s", strings.Join(pos, " "))
	case needID && len(pos) != 1:
		return usagef("history %s takes one run id (see 'stormglass history list')", sub)
	case limit < 0:
		return usagef("flag --limit: %d: expected 0 (all) or more", limit)
	}
	var id int64
	if needID {
		var err error
		if id, err = parseRunID(pos[0]); err != nil {
			return err
		}
	}
	store, err := db.open()
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "show":
		run, err := store.Get(ctx, id)
		if err != nil {
			return historyErr(err)
		}
		fmt.Fprintf(stdout, "run %d · %s · %s, started %s", run.ID, run.Status, run.Scenario, run.Started.Local().Format("2006-01-02 15:04:05"))
		if run.Wall > 0 {
			fmt.Fprintf(stdout, ", %.1fs of wall time", run.Wall.Seconds())
		}
		fmt.Fprintf(stdout, "\nscenario file %s (sha256 %s), Stormglass %s\n", run.File, run.ScenarioSHA256, run.Version)
		if run.Result == nil {
			fmt.Fprintf(stdout, "no result: %s\n", run.Error)
			return nil
		}
		fmt.Fprintln(stdout)
		return writeTable(stdout, run.Result)
	case "delete":
		if err := store.Delete(ctx, id); err != nil {
			return historyErr(err)
		}
		fmt.Fprintf(stdout, "deleted run %d\n", id)
		return nil
	case "export":
		o, err := openOutput(out, stdout)
		if err != nil {
			return err
		}
		if err := store.Export(ctx, id, o.w); err != nil {
			o.abort()
			return historyErr(err)
		}
		return o.commit()
	}
	runs, err := store.List(ctx, history.Filter{Scenario: scenario, Limit: limit})
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "no runs in %s\n", store.Path())
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED\tSTATUS\tSCENARIO\tVARIANT\tSEED\tCHANGED\tOUTCOME")
	for _, r := range runs {
		changed := strings.Join(r.Changed, ",")
		if changed == "" {
			changed = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Started.Local().Format("2006-01-02 15:04"), r.Status,
			r.Scenario, r.Variant, r.Seed, changed, r.Headline)
	}
	return tw.Flush()
}

// parseRunID reads a run id as history list shows it.
func parseRunID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("%q is not a run id: expected a number from 'stormglass history list'", s)
	}
	return id, nil
}

// historyErr makes a run that is not there a usage error (exit 2).
func historyErr(err error) error {
	if errors.Is(err, history.ErrNotFound) {
		return usagef("%v (see 'stormglass history list')", err)
	}
	return err
}
