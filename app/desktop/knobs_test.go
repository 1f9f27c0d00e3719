package desktop

import (
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"stormglass/knob"
	"stormglass/scenarios"
)

// change is one call of a panel's onChange.
type change struct {
	name string
	v    knob.Value
}

// newTestPanel builds the panel for a built-in scenario with its default
// values in a 360×700 window, recording every onChange.
func newTestPanel(t *testing.T, name string) (*KnobPanel, fyne.Window, *[]change, *scenarios.Scenario) {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	p, w, calls := newPanelFor(t, sc)
	return p, w, calls, sc
}

func newPanelFor(t *testing.T, sc *scenarios.Scenario) (*KnobPanel, fyne.Window, *[]change) {
	t.Helper()
	calls := &[]change{}
	p, err := NewKnobPanel(sc, sc.Knobs.Defaults(), func(name string, v knob.Value) {
		*calls = append(*calls, change{name, v})
	})
	if err != nil {
		t.Fatal(err)
	}
	w := test.NewTempWindow(t, p)
	w.Resize(fyne.NewSize(360, 700))
	return p, w, calls
}

// visible walks what the window shows: every object on screen, through
// the renderers the canvas uses, leaving out hidden subtrees.
func visible(o fyne.CanvasObject) []fyne.CanvasObject {
	if o == nil || !o.Visible() {
		return nil
	}
	out := []fyne.CanvasObject{o}
	switch o := o.(type) {
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(o).Objects() {
			out = append(out, visible(c)...)
		}
	case *fyne.Container:
		for _, c := range o.Objects {
			out = append(out, visible(c)...)
		}
	}
	return out
}

func shows(w fyne.Window, o fyne.CanvasObject) bool {
	return slices.Contains(visible(w.Content()), o)
}

// labelTexts lists the text of every label on screen.
func labelTexts(w fyne.Window) []string {
	var out []string
	for _, o := range visible(w.Content()) {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	}
	return out
}

// checkLayout fails the test when something shown is not laid out: a
// widget smaller than its minimum (a reset button that appeared at zero
// size) or stacked over its neighbour (a reason drawn over the next row),
// as happens when a container misses a visibility change.
func checkLayout(t *testing.T, p *KnobPanel) {
	t.Helper()
	fits := func(what string, o fyne.CanvasObject) {
		if sz, min := o.Size(), o.MinSize(); sz.Width < min.Width-0.5 || sz.Height < min.Height-0.5 {
			t.Errorf("%s: a %T is %v, below its minimum %v", what, o, sz, min)
		}
	}
	stacked := func(what string, objs []fyne.CanvasObject) {
		var prev fyne.CanvasObject
		for _, o := range objs {
			if !o.Visible() {
				continue
			}
			fits(what, o)
			if prev != nil && o.Position().Y < prev.Position().Y+prev.Size().Height-0.5 {
				t.Errorf("%s: a %T at y=%v overlaps the %T above it", what, o, o.Position().Y, prev)
			}
			prev = o
		}
	}
	stacked("the list", p.list.Objects)
	for _, r := range p.rows {
		stacked(r.k.Name, r.box.(*fyne.Container).Objects)
		if r.reset.Visible() {
			fits(r.k.Name, r.reset)
			if r.reset.Position().X < r.name.Position().X+r.name.Size().Width-0.5 {
				t.Errorf("%s: the reset button overlaps the name", r.k.Name)
			}
		}
	}
}

func row(t *testing.T, p *KnobPanel, name string) *knobRow {
	t.Helper()
	for _, r := range p.rows {
		if r.k.Name == name {
			return r
		}
	}
	t.Fatalf("no row for knob %s", name)
	return nil
}

// submit focuses the entry, replaces its text as a user would and
// presses Enter.
func submit(e *knobEntry, text string) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
		c.Focus(e)
	}
	e.SetText("")
	test.Type(e, text)
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
}

