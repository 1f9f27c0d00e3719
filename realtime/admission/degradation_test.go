package admission

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// degradationStep is a pause to observe (pause > 0) or a level to expect
// (pause == 0), at offset at from t0.
type degradationStep struct {
	at    time.Duration
	pause time.Duration
	want  Level
}

func pauseAt(at, d time.Duration) degradationStep { return degradationStep{at: at, pause: d} }
func levelAt(at time.Duration, l Level) degradationStep {
	return degradationStep{at: at, want: l}
}

// TestDegradationLevels walks the level through pauses below, at and above
// each threshold, recovery one level per quiet period, and new pauses
// during recovery, checking the level and AdmitConnection after each step.
func TestDegradationLevels(t *testing.T) {
	const q = DefaultQuietPeriod
	const ns = time.Nanosecond
	l1, l2 := DefaultL1Pause, DefaultL2Pause
	cases := []struct {
		name  string
		cfg   DegradationConfig
		steps []degradationStep
	}{
		{"pauses at or below L1Pause change nothing", DegradationConfig{}, []degradationStep{
			pauseAt(0, time.Millisecond), pauseAt(1, l1-ns), pauseAt(2, l1), levelAt(3, Normal),
		}},
		{"over L1Pause: L1 for one quiet period", DegradationConfig{}, []degradationStep{
			pauseAt(0, l1+ns), levelAt(0, L1RefuseNew), levelAt(q-ns, L1RefuseNew), levelAt(q, Normal),
		}},
		{"at L2Pause is L1, over it is L2", DegradationConfig{}, []degradationStep{
			pauseAt(0, l2), levelAt(1, L1RefuseNew), pauseAt(2, l2+ns), levelAt(2, L2CloseIdle),
		}},
		{"L2 steps down one level per quiet period", DegradationConfig{}, []degradationStep{
			pauseAt(0, 130*time.Millisecond), levelAt(q-ns, L2CloseIdle), levelAt(q, L1RefuseNew),
			levelAt(2*q-ns, L1RefuseNew), levelAt(2*q, Normal),
		}},
		{"asked only long after, the same answer", DegradationConfig{}, []degradationStep{
			pauseAt(0, 130*time.Millisecond), levelAt(2*q, Normal),
		}},
		{"asked once in between, the same answer", DegradationConfig{}, []degradationStep{
			pauseAt(0, 130*time.Millisecond), levelAt(q+q/2, L1RefuseNew), levelAt(2*q-ns, L1RefuseNew), levelAt(2*q, Normal),
		}},
		{"an L1 pause renews L1's quiet period", DegradationConfig{}, []degradationStep{
			pauseAt(0, 60*time.Millisecond), pauseAt(q-time.Second, 60*time.Millisecond),
			levelAt(q+time.Second, L1RefuseNew), levelAt(2*q-time.Second-ns, L1RefuseNew), levelAt(2*q-time.Second, Normal),
		}},
		{"an L1 pause does not hold L2", DegradationConfig{}, []degradationStep{
			pauseAt(0, 200*time.Millisecond), pauseAt(q/2, 60*time.Millisecond), levelAt(q, L1RefuseNew), levelAt(2*q, Normal),
		}},
		{"an L2 pause during recovery returns to L2", DegradationConfig{}, []degradationStep{
			pauseAt(0, 200*time.Millisecond), levelAt(q+q/2-ns, L1RefuseNew), pauseAt(q+q/2, 121*time.Millisecond),
			levelAt(q+q/2, L2CloseIdle), levelAt(2*q+q/2-ns, L2CloseIdle), levelAt(2*q+q/2, L1RefuseNew), levelAt(3*q+q/2, Normal),
		}},
		{"an L1 pause during recovery from L2 restarts L1", DegradationConfig{}, []degradationStep{
			pauseAt(0, 200*time.Millisecond), pauseAt(q+q/2, 60*time.Millisecond),
			levelAt(2*q, L1RefuseNew), levelAt(2*q+q/2-ns, L1RefuseNew), levelAt(2*q+q/2, Normal),
		}},
		{"L1 to L2 directly", DegradationConfig{}, []degradationStep{
			pauseAt(0, 60*time.Millisecond), levelAt(1, L1RefuseNew), pauseAt(2, time.Second), levelAt(3, L2CloseIdle),
		}},
		{"custom thresholds and quiet period", DegradationConfig{L1Pause: 10 * time.Millisecond, L2Pause: 20 * time.Millisecond, QuietPeriod: 5 * time.Second}, []degradationStep{
			pauseAt(0, 11*time.Millisecond), levelAt(0, L1RefuseNew), pauseAt(time.Second, 21*time.Millisecond),
			levelAt(6*time.Second-ns, L2CloseIdle), levelAt(6*time.Second, L1RefuseNew), levelAt(11*time.Second, Normal),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewDegrader(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				at := t0.Add(s.at)
				if s.pause > 0 {
					g.ObservePause(at, s.pause)
					continue
				}
				if got := g.Level(at); got != s.want {
					t.Fatalf("step %d at +%v: level %v, want %v", i, s.at, got, s.want)
				}
				if ok := g.AdmitConnection(at); ok != (s.want == Normal) {
					t.Fatalf("step %d at +%v: AdmitConnection %v at level %v", i, s.at, ok, s.want)
				}
			}
		})
	}
}

