package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// recorder is a Handler that logs what it receives, with the time.
type recorder struct {
	k   *Kernel
	got []string
}

func (r *recorder) Handle(ev Event) {
	r.got = append(r.got, fmt.Sprintf("%v/%c/%d", r.k.Now(), 'a'+ev.Kind, ev.Arg))
}

func TestEventsRunInTimeOrderAndFIFOAmongEqualTimes(t *testing.T) {
	k := NewKernel(Config{})
	r := &recorder{k: k}
	k.At(2*time.Second, r, 0, 1)
	k.At(1*time.Second, r, 1, 2)
	k.At(2*time.Second, r, 2, 3)
	k.At(1*time.Second, r, 3, 4)
	k.AtFunc(2*time.Second, func() { r.got = append(r.got, "fn") })
	k.At(2*time.Second, r, 4, 5)
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"1s/b/2", "1s/d/4", "2s/a/1", "2s/c/3", "fn", "2s/e/5"}
	if !slices.Equal(r.got, want) {
		t.Fatalf("order = %v, want %v", r.got, want)
	}
}

// TestHeapAgainstSort schedules and cancels at random and checks the
// dispatch order against a sort of the surviving events.
func TestHeapAgainstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	k := NewKernel(Config{})
	type ev struct {
		at  time.Duration
		seq int64
	}
	var want []ev
	var ids []EventID
	var got []int64
	h := handlerFunc(func(e Event) { got = append(got, e.Arg) })
	for i := range int64(50_000) {
		at := time.Duration(rng.IntN(1000)) * time.Millisecond
		ids = append(ids, k.At(at, h, 0, i))
		want = append(want, ev{at, i})
	}
	cancelled := map[int64]bool{}
	for range 30_000 {
		i := rng.IntN(len(ids))
		if k.Cancel(ids[i]) == cancelled[int64(i)] {
			t.Fatalf("Cancel(%d) answered wrongly (already cancelled: %v)", i, cancelled[int64(i)])
		}
		cancelled[int64(i)] = true
	}
	if k.Pending() != len(ids)-len(cancelled) {
		t.Fatalf("Pending = %d, want %d", k.Pending(), len(ids)-len(cancelled))
	}
	want = slices.DeleteFunc(want, func(e ev) bool { return cancelled[e.seq] })
	slices.SortStableFunc(want, func(a, b ev) int { return int(a.at - b.at) })
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("dispatched %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i].seq {
			t.Fatalf("event %d: got #%d, want #%d", i, got[i], want[i].seq)
		}
	}
	if len(k.heap) > 2*k.live+1025 {
		t.Fatalf("heap holds %d entries for %d live events: cancelled entries are not compacted", len(k.heap), k.live)
	}
}

type handlerFunc func(Event)

func (f handlerFunc) Handle(e Event) { f(e) }

func TestCancelAndPending(t *testing.T) {
	k := NewKernel(Config{})
	ran := false
	id := k.AfterFunc(time.Second, func() { ran = true })
	if !k.IsPending(id) {
		t.Fatal("a scheduled event must be pending")
	}
	if at, ok := k.NextAt(); !ok || at != time.Second {
		t.Fatalf("NextAt = %v, %v", at, ok)
	}
	if !k.Cancel(id) || k.Cancel(id) || k.IsPending(id) {
		t.Fatal("Cancel must succeed once and then report the event gone")
	}
	// The slot is reused by the next event; the old id must not reach it.
	id2 := k.AfterFunc(time.Second, func() { ran = true })
	if k.Cancel(id) || !k.IsPending(id2) {
		t.Fatal("a stale id cancelled the event that reused its slot")
	}
	if k.Cancel(EventID{}) {
		t.Fatal("the zero EventID names no event")
	}
	_ = k.Run(context.Background())
	if !ran || k.IsPending(id2) || k.Cancel(id2) {
		t.Fatal("an event that ran must no longer be pending")
	}
}

