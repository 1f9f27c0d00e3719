package hardware

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func tier(name string) Tier {
	return Tier{Name: name, Cores: 4, Speed: 1, MemoryGiB: 8, PricePerHour: 0.2}
}

func TestCapacityIsCoresTimesSpeed(t *testing.T) {
	for _, tc := range []struct {
		cores int
		speed float64
		want  float64
	}{
		{2, 0.6, 1.2},
		{4, 1, 4},
		{32, 1.1, 35.2},
		{1, 0.25, 0.25},
	} {
		tr := Tier{Name: "t", Cores: tc.cores, Speed: tc.speed, MemoryGiB: 1}
		if got := tr.Capacity(); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Capacity() of %d cores at speed %v = %v, want %v", tc.cores, tc.speed, got, tc.want)
		}
	}
}

func TestValidateAcceptsGoodTiers(t *testing.T) {
	for _, tr := range []Tier{
		tier("free"),
		tier("pro-large"),
		tier("c5-2xlarge"),
		tier("9"),
		{Name: "tiny", Cores: 1, Speed: MaxSpeed, MemoryGiB: 0.5, PricePerHour: 0},
		{Name: "slow", Cores: 1, Speed: 1e-6, MemoryGiB: 1e-3},
	} {
		if err := tr.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", tr, err)
		}
	}
}

// TestValidateEnforcesEachRule breaks one rule at a time and checks that
// exactly that field is reported, and that the error wraps ErrInvalidTier.
func TestValidateEnforcesEachRule(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		edit  func(*Tier)
		field string
		msg   string
	}{
		{"empty name", func(t *Tier) { t.Name = "" }, "name", "got nothing"},
		{"upper case", func(t *Tier) { t.Name = "Pro" }, "name", `"Pro" is not a valid tier name`},
		{"underscore", func(t *Tier) { t.Name = "pro_large" }, "name", `"pro_large" is not a valid tier name`},
		{"space", func(t *Tier) { t.Name = "pro large" }, "name", "expected lower-case letters, digits and dashes"},
		{"no cores", func(t *Tier) { t.Cores = 0 }, "cores", "0 is out of range: expected at least 1"},
		{"negative cores", func(t *Tier) { t.Cores = -2 }, "cores", "-2 is out of range"},
		{"zero speed", func(t *Tier) { t.Speed = 0 }, "speed", "0 is out of range: expected above 0 and at most 100"},
		{"negative speed", func(t *Tier) { t.Speed = -1 }, "speed", "-1 is out of range"},
		{"too fast", func(t *Tier) { t.Speed = 100.5 }, "speed", "100.5 is out of range"},
		{"NaN speed", func(t *Tier) { t.Speed = math.NaN() }, "speed", "NaN is out of range"},
		{"no memory", func(t *Tier) { t.MemoryGiB = 0 }, "memory", "0 GiB is out of range: expected above 0"},
		{"negative memory", func(t *Tier) { t.MemoryGiB = -1 }, "memory", "-1 GiB"},
		{"infinite memory", func(t *Tier) { t.MemoryGiB = math.Inf(1) }, "memory", "+Inf GiB"},
		{"NaN memory", func(t *Tier) { t.MemoryGiB = math.NaN() }, "memory", "NaN GiB"},
		{"negative price", func(t *Tier) { t.PricePerHour = -0.01 }, "price", "-0.01 per hour is out of range: expected at least 0"},
		{"infinite price", func(t *Tier) { t.PricePerHour = math.Inf(1) }, "price", "+Inf per hour"},
		{"NaN price", func(t *Tier) { t.PricePerHour = math.NaN() }, "price", "NaN per hour"},
	} {
		tr := tier("pro")
		tc.edit(&tr)
		err := tr.Validate()
		if err == nil {
			t.Errorf("%s: Validate() = nil, want an error", tc.desc)
			continue
		}
		if !errors.Is(err, ErrInvalidTier) {
			t.Errorf("%s: %v does not wrap ErrInvalidTier", tc.desc, err)
		}
		var te *TierError
		if !errors.As(err, &te) {
			t.Errorf("%s: %v holds no *TierError", tc.desc, err)
			continue
		}
		if te.Field != tc.field || !strings.Contains(te.Msg, tc.msg) {
			t.Errorf("%s: got field %q message %q, want field %q message containing %q", tc.desc, te.Field, te.Msg, tc.field, tc.msg)
		}
		if n := len(problems(err)); n != 1 {
			t.Errorf("%s: %d problems reported, want 1: %v", tc.desc, n, err)
		}
	}
}

