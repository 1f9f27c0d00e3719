package desktop

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"stormglass/app/runner"
	"stormglass/export"
	"stormglass/knob"
	"stormglass/scenarios"
)

// Speeds a planner can pick, in simulated seconds per wall second; 0 is
// as fast as possible. An hour a second shows a day's run in under half
// a minute.
var replaySpeeds = []struct {
	label string
	speed float64
}{
	{"1×", 1},
	{"10×", 10},
	{"60×", 60},
	{"600×", 600},
	{"3600×", 3600},
	{speedFastest, 0},
}

const (
	speedFastest = "As fast as possible"
	// startSpeed is a minute a second: a 15-minute incident plays in 15 s,
	// slow enough to watch the charts move.
	startSpeedLabel = "60×"
	startSpeed      = 60
)

// Chart cells: tall enough for the title, axes and legend to leave the
// data readable, and no narrower than a chart whose legend and time axis
// still fit on their lines, so that the view's 650 px beside the knobs
// shows one column and a wider window two.
const (
	chartMinWidth   = 360
	chartCellHeight = 250
)

// chartLabels are the short names of the charts export.Charts picks, for
// the chart checkboxes, which must fit across the view.
var chartLabels = map[string]string{
	"load":        "Load",
	"connections": "Connections",
	"queue":       "Queue",
	"cpu":         "CPU",
	"latency":     "Latency",
	"errors":      "Errors",
}

// ReplayView plays a plan live for a planner to watch: controls to play,
// pause, step and restart, the time and a progress bar, the scenario's
// charts with a cursor at the current time, and the events as they
// happen. Knob turns reach the replay through SetKnob.
//
// A ReplayView is used from the UI goroutine, like any widget; the
// replay itself runs on a goroutine of its own and charts are drawn on
// another, so that neither holds up the window.
type ReplayView struct {
	plan  *scenarios.Plan
	fonts *export.Fonts
	// do runs a function on the UI goroutine: fyne.Do, or a queue the
	// tests drain on theirs.
	do     func(func())
	player *runner.Player
	render *chartRenderer

	clockS  float64
	horizon time.Duration
	step    time.Duration

	// pending is the latest frame from the player not yet drawn; a draw
	// is queued on the UI goroutine exactly when it is not nil, so that
	// frames never pile up behind a busy UI.
	mu      sync.Mutex
	pending *runner.Frame
	latest  runner.Frame // the newest frame, drawn or not

	// The rest belongs to the UI goroutine.
	frame runner.Frame // the last frame drawn
	drawn bool
	rows  []string // the event log

	play, stepBtn, restart, newSeed *widget.Button
	speed                           *widget.Select
	timeLabel, seedLabel            *widget.Label
	behind, status                  *widget.Label
	progress                        *widget.ProgressBar
	chartChecks                     *widget.CheckGroup
	charts                          []*chartView
	grid                            *fyne.Container
	log                             *widget.List
	content                         fyne.CanvasObject

	// onDraw, when set, is told of each frame drawn, on the UI goroutine.
	onDraw func(runner.Frame)

	closeOnce sync.Once
}

// NewReplayView builds the view of a replay of plan, paused at time 0,
// on the UI goroutine.
// fonts are the charts' fonts, loaded once by the caller (nil loads the
// defaults on each chart). Close it to stop the replay.
func NewReplayView(plan *scenarios.Plan, fonts *export.Fonts) (*ReplayView, error) {
	return newReplayView(plan, fonts, fyne.Do)
}

func newReplayView(plan *scenarios.Plan, fonts *export.Fonts, do func(func())) (*ReplayView, error) {
	if plan == nil || plan.Scenario == nil {
		return nil, errors.New("replay: no plan")
	}
	v := &ReplayView{
		plan:    plan,
		fonts:   fonts,
		do:      do,
		clockS:  plan.Scenario.Run.Clock.Seconds(),
		horizon: plan.Horizon,
		step:    replayStep(plan),
	}
	v.buildControls()
	p, err := runner.NewPlayer(plan, runner.PlayerOptions{Speed: startSpeed, OnFrame: v.onFrame})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	v.player = p
	// The charts are those the finished replay will have: the first
	// frame's series, which hold no samples yet, name them all.
	v.mu.Lock()
	first := v.latest
	v.mu.Unlock()
	v.buildCharts(export.Charts(frameResult(plan, first)))
	// The labels' texts before the first layout: containers are laid out
	// by their children's sizes then, and the time's text never changes
	// width.
	v.showTime(first)
	v.log = widget.NewList(
		func() int { return len(v.rows) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.rows[id]) },
	)
	v.content = v.layout()
	v.render = newChartRenderer(v.do, v.renderCharts, v.showCharts)
	return v, nil
}

