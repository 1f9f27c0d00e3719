package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stormglass/knob"
	"stormglass/scenarios"
)

// fakeClock is a wall clock that moves only when told to, or by perRead at
// every reading (a model that looks slow), firing its tickers as it passes
// their times.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	perRead time.Duration
	tickers []*fakeTicker
}

type fakeTicker struct {
	c       chan time.Time
	every   time.Duration
	next    time.Time
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.move(c.perRead)
	return t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.move(d)
}

func (c *fakeClock) move(d time.Duration) {
	c.now = c.now.Add(d)
	for _, t := range c.tickers {
		if t.stopped || c.now.Before(t.next) {
			continue
		}
		select { // like time.Ticker, drop the ticks nobody reads
		case t.c <- c.now:
		default:
		}
		for !c.now.Before(t.next) {
			t.next = t.next.Add(t.every)
		}
	}
}

func (c *fakeClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTicker{c: make(chan time.Time, 1), every: d, next: c.now.Add(d)}
	c.tickers = append(c.tickers, t)
	return t.c, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.stopped = true
	}
}

// frames records what a player publishes, for a test to wait on.
type frames struct {
	mu      sync.Mutex
	all     []Frame
	changed chan struct{}
}

func newFrames() *frames { return &frames{changed: make(chan struct{}, 1)} }

func (r *frames) add(f Frame) {
	r.mu.Lock()
	r.all = append(r.all, f)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *frames) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

func (r *frames) last() Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all[len(r.all)-1]
}

func (r *frames) since(i int) []Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Frame(nil), r.all[i:]...)
}

// waitFor returns the first frame from index from on that satisfies ok.
// The timeout is generous: it only turns a hang into a failure.
func (r *frames) waitFor(t *testing.T, from int, what string, ok func(Frame) bool) Frame {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		for _, f := range r.since(from) {
			if ok(f) {
				return f
			}
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("no frame %s within 60s; the last: now %v playing %v over %v", what, r.last().Now, r.last().Playing, r.last().Over)
		}
	}
}

func newTestPlayer(t *testing.T, p *scenarios.Plan, opt PlayerOptions) (*Player, *frames) {
	t.Helper()
	rec := newFrames()
	opt.OnFrame = rec.add
	pl, err := NewPlayer(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pl.Close)
	if rec.count() != 1 || rec.last().Now != 0 || rec.last().Playing {
		t.Fatalf("a new player published %d frames, the last %+v; want one, paused at 0", rec.count(), rec.last())
	}
	return pl, rec
}

func isOver(f Frame) bool { return f.Over }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Played as fast as possible to the end, a replay moves forward only, ends
// on an Over frame, and its result is replication 0 of Run, whatever the
// chunks it ran in.
func TestPlayerAsFastAsPossibleIsReplicationZero(t *testing.T) {
	p := plan(t, "checkout", scenarios.PlanOptions{Variant: "incident", Replications: 1, Horizon: 15 * time.Minute})
	want, err := Run(context.Background(), p, Options{})
	must(t, err)
	pl, rec := newTestPlayer(t, p, PlayerOptions{})
	must(t, pl.Play())
	rec.waitFor(t, 0, "over", isOver)
	got, err := pl.Result()
	must(t, err)
	all := rec.since(0)
	for i := 1; i < len(all); i++ {
		if all[i].Now < all[i-1].Now {
			t.Fatalf("frame %d went back from %v to %v", i, all[i-1].Now, all[i].Now)
		}
	}
	if last := all[len(all)-1]; !last.Over || last.Playing || last.Err != nil || last.Now != p.Horizon {
		t.Errorf("the last frame: over %v, playing %v, err %v, now %v; want over and stopped at %v", last.Over, last.Playing, last.Err, last.Now, p.Horizon)
	}
	if !bytes.Equal(resultJSON(t, got), resultJSON(t, want)) {
		t.Errorf("the replay's result differs from Run's:\n%.600s\n%.600s", resultJSON(t, got), resultJSON(t, want))
	}
	// Play at the end changes nothing but says so.
	n := rec.count()
	must(t, pl.Play())
	if f := rec.last(); rec.count() != n+1 || !f.Over || f.Playing {
		t.Errorf("Play at the end: %d new frames, over %v, playing %v; want one frame, over, not playing", rec.count()-n, f.Over, f.Playing)
	}
}

