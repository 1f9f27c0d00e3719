package history

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"stormglass/app/runner"
)

// big is run i of the kill test: the checkout result with seed i and a
// bulky series (about 3.5 MB of JSON), the same in every process.
func big(t testing.TB, i int) *runner.Result {
	_, res := checkout(t)
	r := copyResult(t, res)
	r.Seed = uint64(i)
	vals := make([]float64, 200_000)
	for j := range vals {
		vals[j] = math.Sin(float64(i*len(vals) + j))
	}
	r.Series = append(r.Series, runner.SeriesResult{Name: "bulk", Values: vals})
	return r
}

// killChild is the child of TestKillMidWrite: it writes big runs until it
// is killed, saying on stdout which it started and finished.
func killChild(path string) error {
	t := &testing.T{}
	plan, _ := checkout(t)
	s, err := Open(path)
	if err != nil {
		return err
	}
	for i := 1; ; i++ {
		r := big(t, i)
		m := MetaFromPlan(plan)
		m.Seed = uint64(i)
		id, err := s.Start(ctx, m)
		if err != nil {
			return err
		}
		fmt.Printf("started %d %d\n", i, id)
		if err := s.Finish(id, r, time.Duration(i)); err != nil {
			return err
		}
		fmt.Printf("done %d %d\n", i, id)
	}
}

func TestMain(m *testing.M) {
	if p := os.Getenv("HISTORY_KILL_CHILD"); p != "" {
		err := killChild(p)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	if p := os.Getenv("HISTORY_READONLY_CHILD"); p != "" {
		if err := readOnlyChecks(p); err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestKillMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("writes some 100 MB")
	}
	path := filepath.Join(t.TempDir(), "h.db")
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	expected := map[int64]int{} // id → i of every run reported done
	var kills, midFinish, interrupted int
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "HISTORY_KILL_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it finish 1 to 3 runs, then kill it at a random moment of
		// the next few hundred milliseconds: most of a cycle is Finish.
		want := 1 + rnd.IntN(3)
		var last string
		deadline := time.After(60 * time.Second)
		for n := 0; n < want; {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("child ended early: %s", stderr.String())
				}
				last = l
				if f := strings.Fields(l); f[0] == "done" {
					i, _ := strconv.Atoi(f[1])
					id, _ := strconv.ParseInt(f[2], 10, 64)
					expected[id] = i
					n++
				}
			case <-deadline:
				t.Fatal("child too slow")
			}
		}
		time.Sleep(time.Duration(rnd.IntN(400)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for l := range lines { // what it said before it died
			last = l
			if f := strings.Fields(l); f[0] == "done" {
				i, _ := strconv.Atoi(f[1])
				id, _ := strconv.ParseInt(f[2], 10, 64)
				expected[id] = i
			}
		}
		_ = cmd.Wait()
		kills++
		if strings.HasPrefix(last, "started") {
			midFinish++ // killed between Start and Finish's commit
		}
		_, _ = io.Copy(io.Discard, out)

		// The database is whole, and every run is either done and
		// intact or interrupted without a result.
		db := raw(t, path, "mode=ro")
		var check string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity_check: %q, %v", round, check, err)
		}
		db.Close()
		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		list, err := s.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		interrupted = 0
		for _, sum := range list {
			r, err := s.Get(ctx, sum.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch r.Status {
			case Done:
				if r.Result == nil || !reflect.DeepEqual(r.Result, big(t, int(r.Seed))) {
					t.Fatalf("round %d: run %d (seed %d) is done but its result differs from what was written", round, r.ID, r.Seed)
				}
				seen[r.ID] = true
			case Interrupted:
				interrupted++
				if r.Result != nil {
					t.Fatalf("run %d is interrupted with a result", r.ID)
				}
			default:
				t.Fatalf("round %d: run %d is %s after its process was killed", round, r.ID, r.Status)
			}
		}
		for id, i := range expected {
			if !seen[id] {
				t.Fatalf("round %d: run %d (i=%d), reported done before the kill, is not done", round, id, i)
			}
		}
		s.Close()
		t.Logf("round %d: killed after %q; %d runs done, %d interrupted", round, last, len(seen), interrupted)
	}
	fi, _ := os.Stat(path)
	t.Logf("%d kills, %d of them between Start and Finish's commit; %d runs done and intact, %d interrupted; integrity_check ok every time; %d MB file",
		kills, midFinish, len(expected), interrupted, fi.Size()>>20)
	if len(expected) == 0 {
		t.Fatal(errors.New("no run finished"))
	}
}
