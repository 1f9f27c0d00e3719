package desktop

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"stormglass/app/runner"
	"stormglass/export"
	"stormglass/knob"
	"stormglass/scenarios"
)

// uiQueue stands in for the UI goroutine. The test driver's fyne.Do runs
// its function at once on the caller's goroutine, which for a replay is
// the player's or the chart renderer's: widgets would then be touched off
// the test's goroutine, a data race. The view's functions queue here
// instead and the test runs them on its own goroutine, as the real UI
// goroutine would.
type uiQueue struct {
	mu sync.Mutex
	fs []func()
}

func (q *uiQueue) do(f func()) {
	q.mu.Lock()
	q.fs = append(q.fs, f)
	q.mu.Unlock()
}

// run runs what is queued, and what that queues, until nothing is.
func (q *uiQueue) run() {
	for {
		q.mu.Lock()
		fs := q.fs
		q.fs = nil
		q.mu.Unlock()
		if len(fs) == 0 {
			return
		}
		for _, f := range fs {
			f()
		}
	}
}

// waitFor runs the UI's queue until cond holds. Frames and charts come
// from other goroutines at a pace no test should rely on: the limit is
// generous, for a loaded machine under -race.
func waitFor(t *testing.T, q *uiQueue, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		q.run()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newTestReplay builds the view of a built-in scenario's plan, one
// replication, in a 1000×700 window, with its first frame drawn.
func newTestReplay(t *testing.T, name, variant string, horizon time.Duration) (*ReplayView, fyne.Window, *uiQueue) {
	t.Helper()
	test.NewTempApp(t)
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sc.Plan(scenarios.PlanOptions{Variant: variant, Horizon: horizon, Replications: 1})
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := export.DefaultFonts()
	if err != nil {
		t.Fatal(err)
	}
	q := &uiQueue{}
	v, err := newReplayView(plan, fonts, q.do)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		v.Close()
		q.run() // what the last frames queued, so that nothing is left behind
	})
	w := test.NewTempWindow(t, v.Object())
	w.Resize(fyne.NewSize(1000, 700))
	waitFor(t, q, "the first frame", func() bool { return v.drawn })
	return v, w, q
}

// clockText is the time label's text at simulated time d.
func clockText(v *ReplayView, d time.Duration) string {
	return export.Clock(v.clockS + d.Seconds())
}

func timeText(v *ReplayView, now time.Duration) string {
	return clockText(v, now) + " of " + clockText(v, v.horizon)
}

// chartsShow reports whether every chart on screen shows an image of the
// replay at now, drawn at the image's size.
func chartsShow(v *ReplayView, now time.Duration) bool {
	for _, c := range v.charts {
		if !c.Visible() {
			continue
		}
		s := c.img.Size()
		if c.img.Image == nil || c.now != now || c.img.Image.Bounds().Dx() != int(s.Width) || c.img.Image.Bounds().Dy() != int(s.Height) {
			return false
		}
	}
	return true
}

func hasRow(v *ReplayView, prefix, contains string) bool {
	for _, r := range v.rows {
		if strings.HasPrefix(r, prefix) && strings.Contains(r, contains) {
			return true
		}
	}
	return false
}

// stepTo steps the replay to simulated time at and waits for the frame
// and charts of it.
func stepTo(t *testing.T, v *ReplayView, q *uiQueue, at time.Duration) {
	t.Helper()
	if err := v.player.Step(at - v.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, q, fmt.Sprintf("the charts at %v", at), func() bool { return v.Now() == at && chartsShow(v, at) })
}

func TestReplayPlaysToTheEnd(t *testing.T) {
	v, _, q := newTestReplay(t, "checkout", "incident", 15*time.Minute)
	if got, want := v.timeLabel.Text, timeText(v, 0); got != want {
		t.Fatalf("time label at the start = %q, want %q", got, want)
	}
	if v.progress.Value != 0 {
		t.Fatalf("progress at the start = %v, want 0", v.progress.Value)
	}
	if len(v.charts) < 4 {
		t.Fatalf("%d charts, want the checkout's load, queue, latency and errors at least", len(v.charts))
	}
	v.speed.SetSelected(speedFastest)
	test.Tap(v.play)
	waitFor(t, q, "the end of the replay", func() bool { return v.frame.Over })
	if got, want := v.timeLabel.Text, timeText(v, 15*time.Minute); got != want {
		t.Errorf("time label at the end = %q, want %q", got, want)
	}
	if v.progress.Value != 1 {
		t.Errorf("progress at the end = %v, want 1", v.progress.Value)
	}
	if !v.play.Disabled() || v.play.Text != "Finished" {
		t.Errorf("play button at the end: %q, disabled %v; want Finished, disabled", v.play.Text, v.play.Disabled())
	}
	if !v.stepBtn.Disabled() {
		t.Error("step is enabled at the end")
	}
	// The timeline's sale at 10 min and push surge at 12 min.
	if !hasRow(v, clockText(v, 10*time.Minute)+"  set", "shoppers") || !hasRow(v, clockText(v, 12*time.Minute)+"  fault", "") {
		t.Errorf("event log lacks the sale and the surge:\n%s", strings.Join(v.rows, "\n"))
	}
	waitFor(t, q, "the charts at the end", func() bool { return chartsShow(v, 15*time.Minute) })
}

