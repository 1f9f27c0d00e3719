package knob

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestParseReadsUnits(t *testing.T) {
	cases := []struct {
		kind Kind
		text string
		want float64
	}{
		{Duration, "300s", 300},
		{Duration, "5m", 300},
		{Duration, "1h30m", 5400},
		{Duration, "250ms", 0.25},
		{Duration, "2d", 172800},
		{Duration, "1d12h", 129600},
		{Duration, "0", 0},
		{Rate, "5000/s", 5000},
		{Rate, "30/min", 0.5},
		{Rate, "7200/h", 2},
		{Rate, "5k/s", 5000},
		{Rate, "2/ms", 2000},
		{Rate, "86400/d", 1},
		{Rate, " 10 / s ", 10},
		{Number, "0.25", 0.25},
		{Number, "1e-3", 0.001},
		{Number, "-3", -3},
		{Integer, "100_000", 100000},
		{Integer, "16", 16},
		{Bool, "true", 1},
		{Bool, "false", 0},
	}
	for _, c := range cases {
		v, err := Parse(c.kind, c.text)
		if err != nil {
			t.Errorf("Parse(%v, %q): %v", c.kind, c.text, err)
			continue
		}
		if v.Kind() != c.kind || v.Float() != c.want {
			t.Errorf("Parse(%v, %q) = %v %v, want %v", c.kind, c.text, v.Kind(), v.Float(), c.want)
		}
	}
}

func TestParseRefusesAmbiguousOrMalformedText(t *testing.T) {
	cases := []struct {
		kind Kind
		text string
	}{
		{Duration, "300"}, // seconds or milliseconds? refused, not guessed
		{Duration, "5 minutes"},
		{Duration, "+5s"},
		{Duration, "d5"},
		{Rate, "5000"},
		{Rate, "5000/m"}, // minutes or milliseconds?
		{Rate, "5000/sec/s"},
		{Rate, "/s"},
		{Number, "NaN"},
		{Number, "Inf"},
		{Number, "0x10"},
		{Number, "1_"},
		{Number, ""},
		{Integer, "1.5"},
		{Integer, "1e5"},
		{Integer, "99999999999999999999"},
		{Bool, "yes"},
		{Bool, "1"},
		{Choice, "  "},
	}
	for _, c := range cases {
		if v, err := Parse(c.kind, c.text); err == nil {
			t.Errorf("Parse(%v, %q) = %v, want an error", c.kind, c.text, v)
		} else if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "expected") {
			t.Errorf("Parse(%v, %q): %v, want ErrSyntax saying what was expected", c.kind, c.text, err)
		}
	}
}

func TestStringWritesWhatPeopleWrite(t *testing.T) {
	cases := []struct {
		v    Value
		want string
	}{
		{DurationValue(5 * time.Minute), "5m"},
		{DurationValue(90 * time.Minute), "1h30m"},
		{DurationValue(1500 * time.Millisecond), "1.5s"},
		{DurationValue(250 * time.Millisecond), "250ms"},
		{DurationValue(0), "0s"},
		{RateValue(5000), "5000/s"},
		{RateValue(0.5), "30/min"},
		{RateValue(1.0 / 3600), "1/h"},
		{RateValue(0), "0/s"},
		{IntegerValue(100000), "100000"},
		{NumberValue(0.25), "0.25"},
		{BoolValue(true), "true"},
		{ChoiceValue("ps"), "ps"},
	}
	for _, c := range cases {
		if got := c.v.String(); got != c.want {
			t.Errorf("%v %v: String() = %q, want %q", c.v.Kind(), c.v.Float(), got, c.want)
		}
	}
}

// A value written by String parses back to itself, so values survive a
// round trip through files, command lines and reports.
func TestValuesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var v Value
		switch rng.IntN(4) {
		case 0:
			v = DurationValue(time.Duration(rng.Int64N(int64(48 * time.Hour))))
		case 1:
			v = RateValue(float64(rng.IntN(1e6)) / float64(1+rng.IntN(3600)))
		case 2:
			v = NumberValue((rng.Float64() - 0.5) * 1e6)
		case 3:
			v = IntegerValue(rng.Int64N(1e12) - 5e11)
		}
		back, err := Parse(v.Kind(), v.String())
		if err != nil {
			t.Fatalf("%v %v written as %q: %v", v.Kind(), v.Float(), v.String(), err)
		}
		if rel := (back.Float() - v.Float()) / max(1e-300, v.Float()); back.Kind() != v.Kind() || rel > 1e-12 || rel < -1e-12 {
			t.Fatalf("%v %v written as %q read back as %v", v.Kind(), v.Float(), v.String(), back.Float())
		}
	}
}

