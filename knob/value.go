package knob

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is what a knob holds.
type Kind int

// The kinds of knob. The zero Kind is no kind: the zero Value is unset.
const (
	Number   Kind = iota + 1 // a real number, with a free-text unit
	Integer                  // a whole number, with a free-text unit
	Duration                 // a span of time, held in seconds
	Rate                     // events per unit of time, held per second
	Bool                     // true or false
	Choice                   // one of a fixed list of words
)

var kindNames = [...]string{Number: "number", Integer: "integer", Duration: "duration", Rate: "rate", Bool: "bool", Choice: "choice"}

// Kinds lists every kind, in declaration order.
func Kinds() []Kind { return []Kind{Number, Integer, Duration, Rate, Bool, Choice} }

func (k Kind) String() string {
	if k >= Number && k <= Choice {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind returns the kind named s ("number", "integer", "duration",
// "rate", "bool", "choice").
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if kindNames[k] == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown knob type %q: expected one of number, integer, duration, rate, bool, choice", s)
}

// Numeric reports whether values of the kind are ordered numbers with a
// range.
func (k Kind) Numeric() bool { return k >= Number && k <= Rate }

// example is a value of the kind, written as a user would, for messages.
func (k Kind) example() string {
	switch k {
	case Number:
		return "a number, such as 0.25"
	case Integer:
		return "a whole number, such as 16 or 100_000"
	case Duration:
		return "a duration with a unit, such as 300s, 5m or 250ms"
	case Rate:
		return "a rate with a unit of time, such as 5000/s or 30/min"
	case Bool:
		return "true or false"
	case Choice:
		return "one of the knob's choices"
	}
	return "a value"
}

// Value is a typed knob value. Durations are held in seconds and rates per
// second. The zero Value is unset.
type Value struct {
	kind Kind
	num  float64
	word string
}

// NumberValue, IntegerValue, DurationValue, RateValue, BoolValue and
// ChoiceValue make values of each kind.
func NumberValue(x float64) Value         { return Value{kind: Number, num: x} }
func IntegerValue(n int64) Value          { return Value{kind: Integer, num: float64(n)} }
func DurationValue(d time.Duration) Value { return Value{kind: Duration, num: d.Seconds()} }
func RateValue(perSecond float64) Value   { return Value{kind: Rate, num: perSecond} }
func ChoiceValue(word string) Value       { return Value{kind: Choice, word: word} }
func BoolValue(b bool) Value {
	v := Value{kind: Bool}
	if b {
		v.num = 1
	}
	return v
}

// Kind returns the value's kind; 0 for the zero Value.
func (v Value) Kind() Kind { return v.kind }

// IsSet reports whether v holds a value.
func (v Value) IsSet() bool { return v.kind != 0 }

// Float returns a numeric value: a number, an integer, a duration in
// seconds or a rate per second (1 or 0 for a bool).
func (v Value) Float() float64 { return v.num }

// Int returns an integer value.
func (v Value) Int() int64 { return int64(v.num) }

// Duration returns a duration value.
func (v Value) Duration() time.Duration { return time.Duration(math.Round(v.num * 1e9)) }

// Bool returns a bool value.
func (v Value) Bool() bool { return v.num != 0 }

// Word returns a choice value.
func (v Value) Word() string { return v.word }

// Equal reports whether two values are the same.
func (v Value) Equal(w Value) bool { return v == w }

// String writes v in the syntax Parse reads: 300s, 5m, 5000/s, 16, 0.25,
// true, fcfs.
func (v Value) String() string {
	switch v.kind {
	case Number:
		return formatFloat(v.num)
	case Integer:
		return strconv.FormatInt(int64(v.num), 10)
	case Duration:
		return formatDuration(v.Duration())
	case Rate:
		return formatRate(v.num)
	case Bool:
		return strconv.FormatBool(v.num != 0)
	case Choice:
		return v.word
	}
	return "<unset>"
}

func formatFloat(x float64) string {
	if math.Abs(x) >= 1e15 || (x != 0 && math.Abs(x) < 1e-6) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// formatDuration writes d as its largest exact units: 1h30m, 5m, 300ms,
// 1.5s. Go's own String writes 5m0s, which people do not.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	if d < time.Second {
		switch {
		case d%time.Millisecond == 0:
			return sign + strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
		case d%time.Microsecond == 0:
			return sign + strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
		}
		return sign + strconv.FormatInt(int64(d), 10) + "ns"
	}
	var b strings.Builder
	b.WriteString(sign)
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(formatFloat(d.Seconds()) + "s")
	}
	return b.String()
}