func TestReplayPauseAndStep(t *testing.T) {
	v, _, q := newTestReplay(t, "checkout", "incident", 15*time.Minute)
	step := 30 * time.Second
	if v.step != step {
		t.Fatalf("step = %v, want the checkout's sample, %v", v.step, step)
	}
	test.Tap(v.stepBtn)
	waitFor(t, q, "the step", func() bool { return v.Now() == step })
	if got, want := v.timeLabel.Text, timeText(v, step); got != want {
		t.Errorf("time label after a step = %q, want %q", got, want)
	}

	test.Tap(v.play)
	waitFor(t, q, "the replay to play on", func() bool { return v.frame.Playing && v.Now() > step })
	if v.play.Text != "Pause" {
		t.Errorf("play button while playing = %q, want Pause", v.play.Text)
	}
	test.Tap(v.play)
	waitFor(t, q, "the pause", func() bool { return !v.frame.Playing })
	if v.frame.Over {
		t.Fatal("the replay ended before it could be paused")
	}
	paused := v.Now()
	time.Sleep(300 * time.Millisecond)
	q.run()
	if v.Now() != paused {
		t.Errorf("time moved while paused: %v, then %v", paused, v.Now())
	}
	if v.play.Text != "Play" {
		t.Errorf("play button while paused = %q, want Play", v.play.Text)
	}
	test.Tap(v.stepBtn)
	waitFor(t, q, "the second step", func() bool { return v.Now() != paused })
	if v.Now() != paused+step {
		t.Errorf("after a step from %v: %v, want %v", paused, v.Now(), paused+step)
	}
}

func TestReplaySetKnob(t *testing.T) {
	v, _, q := newTestReplay(t, "checkout", "incident", 15*time.Minute)
	at := 5 * time.Minute
	stepTo(t, v, q, at)
	val, err := knob.Parse(knob.Integer, "32")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetKnob("app_workers", val); err != nil {
		t.Fatal(err)
	}
	waitFor(t, q, "the set event", func() bool { return hasRow(v, clockText(v, at)+"  set", "app_workers") })
	if err := v.SetKnob("no_such_knob", val); err == nil {
		t.Error("SetKnob took a knob the scenario does not have")
	}
}

func TestReplayRestartAndNewSeed(t *testing.T) {
	v, _, q := newTestReplay(t, "checkout", "incident", 15*time.Minute)
	start := slices.Clone(v.rows)
	seed := v.frame.Seed
	stepTo(t, v, q, 11*time.Minute)
	if len(v.rows) <= len(start) {
		t.Fatalf("no event in the first 11 minutes: %q", v.rows)
	}

	test.Tap(v.restart)
	waitFor(t, q, "the restart", func() bool { return v.Now() == 0 })
	if got, want := v.timeLabel.Text, timeText(v, 0); got != want {
		t.Errorf("time label after Restart = %q, want %q", got, want)
	}
	if !slices.Equal(v.rows, start) {
		t.Errorf("event log after Restart = %q, want %q", v.rows, start)
	}
	if v.frame.Seed != seed || v.seedLabel.Text != fmt.Sprintf("Seed %d", seed) {
		t.Errorf("Restart changed the seed: %q", v.seedLabel.Text)
	}

	stepTo(t, v, q, time.Minute)
	test.Tap(v.newSeed)
	want := fmt.Sprintf("Seed %d", seed+1)
	waitFor(t, q, want, func() bool { return v.seedLabel.Text == want })
	if v.Now() != 0 {
		t.Errorf("New seed left the replay at %v, want 0", v.Now())
	}
}

