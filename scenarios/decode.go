package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
)

// maxNodes caps the YAML values a file may expand to. Aliases let a small
// file describe an enormous tree (a "billion laughs" bomb); counting every
// value the decoder visits stops one after a bounded amount of work.
const maxNodes = 200_000

// decoder walks a YAML node tree, collecting errors with their positions.
type decoder struct {
	file    string
	errs    []*FieldError
	visited int
	aborted bool
	knobs   *knob.Set
	uses    map[string][]use
	// knobDecl is where each knob is declared, broken ones included, so a
	// reference to a knob whose declaration has errors is not also called
	// unknown, and an unused knob is reported at its declaration.
	knobDecl map[string]Pos
	broken   map[string]bool // declared with errors
	refused  map[string]bool // referred to, but the reference failed
	// dropped is set when a component or section could not be decoded, so
	// the references into it are not reported as dangling too.
	dropped bool
}

func (d *decoder) errorAt(pos Pos, field, format string, a ...any) {
	d.errs = append(d.errs, &FieldError{File: d.file, Pos: pos, Field: field, Msg: fmt.Sprintf(format, a...), Err: ErrInvalid})
}

func (d *decoder) errorf(n *yaml.Node, field, format string, a ...any) {
	d.errorAt(posOf(n), field, format, a...)
}

func posOf(n *yaml.Node) Pos {
	if n == nil {
		return Pos{}
	}
	return Pos{n.Line, n.Column}
}

// deref follows aliases and counts the node against the budget; nil once
// the budget is spent.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			n = nil
			break
		}
		n = n.Alias
	}
	d.visited++
	if d.visited > maxNodes {
		if !d.aborted {
			d.aborted = true
			d.errorAt(Pos{}, "", "the document expands to more than %d values (aliases nested too deep?): refusing to read it", maxNodes)
		}
		return nil
	}
	return n
}

// describe names what a node is, for "got ..." in messages.
func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return strconv.Quote(v)
	}
	return "an unexpected YAML value"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// field is one key a mapping accepts.
type field struct {
	name     string
	required bool
	decode   func(v *yaml.Node, path string)
}

// mapping decodes a mapping whose keys must be among fields: unknown keys,
// duplicate keys and missing required keys are errors. It reports whether n
// was a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) bool {
	n = d.deref(n)
	if n == nil {
		return false
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping with the fields %s, got %s", strings.Join(names, ", "), describe(n))
		return false
	}
	seen := make(map[string]*yaml.Node, len(fields))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			return false
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "expected a field name, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.errorf(k, path, "merge keys (<<) are not supported: write the fields out, or use a variant")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, join(path, k.Value), "duplicate field (first given at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		at := slices.IndexFunc(fields, func(f field) bool { return f.name == k.Value })
		if at < 0 {
			d.errorf(k, path, "unknown field %q%s: expected one of %s", k.Value, suggest(k.Value, names), strings.Join(names, ", "))
			d.unread(v)
			continue
		}
		fields[at].decode(v, join(path, k.Value))
		if d.aborted {
			return false
		}
	}
	for _, f := range fields {
		if _, ok := seen[f.name]; f.required && !ok {
			d.errorf(n, path, "missing required field %q", f.name)
		}
	}
	return true
}

// unread notes the knobs referred to within n, a part of the file the
// loader could not read (an unknown field, a component of an unknown
// kind): they are used there, and saying otherwise would send the reader
// after the wrong mistake.
func (d *decoder) unread(n *yaml.Node) { d.unreadAt(n, 0) }

func (d *decoder) unreadAt(n *yaml.Node, depth int) {
	if n == nil || depth > 1000 { // deeper than any scenario; yaml.v3 caps nesting too
		return
	}
	if n.Kind == yaml.ScalarNode && n.Style == 0 && strings.HasPrefix(n.Value, "$") {
		if name := n.Value[1:]; len(d.uses[name]) == 0 {
			d.refused[name] = true
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		return // the anchor is read, or reported, where it is defined
	}
	for _, c := range n.Content {
		d.unreadAt(c, depth+1)
	}
}

// sequence decodes each element of a list.
func (d *decoder) sequence(n *yaml.Node, path, what string, each func(i int, v *yaml.Node, path string)) {
	n = d.deref(n)
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list of %s, got %s", what, describe(n))
		return
	}
	for i, v := range n.Content {
		each(i, v, index(path, i))
		if d.aborted {
			return
		}
	}
}