// formatRate writes a rate per second in the unit that keeps it a plain
// number: 5000/s, 30/min (not 0.5/s), 2/h.
func formatRate(perSecond float64) string {
	if perSecond == 0 || math.Abs(perSecond) >= 1 {
		return formatFloat(perSecond) + "/s"
	}
	if perMin := perSecond * 60; math.Abs(perMin) >= 1 && isRound(perMin) {
		return formatFloat(math.Round(perMin*1e9)/1e9) + "/min"
	}
	if perHour := perSecond * 3600; isRound(perHour) {
		return formatFloat(math.Round(perHour*1e9)/1e9) + "/h"
	}
	return formatFloat(perSecond) + "/s"
}

func isRound(x float64) bool {
	return math.Abs(x-math.Round(x*1e6)/1e6) < 1e-9*math.Max(1, math.Abs(x))
}

// ErrSyntax is wrapped by every error about text that is not a value of the
// expected kind.
var ErrSyntax = errors.New("invalid value")

// Parse reads text as a value of kind. Choices are checked by Knob.Check,
// not here, since they belong to a knob.
func Parse(kind Kind, text string) (Value, error) {
	s := strings.TrimSpace(text)
	bad := func() (Value, error) {
		return Value{}, fmt.Errorf("%w %q: expected %s", ErrSyntax, text, kind.example())
	}
	switch kind {
	case Number:
		x, ok := parseReal(s)
		if !ok {
			return bad()
		}
		return NumberValue(x), nil
	case Integer:
		n, err := strconv.ParseInt(stripDigitSeparators(s), 10, 64)
		if err != nil || s == "" {
			return bad()
		}
		return IntegerValue(n), nil
	case Duration:
		d, ok := parseDuration(s)
		if !ok {
			return bad()
		}
		return DurationValue(d), nil
	case Rate:
		r, ok := parseRate(s)
		if !ok {
			return bad()
		}
		return RateValue(r), nil
	case Bool:
		switch s {
		case "true":
			return BoolValue(true), nil
		case "false":
			return BoolValue(false), nil
		}
		return bad()
	case Choice:
		if s == "" {
			return bad()
		}
		return ChoiceValue(s), nil
	}
	return Value{}, fmt.Errorf("knob: cannot parse a value of %v", kind)
}

// stripDigitSeparators removes underscores written between digits
// (100_000), which YAML 1.1 and Go both allow and planners use for large
// numbers; any other underscore is left to make the number invalid.
func stripDigitSeparators(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	b := []byte(s)
	out := b[:0]
	for i, c := range b {
		if c == '_' && i > 0 && i+1 < len(b) && isDigit(b[i-1]) && isDigit(b[i+1]) {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseReal reads a finite decimal number; hexadecimal, Inf and NaN are
// not values a planner writes.
func parseReal(s string) (float64, bool) {
	s = stripDigitSeparators(s)
	if s == "" || strings.ContainsAny(s, "xXpPiInN_") {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, false
	}
	return x, true
}

// parseDuration reads a Go duration, plus whole days (2d, 1d12h), plus a
// bare 0.
func parseDuration(s string) (time.Duration, bool) {
	if s == "0" {
		return 0, true
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, false
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, true
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, false
	}
	return days + d, true
}

// rateUnits are the units of time a rate may be given per.
var rateUnits = []struct {
	name    string
	seconds float64
}{{"s", 1}, {"ms", 1e-3}, {"min", 60}, {"h", 3600}, {"d", 86400}}

// parseRate reads "<number>/<unit>", the number optionally with a k or M
// multiplier (5k/s).
func parseRate(s string) (float64, bool) {
	num, unit, ok := strings.Cut(s, "/")
	if !ok {
		return 0, false
	}
	num, unit = strings.TrimSpace(num), strings.TrimSpace(unit)
	mult := 1.0
	if n := len(num); n > 1 {
		switch num[n-1] {
		case 'k':
			mult, num = 1e3, num[:n-1]
		case 'M':
			mult, num = 1e6, num[:n-1]
		}
	}
	x, ok := parseReal(num)
	if !ok {
		return 0, false
	}
	for _, u := range rateUnits {
		if u.name == unit {
			return x * mult / u.seconds, true
		}
	}
	return 0, false
}
