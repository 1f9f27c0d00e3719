package hardware

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxSpeed is the fastest per-core speed a tier may declare, relative to
// the reference core. Anything faster is a typo, not hardware.
const MaxSpeed = 100

// Tier is one hardware tier: how many cores, how fast each is, and what
// the tier costs.
type Tier struct {
	Name         string  // lower-case letters, digits and dashes, e.g. pro-large
	Cores        int     // ≥ 1
	Speed        float64 // work per second of one core; the reference core is 1.0
	MemoryGiB    float64 // > 0
	PricePerHour float64 // US dollars per hour, ≥ 0
	Description  string  // optional, one line
}

// Capacity is the tier's CPU capacity in reference cores, cores × speed:
// the reference-core-seconds of work it completes per second with every
// core busy.
func (t Tier) Capacity() float64 { return float64(t.Cores) * t.Speed }

// ErrInvalidTier is wrapped by every error about a tier's declaration and
// by NewCatalogue's errors.
var ErrInvalidTier = errors.New("invalid hardware tier")

// ErrUnknownTier is wrapped by Get's error for a name the catalogue does
// not hold.
var ErrUnknownTier = errors.New("unknown hardware tier")

// TierError is one broken rule of a tier: which field, and what was
// expected. It wraps ErrInvalidTier.
type TierError struct {
	Tier  string // the tier's name as given; may be empty or malformed
	Field string // name, cores, speed, memory or price
	Msg   string
}

func (e *TierError) Error() string {
	if e.Tier == "" {
		return fmt.Sprintf("hardware tier: %s: %s", e.Field, e.Msg)
	}
	return fmt.Sprintf("hardware tier %q: %s: %s", e.Tier, e.Field, e.Msg)
}

func (e *TierError) Unwrap() error { return ErrInvalidTier }

// ValidName reports whether s is a well-formed tier name: not empty, and
// only lower-case letters, digits and dashes.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Validate checks every rule of a tier and returns nil or all the broken
// ones joined, each a *TierError (use errors.As on each, or errors.Is with
// ErrInvalidTier on the whole).
func (t Tier) Validate() error {
	var errs []error
	add := func(field, format string, a ...any) {
		errs = append(errs, &TierError{Tier: t.Name, Field: field, Msg: fmt.Sprintf(format, a...)})
	}
	switch {
	case t.Name == "":
		add("name", "expected a name of lower-case letters, digits and dashes, got nothing")
	case !ValidName(t.Name):
		add("name", "%q is not a valid tier name: expected lower-case letters, digits and dashes", t.Name)
	}
	if t.Cores < 1 {
		add("cores", "%d is out of range: expected at least 1", t.Cores)
	}
	if !(t.Speed > 0 && t.Speed <= MaxSpeed) {
		add("speed", "%s is out of range: expected above 0 and at most %d (the reference core is 1.0)", num(t.Speed), MaxSpeed)
	}
	if !(t.MemoryGiB > 0) || math.IsInf(t.MemoryGiB, 1) {
		add("memory", "%s GiB is out of range: expected above 0 and finite", num(t.MemoryGiB))
	}
	if !(t.PricePerHour >= 0) || math.IsInf(t.PricePerHour, 1) {
		add("price", "%s per hour is out of range: expected at least 0 and finite", num(t.PricePerHour))
	}
	return errors.Join(errs...)
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Catalogue is a fixed set of tiers with unique names, in declaration
// order. It does not change once made, so it may be shared.
type Catalogue struct {
	tiers []Tier
	index map[string]int
}

// NewCatalogue validates each tier and returns them as a catalogue, in the
// order given. Names must be unique. Every problem is reported, joined;
// each wraps ErrInvalidTier. The slice is copied.
func NewCatalogue(tiers []Tier) (*Catalogue, error) {
	c := &Catalogue{index: make(map[string]int, len(tiers))}
	declared := make(map[string]int, len(tiers)) // name → index in tiers
	var errs []error
	for i, t := range tiers {
		if err := t.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("tiers[%d]: %w", i, err))
			continue
		}
		if first, dup := declared[t.Name]; dup {
			errs = append(errs, fmt.Errorf("tiers[%d]: %w", i, &TierError{Tier: t.Name, Field: "name",
				Msg: fmt.Sprintf("declared twice (tiers[%d] has the same name)", first)}))
			continue
		}
		declared[t.Name] = i
		c.index[t.Name] = len(c.tiers)
		c.tiers = append(c.tiers, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Lookup returns the tier named name.
func (c *Catalogue) Lookup(name string) (Tier, bool) {
	i, ok := c.index[name]
	if !ok {
		return Tier{}, false
	}
	return c.tiers[i], true
}

// Get returns the tier named name, or an error wrapping ErrUnknownTier
// that lists the tiers there are.
func (c *Catalogue) Get(name string) (Tier, error) {
	if t, ok := c.Lookup(name); ok {
		return t, nil
	}
	if len(c.tiers) == 0 {
		return Tier{}, fmt.Errorf("%w %q: the catalogue has no tiers", ErrUnknownTier, name)
	}
	return Tier{}, fmt.Errorf("%w %q: expected one of %s", ErrUnknownTier, name, strings.Join(c.Names(), ", "))
}

// Len returns the number of tiers.
func (c *Catalogue) Len() int { return len(c.tiers) }

// Names returns the tier names in declaration order. The slice is the
// caller's.
func (c *Catalogue) Names() []string {
	names := make([]string, len(c.tiers))
	for i, t := range c.tiers {
		names[i] = t.Name
	}
	return names
}

// Tiers returns the tiers in declaration order. The slice is the caller's.
func (c *Catalogue) Tiers() []Tier { return append([]Tier(nil), c.tiers...) }