// scalar returns a scalar's text; an error for anything else, null
// included.
func (d *decoder) scalar(n *yaml.Node, path, expected string) (string, bool) {
	n = d.deref(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "expected %s, got %s", expected, describe(n))
		return "", false
	}
	return n.Value, true
}

// text decodes a string field (titles, descriptions).
func (d *decoder) text(n *yaml.Node, path string, out *string) {
	s, ok := d.scalar(n, path, "a string")
	if ok && strings.TrimSpace(s) == "" {
		d.errorf(n, path, "expected a non-empty string")
		return
	}
	*out = s
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// name decodes an identifier: a lower-case letter, then letters, digits,
// _ and -.
func (d *decoder) name(n *yaml.Node, path string, out *string) {
	s, ok := d.scalar(n, path, "a name")
	if !ok {
		return
	}
	if !nameRE.MatchString(s) {
		d.errorf(n, path, "%q is not a valid name: expected a lower-case letter, then lower-case letters, digits, _ or -, at most 64 characters", s)
		return
	}
	*out = s
}

// value decodes a literal of a kind. Numbers must be YAML numbers: a
// quoted "8" for an integer is a mistake worth reporting, not coercing.
func (d *decoder) value(n *yaml.Node, path string, kind knob.Kind) (knob.Value, bool) {
	n = d.deref(n)
	if n == nil {
		return knob.Value{}, false
	}
	s, ok := d.scalar(n, path, exampleOf(kind))
	if !ok {
		return knob.Value{}, false
	}
	if (kind == knob.Integer || kind == knob.Number || kind == knob.Bool) && n.Tag == "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		d.errorf(n, path, "expected %s, got the string %q (remove the quotes)", exampleOf(kind), s)
		return knob.Value{}, false
	}
	v, err := knob.Parse(kind, s)
	if err != nil {
		d.errorf(n, path, "%s", strings.TrimPrefix(err.Error(), knob.ErrSyntax.Error()+" "))
		return knob.Value{}, false
	}
	return v, true
}

func exampleOf(kind knob.Kind) string {
	switch kind {
	case knob.Number:
		return "a number"
	case knob.Integer:
		return "a whole number"
	case knob.Duration:
		return "a duration with a unit, such as 300s or 5m"
	case knob.Rate:
		return "a rate with a unit of time, such as 5000/s"
	case knob.Bool:
		return "true or false"
	case knob.Choice:
		return "a word"
	}
	return "a value"
}

// duration decodes a duration of at least min.
func (d *decoder) duration(n *yaml.Node, path string, min time.Duration, out *time.Duration) bool {
	v, ok := d.value(n, path, knob.Duration)
	if !ok {
		return false
	}
	if v.Duration() < min {
		d.errorf(n, path, "%v is out of range: expected at least %v", v, knob.DurationValue(min))
		return false
	}
	*out = v.Duration()
	return true
}

// integer decodes a whole number in [min, max].
func (d *decoder) integer(n *yaml.Node, path string, min, max int64, out *int64) bool {
	v, ok := d.value(n, path, knob.Integer)
	if !ok {
		return false
	}
	if v.Int() < min || v.Int() > max {
		d.errorf(n, path, "%v is out of range: expected %d to %d", v, min, max)
		return false
	}
	*out = v.Int()
	return true
}

// paramSpec is what a field accepts: a kind, bounds and choices.
type paramSpec struct {
	kind     knob.Kind
	min, max float64 // inclusive; ±Inf for none
	positive bool    // > 0
	choices  []string
	live     bool // a knob it reads may change mid-run
}

func (s paramSpec) accepts(x float64) bool {
	return x >= s.min && x <= s.max && (!s.positive || x > 0)
}