func servers() Knob {
	return Knob{Name: "servers", Kind: Integer, Unit: "servers", Default: IntegerValue(8),
		Min: IntegerValue(1), Max: IntegerValue(1000), Help: "Servers at the station."}
}

func TestCheckEnforcesRangeAndChoices(t *testing.T) {
	k := servers()
	if _, err := k.Parse("1000"); err != nil {
		t.Errorf("the top of the range is valid: %v", err)
	}
	_, err := k.Parse("0")
	if !errors.Is(err, ErrOutOfRange) || err.Error() != "0 servers is out of range: expected 1 to 1000 servers" {
		t.Errorf("Parse(0) = %v", err)
	}
	rate := Knob{Name: "lambda", Kind: Rate, Default: RateValue(1), Min: RateValue(0), Help: "Arrival rate."}
	if _, err := rate.Parse("-1/s"); err == nil || !strings.Contains(err.Error(), "expected at least 0/s") {
		t.Errorf("negative rate: %v", err)
	}
	policy := Knob{Name: "policy", Kind: Choice, Choices: []string{"fcfs", "ps"}, Default: ChoiceValue("fcfs"), Help: "Discipline."}
	if _, err := policy.Parse("lifo"); err == nil || err.Error() != `"lifo" is out of range: expected one of fcfs, ps` {
		t.Errorf("bad choice: %v", err)
	}
	if v, err := policy.Parse("ps"); err != nil || v.Word() != "ps" {
		t.Errorf("good choice: %v %v", v, err)
	}
	if err := k.Check(DurationValue(time.Second)); !errors.Is(err, ErrSyntax) {
		t.Errorf("a duration for an integer knob: %v", err)
	}
}

func TestValidateCatchesBadDeclarations(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Knob)
		want string
	}{
		{"name", func(k *Knob) { k.Name = "Servers" }, `name "Servers"`},
		{"help", func(k *Knob) { k.Help = " " }, "help: expected one line"},
		{"default outside", func(k *Knob) { k.Default = IntegerValue(0) }, "default: 0 servers is out of range"},
		{"no default", func(k *Knob) { k.Default = Value{} }, "every knob needs a default"},
		{"empty range", func(k *Knob) { k.Min = IntegerValue(10); k.Max = IntegerValue(5) }, "min 10 is above max 5"},
		{"range kind", func(k *Knob) { k.Min = DurationValue(time.Second) }, "min: expected a value of type integer, got one of type duration"},
		{"unit on duration", func(k *Knob) {
			k.Kind, k.Default, k.Min, k.Max = Duration, DurationValue(time.Second), Value{}, Value{}
		}, "only number and integer knobs take a unit"},
		{"choices on integer", func(k *Knob) { k.Choices = []string{"a"} }, "only a choice knob takes choices"},
	}
	for _, c := range cases {
		k := servers()
		c.edit(&k)
		if err := k.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want %q", c.name, err, c.want)
		}
	}
	if err := servers().Validate(); err != nil {
		t.Errorf("a good declaration: %v", err)
	}
	dup := Knob{Name: "mode", Kind: Choice, Choices: []string{"a", "a"}, Default: ChoiceValue("a"), Help: "x"}
	if err := dup.Validate(); err == nil || !strings.Contains(err.Error(), `"a" is listed twice`) {
		t.Errorf("duplicate choice: %v", err)
	}
}

func TestSetResolvesAssignments(t *testing.T) {
	s, err := NewSet(servers(), Knob{Name: "queue_limit", Kind: Integer, Default: IntegerValue(10000), Min: IntegerValue(1), Help: "Update queue limit."})
	if err != nil {
		t.Fatal(err)
	}
	name, v, err := s.ParseAssignment("queue_limit=100_000")
	if err != nil || name != "queue_limit" || v.Int() != 100000 {
		t.Errorf("ParseAssignment = %q %v %v", name, v, err)
	}
	_, _, err = s.ParseAssignment("queue_limt=5")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `did you mean "queue_limit"?`) {
		t.Errorf("typo: %v", err)
	}
	_, _, err = s.ParseAssignment("servers=0")
	if !errors.Is(err, ErrOutOfRange) || !strings.HasPrefix(err.Error(), "knob servers: ") {
		t.Errorf("out of range: %v", err)
	}
	if _, _, err = s.ParseAssignment("servers"); !errors.Is(err, ErrSyntax) {
		t.Errorf("no '=': %v", err)
	}
	if _, err := NewSet(servers(), servers()); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Errorf("duplicate knob: %v", err)
	}
	if d := s.Defaults(); d["servers"].Int() != 8 || d["queue_limit"].Int() != 10000 {
		t.Errorf("Defaults() = %v", d)
	}
}