func TestReplayChartReadout(t *testing.T) {
	v, _, q := newTestReplay(t, "checkout", "incident", 15*time.Minute)
	stepTo(t, v, q, 5*time.Minute)
	c := v.charts[0]
	f := c.frame
	if f == nil {
		t.Fatal("no chart frame")
	}
	if f.XMaxS < v.horizon.Seconds() {
		t.Errorf("time axis ends at %vs, want the horizon, %vs, from the start", f.XMaxS, v.horizon.Seconds())
	}
	// Two and a half minutes in, halfway up: inside the data area, where
	// the first lines have samples.
	x := int(f.PixelX(150))
	y := (f.Data.Min.Y + f.Data.Max.Y) / 2
	want, ok := f.At(x, y)
	if !ok {
		t.Fatalf("(%d, %d) is outside the data area %v", x, y, f.Data)
	}
	if len(want.Values) == 0 || want.Values[0].Index < 0 {
		t.Fatalf("no sample at %s: %+v", want.Clock, want.Values)
	}
	sx := c.img.Size().Width / float32(f.Size.X)
	sy := c.img.Size().Height / float32(f.Size.Y)
	pos := c.img.Position().Add(fyne.NewPos((float32(x)+0.5)*sx, (float32(y)+0.5)*sy))
	test.TapAt(c, pos)
	got := c.readout.Text
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d  `).MatchString(got) || !strings.HasPrefix(got, want.Clock) {
		t.Errorf("readout %q does not start with the time %s", got, want.Clock)
	}
	if v0 := want.Values[0]; !strings.Contains(got, v0.Label+" "+v0.Text) {
		t.Errorf("readout %q lacks %s %s", got, v0.Label, v0.Text)
	}
}

func TestReplayChooseCharts(t *testing.T) {
	v, _, q := newTestReplay(t, "checkout", "incident", 15*time.Minute)
	first := v.charts[0]
	var rest []string
	for _, c := range v.charts[1:] {
		rest = append(rest, c.label)
	}
	v.chartChecks.SetSelected(rest)
	if first.Visible() {
		t.Errorf("chart %s shown after its box was cleared", first.label)
	}
	// The next chart takes the first cell.
	if p := v.charts[1].Position(); p != (fyne.Position{}) {
		t.Errorf("chart %s at %v, want the first cell", v.charts[1].label, p)
	}
	stepTo(t, v, q, time.Minute)
	if first.now == time.Minute {
		t.Errorf("hidden chart %s was drawn", first.label)
	}
}

// TestReplayDropsStaleFrames checks that frames coming faster than the UI
// draws them queue one draw, of the latest frame.
func TestReplayDropsStaleFrames(t *testing.T) {
	q := &uiQueue{}
	v := &ReplayView{do: q.do}
	for i := 1; i <= 3; i++ {
		v.onFrame(runner.Frame{Now: time.Duration(i) * time.Second})
	}
	if len(q.fs) != 1 {
		t.Errorf("%d draws queued for 3 frames, want 1", len(q.fs))
	}
	if v.pending == nil || v.pending.Now != 3*time.Second {
		t.Errorf("pending frame %+v, want the one at 3s", v.pending)
	}
}

func TestReplayMarkupMM1(t *testing.T) {
	v, w, q := newTestReplay(t, "mm1", "", 0)
	waitFor(t, q, "the charts at 0", func() bool { return chartsShow(v, 0) })
	test.AssertRendersToMarkup(t, "replay_mm1.xml", w.Canvas())
}

// TestReplayCapture saves the view mid-replay as a PNG to look at, and
// checks that it fits beside the knobs in a 1024-pixel window.
func TestReplayCapture(t *testing.T) {
	v, w, q := newTestReplay(t, "checkout", "incident", 15*time.Minute)
	if mw := v.Object().MinSize().Width; mw > 650 {
		t.Errorf("view needs %v px of width, want at most 650", mw)
	}
	at := 12*time.Minute + 30*time.Second
	stepTo(t, v, q, at)
	dir := os.Getenv("STORMGLASS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	capture(t, w, filepath.Join(dir, "replay_checkout.png"))
	// As narrow as the window will leave it, beside the knobs.
	w.Resize(fyne.NewSize(650, 700))
	waitFor(t, q, "the charts redrawn at 650 px", func() bool { return chartsShow(v, at) })
	capture(t, w, filepath.Join(dir, "replay_checkout_650.png"))
}

func capture(t *testing.T, w fyne.Window, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
}
