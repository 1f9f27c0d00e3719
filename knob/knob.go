package knob

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Knob declares one tunable parameter.
type Knob struct {
	Name string // lower case words joined by _ or ., e.g. queue_limit, db.pool_size
	Kind Kind
	// Unit names what a number or integer counts (servers, connections,
	// fraction). Durations and rates carry their unit in their values.
	Unit    string
	Default Value
	// Min and Max bound a numeric knob, inclusive; unset means unbounded.
	Min, Max Value
	Choices  []string // the words a choice knob accepts
	Help     string   // one line: what it is and what changing it does
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// ValidName reports whether s is a well-formed knob name.
func ValidName(s string) bool { return len(s) <= 64 && nameRE.MatchString(s) }

// ErrOutOfRange is wrapped by every error about a value outside its knob's
// range or choices.
var ErrOutOfRange = errors.New("out of range")

// Validate checks the declaration itself: a well-formed name, a default
// inside the range, a range that is not empty, choices for a choice knob
// and help text.
func (k Knob) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !ValidName(k.Name) {
		add("name %q: expected lower-case letters, digits and _, in words joined by dots, starting with a letter, at most 64 characters", k.Name)
	}
	if k.Kind < Number || k.Kind > Choice {
		add("type: %v is not a knob type", k.Kind)
		return errors.Join(errs...)
	}
	if strings.TrimSpace(k.Help) == "" {
		add("help: expected one line saying what the knob is and what changing it does")
	}
	if k.Unit != "" && k.Kind != Number && k.Kind != Integer {
		add("unit: only number and integer knobs take a unit; a %v carries its unit in its values", k.Kind)
	}
	for _, b := range []struct {
		name string
		v    Value
	}{{"min", k.Min}, {"max", k.Max}} {
		if !b.v.IsSet() {
			continue
		}
		if !k.Kind.Numeric() {
			add("%s: a %v knob has no range", b.name, k.Kind)
		} else if b.v.kind != k.Kind {
			add("%s: expected a value of type %v, got one of type %v", b.name, k.Kind, b.v.kind)
		}
	}
	if k.Min.IsSet() && k.Max.IsSet() && k.Min.kind == k.Kind && k.Max.kind == k.Kind && k.Min.num > k.Max.num {
		add("range: min %v is above max %v", k.Min, k.Max)
	}
	if k.Kind == Choice {
		if len(k.Choices) == 0 {
			add("choices: a choice knob needs at least one choice")
		}
		for i, c := range k.Choices {
			if strings.TrimSpace(c) == "" || strings.ContainsAny(c, " \t\n,=") {
				add("choices[%d]: %q is not a single word", i, c)
			}
			if slices.Contains(k.Choices[:i], c) {
				add("choices[%d]: %q is listed twice", i, c)
			}
		}
	} else if len(k.Choices) > 0 {
		add("choices: only a choice knob takes choices")
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if !k.Default.IsSet() {
		return errors.New("default: every knob needs a default")
	}
	if err := k.Check(k.Default); err != nil {
		return fmt.Errorf("default: %w", err)
	}
	return nil
}

// Check reports whether v is a valid value of the knob: of its kind,
// inside its range, one of its choices.
func (k Knob) Check(v Value) error {
	if v.kind != k.Kind {
		return fmt.Errorf("%w: expected %s, got a value of type %v", ErrSyntax, k.Kind.example(), v.kind)
	}
	switch {
	case k.Kind == Choice:
		if !slices.Contains(k.Choices, v.word) {
			return fmt.Errorf("%q is %w: expected one of %s", v.word, ErrOutOfRange, strings.Join(k.Choices, ", "))
		}
	case k.Kind.Numeric():
		x := v.num
		if (k.Min.IsSet() && x < k.Min.num) || (k.Max.IsSet() && x > k.Max.num) || math.IsNaN(x) {
			return fmt.Errorf("%s is %w: expected %s", k.Format(v), ErrOutOfRange, k.RangeText())
		}
	}
	return nil
}

// Parse reads text as a value of the knob and checks it.
func (k Knob) Parse(text string) (Value, error) {
	v, err := Parse(k.Kind, text)
	if err != nil {
		if k.Kind == Choice {
			return Value{}, fmt.Errorf("%w %q: expected one of %s", ErrSyntax, text, strings.Join(k.Choices, ", "))
		}
		return Value{}, err
	}
	if err := k.Check(v); err != nil {
		return Value{}, err
	}
	return v, nil
}

// Format writes v with the knob's unit: "16 servers", "300s", "5000/s".
func (k Knob) Format(v Value) string {
	if k.Unit != "" && (v.kind == Number || v.kind == Integer) {
		return v.String() + " " + k.Unit
	}
	return v.String()
}

// UnitText is the knob's unit as a table shows it: the declared unit, s for
// durations, /s for rates, nothing for bools and choices.
func (k Knob) UnitText() string {
	switch k.Kind {
	case Duration:
		return "s"
	case Rate:
		return "/s"
	}
	return k.Unit
}

// RangeText describes the valid values: "1 to 1000 servers", "at least
// 0/s", "one of fcfs, ps", "any number".
func (k Knob) RangeText() string {
	switch k.Kind {
	case Bool:
		return "true or false"
	case Choice:
		return "one of " + strings.Join(k.Choices, ", ")
	}
	unit := ""
	if k.Unit != "" {
		unit = " " + k.Unit
	}
	switch {
	case k.Min.IsSet() && k.Max.IsSet():
		return k.Min.String() + " to " + k.Max.String() + unit
	case k.Min.IsSet():
		return "at least " + k.Min.String() + unit
	case k.Max.IsSet():
		return "at most " + k.Max.String() + unit
	}
	return "any " + kindNames[k.Kind]
}
