package knob

import (
	"errors"
	"fmt"
	"strings"
)

// Set is a scenario's knobs, in declaration order.
type Set struct {
	knobs []Knob
	index map[string]int
}

// NewSet validates each declaration and returns them as a set. Names must
// be unique.
func NewSet(knobs ...Knob) (*Set, error) {
	s := &Set{index: make(map[string]int, len(knobs))}
	var errs []error
	for _, k := range knobs {
		if err := k.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("knob %q: %w", k.Name, err))
			continue
		}
		if _, dup := s.index[k.Name]; dup {
			errs = append(errs, fmt.Errorf("knob %q: declared twice", k.Name))
			continue
		}
		s.index[k.Name] = len(s.knobs)
		s.knobs = append(s.knobs, k)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Len returns the number of knobs.
func (s *Set) Len() int { return len(s.knobs) }

// All returns the knobs in declaration order. The slice is the caller's.
func (s *Set) All() []Knob { return append([]Knob(nil), s.knobs...) }

// Lookup returns the knob named name.
func (s *Set) Lookup(name string) (Knob, bool) {
	i, ok := s.index[name]
	if !ok {
		return Knob{}, false
	}
	return s.knobs[i], true
}

// ErrUnknown is wrapped by errors naming a knob the set does not declare.
var ErrUnknown = errors.New("unknown knob")

// Get returns the knob named name, or an error that lists the knobs there
// are and suggests the nearest name.
func (s *Set) Get(name string) (Knob, error) {
	if k, ok := s.Lookup(name); ok {
		return k, nil
	}
	return Knob{}, s.unknown(name)
}

func (s *Set) unknown(name string) error {
	if len(s.knobs) == 0 {
		return fmt.Errorf("%w %q: this scenario declares no knobs", ErrUnknown, name)
	}
	names := make([]string, len(s.knobs))
	for i, k := range s.knobs {
		names[i] = k.Name
	}
	hint := ""
	if best, ok := Nearest(name, names); ok {
		hint = fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Errorf("%w %q%s: expected one of %s", ErrUnknown, name, hint, strings.Join(names, ", "))
}

// Defaults returns every knob's default value.
func (s *Set) Defaults() Values {
	v := make(Values, len(s.knobs))
	for _, k := range s.knobs {
		v[k.Name] = k.Default
	}
	return v
}

// Parse reads text as a value of the knob named name and checks it.
func (s *Set) Parse(name, text string) (Value, error) {
	k, err := s.Get(name)
	if err != nil {
		return Value{}, err
	}
	v, err := k.Parse(text)
	if err != nil {
		return Value{}, fmt.Errorf("knob %s: %w", name, err)
	}
	return v, nil
}

// ParseAssignment reads "name=value", as given to --set, and returns the
// knob's name and checked value.
func (s *Set) ParseAssignment(text string) (string, Value, error) {
	name, val, ok := strings.Cut(text, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", Value{}, fmt.Errorf("%w %q: expected knob=value, such as servers=8", ErrSyntax, text)
	}
	v, err := s.Parse(name, val)
	return name, v, err
}

// Values maps knob names to values. Iterate in a Set's order, never over the
// map, wherever order shows.
type Values map[string]Value

// Clone returns a copy of v.
func (v Values) Clone() Values {
	c := make(Values, len(v))
	for k, x := range v {
		c[k] = x
	}
	return c
}

// Nearest returns the word among known closest to word, if it is close
// enough to be the one meant (a typo, not another word): for did-you-mean
// hints wherever a name is looked up.
func Nearest(word string, known []string) (string, bool) {
	best, bestDist := "", 1<<30
	for _, k := range known {
		if d := editDistance(word, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, best != "" && bestDist <= max(1, min(2, len(word)/3))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