// TestKnobPanelShowsOneRowPerKnob checks every built-in scenario: each
// knob has a row on screen named after it, with a slider and an entry for
// numbers, integers, durations and rates, a select of its choices for a
// choice and a check for a bool, and no other controls.
func TestKnobPanelShowsOneRowPerKnob(t *testing.T) {
	test.NewTempApp(t)
	for _, name := range scenarios.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			p, w, _, sc := newTestPanel(t, name)
			knobs := sc.Knobs.All()
			if len(p.rows) != len(knobs) {
				t.Fatalf("%d rows for %d knobs", len(p.rows), len(knobs))
			}
			on := visible(w.Content())
			count := map[string]int{}
			for _, o := range on {
				switch o.(type) {
				case *widget.Slider:
					count["slider"]++
				case *knobEntry:
					count["entry"]++
				case *widget.Select:
					count["select"]++
				case *widget.Check:
					count["check"]++
				}
			}
			want := map[string]int{}
			texts := labelTexts(w)
			for i, k := range knobs {
				r := p.rows[i]
				if r.k.Name != k.Name {
					t.Errorf("row %d is %s, want %s (declaration order)", i, r.k.Name, k.Name)
				}
				title := k.Name
				if k.UnitText() != "" {
					title += " (" + k.UnitText() + ")"
				}
				for _, s := range []string{title, k.Help} {
					if !slices.Contains(texts, s) {
						t.Errorf("%s: %q is not on screen", k.Name, s)
					}
				}
				switch k.Kind {
				case knob.Bool:
					want["check"]++
					if r.check == nil || !shows(w, r.check) || r.check.Checked != k.Default.Bool() {
						t.Errorf("%s: no check showing %v", k.Name, k.Default)
					}
				case knob.Choice:
					want["select"]++
					if r.sel == nil || !shows(w, r.sel) || !slices.Equal(r.sel.Options, k.Choices) || r.sel.Selected != k.Default.Word() {
						t.Errorf("%s: no select of %v showing %v", k.Name, k.Choices, k.Default)
					}
				default:
					want["slider"]++
					want["entry"]++
					if r.slider == nil || !shows(w, r.slider) || r.entry == nil || !shows(w, r.entry) || r.entry.Text != k.Default.String() {
						t.Errorf("%s: no slider and entry showing %v", k.Name, k.Default)
					}
					if rt := k.RangeText(); !slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, rt) }) {
						t.Errorf("%s: the range %q is not on screen", k.Name, rt)
					}
				}
			}
			for _, c := range []string{"slider", "entry", "select", "check"} {
				if count[c] != want[c] {
					t.Errorf("%d %ss on screen, want %d", count[c], c, want[c])
				}
			}
		})
	}
}