func TestRunUntilAdvancesTheClockAndLeavesLaterEvents(t *testing.T) {
	k := NewKernel(Config{})
	var at []time.Duration
	for _, d := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second} {
		k.AfterFunc(d, func() { at = append(at, k.Now()) })
	}
	if err := k.RunUntil(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if k.Now() != 5*time.Second || len(at) != 2 || k.Pending() != 1 {
		t.Fatalf("now=%v ran=%v pending=%d", k.Now(), at, k.Pending())
	}
	if err := k.RunUntil(context.Background(), 7*time.Second); err != nil || k.Now() != 7*time.Second {
		t.Fatalf("an empty stretch must still move the clock: now=%v err=%v", k.Now(), err)
	}
	if err := k.RunUntil(context.Background(), time.Second); err == nil {
		t.Fatal("running to the past must be an error")
	}
}

func TestSchedulingInThePastPanics(t *testing.T) {
	k := NewKernel(Config{})
	_ = k.RunUntil(context.Background(), time.Second)
	defer func() {
		if recover() == nil {
			t.Fatal("scheduling before now must panic")
		}
	}()
	k.AtFunc(0, func() {})
}

func TestStopFromAnEventEndsTheRunAndCanResume(t *testing.T) {
	k := NewKernel(Config{})
	n := 0
	for i := range 10 {
		k.AfterFunc(time.Duration(i)*time.Second, func() {
			n++
			if n == 3 {
				k.Stop()
			}
		})
	}
	if err := k.Run(context.Background()); err != nil || n != 3 {
		t.Fatalf("after Stop: n=%d err=%v", n, err)
	}
	if err := k.Run(context.Background()); err != nil || n != 10 {
		t.Fatalf("after resuming: n=%d err=%v", n, err)
	}
}

// selfRescheduler keeps one event pending forever: a runaway model.
type selfRescheduler struct{ k *Kernel }

func (s selfRescheduler) Handle(Event) { s.k.After(time.Millisecond, s, 0, 0) }

func TestPauseFromAnotherGoroutine(t *testing.T) {
	k := NewKernel(Config{})
	k.After(0, selfRescheduler{k}, 0, 0)
	go k.Pause()
	err := k.Run(context.Background())
	if !errors.Is(err, ErrPaused) {
		t.Fatalf("err = %v, want ErrPaused", err)
	}
	before := k.Events()
	if err := k.RunEvents(context.Background(), 100); err != nil || k.Events() != before+100 {
		t.Fatalf("resume after pause: events %d→%d, err %v", before, k.Events(), err)
	}
}

