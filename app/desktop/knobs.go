package desktop

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"stormglass/knob"
	"stormglass/scenarios"
)

// KnobPanel shows a scenario's knobs, one row each in declaration order,
// for a planner to turn before a run and, where the model allows, during a
// replay. Numeric knobs get a slider and an entry that reads the knob's own
// syntax (250ms, 9.5/s, 100_000), choices a select, bools a check. A knob
// away from its default is drawn bold with a reset button.
//
// Like every widget, a KnobPanel is used from the UI goroutine: call its
// methods there or inside fyne.Do.
type KnobPanel struct {
	widget.BaseWidget

	sc       *scenarios.Scenario
	onChange func(name string, v knob.Value)
	rows     []*knobRow
	live     bool

	title    *widget.Label
	resetAll *widget.Button
	list     *fyne.Container // the rows, with separators between them
	scroll   *container.Scroll
	content  fyne.CanvasObject
}

// NewKnobPanel builds the panel for sc's knobs, showing values (a knob
// missing from values shows its default). onChange, if not nil, is called
// once per change the user commits, with the knob's new, checked value;
// never for values set by the program. An error names values that do not
// fit their knob; the panel is still built, with defaults in their place.
func NewKnobPanel(sc *scenarios.Scenario, values knob.Values, onChange func(name string, v knob.Value)) (*KnobPanel, error) {
	p := &KnobPanel{sc: sc, onChange: onChange}
	p.ExtendBaseWidget(p)
	p.title = widget.NewLabelWithStyle("Knobs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.title.Truncation = fyne.TextTruncateEllipsis
	p.resetAll = widget.NewButtonWithIcon("Reset all", theme.ContentUndoIcon(), p.resetAllTapped)
	p.resetAll.Importance = widget.LowImportance

	var knobs []knob.Knob
	if sc != nil && sc.Knobs != nil {
		knobs = sc.Knobs.All()
	}
	list := container.NewVBox()
	p.list = list
	for i, k := range knobs {
		r := newKnobRow(p, k)
		p.rows = append(p.rows, r)
		if i > 0 {
			list.Add(widget.NewSeparator())
		}
		list.Add(r.box)
	}
	if len(knobs) == 0 {
		empty := widget.NewLabel("This scenario has no knobs to turn.")
		empty.Wrapping = fyne.TextWrapWord
		list.Add(empty)
	}
	// The scroll bar is drawn over the content's right edge: keep the
	// entries clear of it.
	gutter := canvas.NewRectangle(color.Transparent)
	gutter.SetMinSize(fyne.NewSize(theme.Size(theme.SizeNameScrollBarSmall)+2*theme.Padding(), 0))
	p.scroll = container.NewVScroll(container.NewBorder(nil, nil, nil, gutter, list))
	header := container.NewBorder(nil, nil, nil, p.resetAll, p.title)
	p.content = container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil, p.scroll)

	err := p.apply(values)
	return p, err
}

// CreateRenderer is part of fyne.Widget.
func (p *KnobPanel) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(p.content)
}

// Values returns every knob's value now in effect: the last valid one
// committed or set, never text still being typed or refused.
func (p *KnobPanel) Values() knob.Values {
	v := make(knob.Values, len(p.rows))
	for _, r := range p.rows {
		v[r.k.Name] = r.value
	}
	return v
}

// SetValues shows values, as when a variant is picked or a replay
// restarts, without calling onChange; a knob missing from values returns
// to its default, and text the user had typed but not committed is
// dropped. A value that does not fit its knob is refused with an error
// and the knob keeps its value; the others are still set.
func (p *KnobPanel) SetValues(values knob.Values) error {
	err := p.apply(values)
	p.relayout()
	return err
}

// relayout lays the rows out again after a marker, reason or reset button
// appeared or went: containers do not notice a child's visibility.
func (p *KnobPanel) relayout() {
	p.scroll.Refresh()
}

func (p *KnobPanel) apply(values knob.Values) error {
	var errs []error
	for _, r := range p.rows {
		v, ok := values[r.k.Name]
		if !ok {
			v = r.k.Default
		}
		if err := r.k.Check(v); err != nil {
			errs = append(errs, fmt.Errorf("knob %s: %w", r.k.Name, err))
			v = r.value
			if !v.IsSet() {
				v = r.k.Default
			}
		}
		r.show(v)
	}
	p.changedCount()
	return errors.Join(errs...)
}

