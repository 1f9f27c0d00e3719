package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"stormglass/app/runner"
	"stormglass/scenarios"
)

// Status is where a run is in its life.
type Status string

// A run's statuses.
const (
	Running     Status = "running"
	Done        Status = "done"
	Failed      Status = "failed"
	Interrupted Status = "interrupted"
)

// Meta is what is known of a run before it runs.
type Meta struct {
	Scenario string // the scenario's name
	Title    string
	File     string // the path, or builtin:NAME
	Text     []byte // the scenario file exactly as read; its SHA-256 is stored with it
	Variant  string
	Knobs    []runner.KnobResult // every knob's start value
	Seed     uint64
	// Replications and Horizon are the plan's.
	Replications int
	Horizon      time.Duration
	Version      string    // Stormglass's; empty means runner.Version()
	Started      time.Time // zero means now; stored to the millisecond
}

// MetaFromPlan is the Meta of a plan about to run.
func MetaFromPlan(plan *scenarios.Plan) Meta {
	sc := plan.Scenario
	m := Meta{
		Scenario: sc.Meta.Name, Title: sc.Meta.Title, File: sc.File, Text: sc.Text,
		Variant: plan.Variant, Seed: plan.Seed, Replications: plan.Replications, Horizon: plan.Horizon,
	}
	for _, k := range sc.Knobs.All() {
		m.Knobs = append(m.Knobs, runner.KnobResult{Name: k.Name, Value: plan.Values[k.Name].String(),
			Default: k.Default.String(), Unit: k.UnitText(), Changed: slices.Contains(plan.Changed, k.Name)})
	}
	return m
}

// Summary is a run as a list shows it.
type Summary struct {
	ID       int64
	Status   Status
	Started  time.Time
	Scenario string
	Title    string
	Variant  string
	Seed     uint64
	// Changed names the knobs set away from their defaults.
	Changed []string
	// Headline is the run's outcome in a few words: the objectives'
	// verdicts when done, the error when failed.
	Headline string
	Wall     time.Duration // when done
}

// Run is a stored run in full.
type Run struct {
	Summary
	File           string
	ScenarioText   []byte
	ScenarioSHA256 string
	Replications   int
	Horizon        time.Duration
	Version        string
	Knobs          []runner.KnobResult
	Finished       time.Time // zero while running
	Error          string    // why it failed or was interrupted
	Host           string
	PID            int
	Result         *runner.Result // nil unless Status is Done
}

// Filter narrows List; the zero Filter lists every run.
type Filter struct {
	Scenario string
	Variant  string
	Status   Status
	Limit    int // 0: no limit
}

func self() proc {
	host, _ := os.Hostname()
	return proc{host: host, pid: os.Getpid(), marker: selfMarker()}
}

// Start records a run as running and returns its id.
func (s *Store) Start(ctx context.Context, m Meta) (int64, error) {
	const op = "recording a new run"
	w, err := s.writer(op)
	if err != nil {
		return 0, err
	}
	if m.Scenario == "" {
		return 0, fmt.Errorf("history database %s: %s: the run has no scenario name", s.path, op)
	}
	started := m.Started
	if started.IsZero() {
		started = time.Now()
	}
	version := m.Version
	if version == "" {
		version = runner.Version()
	}
	text := m.Text
	if text == nil {
		text = []byte{}
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (status, scenario, title, file, scenario_text, scenario_sha256,
		variant, seed, replications, horizon_s, version, started_at, host, pid, proc_start)
		VALUES ('running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Scenario, m.Title, m.File, text, fmt.Sprintf("%x", sha256.Sum256(m.Text)),
		m.Variant, int64(m.Seed), m.Replications, m.Horizon.Seconds(), version, started.UnixMilli(),
		s.self.host, s.self.pid, s.self.marker)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	if err := insertKnobs(ctx, tx, id, m.Knobs); err != nil {
		return 0, s.wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(op, err)
	}
	return id, nil
}

func insertKnobs(ctx context.Context, tx *sql.Tx, id int64, knobs []runner.KnobResult) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM run_knobs WHERE run_id = ?", id); err != nil {
		return err
	}
	for i, k := range knobs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_knobs (run_id, pos, name, value, default_value, unit, changed)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, i, k.Name, k.Value, k.Default, k.Unit, k.Changed); err != nil {
			return err
		}
	}
	return nil
}