func TestContextCancelStopsARun(t *testing.T) {
	k := NewKernel(Config{})
	k.After(0, selfRescheduler{k}, 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := k.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestGuardsStopARunawayRun(t *testing.T) {
	k := NewKernel(Config{Limits: Limits{MaxEvents: 10_000}})
	k.After(0, selfRescheduler{k}, 0, 0)
	err := k.Run(context.Background())
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "events" {
		t.Fatalf("err = %v, want an events LimitError", err)
	}
	if k.Events() != 10_000 {
		t.Fatalf("the event guard let %d events run, want exactly 10000", k.Events())
	}

	k = NewKernel(Config{Limits: Limits{MaxWall: time.Millisecond}})
	k.After(0, selfRescheduler{k}, 0, 0)
	if err := k.Run(context.Background()); !errors.As(err, &le) || le.Limit != "wall time" {
		t.Fatalf("err = %v, want a wall-time LimitError", err)
	}

	k = NewKernel(Config{Limits: Limits{MaxHeapBytes: 1}})
	k.After(0, selfRescheduler{k}, 0, 0)
	if err := k.Run(context.Background()); !errors.As(err, &le) || le.Limit != "heap" {
		t.Fatalf("err = %v, want a heap LimitError", err)
	}
}

func TestEventGuardDoesNotFireOnARunThatEndsInTime(t *testing.T) {
	k := NewKernel(Config{Limits: Limits{MaxEvents: 5}})
	for range 5 {
		k.AfterFunc(time.Second, func() {})
	}
	if err := k.Run(context.Background()); err != nil {
		t.Fatalf("a run of exactly MaxEvents events failed: %v", err)
	}
}

func TestProgressIsReported(t *testing.T) {
	k := NewKernel(Config{})
	k.After(0, selfRescheduler{k}, 0, 0)
	var last Progress
	calls := 0
	k.OnProgress(0, func(p Progress) { last = p; calls++ })
	if err := k.RunUntil(context.Background(), 100*time.Second); err != nil {
		t.Fatal(err)
	}
	if calls < 2 || last.Now != 100*time.Second || last.Fraction() != 1 || last.Events != k.Events() {
		t.Fatalf("calls=%d last=%+v", calls, last)
	}
}

func TestSteadyStateSchedulingDoesNotAllocate(t *testing.T) {
	k := NewKernel(Config{})
	h := selfRescheduler{k}
	for range 1000 {
		k.After(time.Duration(rand.N(1000)), h, 0, 0)
	}
	allocs := testing.AllocsPerRun(100, func() {
		_ = k.RunEvents(context.Background(), 1000)
	})
	if allocs > 0 {
		t.Fatalf("dispatching 1000 events allocated %.1f times", allocs)
	}
}

func TestStreamsAreNamedAndIndependent(t *testing.T) {
	s := NewStreams(42)
	a1 := s.Rand("arrivals").Uint64()
	_ = s.Rand("service").Uint64() // creating another stream changes nothing
	a2 := s.Rand("arrivals").Uint64()
	if a1 != a2 {
		t.Fatal("the same name must give the same stream")
	}
	distinct := map[uint64]string{}
	for _, st := range []struct {
		name string
		v    uint64
	}{
		{"arrivals", a1},
		{"service", s.Rand("service").Uint64()},
		{"seed43", NewStreams(43).Rand("arrivals").Uint64()},
		{"derived", s.Derive("db").Rand("arrivals").Uint64()},
		{"rep0", s.Replication(0).Rand("arrivals").Uint64()},
		{"rep1", s.Replication(1).Rand("arrivals").Uint64()},
	} {
		if other, dup := distinct[st.v]; dup {
			t.Fatalf("streams %s and %s start with the same draw", other, st.name)
		}
		distinct[st.v] = st.name
	}
}

func TestVirtualClockRunsProductionTimers(t *testing.T) {
	epoch := time.Date(2025, 6, 1, 5, 0, 0, 0, time.UTC)
	k := NewKernel(Config{Epoch: epoch})
	c := k.Clock()
	var fired []time.Time
	tm := c.AfterFunc(10*time.Second, func() { fired = append(fired, c.Now()) })
	c.AfterFunc(-time.Second, func() { fired = append(fired, c.Now()) })
	_ = k.RunUntil(context.Background(), 5*time.Second)
	if !tm.Reset(10 * time.Second) {
		t.Fatal("Reset of a pending timer must report true")
	}
	_ = k.Run(context.Background())
	want := []time.Time{epoch, epoch.Add(15 * time.Second)}
	if !slices.EqualFunc(fired, want, time.Time.Equal) {
		t.Fatalf("fired at %v, want %v", fired, want)
	}
	if tm.Stop() {
		t.Fatal("Stop after the timer ran must report false")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset after the timer ran must report false")
	}
	_ = k.Run(context.Background())
	if len(fired) != 3 || !fired[2].Equal(epoch.Add(16*time.Second)) {
		t.Fatalf("a timer reset after running must fire again: %v", fired)
	}
}

// Cancelling the last live event when cancelled entries dominate compacts
// the heap down to nothing: that must not touch an empty heap.
func TestCancelLastLiveEventCompactsToEmpty(t *testing.T) {
	k := NewKernel(Config{})
	var ids []EventID
	// 1025 cancelled entries and no live one: the first compaction comes
	// with the last cancel.
	for i := range 1025 {
		ids = append(ids, k.AtFunc(time.Duration(i+1)*time.Second, func() {}))
	}
	for _, id := range ids {
		k.Cancel(id)
	}
	if k.Pending() != 0 {
		t.Fatalf("%d events pending, want none", k.Pending())
	}
	ran := false
	k.AfterFunc(time.Second, func() { ran = true })
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !ran {
		t.Error("an event scheduled after the compaction did not run")
	}
}