// Once Pause returns, simulated time stands still until Step, which moves
// it by exactly the step.
func TestPlayerPauseStopsTime(t *testing.T) {
	p := plan(t, "reactive-outage-2025", scenarios.PlanOptions{Variant: "incident", Replications: 1})
	pl, rec := newTestPlayer(t, p, PlayerOptions{})
	must(t, pl.Play())
	rec.waitFor(t, 0, "playing past 0", func(f Frame) bool { return f.Playing && f.Now > 0 })
	must(t, pl.Pause())
	paused := rec.last()
	if paused.Playing || paused.Over || paused.Now == 0 {
		t.Fatalf("after Pause: playing %v, over %v, now %v; want paused partway", paused.Playing, paused.Over, paused.Now)
	}
	n := rec.count()
	time.Sleep(200 * time.Millisecond) // time for a replay that did not stop to show it
	r, err := pl.Result()
	must(t, err)
	if r.HorizonS != paused.Now.Seconds() || rec.count() != n {
		t.Fatalf("paused at %v, the result runs to %vs and %d frames came since", paused.Now, r.HorizonS, rec.count()-n)
	}
	must(t, pl.Step(90*time.Second))
	if f := rec.last(); f.Now != paused.Now+90*time.Second || f.Playing {
		t.Fatalf("a step of 90s from %v reached %v (playing %v)", paused.Now, f.Now, f.Playing)
	}
	must(t, pl.Step(0))
	if f := rec.last(); f.Now != paused.Now+90*time.Second {
		t.Fatalf("a step of 0 moved to %v", f.Now)
	}
	if err := pl.Step(-time.Second); err == nil {
		t.Error("a negative step was accepted")
	}
}

// At a set speed, simulated time follows the wall clock times the speed,
// and a new speed holds from the moment it is set.
func TestPlayerFollowsTheSpeed(t *testing.T) {
	p := plan(t, "mm1", scenarios.PlanOptions{Horizon: 40 * time.Minute})
	clock := newFakeClock()
	pl, rec := newTestPlayer(t, p, PlayerOptions{Speed: 60, Clock: clock})
	must(t, pl.Play())
	if r, err := pl.Result(); err != nil || r.HorizonS != 0 {
		t.Fatalf("with no wall time passed the replay is at %vs (%v), want 0", r.HorizonS, err)
	}
	within := func(from int, want time.Duration, speed float64) {
		t.Helper()
		tol := time.Duration(speed * float64(defaultFrameEvery))
		f := rec.waitFor(t, from, "near "+want.String(), func(f Frame) bool { return f.Now >= want-tol })
		if f.Now > want+tol || !f.Playing || f.Behind || f.Speed != speed {
			t.Fatalf("want %v ± %v at speed %v, got %v (playing %v, behind %v, speed %v)", want, tol, speed, f.Now, f.Playing, f.Behind, f.Speed)
		}
	}
	clock.Advance(2 * time.Second)
	within(0, 2*time.Minute, 60)
	n := rec.count()
	must(t, pl.SetSpeed(120))
	if f := rec.last(); rec.count() != n+1 || f.Speed != 120 {
		t.Fatalf("SetSpeed published %d frames at speed %v, want one at 120", rec.count()-n, f.Speed)
	}
	clock.Advance(time.Second)
	within(n, 4*time.Minute, 120)
	for _, bad := range []float64{-1, nanSpeed()} {
		if err := pl.SetSpeed(bad); err == nil || !strings.Contains(err.Error(), "speed") {
			t.Errorf("SetSpeed(%v): %v, want a refusal", bad, err)
		}
	}
	if f := rec.last(); f.Speed != 120 {
		t.Errorf("a refused speed changed it to %v", f.Speed)
	}
}

func nanSpeed() float64 {
	zero := 0.0
	return zero / zero
}

// A model slower than the set speed runs as fast as it can and says so.
func TestPlayerSaysWhenBehind(t *testing.T) {
	p := plan(t, "mm1", scenarios.PlanOptions{Horizon: 40 * time.Minute})
	clock := newFakeClock()
	clock.perRead = time.Second // every chunk seems to take seconds
	pl, rec := newTestPlayer(t, p, PlayerOptions{Speed: 1000, Clock: clock})
	must(t, pl.Play())
	behind := rec.waitFor(t, 0, "behind", func(f Frame) bool { return f.Behind })
	if !behind.Playing {
		t.Fatalf("a frame behind but not playing: %+v", behind)
	}
	rec.waitFor(t, 0, "moving on behind", func(f Frame) bool { return f.Behind && f.Now > behind.Now })
	must(t, pl.Pause())
	if f := rec.last(); f.Behind {
		t.Error("a paused replay says it is behind")
	}
}