// TestKnobPanelCommitsTypedValue types values in the knob's syntax:
// Enter commits once, the knob is marked changed, and its reset button
// returns it to the default, reporting that too.
func TestKnobPanelCommitsTypedValue(t *testing.T) {
	test.NewTempApp(t)
	p, w, calls, _ := newTestPanel(t, "mm1")
	r := row(t, p, "service_time")

	submit(r.entry, "250ms")
	want := []change{{"service_time", knob.DurationValue(250 * time.Millisecond)}}
	if !slices.Equal(*calls, want) {
		t.Fatalf("onChange calls %v, want %v", *calls, want)
	}
	if got := p.Values()["service_time"]; !got.Equal(want[0].v) {
		t.Errorf("Values()[service_time] = %v, want 250ms", got)
	}
	if !r.name.TextStyle.Bold || !shows(w, r.reset) {
		t.Errorf("a changed knob is not marked: bold %v, reset shown %v", r.name.TextStyle.Bold, shows(w, r.reset))
	}
	checkLayout(t, p)
	if p.title.Text != "Knobs · 1 changed" || p.resetAll.Disabled() {
		t.Errorf("title %q, Reset all disabled %v: want one changed and Reset all enabled", p.title.Text, p.resetAll.Disabled())
	}
	if pos := r.slider.Value / sliderSteps; math.Abs(pos-r.scale.toPos(0.25)) > 0.5/sliderSteps {
		t.Errorf("slider at %v, want the position of 250ms", pos)
	}

	// Enter again on the same text, and leaving the entry, change nothing.
	r.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	w.Canvas().Focus(r.entry)
	w.Canvas().Unfocus()
	if len(*calls) != 1 {
		t.Fatalf("re-submitting the same value called onChange again: %v", *calls)
	}

	test.Tap(r.reset)
	want = append(want, change{"service_time", knob.DurationValue(100 * time.Millisecond)})
	if !slices.Equal(*calls, want) {
		t.Fatalf("after reset, onChange calls %v, want %v", *calls, want)
	}
	if r.entry.Text != "100ms" || r.name.TextStyle.Bold || shows(w, r.reset) || !p.resetAll.Disabled() {
		t.Errorf("after reset: entry %q, bold %v, reset shown %v, Reset all disabled %v", r.entry.Text, r.name.TextStyle.Bold, shows(w, r.reset), p.resetAll.Disabled())
	}

	// Typing and then leaving the entry commits, in a rate's other units.
	a := row(t, p, "arrival_rate")
	w.Canvas().Focus(a.entry)
	a.entry.SetText("")
	test.Type(a.entry, "300/min")
	w.Canvas().Unfocus()
	want = append(want, change{"arrival_rate", knob.RateValue(5)})
	if !slices.Equal(*calls, want) {
		t.Fatalf("after focus loss, onChange calls %v, want %v", *calls, want)
	}
	if a.entry.Text != "5/s" {
		t.Errorf("entry shows %q after commit, want it rewritten as 5/s", a.entry.Text)
	}

	// Reset all returns both and reports only the one that changed.
	test.Tap(p.resetAll)
	want = append(want, change{"arrival_rate", knob.RateValue(8)})
	if !slices.Equal(*calls, want) {
		t.Fatalf("after Reset all, onChange calls %v, want %v", *calls, want)
	}
}

// TestKnobPanelRefusesBadInput types an out-of-range and a malformed
// value: each shows the knob package's own reason under the entry, calls
// nothing, and keeps the value in effect.
func TestKnobPanelRefusesBadInput(t *testing.T) {
	test.NewTempApp(t)
	p, w, calls, sc := newTestPanel(t, "mm1")
	r := row(t, p, "arrival_rate")
	k, _ := sc.Knobs.Lookup("arrival_rate")
	for _, c := range []struct{ text, reason string }{
		{"12/s", "12/s is out of range: expected 0/s to 9.9/s"},
		{"fast", `invalid value "fast": expected a rate with a unit of time, such as 5000/s or 30/min`},
	} {
		submit(r.entry, c.text)
		_, err := k.Parse(c.text)
		if err == nil || err.Error() != c.reason {
			t.Fatalf("the knob package's reason for %q is %v; fix the test", c.text, err)
		}
		checkLayout(t, p)
		if r.problem.Text != c.reason || !shows(w, r.problem) {
			t.Errorf("%q: shown reason %q (visible %v), want %q", c.text, r.problem.Text, shows(w, r.problem), c.reason)
		}
		if len(*calls) != 0 {
			t.Errorf("%q: onChange called: %v", c.text, *calls)
		}
		if got := p.Values()["arrival_rate"]; !got.Equal(knob.RateValue(8)) {
			t.Errorf("%q: value in effect %v, want 8/s still", c.text, got)
		}
		if r.name.TextStyle.Bold {
			t.Errorf("%q: knob marked changed", c.text)
		}
	}
	// Leaving the entry with the refused text still there commits nothing.
	w.Canvas().Focus(r.entry)
	w.Canvas().Unfocus()
	if len(*calls) != 0 || !shows(w, r.problem) {
		t.Errorf("focus loss on refused text: calls %v, reason shown %v", *calls, shows(w, r.problem))
	}
	// A valid value clears the reason.
	submit(r.entry, "9.9/s")
	if len(*calls) != 1 || shows(w, r.problem) {
		t.Errorf("after a valid value: calls %v, reason still shown %v", *calls, shows(w, r.problem))
	}
}

