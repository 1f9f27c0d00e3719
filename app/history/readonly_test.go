package history

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadOnlyOption(t *testing.T) {
	plan, res := checkout(t)
	path := filled(t, 3)
	before := hashFile(t, path)
	s := open(t, path, Options{ReadOnly: true})
	if ro, why := s.ReadOnly(); !ro || why != "opened read-only" {
		t.Fatalf("ReadOnly() = %v, %q", ro, why)
	}
	list, err := s.List(ctx, Filter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("List: %d runs, %v", len(list), err)
	}
	if r, err := s.Get(ctx, list[0].ID); err != nil || r.Result == nil {
		t.Fatalf("Get: %v", err)
	}
	_, err = s.Start(ctx, MetaFromPlan(plan))
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Start on a read-only store: %v", err)
	}
	t.Logf("%v", err)
	if err := s.Finish(list[0].ID, res, 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Finish: %v", err)
	}
	if err := s.Delete(ctx, list[0].ID); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Delete: %v", err)
	}
	s.Close()
	if hashFile(t, path) != before {
		t.Fatal("a read-only store changed the file")
	}
	if _, err := OpenOptions(filepath.Join(t.TempDir(), "new.db"), Options{ReadOnly: true}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only Open of a missing file: %v", err)
	}
}

// readOnlyChecks runs as a user who cannot write dir/ro/h.db (a file
// mode 0444) nor anything in dir/rodir/ (a directory mode 0555), and
// checks that the store notices and says so.
func readOnlyChecks(dir string) error {
	path := filepath.Join(dir, "ro", "h.db")
	s, err := Open(path)
	if err != nil {
		return fmt.Errorf("Open of an unwritable file: %w", err)
	}
	defer s.Close()
	ro, why := s.ReadOnly()
	if !ro || !strings.Contains(why, "not writable by uid") {
		return fmt.Errorf("ReadOnly() = %v, %q", ro, why)
	}
	list, err := s.List(ctx, Filter{})
	if err != nil || len(list) != 3 {
		return fmt.Errorf("List: %d runs, %v", len(list), err)
	}
	if r, err := s.Get(ctx, list[0].ID); err != nil || r.Result == nil {
		return fmt.Errorf("Get: %v", err)
	}
	if err := s.Delete(ctx, list[0].ID); !errors.Is(err, ErrReadOnly) {
		return fmt.Errorf("Delete: %v", err)
	}
	fmt.Println("file:", s.Delete(ctx, list[0].ID))

	// A writable file in a directory that is not: SQLite could not make
	// its -wal and -shm files.
	s2, err := Open(filepath.Join(dir, "rodir", "h.db"))
	if err != nil {
		return fmt.Errorf("Open in an unwritable directory: %w", err)
	}
	defer s2.Close()
	if ro, why := s2.ReadOnly(); !ro || !strings.Contains(why, "directory") {
		return fmt.Errorf("ReadOnly() in an unwritable directory = %v, %q", ro, why)
	}
	if list, err := s2.List(ctx, Filter{}); err != nil || len(list) != 3 {
		return fmt.Errorf("List in an unwritable directory: %d runs, %v", len(list), err)
	}
	_, err = s2.Start(ctx, Meta{Scenario: "x"})
	if !errors.Is(err, ErrReadOnly) {
		return fmt.Errorf("Start in an unwritable directory: %v", err)
	}
	fmt.Println("dir:", err)

	// No file, and a directory where it cannot be created.
	_, err = Open(filepath.Join(dir, "rodir", "new.db"))
	if !errors.Is(err, ErrReadOnly) {
		return fmt.Errorf("Open of a new file in an unwritable directory: %v", err)
	}
	fmt.Println("new:", err)
	return nil
}

// The file and directory permissions are real, so the check must run as
// a user they apply to: as root (these tests' usual user) the test
// re-executes itself as nobody (uid 65534).
func TestReadOnlyFileAndDirectory(t *testing.T) {
	src := filled(t, 3)
	dir, err := os.MkdirTemp("", "history-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, sub := range []string{"ro", "rodir"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, src, filepath.Join(dir, sub, "h.db"), 0o644)
	}
	if err := os.Chmod(filepath.Join(dir, "ro", "h.db"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "rodir", "h.db"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "rodir"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	for _, sub := range []string{"ro", "rodir"} {
		hashes[sub] = hashFile(t, filepath.Join(dir, sub, "h.db"))
	}

	if os.Geteuid() != 0 {
		if err := readOnlyChecks(dir); err != nil {
			t.Fatal(err)
		}
	} else {
		// The test binary may sit in a directory nobody cannot enter.
		bin := filepath.Join(dir, "history.test")
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		copyFile(t, self, bin, 0o755)
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), "HISTORY_READONLY_CHILD="+dir)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		t.Logf("as uid 65534:\n%s", out)
		if err != nil {
			t.Fatalf("the read-only checks as uid 65534 failed: %v", err)
		}
	}
	for sub, h := range hashes {
		if hashFile(t, filepath.Join(dir, sub, "h.db")) != h {
			t.Fatalf("%s/h.db changed", sub)
		}
		for _, ext := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(filepath.Join(dir, sub, "h.db"+ext)); err == nil && sub == "rodir" {
				t.Fatalf("%s/h.db%s was created", sub, ext)
			}
		}
	}
}

func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