func (s paramSpec) describe() string {
	var parts []string
	if s.positive {
		parts = append(parts, "above 0")
	} else if !math.IsInf(s.min, -1) {
		parts = append(parts, "at least "+fmtNum(s.kind, s.min))
	}
	if !math.IsInf(s.max, 1) {
		parts = append(parts, "at most "+fmtNum(s.kind, s.max))
	}
	return strings.Join(parts, " and ")
}

func fmtNum(kind knob.Kind, x float64) string {
	switch kind {
	case knob.Duration:
		return knob.DurationValue(time.Duration(x * 1e9)).String()
	case knob.Rate:
		return knob.RateValue(x).String()
	case knob.Integer:
		return strconv.FormatInt(int64(x), 10)
	}
	return knob.NumberValue(x).String()
}

// param decodes a field that takes a literal or a $knob reference. A
// referenced knob must be of the field's kind and its whole range must be
// valid for the field, so no value a planner can set breaks the model.
func (d *decoder) param(n *yaml.Node, path string, spec paramSpec) Param {
	n = d.deref(n)
	if n == nil {
		return Param{}
	}
	pos := posOf(n)
	if n.Kind == yaml.ScalarNode && n.Style == 0 && strings.HasPrefix(n.Value, "$") {
		name := n.Value[1:]
		d.refused[name] = true // until the reference succeeds
		if d.broken[name] {
			return Param{} // its declaration's errors are reported
		}
		k, err := d.knobs.Get(name)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return Param{}
		}
		if k.Kind != spec.kind {
			d.errorf(n, path, "knob %s is of type %v, but this field takes %s", name, k.Kind, exampleOf(spec.kind))
			return Param{}
		}
		ok := true
		if spec.kind == knob.Choice {
			for _, c := range k.Choices {
				if !slices.Contains(spec.choices, c) {
					d.errorf(n, path, "knob %s allows %q, which this field does not accept: expected choices among %s", name, c, strings.Join(spec.choices, ", "))
					ok = false
				}
			}
		} else if spec.kind.Numeric() {
			lowOK := !k.Min.IsSet() && math.IsInf(spec.min, -1) && !spec.positive || k.Min.IsSet() && spec.accepts(k.Min.Float())
			highOK := !k.Max.IsSet() && math.IsInf(spec.max, 1) || k.Max.IsSet() && spec.accepts(k.Max.Float())
			if !lowOK || !highOK {
				d.errorf(n, path, "knob %s allows %s, but this field accepts only values %s: narrow the knob's range", name, k.RangeText(), spec.describe())
				ok = false
			}
		}
		if !ok {
			return Param{}
		}
		d.uses[name] = append(d.uses[name], use{field: path, pos: pos, live: spec.live})
		delete(d.refused, name)
		return Param{Knob: name, Pos: pos}
	}
	v, ok := d.value(n, path, spec.kind)
	if !ok {
		return Param{}
	}
	if spec.kind == knob.Choice && !slices.Contains(spec.choices, v.Word()) {
		d.errorf(n, path, "unknown value %q%s: expected one of %s", v.Word(), suggest(v.Word(), spec.choices), strings.Join(spec.choices, ", "))
		return Param{}
	}
	if spec.kind.Numeric() && !spec.accepts(v.Float()) {
		d.errorf(n, path, "%v is out of range: expected a value %s", v, spec.describe())
		return Param{}
	}
	return Param{Value: v, Pos: pos}
}

// oneOf decodes a word that must be one of known; noun names it in the
// error ("distribution": unknown distribution "x" (did you mean ...)).
func (d *decoder) oneOf(n *yaml.Node, path, expected, noun string, known []string) (string, bool) {
	w, ok := d.scalar(n, path, expected)
	if !ok {
		return "", false
	}
	if !slices.Contains(known, w) {
		d.errorf(n, path, "unknown %s %q%s: expected one of %s", noun, w, suggest(w, known), strings.Join(known, ", "))
		return "", false
	}
	return w, true
}

// suggest returns ` (did you mean "x"?)` when a known word is close.
func suggest(word string, known []string) string {
	if best, ok := knob.Nearest(word, known); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