// TestKnobPanelSetValuesIsSilent sets every kind of control from a
// variant's values: the widgets follow, onChange is never called, and a
// value outside its knob is refused with an error.
func TestKnobPanelSetValuesIsSilent(t *testing.T) {
	test.NewTempApp(t)
	p, w, calls, _ := newTestPanel(t, "reactive-outage-2025")
	vals := p.Values()
	vals["queue_limit"] = knob.IntegerValue(500)
	vals["metadata_bug"] = knob.BoolValue(false)
	vals["client_release"] = knob.ChoiceValue("after")
	if err := p.SetValues(vals); err != nil {
		t.Fatal(err)
	}
	if len(*calls) != 0 {
		t.Errorf("SetValues called onChange: %v", *calls)
	}
	q, m, c := row(t, p, "queue_limit"), row(t, p, "metadata_bug"), row(t, p, "client_release")
	if q.entry.Text != "500" || math.Abs(q.slider.Value/sliderSteps-q.scale.toPos(500)) > 0.5/sliderSteps {
		t.Errorf("queue_limit shows %q at slider %v, want 500", q.entry.Text, q.slider.Value)
	}
	if m.check.Checked || c.sel.Selected != "after" {
		t.Errorf("metadata_bug checked %v, client_release %q: want false, after", m.check.Checked, c.sel.Selected)
	}
	for _, r := range []*knobRow{q, m, c} {
		if !r.name.TextStyle.Bold || !shows(w, r.reset) {
			t.Errorf("%s: not marked changed after SetValues", r.k.Name)
		}
	}
	checkLayout(t, p)
	if !maps(p.Values(), vals) {
		t.Errorf("Values() = %v, want %v", p.Values(), vals)
	}

	// Missing knobs go back to their defaults; a bad value is refused.
	err := p.SetValues(knob.Values{"queue_limit": knob.IntegerValue(5)})
	if !errors.Is(err, knob.ErrOutOfRange) || !strings.Contains(err.Error(), "queue_limit") {
		t.Errorf("SetValues(queue_limit=5) error %v, want one naming queue_limit, out of range", err)
	}
	if got := p.Values()["queue_limit"]; !got.Equal(knob.IntegerValue(500)) {
		t.Errorf("queue_limit %v after a refused value, want 500 kept", got)
	}
	if m.check.Checked != true || c.sel.Selected != "before" {
		t.Errorf("knobs missing from SetValues did not return to their defaults")
	}
	if len(*calls) != 0 {
		t.Errorf("SetValues called onChange: %v", *calls)
	}
}

func maps(a, b knob.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !b[k].Equal(v) {
			return false
		}
	}
	return true
}

// TestKnobPanelLiveDisablesFixedKnobs replays reactive-outage-2025, whose
// open_tabs_version and tier cannot change mid-run: exactly those are
// disabled, each saying which field holds it, and all come back after.
func TestKnobPanelLiveDisablesFixedKnobs(t *testing.T) {
	test.NewTempApp(t)
	p, w, _, sc := newTestPanel(t, "reactive-outage-2025")
	var fixed []string
	for _, k := range sc.Knobs.All() {
		if live, _ := sc.LiveKnob(k.Name); !live {
			fixed = append(fixed, k.Name)
		}
	}
	if len(fixed) == 0 || len(fixed) == len(p.rows) {
		t.Fatalf("reactive-outage-2025 has fixed knobs %v; the test needs some fixed and some live", fixed)
	}
	p.SetLive(true)
	checkLayout(t, p)
	for _, r := range p.rows {
		live, field := sc.LiveKnob(r.k.Name)
		for _, c := range r.controls() {
			if c.Disabled() == live && c != fyne.Disableable(r.reset) {
				t.Errorf("%s: a control disabled %v during a run, LiveKnob says live %v", r.k.Name, c.Disabled(), live)
			}
		}
		reason := "Cannot change during a run: it sets " + field + "."
		if shown := shows(w, r.why) && r.why.Text == reason; shown == live {
			t.Errorf("%s: reason %q shown %v, want shown %v", r.k.Name, r.why.Text, shows(w, r.why), !live)
		}
	}
	p.SetLive(false)
	for _, r := range p.rows {
		for _, c := range r.controls() {
			if c.Disabled() {
				t.Errorf("%s: still disabled after the run", r.k.Name)
			}
		}
		if shows(w, r.why) {
			t.Errorf("%s: reason still shown after the run", r.k.Name)
		}
	}
}