// A knob turned while paused takes effect at that simulated time; a bad
// value is refused with nothing changed; the horizon ends the replay.
func TestPlayerSetMidReplay(t *testing.T) {
	p := plan(t, "mm1", scenarios.PlanOptions{Horizon: 40 * time.Minute})
	pl, rec := newTestPlayer(t, p, PlayerOptions{})
	must(t, pl.Step(20*time.Minute))
	low, err := knob.Parse(knob.Rate, "2/s")
	must(t, err)
	must(t, pl.Set([]scenarios.Assignment{{Knob: "arrival_rate", Value: low}}))
	sets := func(f Frame) []scenarios.Event {
		var out []scenarios.Event
		for _, e := range f.Events {
			if e.Kind == "set" {
				out = append(out, e)
			}
		}
		return out
	}
	f := rec.last()
	if s := sets(f); len(s) != 1 || s[0].At != 20*time.Minute || !strings.Contains(s[0].Text, "arrival_rate = 2/s") {
		t.Fatalf("after the turn the frame's timeline holds %+v, want arrival_rate = 2/s at 20m", s)
	}
	if v := f.Values["arrival_rate"]; !v.Equal(low) {
		t.Fatalf("after the turn the frame's arrival_rate is %v, want 2/s", v)
	}
	bad, err := knob.Parse(knob.Rate, "12/s")
	must(t, err)
	n := rec.count()
	if err := pl.Set([]scenarios.Assignment{{Knob: "arrival_rate", Value: bad}}); !errors.Is(err, knob.ErrOutOfRange) {
		t.Fatalf("arrival_rate=12/s: %v, want out of range", err)
	}
	must(t, pl.Pause())
	if f := rec.last(); rec.count() != n+1 || len(sets(f)) != 1 || !f.Values["arrival_rate"].Equal(low) || f.Now != 20*time.Minute {
		t.Fatalf("a refused value changed the replay: %d frames, sets %+v, arrival_rate %v, now %v", rec.count()-n, sets(f), f.Values["arrival_rate"], f.Now)
	}
	must(t, pl.Step(time.Hour))
	if f := rec.last(); f.Now != p.Horizon || !f.Over || f.Playing {
		t.Fatalf("a step past the horizon: now %v, over %v, playing %v; want stopped at %v", f.Now, f.Over, f.Playing, p.Horizon)
	}
	if err := pl.Step(time.Second); !errors.Is(err, ErrSessionOver) {
		t.Errorf("a step at the horizon: %v, want ErrSessionOver", err)
	}
	// Knob turns do not outlive a restart.
	must(t, pl.Restart(nil))
	k, _ := p.Scenario.Knobs.Lookup("arrival_rate")
	if f := rec.last(); f.Now != 0 || f.Over || len(sets(f)) != 0 || !f.Values["arrival_rate"].Equal(k.Default) {
		t.Errorf("after a restart: now %v, over %v, sets %+v, arrival_rate %v; want the plan's start", f.Now, f.Over, sets(f), f.Values["arrival_rate"])
	}
}

// Restarted with its seed, a replay plays the same again; with another
// seed, another way.
func TestPlayerRestart(t *testing.T) {
	p := plan(t, "checkout", scenarios.PlanOptions{Variant: "incident", Replications: 1, Horizon: 15 * time.Minute})
	pl, rec := newTestPlayer(t, p, PlayerOptions{})
	playToEnd := func() (*Result, Frame) {
		t.Helper()
		from := rec.count()
		must(t, pl.Play())
		f := rec.waitFor(t, from, "over", isOver)
		r, err := pl.Result()
		must(t, err)
		return r, f
	}
	first, _ := playToEnd()
	must(t, pl.Restart(nil))
	if f := rec.last(); f.Now != 0 || f.Over || f.Playing || f.Seed != p.Seed {
		t.Fatalf("after a restart: now %v, over %v, playing %v, seed %d; want paused at 0 with seed %d", f.Now, f.Over, f.Playing, f.Seed, p.Seed)
	}
	again, _ := playToEnd()
	if !bytes.Equal(resultJSON(t, again), resultJSON(t, first)) {
		t.Fatal("restarted with the same seed, the replay gave another result")
	}
	other := p.Seed + 1
	must(t, pl.Restart(&other))
	if f := rec.last(); f.Seed != other || f.Now != 0 {
		t.Fatalf("after a restart with seed %d: seed %d, now %v", other, f.Seed, f.Now)
	}
	third, over := playToEnd()
	if over.Seed != other || third.Seed != other {
		t.Fatalf("played with seed %d, the frame says %d and the result %d", other, over.Seed, third.Seed)
	}
	// The seed field differs anyway: compare what was measured.
	a, err := json.Marshal(first.PerReplication)
	must(t, err)
	b, err := json.Marshal(third.PerReplication)
	must(t, err)
	if bytes.Equal(a, b) {
		t.Error("another seed measured exactly the same")
	}
}