// replayStep is how far Step moves: one sample, so that each step adds a
// point to every chart, or a hundredth of the horizon when the plan does
// not sample.
func replayStep(plan *scenarios.Plan) time.Duration {
	if plan.Sample > 0 && plan.Sample <= plan.Horizon {
		return plan.Sample
	}
	return max(plan.Horizon/100, time.Millisecond)
}

func (v *ReplayView) buildControls() {
	v.play = widget.NewButtonWithIcon("Play", theme.MediaPlayIcon(), v.playTapped)
	v.play.Importance = widget.HighImportance
	v.stepBtn = widget.NewButtonWithIcon("Step "+export.Duration(v.step.Seconds()), theme.MediaSkipNextIcon(), v.stepTapped)
	v.restart = widget.NewButtonWithIcon("Restart", theme.MediaReplayIcon(), func() {
		v.report(v.player.Restart(nil))
	})
	v.newSeed = widget.NewButtonWithIcon("New seed", theme.ViewRefreshIcon(), v.newSeedTapped)
	labels := make([]string, len(replaySpeeds))
	for i, s := range replaySpeeds {
		labels[i] = s.label
	}
	v.speed = widget.NewSelect(labels, nil)
	// Set before OnChanged, which would tell the player what it knows.
	v.speed.Selected = startSpeedLabel
	v.speed.OnChanged = v.speedChanged

	v.timeLabel = widget.NewLabel("")
	v.timeLabel.TextStyle.Monospace = true
	v.seedLabel = widget.NewLabel("")
	v.behind = widget.NewLabel("Behind: running as fast as it can")
	v.behind.Importance = widget.WarningImportance
	v.behind.Hide()
	v.status = widget.NewLabel("")
	v.status.Importance = widget.DangerImportance
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Hide()
	v.progress = widget.NewProgressBar()
	// The time label says where the replay is; a percentage would repeat it.
	v.progress.TextFormatter = func() string { return "" }
}

func (v *ReplayView) buildCharts(charts []export.Chart) {
	var names, shown []string
	for _, c := range charts {
		cv := newChartView(c.Name, v.requestRender)
		v.charts = append(v.charts, cv)
		label := chartLabels[c.Name]
		if label == "" {
			label = c.Title
		}
		names = append(names, label)
		shown = append(shown, label)
		cv.label = label
	}
	v.grid = container.New(&chartGrid{}, chartObjects(v.charts)...)
	v.chartChecks = widget.NewCheckGroup(names, nil)
	v.chartChecks.Horizontal = true
	v.chartChecks.Selected = shown
	v.chartChecks.OnChanged = v.chartsChosen
}