// TestKnobPanelLiveFromYAML loads a small scenario whose only knob sets a
// station's discipline, which a running model cannot switch, to check the
// panel reads LiveKnob for a choice declared outside the built-ins too.
func TestKnobPanelLiveFromYAML(t *testing.T) {
	test.NewTempApp(t)
	src := `apiVersion: stormglass/v1
kind: Scenario
metadata:
  name: discipline
  title: one station, discipline as a knob
run:
  horizon: 1h
  warmup: 1m
knobs:
  - name: discipline
    type: choice
    choices: [fcfs, ps]
    default: fcfs
    help: How the server shares its time among the jobs present.
  - name: arrival_rate
    type: rate
    default: 5/s
    min: 0/s
    max: 9/s
    help: Mean arrival rate of the Poisson source.
components:
  - name: system
    kind: queueing-network
    stations:
      - name: server
        discipline: $discipline
        servers: 1
        service: {distribution: exponential, mean: 100ms}
        to: done
    sinks: [done]
workload:
  - name: arrivals
    process: poisson
    rate: $arrival_rate
    to: server
`
	path := filepath.Join(t.TempDir(), "discipline.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if live, _ := sc.LiveKnob("discipline"); live {
		t.Skip("the model now switches a station's discipline mid-run; nothing fixed to show")
	}
	p, w, _ := newPanelFor(t, sc)
	p.SetLive(true)
	d, a := row(t, p, "discipline"), row(t, p, "arrival_rate")
	if !d.sel.Disabled() || !shows(w, d.why) || a.entry.Disabled() || a.slider.Disabled() {
		t.Errorf("during a run: discipline disabled %v with reason %v; arrival_rate disabled %v",
			d.sel.Disabled(), shows(w, d.why), a.entry.Disabled())
	}
}

// TestSliderScale checks the mapping both ways at the ends and the
// middle: linear over a narrow range, logarithmic over wide ones, from 0
// and from above 0, and that a released slider commits a round value.
func TestSliderScale(t *testing.T) {
	test.NewTempApp(t)
	checkout, err := scenarios.Builtin("checkout")
	if err != nil {
		t.Fatal(err)
	}
	mm1, err := scenarios.Builtin("mm1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sc        *scenarios.Scenario
		knob      string
		log       bool
		middle    float64 // the value at position 0.5
		snapped   knob.Value
		lo, hi    float64
		tolerance float64
	}{
		// 0 to 1e6 requests: offset by one request, the middle is √(1e6+1)−1.
		{checkout, "app_queue_limit", true, math.Sqrt(1e6+1) - 1, knob.IntegerValue(1000), 0, 1e6, 1e-6},
		// 1ms to 10s: a plain log scale, the middle is the geometric mean.
		{mm1, "service_time", true, 0.1, knob.DurationValue(100 * time.Millisecond), 1e-3, 10, 1e-12},
		// 0 to 9.9/s: under two decades, linear.
		{mm1, "arrival_rate", false, 4.95, knob.RateValue(5), 0, 9.9, 1e-12},
	} {
		k, _ := c.sc.Knobs.Lookup(c.knob)
		s, ok := newSliderScale(k)
		if !ok || s.log != c.log {
			t.Errorf("%s: scale %+v, want log %v", c.knob, s, c.log)
			continue
		}
		for _, pv := range [][2]float64{{0, c.lo}, {0.5, c.middle}, {1, c.hi}} {
			if got := s.toValue(pv[0]); math.Abs(got-pv[1]) > c.tolerance*math.Max(1, pv[1]) {
				t.Errorf("%s: toValue(%v) = %v, want %v", c.knob, pv[0], got, pv[1])
			}
			if got := s.toPos(pv[1]); math.Abs(got-pv[0]) > 1e-9 {
				t.Errorf("%s: toPos(%v) = %v, want %v", c.knob, pv[1], got, pv[0])
			}
		}
		if got := s.snap(k.Kind, 0.5); !got.Equal(c.snapped) {
			t.Errorf("%s: snap(0.5) = %v, want %v", c.knob, got, c.snapped)
		}
		if got := s.snap(k.Kind, 1); !got.Equal(k.Max) {
			t.Errorf("%s: snap(1) = %v, want the max %v", c.knob, got, k.Max)
		}
	}

	// Through the widget: dragging previews without reporting, release
	// reports once, snapped.
	p, _, calls, _ := newTestPanel(t, "checkout")
	r := row(t, p, "app_workers") // 1 to 10000 workers, log
	r.slider.Resize(fyne.NewSize(200, r.slider.MinSize().Height))
	r.slider.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(60, 5)}})
	r.slider.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(100, 5)}})
	if len(*calls) != 0 {
		t.Fatalf("dragging called onChange: %v", *calls)
	}
	preview := r.entry.Text
	r.slider.DragEnd()
	if len(*calls) != 1 || (*calls)[0].name != "app_workers" {
		t.Fatalf("release: onChange calls %v, want one for app_workers", *calls)
	}
	v := (*calls)[0].v
	if v.Kind() != knob.Integer || v.String() != preview || v.Float() != roundSignificant(v.Float(), 2) {
		t.Errorf("released at %v (preview %q): want an integer of two significant digits, as previewed", v, preview)
	}
	// An arrow key moves an integer knob of a few values by one.
	mmck, _, mcalls, _ := newTestPanel(t, "mmck")
	sv := row(t, mmck, "servers") // 1 to 10, linear, default 2
	sv.slider.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	if len(*mcalls) != 1 || !(*mcalls)[0].v.Equal(knob.IntegerValue(3)) {
		t.Errorf("arrow right on servers=2: onChange calls %v, want servers=3", *mcalls)
	}
}