// Finish stores a running run's result and marks it done, in one
// transaction: a reader sees the run either running without a result or
// done with all of it. wall is the run's wall-clock time. Finish takes no
// context: it records an outcome that should be kept even when the run's
// context has just been cancelled; it waits at most the busy timeout.
func (s *Store) Finish(id int64, r *runner.Result, wall time.Duration) error {
	op := fmt.Sprintf("storing run %d's result", id)
	w, err := s.writer(op)
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("history database %s: %s: no result", s.path, op)
	}
	blob, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("history database %s: %s: %w", s.path, op, err)
	}
	ctx := context.Background()
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback()
	var status, sha string
	err = tx.QueryRowContext(ctx, "SELECT status, scenario_sha256 FROM runs WHERE id = ?", id).Scan(&status, &sha)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("history database %s: %s: %w (run %d)", s.path, op, ErrNotFound, id)
	}
	if err != nil {
		return s.wrap(op, err)
	}
	if Status(status) != Running {
		return fmt.Errorf("history database %s: %s: %w (it is %s)", s.path, op, ErrNotRunning, status)
	}
	if r.ScenarioSHA256 != "" && r.ScenarioSHA256 != sha {
		return fmt.Errorf("history database %s: %s: the result is of another scenario file (SHA-256 %.12s, the run's is %.12s)", s.path, op, r.ScenarioSHA256, sha)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'done', result = ?, headline = ?, title = ?,
		finished_at = ?, wall_ms = ?, error = '' WHERE id = ?`,
		blob, headline(r), r.Title, time.Now().UnixMilli(), wall.Milliseconds(), id); err != nil {
		return s.wrap(op, err)
	}
	if r.Knobs != nil {
		if err := insertKnobs(ctx, tx, id, r.Knobs); err != nil {
			return s.wrap(op, err)
		}
	}
	return s.wrap(op, tx.Commit())
}

// headline sums up a result's objectives: "2 met, 1 violated
// (p99-latency)".
func headline(r *runner.Result) string {
	if len(r.SLOs) == 0 {
		return "no objectives"
	}
	var met, violated, uncertain int
	var first string
	for _, o := range r.SLOs {
		switch o.Verdict {
		case runner.VerdictMet:
			met++
		case runner.VerdictViolated:
			violated++
			if first == "" {
				first = o.Name
			}
		default:
			uncertain++
		}
	}
	var parts []string
	if violated > 0 {
		parts = append(parts, fmt.Sprintf("%d violated (%s)", violated, first))
	}
	if uncertain > 0 {
		parts = append(parts, fmt.Sprintf("%d uncertain", uncertain))
	}
	if met > 0 {
		parts = append(parts, fmt.Sprintf("%d met", met))
	}
	return strings.Join(parts, ", ")
}

// Fail marks a running run failed, with the error's text.
func (s *Store) Fail(id int64, runErr error) error {
	msg := "failed"
	if runErr != nil {
		msg = runErr.Error()
	}
	return s.end(id, Failed, msg)
}

// Interrupt marks a running run interrupted (the user stopped it).
func (s *Store) Interrupt(id int64) error { return s.end(id, Interrupted, "interrupted") }

func (s *Store) end(id int64, st Status, msg string) error {
	op := fmt.Sprintf("marking run %d %s", id, st)
	w, err := s.writer(op)
	if err != nil {
		return err
	}
	line, _, _ := strings.Cut(msg, "\n")
	res, err := w.Exec(`UPDATE runs SET status = ?, error = ?, headline = ?, finished_at = ? WHERE id = ? AND status = 'running'`,
		string(st), msg, line, time.Now().UnixMilli(), id)
	if err != nil {
		return s.wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(op, err)
	} else if n == 1 {
		return nil
	}
	var status string
	err = w.QueryRow("SELECT status FROM runs WHERE id = ?", id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("history database %s: %s: %w", s.path, op, ErrNotFound)
	}
	if err != nil {
		return s.wrap(op, err)
	}
	return fmt.Errorf("history database %s: %s: %w (it is %s)", s.path, op, ErrNotRunning, status)
}

// knobSep separates knob names in a list query.
const knobSep = "\x1f"

const summaryColumns = `runs.id, runs.status, runs.started_at, runs.scenario, runs.title, runs.variant, runs.seed,
	coalesce((SELECT group_concat(name, char(31)) FROM (SELECT name FROM run_knobs
		WHERE run_id = runs.id AND changed ORDER BY pos)), ''),
	runs.headline, coalesce(runs.wall_ms, 0), runs.host, runs.pid, runs.proc_start`

type scanner interface{ Scan(...any) error }

func (s *Store) scanSummary(row scanner, sum *Summary, extra ...any) error {
	var status, changed string
	var started, wall, seed int64
	var p proc
	dest := append([]any{&sum.ID, &status, &started, &sum.Scenario, &sum.Title, &sum.Variant, &seed,
		&changed, &sum.Headline, &wall, &p.host, &p.pid, &p.marker}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	sum.Status = Status(status)
	sum.Started = time.UnixMilli(started)
	sum.Seed = uint64(seed)
	sum.Wall = time.Duration(wall) * time.Millisecond
	if changed != "" {
		sum.Changed = strings.Split(changed, knobSep)
	}
	if sum.Status == Running && !s.alive(p) {
		sum.Status = Interrupted
		sum.Headline = fmt.Sprintf("the process that ran it (pid %d) ended before the run finished", p.pid)
	}
	return nil
}

// List returns the runs the filter selects, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Summary, error) {
	const op = "listing runs"
	r, err := s.reader(op)
	if err != nil {
		return nil, err
	}
	q := "SELECT " + summaryColumns + " FROM runs WHERE 1"
	var args []any
	if f.Scenario != "" {
		q += " AND scenario = ?"
		args = append(args, f.Scenario)
	}
	if f.Variant != "" {
		q += " AND variant = ?"
		args = append(args, f.Variant)
	}
	if f.Status != "" && f.Status != Interrupted && f.Status != Running {
		q += " AND status = ?"
		args = append(args, string(f.Status))
	} else if f.Status != "" {
		// A dead process's run is stored running and reported
		// interrupted: filter after deciding.
		q += " AND status IN ('running', 'interrupted')"
	}
	q += " ORDER BY started_at DESC, id DESC"
	filterLater := f.Status == Running || f.Status == Interrupted
	if f.Limit > 0 && !filterLater {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var sum Summary
		if err := s.scanSummary(rows, &sum); err != nil {
			return nil, s.wrap(op, err)
		}
		if filterLater && sum.Status != f.Status {
			continue
		}
		out = append(out, sum)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// Get returns a stored run, its Result decoded.
func (s *Store) Get(ctx context.Context, id int64) (*Run, error) {
	op := fmt.Sprintf("reading run %d", id)
	r, err := s.reader(op)
	if err != nil {
		return nil, err
	}
	// One read transaction, so the knobs and the run agree.
	tx, err := r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer tx.Rollback()
	run := &Run{}
	var finished sql.NullInt64
	var horizon float64
	var blob []byte
	row := tx.QueryRowContext(ctx, "SELECT "+summaryColumns+`, runs.file, runs.scenario_text, runs.scenario_sha256,
		runs.replications, runs.horizon_s, runs.version, runs.finished_at, runs.error, runs.result
		FROM runs WHERE id = ?`, id)
	err = s.scanSummary(row, &run.Summary, &run.File, &run.ScenarioText, &run.ScenarioSHA256,
		&run.Replications, &horizon, &run.Version, &finished, &run.Error, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("history database %s: %s: %w", s.path, op, ErrNotFound)
	}
	if err != nil {
		return nil, s.wrap(op, err)
	}
	if run.Status == Interrupted && run.Error == "" {
		run.Error = run.Headline
	}
	run.Horizon = time.Duration(horizon * float64(time.Second))
	if finished.Valid {
		run.Finished = time.UnixMilli(finished.Int64)
	}
	if err := tx.QueryRowContext(ctx, "SELECT host, pid FROM runs WHERE id = ?", id).Scan(&run.Host, &run.PID); err != nil {
		return nil, s.wrap(op, err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT name, value, default_value, unit, changed FROM run_knobs WHERE run_id = ? ORDER BY pos", id)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k runner.KnobResult
		if err := rows.Scan(&k.Name, &k.Value, &k.Default, &k.Unit, &k.Changed); err != nil {
			return nil, s.wrap(op, err)
		}
		run.Knobs = append(run.Knobs, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	if blob != nil {
		run.Result = new(runner.Result)
		if err := json.Unmarshal(blob, run.Result); err != nil {
			return nil, fmt.Errorf("history database %s: %s: %w: the stored result does not decode: %w", s.path, op, ErrCorrupt, err)
		}
	}
	return run, nil
}

// Export writes a done run's result as the JSON the runner produced, from
// which any report can be made again.
func (s *Store) Export(ctx context.Context, id int64, w io.Writer) error {
	op := fmt.Sprintf("exporting run %d", id)
	r, err := s.reader(op)
	if err != nil {
		return err
	}
	var blob []byte
	var status string
	err = r.QueryRowContext(ctx, "SELECT status, result FROM runs WHERE id = ?", id).Scan(&status, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("history database %s: %s: %w", s.path, op, ErrNotFound)
	}
	if err != nil {
		return s.wrap(op, err)
	}
	if blob == nil {
		return fmt.Errorf("history database %s: %s: %w (it is %s)", s.path, op, ErrNoResult, status)
	}
	if _, err := w.Write(blob); err != nil {
		return fmt.Errorf("history database %s: %s: %w", s.path, op, err)
	}
	return nil
}

// Delete removes a run and its knobs.
func (s *Store) Delete(ctx context.Context, id int64) error {
	op := fmt.Sprintf("deleting run %d", id)
	w, err := s.writer(op)
	if err != nil {
		return err
	}
	res, err := w.ExecContext(ctx, "DELETE FROM runs WHERE id = ?", id)
	if err != nil {
		return s.wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(op, err)
	} else if n == 0 {
		return fmt.Errorf("history database %s: %s: %w", s.path, op, ErrNotFound)
	}
	return nil
}