// TestDegradationCountsAndCause checks the counts of a pause sequence and
// that Cause names the pause over the current level's threshold.
func TestDegradationCountsAndCause(t *testing.T) {
	g, _ := NewDegrader(DegradationConfig{})
	q := DefaultQuietPeriod
	g.ObservePause(t0, 10*time.Millisecond)
	g.ObservePause(t0.Add(time.Second), 63*time.Millisecond)
	g.ObservePause(t0.Add(2*time.Second), 150*time.Millisecond)
	g.ObservePause(t0.Add(3*time.Second), 70*time.Millisecond)

	l, p, thr := g.Cause(t0.Add(3 * time.Second))
	if l != L2CloseIdle || p.Duration != 150*time.Millisecond || thr != DefaultL2Pause {
		t.Fatalf("cause at L2: %v %+v %v", l, p, thr)
	}
	// At L1 after stepping down, the latest pause over L1Pause explains it.
	l, p, thr = g.Cause(t0.Add(2*time.Second + q))
	if l != L1RefuseNew || p.Duration != 70*time.Millisecond || !p.At.Equal(t0.Add(3*time.Second)) || thr != DefaultL1Pause {
		t.Fatalf("cause at L1: %v %+v %v", l, p, thr)
	}
	g.Level(t0.Add(time.Hour))
	want := DegradationStats{Pauses: 4, PausesOverL1: 3, PausesOverL2: 1, LongestPause: 150 * time.Millisecond,
		Escalations: 2, StepDowns: 2, Level: Normal}
	if got := g.Stats(); got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
}

// TestIdleCloseOnlyAtL2 checks idle-close selection against its rule on
// seeded random last-activity times: a connection is named exactly when
// the level is L2 and it has been idle for longer than IdleClose.
func TestIdleCloseOnlyAtL2(t *testing.T) {
	for _, cfg := range []DegradationConfig{{}, {IdleClose: 5 * time.Second}} {
		g, _ := NewDegrader(cfg)
		idle := g.Config().IdleClose
		rng := rand.New(rand.NewPCG(7, uint64(idle)))
		now := t0.Add(time.Hour)
		last := []time.Time{now, now.Add(-idle), now.Add(-idle - 1), now.Add(time.Second), t0}
		for range 200 {
			last = append(last, now.Add(-time.Duration(rng.Int64N(int64(3*idle)))))
		}
		check := func(level Level) {
			t.Helper()
			want := []int{}
			for i, la := range last {
				if level == L2CloseIdle && now.Sub(la) > idle {
					want = append(want, i)
				}
			}
			closedBefore := g.Stats().IdleClosed
			got := g.IdleToClose(now, last)
			if !slices.Equal(got, want) {
				t.Fatalf("level %v, idle %v: IdleToClose = %v, want %v", level, idle, got, want)
			}
			if n := g.Stats().IdleClosed - closedBefore; n != uint64(len(want)) {
				t.Fatalf("level %v: IdleClosed grew by %d, want %d", level, n, len(want))
			}
			for i, la := range last {
				if g.ShouldClose(now, la) != slices.Contains(want, i) {
					t.Fatalf("level %v: ShouldClose(idle %v) disagrees with IdleToClose", level, now.Sub(la))
				}
			}
		}
		check(Normal)
		g.ObservePause(now, 60*time.Millisecond)
		check(L1RefuseNew)
		g.ObservePause(now, 130*time.Millisecond)
		check(L2CloseIdle)
		if got := g.IdleToClose(now, []time.Time{now.Add(-idle)}); len(got) != 0 {
			t.Fatalf("a connection idle exactly IdleClose (%v) was named: want strictly longer", idle)
		}
	}
}

// TestDegradationTimeNeverRunsBackwards: a pause reported with a time
// earlier than one already seen counts at the latest time, so it cannot
// end a level before the level's own quiet period.
func TestDegradationTimeNeverRunsBackwards(t *testing.T) {
	g, _ := NewDegrader(DegradationConfig{})
	g.ObservePause(t0.Add(time.Minute), 60*time.Millisecond)
	g.ObservePause(t0, 130*time.Millisecond)
	if l := g.Level(t0.Add(2*time.Minute - time.Nanosecond)); l != L2CloseIdle {
		t.Fatalf("level %v one quiet period after a late-reported L2 pause, want L2", l)
	}
}