// TestKnobPanelMarkup keeps the mm1 panel's layout in a golden file, so
// that a change to it shows in review. Regenerate by deleting the file,
// running the test and moving testdata/failed/knobs_mm1.xml into place.
func TestKnobPanelMarkup(t *testing.T) {
	test.NewTempApp(t)
	p, w, _, _ := newTestPanel(t, "mm1")
	w.Resize(fyne.NewSize(360, 480))
	test.AssertRendersToMarkup(t, "knobs_mm1.xml", w.Canvas())

	// The same panel with one knob changed and one refused.
	submit(row(t, p, "service_time").entry, "250ms")
	submit(row(t, p, "arrival_rate").entry, "12/s")
	w.Canvas().Unfocus()
	test.AssertRendersToMarkup(t, "knobs_mm1_changed.xml", w.Canvas())
}

// TestKnobPanelPicture saves pictures of the reactive-outage-2025 panel in
// a narrow column, at rest and during a run with a knob changed and a
// value refused, for a person to look at: to $STORMGLASS_ARTIFACTS when
// set.
func TestKnobPanelPicture(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme())
	dir := os.Getenv("STORMGLASS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p, w, _, _ := newTestPanel(t, "reactive-outage-2025")
	save := func(name string) {
		t.Helper()
		img := w.Canvas().Capture()
		if b := img.Bounds(); b.Dx() < 360 || b.Dy() < 700 {
			t.Fatalf("captured %v, want 360×700 at least", b)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s", f.Name())
	}
	save("knobs-reactive-outage-2025.png")
	// It fits a narrow column and scrolls rather than stretching the window.
	if min := p.MinSize(); min.Width > 320 || min.Height > 300 {
		t.Errorf("the panel asks for %v: too big for a 320 px column", min)
	}
	if c, v := p.scroll.Content.Size().Height, p.scroll.Size().Height; c <= v {
		t.Errorf("content %v high in a %v high view: expected it to scroll", c, v)
	}

	submit(row(t, p, "queue_limit").entry, "50000")
	submit(row(t, p, "query_concurrency").entry, "5000")
	p.SetLive(true)
	save("knobs-reactive-outage-2025-live.png")
	p.scroll.ScrollToBottom()
	save("knobs-reactive-outage-2025-live-bottom.png")
}