// SetLive tells the panel whether a run is playing. While it is, knobs
// the model cannot follow mid-run are disabled and say why, so that a
// planner does not turn one and wonder why nothing happens.
func (p *KnobPanel) SetLive(live bool) {
	p.live = live
	for _, r := range p.rows {
		r.syncEnabled()
	}
	p.changedCount()
	p.relayout()
}

// resetAllTapped returns every knob the user may turn now to its default,
// reporting each one that changes.
func (p *KnobPanel) resetAllTapped() {
	for _, r := range p.rows {
		if r.enabled() {
			r.commit(r.k.Default)
		}
	}
}

// changedCount updates the title and the Reset all button after a value
// or the live state changes.
func (p *KnobPanel) changedCount() {
	changed, resettable := 0, 0
	for _, r := range p.rows {
		if r.changed() {
			changed++
			if r.enabled() {
				resettable++
			}
		}
	}
	title := "Knobs"
	if changed > 0 {
		title = fmt.Sprintf("Knobs · %d changed", changed)
	}
	if p.title.Text != title {
		p.title.SetText(title)
	}
	if resettable > 0 {
		p.resetAll.Enable()
	} else {
		p.resetAll.Disable()
	}
}

// knobRow is one knob's row: the widgets and the value in effect.
type knobRow struct {
	p     *KnobPanel
	k     knob.Knob
	value knob.Value

	liveOK    bool   // the model follows the knob mid-run
	liveField string // the first field that cannot follow it, when not

	name    *widget.Label
	reset   *widget.Button
	help    *widget.Label
	rng     *widget.Label // range and default, for numeric knobs
	problem *widget.Label // why typed text was refused
	why     *widget.Label // why the knob is fixed during a replay

	// Only the controls of the knob's kind are set.
	slider *widget.Slider
	scale  sliderScale
	entry  *knobEntry
	sel    *widget.Select
	check  *widget.Check

	box fyne.CanvasObject
}

// captionLabel is a small label under a row's controls that wraps
// rather than widening the narrow column.
func captionLabel(text string, imp widget.Importance) *widget.Label {
	l := widget.NewLabel(text)
	l.SizeName = theme.SizeNameCaptionText
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	return l
}

func newKnobRow(p *KnobPanel, k knob.Knob) *knobRow {
	r := &knobRow{p: p, k: k, liveOK: true}
	if p.sc != nil {
		r.liveOK, r.liveField = p.sc.LiveKnob(k.Name)
	}
	title := k.Name
	if u := k.UnitText(); u != "" {
		title += " (" + u + ")"
	}
	r.name = widget.NewLabel(title)
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.reset = widget.NewButtonWithIcon("", theme.ContentUndoIcon(), func() { r.commit(r.k.Default) })
	r.reset.Importance = widget.LowImportance
	r.reset.Hide()
	r.help = captionLabel(k.Help, widget.MediumImportance)
	r.problem = captionLabel("", widget.DangerImportance)
	r.problem.Hide()
	r.why = captionLabel("", widget.WarningImportance)
	if !r.liveOK {
		r.why.SetText("Cannot change during a run: it sets " + r.liveField + ".")
	}
	r.why.Hide()

	var lead fyne.CanvasObject
	parts := []fyne.CanvasObject{nil, r.help}
	switch k.Kind {
	case knob.Bool:
		r.check = widget.NewCheck("", func(on bool) { r.commit(knob.BoolValue(on)) })
		lead = r.check
	case knob.Choice:
		r.sel = widget.NewSelect(k.Choices, func(word string) { r.commit(knob.ChoiceValue(word)) })
		parts = append(parts, r.sel)
	default:
		r.entry = newKnobEntry(r.entryCommit)
		entryBox := container.New(fixedWidth(110), r.entry)
		control := fyne.CanvasObject(entryBox)
		if sc, ok := newSliderScale(k); ok {
			r.scale = sc
			r.slider = widget.NewSlider(0, sliderSteps)
			r.slider.OnChanged = r.sliderMoved
			r.slider.OnChangeEnded = r.sliderReleased
			control = container.NewBorder(nil, nil, nil, entryBox, r.slider)
		}
		r.rng = captionLabel(k.RangeText()+" · default "+k.Default.String(), widget.MediumImportance)
		parts = append(parts, control, r.rng)
	}
	parts[0] = container.NewBorder(nil, nil, lead, r.reset, r.name)
	parts = append(parts, r.problem, r.why)
	// Rows are set apart by separators; inside one, the labels' own
	// padding is space enough.
	r.box = container.New(layout.NewCustomPaddedVBoxLayout(0), parts...)
	return r
}

