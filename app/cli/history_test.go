package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain keeps the runs the tests make out of the user's own history.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stormglass-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// A run is kept in history; list, show, export and delete find it.
func TestRunIsKeptInHistory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	code, out, errs := runCLI(t, "run", "mm1", "--replications", "2", "--until", "20m", "--format", "json", "--quiet", "--db", db)
	if code != ExitOK {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	var ran map[string]any
	if err := json.Unmarshal([]byte(out), &ran); err != nil {
		t.Fatal(err)
	}
	code, list, errs := runCLI(t, "history", "--db", db)
	if code != ExitOK || !strings.Contains(list, "mm1") || !strings.Contains(list, "done") {
		t.Fatalf("history list: exit %d\n%s%s", code, list, errs)
	}
	code, show, _ := runCLI(t, "history", "show", "1", "--db", db)
	if code != ExitOK || !strings.Contains(show, "run 1 · done · mm1") || !strings.Contains(show, "response") {
		t.Fatalf("history show 1: exit %d\n%s", code, show)
	}
	code, exported, _ := runCLI(t, "history", "export", "1", "--db", db)
	var back map[string]any
	if code != ExitOK || json.Unmarshal([]byte(exported), &back) != nil {
		t.Fatalf("history export 1: exit %d\n%.200s", code, exported)
	}
	if a, b := ran["metrics"], back["metrics"]; !jsonEqual(a, b) {
		t.Fatal("the exported result's metrics differ from the run's output")
	}
	if code, _, errs := runCLI(t, "history", "delete", "1", "--db", db); code != ExitOK {
		t.Fatalf("history delete 1: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "history", "show", "1", "--db", db); code != ExitUsage || !strings.Contains(errs, "no such run") {
		t.Fatalf("show a deleted run: exit %d: %s", code, errs)
	}
}

// Mistakes get exit 2 and a reason; a history that cannot be used does
// not stop a run, and its file is left as it was.
func TestHistoryMistakes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "remove", "1"}, `unknown history command "remove"`},
		{[]string{"history", "show"}, "takes one run id"},
		{[]string{"history", "show", "x1"}, `"x1" is not a run id`},
		{[]string{"history", "list", "extra"}, "takes no argument"},
	} {
		if code, _, errs := runCLI(t, append(c.args, "--db", db)...); code != ExitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", c.args, code, errs, c.want)
		}
	}
	notDB := filepath.Join(t.TempDir(), "notes.db")
	if err := os.WriteFile(notDB, []byte("my notes, not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "run", "mm1", "--replications", "1", "--until", "15m", "--quiet", "--db", notDB)
	if code != ExitOK || !strings.Contains(out, "mm1") || !strings.Contains(errs, "warning: not kept in run history") || !strings.Contains(errs, "not a Stormglass history database") {
		t.Fatalf("run with a foreign --db: exit %d\nstdout %.200s\nstderr %s", code, out, errs)
	}
	if b, _ := os.ReadFile(notDB); string(b) != "my notes, not a database\n" {
		t.Fatal("the foreign file was changed")
	}
	if code, _, errs := runCLI(t, "history", "--db", notDB); code != ExitFailure || !strings.Contains(errs, "not a Stormglass history database") {
		t.Fatalf("history list of a foreign file: exit %d: %s", code, errs)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