func chartObjects(cs []*chartView) []fyne.CanvasObject {
	out := make([]fyne.CanvasObject, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}

// layout puts the controls on top and splits the rest between the charts
// and the event log, which the planner can resize.
func (v *ReplayView) layout() fyne.CanvasObject {
	buttons := container.NewHBox(v.play, v.stepBtn, v.speed, v.restart, v.newSeed)
	timeRow := container.NewBorder(nil, nil, v.timeLabel, container.NewHBox(v.behind, v.seedLabel), v.progress)
	top := container.NewVBox(buttons, timeRow, v.status)
	if len(v.charts) > 0 {
		top.Add(v.chartChecks)
	}
	// The scroll bar is drawn over the content's right edge: keep the
	// charts' axes clear of it.
	gutter := canvas.NewRectangle(color.Transparent)
	gutter.SetMinSize(fyne.NewSize(theme.Size(theme.SizeNameScrollBarSmall)+theme.Padding(), 0))
	var charts fyne.CanvasObject = container.NewVScroll(container.NewBorder(nil, nil, nil, gutter, v.grid))
	if len(v.charts) == 0 {
		charts = widget.NewLabel("This scenario records no series to chart.")
	}
	logTitle := widget.NewLabelWithStyle("Events", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	logBox := container.NewBorder(logTitle, nil, nil, nil, v.log)
	split := container.NewVSplit(charts, logBox)
	split.Offset = 0.72
	return container.NewBorder(container.NewVBox(top, widget.NewSeparator()), nil, nil, nil, split)
}

// Object is the view, to put in a window.
func (v *ReplayView) Object() fyne.CanvasObject { return v.content }

// Now is the simulated time of the frame on screen.
func (v *ReplayView) Now() time.Duration { return v.frame.Now }

// SetKnob turns a knob of the replay at its current time, as a planner
// does from the knob panel; the change shows in the event log with the
// next frame. A knob the model cannot follow mid-run, a value out of the
// knob's range and a replay at its end are refused.
func (v *ReplayView) SetKnob(name string, value knob.Value) error {
	err := v.player.Set([]scenarios.Assignment{{Knob: name, Value: value}})
	if err != nil {
		return fmt.Errorf("replay: turn %s to %s: %w", name, value, err)
	}
	return nil
}

// Close stops the replay and the chart drawing. The view stays on screen
// as it was; its controls report that the replay is closed.
func (v *ReplayView) Close() {
	v.closeOnce.Do(func() {
		v.player.Close()
		v.render.close()
	})
}

func (v *ReplayView) playTapped() {
	if v.frame.Playing {
		v.report(v.player.Pause())
		return
	}
	v.report(v.player.Play())
}

// stepTapped steps on the UI goroutine: a step is one sample of simulated
// time, which takes milliseconds, and stepping in order with the other
// controls is worth the wait.
func (v *ReplayView) stepTapped() { v.report(v.player.Step(v.step)) }

func (v *ReplayView) newSeedTapped() {
	// The next seed rather than a random one: a planner who notes the seed
	// shown can replay the run exactly.
	seed := v.frame.Seed + 1
	v.report(v.player.Restart(&seed))
}

func (v *ReplayView) speedChanged(label string) {
	for _, s := range replaySpeeds {
		if s.label == label {
			v.report(v.player.SetSpeed(s.speed))
			return
		}
	}
}

// report shows a control's error under the controls, or clears the last.
func (v *ReplayView) report(err error) {
	if err != nil {
		v.showStatus(err.Error())
		return
	}
	v.showStatus("")
}

func (v *ReplayView) showStatus(text string) {
	showLine(v.status, text)
}

// onFrame is the player's OnFrame, on the player's goroutine: it keeps the
// frame as the latest and queues a draw unless one is queued already, which
// will draw this frame instead of its own.
func (v *ReplayView) onFrame(f runner.Frame) {
	v.mu.Lock()
	queued := v.pending != nil
	v.pending, v.latest = &f, f
	v.mu.Unlock()
	if !queued {
		v.do(v.drawPending)
	}
}

func (v *ReplayView) drawPending() {
	v.mu.Lock()
	f := v.pending
	v.pending = nil
	v.mu.Unlock()
	if f != nil {
		v.draw(*f)
	}
}

// draw shows a frame: on the UI goroutine.
func (v *ReplayView) draw(f runner.Frame) {
	v.frame, v.drawn = f, true
	v.showTime(f)
	if f.Behind {
		v.behind.Show()
	} else {
		v.behind.Hide()
	}
	switch {
	case f.Err != nil:
		v.setPlay("Stopped", theme.MediaStopIcon(), false)
		v.showStatus("The replay stopped: " + f.Err.Error())
	case f.Over:
		v.setPlay("Finished", theme.ConfirmIcon(), false)
	case f.Playing:
		v.setPlay("Pause", theme.MediaPauseIcon(), true)
	default:
		v.setPlay("Play", theme.MediaPlayIcon(), true)
	}
	if f.Over {
		v.stepBtn.Disable()
	} else {
		v.stepBtn.Enable()
	}
	v.showEvents(f.Events)
	v.requestRender()
	if v.onDraw != nil {
		v.onDraw(f)
	}
}

// OnDraw sets a function told of every frame drawn, on the UI goroutine:
// the main window keeps the knob panel in step with the replay.
func (v *ReplayView) OnDraw(f func(runner.Frame)) { v.onDraw = f }

// Result is the replay's result so far, as one replication: its figures
// up to the current time, for export. It waits for the replay's
// goroutine, which answers between two stretches of simulated time.
func (v *ReplayView) Result() (*runner.Result, error) {
	r, err := v.player.Result()
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	return r, nil
}

// showTime shows the frame's time of day, progress and seed.
func (v *ReplayView) showTime(f runner.Frame) {
	now, horizon := f.Now.Seconds(), f.Horizon.Seconds()
	v.timeLabel.SetText(export.Clock(v.clockS+now) + " of " + export.Clock(v.clockS+horizon))
	if horizon > 0 {
		v.progress.SetValue(math.Min(now/horizon, 1))
	}
	v.seedLabel.SetText(fmt.Sprintf("Seed %d", f.Seed))
}

func (v *ReplayView) setPlay(text string, icon fyne.Resource, enabled bool) {
	if v.play.Text != text {
		v.play.SetText(text)
		v.play.SetIcon(icon)
	}
	if enabled {
		v.play.Enable()
	} else {
		v.play.Disable()
	}
}

// showEvents puts the events in the log, following the newest.
func (v *ReplayView) showEvents(events []scenarios.Event) {
	rows := make([]string, len(events))
	for i, e := range events {
		rows[i] = export.Clock(v.clockS+e.At.Seconds()) + "  " + e.Kind + "  " + e.Text
	}
	grew := len(rows) > len(v.rows)
	if slices.Equal(rows, v.rows) {
		return
	}
	v.rows = rows
	v.log.Refresh()
	if grew {
		v.log.ScrollToBottom()
	}
}

// chartsChosen shows the charts whose boxes are ticked.
func (v *ReplayView) chartsChosen(selected []string) {
	on := map[string]bool{}
	for _, s := range selected {
		on[s] = true
	}
	for _, c := range v.charts {
		if on[c.label] {
			c.Show()
		} else {
			c.Hide()
		}
	}
	v.grid.Refresh()
	v.requestRender()
}

// requestRender asks for the last frame's charts at their sizes on
// screen: after a frame, a resize or a change of the charts shown.
func (v *ReplayView) requestRender() {
	if !v.drawn || v.render == nil {
		return
	}
	job := renderJob{frame: v.frame, sizes: chartSizes(v.charts)}
	if len(job.sizes) > 0 {
		v.render.request(job)
	}
}

// chartSizes are the pixel sizes to draw the charts shown at, by name.
func chartSizes(charts []*chartView) map[string]image.Point {
	sizes := map[string]image.Point{}
	for _, c := range charts {
		if !c.Visible() {
			continue
		}
		s := c.img.Size()
		w, h := int(s.Width), int(s.Height)
		if w < export.MinLiveWidth || h < export.MinLiveHeight {
			continue // not laid out yet, or too small to draw
		}
		sizes[c.name] = image.Pt(w, h)
	}
	return sizes
}

// frameResult summarises a frame as a partial one-replication result, as
// export.Charts reads one: the series so far and the events so far. A
// series with no sample yet gets one gap, so that its chart is drawn,
// empty, from the start and the charts on screen do not change as the
// first samples arrive.
func frameResult(plan *scenarios.Plan, f runner.Frame) *runner.Result {
	sc := plan.Scenario
	r := &runner.Result{
		Scenario:     sc.Meta.Name,
		Title:        sc.Meta.Title,
		ClockS:       sc.Run.Clock.Seconds(),
		Variant:      plan.Variant,
		VariantTitle: plan.VariantTitle,
		Seed:         f.Seed,
		Replications: 1,
		HorizonS:     plan.Horizon.Seconds(),
		WarmupS:      plan.Warmup.Seconds(),
		SampleS:      plan.Sample.Seconds(),
	}
	r.Events, r.Series = runner.EventResults(f.Events), runner.SeriesResults(f.Series)
	for i := range r.Series {
		if len(r.Series[i].Values) == 0 {
			r.Series[i].Values = []float64{math.NaN()}
		}
	}
	return r
}

// renderJob is charts to draw, by name, at these pixel sizes: a replay's
// frame's, or a finished run's (frame is then the zero Frame).
type renderJob struct {
	frame runner.Frame
	sizes map[string]image.Point
}

// rendered is a chart drawn for the screen, or why it could not be.
type rendered struct {
	img   image.Image
	frame *export.ChartFrame
	now   time.Duration // the replay's time drawn
	err   error
}

// chartRenderer draws charts on a goroutine of its own, one job at a
// time, always the latest asked for: a replay at full speed asks for
// frames faster than they can be drawn, and only the newest is worth
// showing; a window being resized asks for sizes it has already left.
// draw runs on the renderer's goroutine; show runs through do, on the UI
// goroutine, with the charts drawn since the last show.
type chartRenderer struct {
	do   func(func())
	draw func(renderJob) map[string]rendered
	show func(map[string]rendered)
	kick chan struct{} // a job is waiting
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	job  *renderJob          // the latest job not yet started
	out  map[string]rendered // drawn, not yet shown; a show is queued when not nil
	quit bool
}

func newChartRenderer(do func(func()), draw func(renderJob) map[string]rendered, show func(map[string]rendered)) *chartRenderer {
	r := &chartRenderer{do: do, draw: draw, show: show, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *chartRenderer) request(job renderJob) {
	r.mu.Lock()
	r.job = &job
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default: // a kick is waiting; it will take this job
	}
}

func (r *chartRenderer) close() {
	r.mu.Lock()
	if r.quit {
		r.mu.Unlock()
		return
	}
	r.quit = true
	r.mu.Unlock()
	close(r.stop)
	<-r.done
}

func (r *chartRenderer) run() {
	defer close(r.done)
	for {
		select {
		case <-r.stop:
			return
		case <-r.kick:
		}
		r.mu.Lock()
		job := r.job
		r.job = nil
		r.mu.Unlock()
		if job == nil {
			continue
		}
		out := r.draw(*job)
		r.mu.Lock()
		queued := r.out != nil
		if r.out == nil {
			r.out = out
		} else {
			// The UI has not shown the last charts yet: these replace them.
			for name, d := range out {
				r.out[name] = d
			}
		}
		r.mu.Unlock()
		if !queued {
			r.do(r.showDrawn)
		}
	}
}

// renderCharts draws a frame's charts: the chartRenderer's draw, on its
// goroutine.
func (v *ReplayView) renderCharts(job renderJob) map[string]rendered {
	out := map[string]rendered{}
	opt := export.RenderOptions{HorizonS: v.horizon.Seconds(), Cursor: true, CursorS: job.frame.Now.Seconds()}
	for _, c := range export.Charts(frameResult(v.plan, job.frame)) {
		size, ok := job.sizes[c.Name]
		if !ok {
			continue
		}
		img, frame, err := export.RenderChart(c, size.X, size.Y, v.fonts, opt)
		if err != nil {
			err = fmt.Errorf("replay: %w", err)
		}
		out[c.Name] = rendered{img: img, frame: frame, now: job.frame.Now, err: err}
	}
	return out
}

// showDrawn shows the charts drawn since the last show: on the UI
// goroutine.
func (r *chartRenderer) showDrawn() {
	r.mu.Lock()
	out := r.out
	r.out = nil
	r.mu.Unlock()
	r.show(out)
}

// showCharts puts charts drawn on screen: the chartRenderer's show.
func (v *ReplayView) showCharts(out map[string]rendered) { showRendered(v.charts, out) }

// showRendered puts each chart drawn on its view.
func showRendered(charts []*chartView, out map[string]rendered) {
	for _, c := range charts {
		if d, ok := out[c.name]; ok {
			c.setImage(d)
		}
	}
}

// chartView is one chart on screen with the readout of the point the
// planner taps or points at below it.
type chartView struct {
	widget.BaseWidget
	name, label string
	onResize    func()
	// format writes a readout; nil is readoutText.
	format func(export.Readout) string

	img     *canvas.Image
	readout *widget.Label
	frame   *export.ChartFrame // of the image shown
	now     time.Duration      // the replay's time the image shows
	content fyne.CanvasObject
}

var (
	_ fyne.Tappable     = (*chartView)(nil)
	_ desktop.Hoverable = (*chartView)(nil)
)

func newChartView(name string, onResize func()) *chartView {
	c := &chartView{name: name, onResize: onResize}
	c.ExtendBaseWidget(c)
	c.img = canvas.NewImageFromImage(nil)
	// Drawn at the size shown: stretching a chart a frame late, as it
	// catches up with a resize, is better than leaving a gap.
	c.img.FillMode = canvas.ImageFillStretch
	c.readout = widget.NewLabel("Tap the chart to read it.")
	c.readout.SizeName = theme.SizeNameCaptionText
	c.readout.Truncation = fyne.TextTruncateEllipsis
	c.content = container.NewBorder(nil, c.readout, nil, nil, c.img)
	return c
}

// CreateRenderer is part of fyne.Widget.
func (c *chartView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(c.content)
}

// Resize is part of fyne.CanvasObject: a new size needs a new image, as
// charts are drawn pixel for pixel.
func (c *chartView) Resize(size fyne.Size) {
	if size == c.Size() {
		return
	}
	c.BaseWidget.Resize(size)
	if c.onResize != nil {
		c.onResize()
	}
}

func (c *chartView) setImage(d rendered) {
	if d.err != nil {
		c.readout.SetText(d.err.Error())
		return
	}
	c.img.Image = d.img
	c.frame, c.now = d.frame, d.now
	c.img.Refresh()
}

// Tapped is part of fyne.Tappable.
func (c *chartView) Tapped(e *fyne.PointEvent) { c.readAt(e.Position) }

// MouseIn is part of desktop.Hoverable.
func (c *chartView) MouseIn(e *desktop.MouseEvent) { c.readAt(e.Position) }

// MouseMoved is part of desktop.Hoverable.
func (c *chartView) MouseMoved(e *desktop.MouseEvent) { c.readAt(e.Position) }

// MouseOut is part of desktop.Hoverable: the last readout stays, so that
// a planner can move to the log and compare.
func (c *chartView) MouseOut() {}

// readAt shows the readout at pos, in the widget's coordinates.
func (c *chartView) readAt(pos fyne.Position) {
	if c.frame == nil {
		return
	}
	s := c.img.Size()
	if s.Width <= 0 || s.Height <= 0 {
		return
	}
	p := pos.Subtract(c.img.Position())
	// The image may be stretched over a size it was not drawn for.
	x := int(p.X * float32(c.frame.Size.X) / s.Width)
	y := int(p.Y * float32(c.frame.Size.Y) / s.Height)
	r, ok := c.frame.At(x, y)
	if !ok {
		return
	}
	if c.format != nil {
		c.readout.SetText(c.format(r))
		return
	}
	c.readout.SetText(readoutText(r))
}

// readoutText is a readout on one line: "12:30:00  requests 98.2 /s ·
// goodput 97 /s  ⚑ 2 fault: surge of shoppers".
func readoutText(r export.Readout) string {
	var b strings.Builder
	b.WriteString(r.Clock)
	for i, lv := range r.Values {
		if i == 0 {
			b.WriteString("  ")
		} else {
			b.WriteString(" · ")
		}
		text := lv.Text
		if lv.Index >= 0 && math.IsNaN(lv.Value) {
			text = "–" // the gap before the first sample
		}
		b.WriteString(lv.Label + " " + text)
	}
	if e := r.Event; e != nil {
		fmt.Fprintf(&b, "  ⚑ %s %s: %s", e.Label, e.Kind, e.Text)
	}
	return b.String()
}

// chartGrid lays charts out in cells of a fixed height, two columns when
// there is room for two, hidden charts left out.
type chartGrid struct {
	// cols is the column count of the last layout, which MinSize reports
	// the height of.
	cols int
}

func (g *chartGrid) columns(width float32) int {
	if width >= 2*chartMinWidth+theme.Padding() {
		return 2
	}
	return 1
}

func (g *chartGrid) MinSize(objects []fyne.CanvasObject) fyne.Size {
	n := visibleCount(objects)
	cols := max(g.cols, 1)
	rows := (n + cols - 1) / cols
	h := float32(rows)*chartCellHeight + float32(max(rows-1, 0))*theme.Padding()
	return fyne.NewSize(chartMinWidth, h)
}

func (g *chartGrid) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	cols := g.columns(size.Width)
	g.cols = cols
	pad := theme.Padding()
	w := (size.Width - float32(cols-1)*pad) / float32(cols)
	i := 0
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		row, col := i/cols, i%cols
		o.Move(fyne.NewPos(float32(col)*(w+pad), float32(row)*(chartCellHeight+pad)))
		o.Resize(fyne.NewSize(w, chartCellHeight))
		i++
	}
}

func visibleCount(objects []fyne.CanvasObject) int {
	n := 0
	for _, o := range objects {
		if o.Visible() {
			n++
		}
	}
	return n
}