func problems(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := Tier{Name: "Bad Name", Cores: 0, Speed: 0, MemoryGiB: 0, PricePerHour: -1}.Validate()
	var fields []string
	for _, e := range problems(err) {
		var te *TierError
		if !errors.As(e, &te) {
			t.Fatalf("%v is not a *TierError", e)
		}
		fields = append(fields, te.Field)
	}
	if want := []string{"name", "cores", "speed", "memory", "price"}; !slices.Equal(fields, want) {
		t.Errorf("fields reported %v, want %v", fields, want)
	}
	if msg := err.Error(); !strings.Contains(msg, `hardware tier "Bad Name": cores: 0 is out of range`) {
		t.Errorf("message %q does not name the tier and field", msg)
	}
}

func TestNewCatalogueKeepsDeclarationOrder(t *testing.T) {
	in := []Tier{tier("zeta"), tier("alpha"), tier("mid"), tier("beta")}
	c, err := NewCatalogue(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"zeta", "alpha", "mid", "beta"}
	if got := c.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if got := c.Tiers(); !slices.Equal(got, in) {
		t.Errorf("Tiers() = %v, want %v", got, in)
	}
	if c.Len() != 4 {
		t.Errorf("Len() = %d, want 4", c.Len())
	}
}

func TestCatalogueIsACopy(t *testing.T) {
	in := []Tier{tier("a"), tier("b")}
	c, err := NewCatalogue(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Cores = 99
	c.Tiers()[1].Cores = 99
	c.Names()[0] = "changed"
	if got, _ := c.Lookup("a"); got.Cores != 4 {
		t.Errorf("changing the input slice changed the catalogue: cores %d", got.Cores)
	}
	if got, _ := c.Lookup("b"); got.Cores != 4 {
		t.Errorf("changing Tiers()' slice changed the catalogue: cores %d", got.Cores)
	}
	if got := c.Names(); got[0] != "a" {
		t.Errorf("changing Names()' slice changed the catalogue: %v", got)
	}
}

func TestNewCatalogueRefusesDuplicatesAndInvalidTiers(t *testing.T) {
	bad := tier("broken")
	bad.Cores = 0
	_, err := NewCatalogue([]Tier{tier("free"), tier("pro"), tier("free"), bad, tier("pro")})
	if err == nil {
		t.Fatal("NewCatalogue accepted duplicate names and a broken tier")
	}
	if !errors.Is(err, ErrInvalidTier) {
		t.Errorf("%v does not wrap ErrInvalidTier", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`tiers[2]: hardware tier "free": name: declared twice (tiers[0] has the same name)`,
		`tiers[3]: hardware tier "broken": cores: 0 is out of range`,
		`tiers[4]: hardware tier "pro": name: declared twice (tiers[1] has the same name)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

func TestLookupAndGet(t *testing.T) {
	c, err := NewCatalogue([]Tier{tier("free"), tier("starter"), tier("pro")})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Lookup("starter"); !ok || got != tier("starter") {
		t.Errorf("Lookup(starter) = %+v, %v", got, ok)
	}
	if got, ok := c.Lookup("enterprise"); ok || got != (Tier{}) {
		t.Errorf("Lookup(enterprise) = %+v, %v, want zero, false", got, ok)
	}
	if got, err := c.Get("pro"); err != nil || got != tier("pro") {
		t.Errorf("Get(pro) = %+v, %v", got, err)
	}
	_, err = c.Get("fre")
	if !errors.Is(err, ErrUnknownTier) {
		t.Fatalf("Get(fre) = %v, want an error wrapping ErrUnknownTier", err)
	}
	if errors.Is(err, ErrInvalidTier) {
		t.Errorf("Get(fre) = %v wraps ErrInvalidTier: an unknown name is not an invalid tier", err)
	}
	if want := `unknown hardware tier "fre": expected one of free, starter, pro`; err.Error() != want {
		t.Errorf("Get(fre) = %q, want %q", err, want)
	}
}

func TestEmptyCatalogue(t *testing.T) {
	c, err := NewCatalogue(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Names()) != 0 || len(c.Tiers()) != 0 {
		t.Errorf("empty catalogue lists %v", c.Names())
	}
	if _, err := c.Get("free"); !errors.Is(err, ErrUnknownTier) || !strings.Contains(err.Error(), "no tiers") {
		t.Errorf("Get on an empty catalogue = %v", err)
	}
}