// show puts v in the widgets without reporting it, dropping any refused
// text.
func (r *knobRow) show(v knob.Value) {
	r.value = v
	r.problem.SetText("")
	r.problem.Hide()
	switch {
	case r.check != nil:
		// Set the field, not SetChecked, which would call OnChanged.
		r.check.Checked = v.Bool()
		r.check.Refresh()
	case r.sel != nil:
		r.sel.Selected = v.Word()
		r.sel.Refresh()
	default:
		r.entry.SetText(v.String())
		if r.slider != nil {
			r.slider.Value = r.scale.toPos(v.Float()) * sliderSteps
			r.slider.Refresh()
		}
	}
	changed := r.changed()
	r.name.TextStyle.Bold = changed
	r.name.Importance = widget.MediumImportance
	if changed {
		r.name.Importance = widget.HighImportance
		r.reset.Show()
	} else {
		r.reset.Hide()
	}
	r.name.Refresh()
	r.syncEnabled()
}

func (r *knobRow) changed() bool { return !r.value.Equal(r.k.Default) }

// enabled reports whether the user may turn the knob now.
func (r *knobRow) enabled() bool { return r.liveOK || !r.p.live }

func (r *knobRow) syncEnabled() {
	on := r.enabled()
	for _, w := range r.controls() {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	if on {
		r.why.Hide()
	} else {
		r.why.Show()
	}
}

// controls lists the row's widgets that take input.
func (r *knobRow) controls() []fyne.Disableable {
	c := []fyne.Disableable{r.reset}
	if r.check != nil {
		c = append(c, r.check)
	}
	if r.sel != nil {
		c = append(c, r.sel)
	}
	if r.entry != nil {
		c = append(c, r.entry)
	}
	if r.slider != nil {
		c = append(c, r.slider)
	}
	return c
}

// commit makes v the knob's value and reports it, if it is new and valid.
func (r *knobRow) commit(v knob.Value) {
	if err := r.k.Check(v); err != nil {
		r.refuse(err)
		return
	}
	if v.Equal(r.value) {
		r.show(v) // clears refused text
		r.p.relayout()
		return
	}
	r.show(v)
	r.p.changedCount()
	r.p.relayout()
	if r.p.onChange != nil {
		r.p.onChange(r.k.Name, v)
	}
}

// refuse shows why input was not taken; the value in effect stays.
func (r *knobRow) refuse(err error) {
	r.problem.SetText(err.Error())
	r.problem.Show()
	r.p.relayout()
}

// entryCommit takes the entry's text on Enter or when the entry loses
// focus.
func (r *knobRow) entryCommit(text string) {
	if text == r.value.String() && r.problem.Hidden {
		return // nothing typed: leaving the entry is not a change
	}
	v, err := r.k.Parse(text)
	if err != nil {
		r.refuse(err)
		return
	}
	r.commit(v)
}

// sliderMoved previews the value under the thumb in the entry while the
// slider is dragged; the value is committed on release.
func (r *knobRow) sliderMoved(pos float64) {
	r.entry.SetText(r.scale.snap(r.k.Kind, pos/sliderSteps).String())
}

// sliderReleased commits the value under the thumb. When the snapped
// value is the one already in effect but the thumb moved (an arrow key
// moves it by a fraction of a step), it goes on to the next value that
// way, so the keyboard can turn an integer knob of a few values.
func (r *knobRow) sliderReleased(pos float64) {
	pos /= sliderSteps
	v := r.scale.snap(r.k.Kind, pos)
	if v.Equal(r.value) {
		// The slider keeps whole steps: compare positions as it holds them.
		cur := math.Round(r.scale.toPos(r.value.Float())*sliderSteps) / sliderSteps
		if dir := pos - cur; math.Abs(dir) > 0.5/sliderSteps {
			step := math.Copysign(1.0/sliderSteps, dir)
			for p := cur + step; p >= 0 && p <= 1; p += step {
				if w := r.scale.snap(r.k.Kind, p); !w.Equal(r.value) {
					v = w
					break
				}
			}
		}
	}
	r.commit(v)
	// Put the thumb where the committed value lies, not where it was let go.
	r.slider.Value = r.scale.toPos(r.value.Float()) * sliderSteps
	r.slider.Refresh()
}

// sliderSteps is the slider's resolution: finer than a column's pixels, so
// dragging never skips a value snapping would give.
const sliderSteps = 1000

// sliderScale maps a numeric knob's range to slider positions 0..1. A
// range over more than two decades is mapped logarithmically, so that a
// queue limit of 0 to 1e6 can be set to 50 as easily as to 500,000.
type sliderScale struct {
	lo, hi float64
	log    bool
	// off shifts values so that lo maps to ln(off): the range's own
	// minimum when above 0 (a plain log scale), else a unit of the kind.
	off float64
}

// newSliderScale returns the scale of a numeric knob with both bounds;
// false for a knob with an open range, which gets an entry only.
func newSliderScale(k knob.Knob) (sliderScale, bool) {
	if !k.Kind.Numeric() || !k.Min.IsSet() || !k.Max.IsSet() || k.Max.Float() <= k.Min.Float() {
		return sliderScale{}, false
	}
	s := sliderScale{lo: k.Min.Float(), hi: k.Max.Float()}
	s.off = s.lo
	if s.lo <= 0 {
		// The smallest step worth a planner's while: one of a count, one
		// per second, a millisecond.
		s.off = 1
		if k.Kind == knob.Duration {
			s.off = 1e-3
		}
	}
	s.log = math.Log10((s.hi-s.lo+s.off)/s.off) > 2
	return s, true
}

func (s sliderScale) toPos(x float64) float64 {
	x = math.Min(math.Max(x, s.lo), s.hi)
	if !s.log {
		return (x - s.lo) / (s.hi - s.lo)
	}
	return math.Log((x-s.lo+s.off)/s.off) / math.Log((s.hi-s.lo+s.off)/s.off)
}

func (s sliderScale) toValue(pos float64) float64 {
	pos = math.Min(math.Max(pos, 0), 1)
	if !s.log {
		return s.lo + pos*(s.hi-s.lo)
	}
	return s.lo - s.off + s.off*math.Exp(pos*math.Log((s.hi-s.lo+s.off)/s.off))
}

// snap returns the value of kind at pos, rounded to what a planner would
// type: two significant digits on a log scale, a round step of about a
// fiftieth of the range on a linear one, whole numbers for integers; and
// clamped to the range, which rounding may leave.
func (s sliderScale) snap(kind knob.Kind, pos float64) knob.Value {
	x := s.toValue(pos)
	switch {
	case pos <= 0:
		x = s.lo
	case pos >= 1:
		x = s.hi
	case s.log:
		x = roundSignificant(x, 2)
	default:
		x = roundToStep(x, (s.hi-s.lo)/50)
	}
	if kind == knob.Integer {
		x = math.Round(x)
	}
	x = math.Min(math.Max(x, s.lo), s.hi)
	return numericValue(kind, x)
}

// roundSignificant rounds x to n significant digits through its decimal
// text, so that 7.4 comes out as 7.4, not 7.4000000000000004.
func roundSignificant(x float64, n int) float64 {
	y, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', n, 64), 64)
	return y
}

// roundToStep rounds x to a multiple of the power of ten at or below
// span, through decimal text for the same reason.
func roundToStep(x, span float64) float64 {
	if span <= 0 {
		return x
	}
	e := math.Floor(math.Log10(span))
	step := math.Pow(10, e)
	digits := max(0, int(-e))
	y, _ := strconv.ParseFloat(strconv.FormatFloat(math.Round(x/step)*step, 'f', digits, 64), 64)
	return y
}

func numericValue(kind knob.Kind, x float64) knob.Value {
	switch kind {
	case knob.Integer:
		return knob.IntegerValue(int64(math.Round(x)))
	case knob.Duration:
		return knob.DurationValue(time.Duration(math.Round(x * 1e9)))
	case knob.Rate:
		return knob.RateValue(x)
	}
	return knob.NumberValue(x)
}

// knobEntry is an entry that commits its text on Enter and when it loses
// focus: a planner who types a value and clicks elsewhere expects it to
// take.
type knobEntry struct {
	widget.Entry
	onCommit func(text string)
}

func newKnobEntry(onCommit func(string)) *knobEntry {
	e := &knobEntry{onCommit: onCommit}
	e.ExtendBaseWidget(e)
	e.OnSubmitted = onCommit
	return e
}

// FocusLost is part of fyne.Focusable.
func (e *knobEntry) FocusLost() {
	e.Entry.FocusLost()
	if !e.Disabled() {
		e.onCommit(e.Text)
	}
}

// fixedWidth lays out one object at least this wide, so that an entry
// does not jump about as its text changes length.
type fixedWidth float32

func (w fixedWidth) MinSize(objects []fyne.CanvasObject) fyne.Size {
	m := objects[0].MinSize()
	return fyne.NewSize(max(float32(w), m.Width), m.Height)
}

func (w fixedWidth) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	objects[0].Move(fyne.NewPos(0, 0))
	objects[0].Resize(size)
}