// A command, Close included, cuts short a chunk in progress, however long:
// here a chunk of the whole 9-hour day, which takes seconds to run.
func TestPlayerCloseWhilePlaying(t *testing.T) {
	p := plan(t, "reactive-outage-2025", scenarios.PlanOptions{Variant: "incident", Replications: 1})
	// A clock that never moves makes chunks grow without bound.
	pl, rec := newTestPlayer(t, p, PlayerOptions{Clock: newFakeClock()})
	must(t, pl.call(func(_ context.Context, l *loop) error { l.span = l.s.Horizon(); return nil }))
	prompt := func(what string, f func()) {
		t.Helper()
		start := time.Now()
		f()
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%s took %v", what, d)
		}
	}
	must(t, pl.Play())
	time.Sleep(300 * time.Millisecond) // into the chunk
	prompt("Pause", func() { must(t, pl.Pause()) })
	if f := rec.last(); f.Over || f.Playing {
		t.Fatalf("paused within the chunk, the frame says over %v, playing %v", f.Over, f.Playing)
	}
	must(t, pl.Play())
	time.Sleep(300 * time.Millisecond)
	prompt("Close", pl.Close)
	select {
	case <-pl.done:
	default:
		t.Fatal("Close returned before the player's goroutine ended")
	}
	pl.Close() // again: nothing happens
	_, resErr := pl.Result()
	for name, err := range map[string]error{
		"Play": pl.Play(), "Pause": pl.Pause(), "Step": pl.Step(time.Second), "SetSpeed": pl.SetSpeed(1),
		"Set": pl.Set(nil), "Restart": pl.Restart(nil), "Result": resErr,
	} {
		if !errors.Is(err, ErrPlayerClosed) {
			t.Errorf("%s after Close: %v, want ErrPlayerClosed", name, err)
		}
	}
}

// Methods called from many goroutines at once are carried out one at a
// time: no race, no deadlock, frames one at a time and in order.
func TestPlayerConcurrentUse(t *testing.T) {
	p := plan(t, "mm1", scenarios.PlanOptions{Replications: 1})
	var inFrame atomic.Bool
	var overlapped atomic.Bool
	rec := newFrames()
	pl, err := NewPlayer(p, PlayerOptions{OnFrame: func(f Frame) {
		if !inFrame.CompareAndSwap(false, true) {
			overlapped.Store(true)
		}
		rec.add(f)
		inFrame.Store(false)
	}})
	must(t, err)
	low, err := knob.Parse(knob.Rate, "2/s")
	must(t, err)
	k, _ := p.Scenario.Knobs.Lookup("arrival_rate")
	ok := func(err error) {
		if err != nil && !errors.Is(err, ErrSessionOver) {
			t.Error(err)
		}
	}
	const rounds = 200
	work := []func(i int){
		func(i int) {
			if i%2 == 0 {
				ok(pl.Play())
			} else {
				ok(pl.Pause())
			}
		},
		func(i int) { ok(pl.SetSpeed([]float64{0, 1, 600, 1e6}[i%4])) },
		func(i int) {
			v := low
			if i%2 == 1 {
				v = k.Default
			}
			ok(pl.Set([]scenarios.Assignment{{Knob: "arrival_rate", Value: v}}))
		},
		func(int) {
			_, err := pl.Result()
			ok(err)
		},
		func(int) { ok(pl.Step(10 * time.Second)) },
		func(i int) {
			if i%20 == 19 {
				ok(pl.Restart(nil))
			}
		},
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var wg sync.WaitGroup
		for _, w := range work {
			wg.Go(func() {
				for i := range rounds {
					w(i)
				}
			})
		}
		wg.Wait()
		wg.Go(pl.Close)
		wg.Go(pl.Close)
		wg.Wait()
	}()
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		t.Fatal("deadlocked: the goroutines calling the player did not finish within 60s")
	}
	if overlapped.Load() {
		t.Error("OnFrame was called again before it returned")
	}
	if rec.count() < rounds {
		t.Errorf("%d frames for at least %d state changes", rec.count(), rounds)
	}
}
