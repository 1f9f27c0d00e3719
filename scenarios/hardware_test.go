package scenarios

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"stormglass/models/hardware"
)

// TestBuiltinHardware holds the embedded catalogue to the tiers it ships:
// BuiltinHardware panics if the file is broken, so this test is what
// keeps a broken file from being built.
func TestBuiltinHardware(t *testing.T) {
	if _, err := LoadHardware(builtinHardwareFile, builtinHardware); err != nil {
		t.Fatalf("the built-in catalogue does not load:\n%v", err)
	}
	c := BuiltinHardware()
	want := []hardware.Tier{
		{Name: "free", Cores: 2, Speed: 0.6, MemoryGiB: 1, PricePerHour: 0, Description: "shared vCPUs of the free plan"},
		{Name: "starter", Cores: 4, Speed: 1.0, MemoryGiB: 8, PricePerHour: 0.20},
		{Name: "pro", Cores: 16, Speed: 1.0, MemoryGiB: 32, PricePerHour: 0.80, Description: "dedicated cores of the paid plan"},
		{Name: "pro-large", Cores: 32, Speed: 1.1, MemoryGiB: 64, PricePerHour: 1.70},
	}
	if got := c.Tiers(); !slices.Equal(got, want) {
		t.Errorf("built-in tiers:\n got %+v\nwant %+v", got, want)
	}
	if got := c.Names(); !slices.Equal(got, []string{"free", "starter", "pro", "pro-large"}) {
		t.Errorf("Names() = %v", got)
	}
	for name, capacity := range map[string]float64{"free": 1.2, "starter": 4, "pro": 16, "pro-large": 35.2} {
		tr, err := c.Get(name)
		if err != nil {
			t.Errorf("Get(%s): %v", name, err)
			continue
		}
		if math.Abs(tr.Capacity()-capacity) > 1e-9 {
			t.Errorf("%s: capacity %v, want %v", name, tr.Capacity(), capacity)
		}
	}
	// Parsed once and shared: no caller can change it for the others.
	if BuiltinHardware() != c {
		t.Error("BuiltinHardware parsed the catalogue again")
	}
	c.Names()[0] = "changed"
	c.Tiers()[0].Cores = 999
	if tr, _ := BuiltinHardware().Lookup("free"); BuiltinHardware().Names()[0] != "free" || tr.Cores != 2 {
		t.Error("a caller changed the shared catalogue through Names or Tiers")
	}
}

// TestHardwareCatalogueIsNotAScenario: the catalogue lives outside
// builtin/, so the scenario listing must not offer it.
func TestHardwareCatalogueIsNotAScenario(t *testing.T) {
	for _, n := range BuiltinNames() {
		if strings.Contains(n, "hardware") {
			t.Errorf("BuiltinNames() lists %q: the hardware catalogue is being taken for a scenario", n)
		}
	}
}

// hwBase is a valid catalogue; the cases below break it one line at a
// time, so their line numbers are this text's.
const hwBase = `apiVersion: stormglass/v1
kind: HardwareCatalogue
tiers:
  - name: small
    cores: 2
    speed: 0.5
    memory: 512MiB
    price: 0.05/h
  - name: big
    cores: 8
    speed: 1.5
    memory: 16GiB
    price: 1/h
    description: eight fast cores
`

// hwEdit replaces the one occurrence of old in hwBase.
func hwEdit(t *testing.T, old, new string) string {
	t.Helper()
	if strings.Count(hwBase, old) != 1 {
		t.Fatalf("hwBase holds %q %d times, want once", old, strings.Count(hwBase, old))
	}
	return strings.Replace(hwBase, old, new, 1)
}

func TestLoadHardwareBase(t *testing.T) {
	c, err := LoadHardware("x.yaml", []byte(hwBase))
	if err != nil {
		t.Fatal(err)
	}
	want := []hardware.Tier{
		{Name: "small", Cores: 2, Speed: 0.5, MemoryGiB: 0.5, PricePerHour: 0.05},
		{Name: "big", Cores: 8, Speed: 1.5, MemoryGiB: 16, PricePerHour: 1, Description: "eight fast cores"},
	}
	if got := c.Tiers(); !slices.Equal(got, want) {
		t.Errorf("tiers:\n got %+v\nwant %+v", got, want)
	}
}

func TestLoadHardwareRefusesMalformedFiles(t *testing.T) {
	for _, tc := range []struct {
		desc string
		file string
		want string // a substring of the whole error: file:line:col: field: message
	}{
		{"wrong version", hwEdit(t, "stormglass/v1", "stormglass/v2"),
			`x.yaml:1:13: apiVersion: unsupported version "stormglass/v2": expected stormglass/v1`},
		{"a scenario's kind", hwEdit(t, "HardwareCatalogue", "Scenario"),
			`x.yaml:2:7: kind: unknown kind "Scenario": expected HardwareCatalogue`},
		{"no kind", hwEdit(t, "kind: HardwareCatalogue\n", ""),
			`x.yaml:1:1: missing required field "kind"`},
		{"misspelt tiers", hwEdit(t, "tiers:", "tier:"),
			`x.yaml:3:1: unknown field "tier" (did you mean "tiers"?): expected one of apiVersion, kind, tiers`},
		{"tiers not a list", hwEdit(t, "tiers:", "tiers: free\nx:"),
			`x.yaml:3:8: tiers: expected a list of tiers, got "free"`},
		{"no tiers", "apiVersion: stormglass/v1\nkind: HardwareCatalogue\ntiers: []\n",
			`x.yaml:3:8: tiers: expected at least one tier, got an empty list`},
		{"a tier that is not a mapping", "apiVersion: stormglass/v1\nkind: HardwareCatalogue\ntiers:\n  - small\n",
			`x.yaml:4:5: tiers[0]: expected a mapping with the fields name, cores, speed, memory, price, description, got "small"`},
		{"misspelt field", hwEdit(t, "speed: 0.5", "spead: 0.5"),
			`x.yaml:6:5: tiers[0]: unknown field "spead" (did you mean "speed"?): expected one of name, cores, speed, memory, price, description`},
		{"missing field", hwEdit(t, "    price: 0.05/h\n", ""),
			`x.yaml:4:5: tiers[0]: missing required field "price"`},
		{"duplicate field", hwEdit(t, "    cores: 2\n", "    cores: 2\n    cores: 4\n"),
			`x.yaml:6:5: tiers[0].cores: duplicate field (first given at line 5)`},
		{"merge key", hwEdit(t, "  - name: big\n", "  - <<: {name: big}\n    name: big\n"),
			`x.yaml:9:5: tiers[1]: merge keys (<<) are not supported: write the fields out`},
		{"upper-case name", hwEdit(t, "name: small", "name: Small"),
			`x.yaml:4:11: tiers[0].name: "Small" is not a valid tier name: expected lower-case letters, digits and dashes`},
		{"duplicate name", hwEdit(t, "name: big", "name: small"),
			`x.yaml:9:11: tiers[1].name: duplicate tier name "small" (first given at line 4, tiers[0]): tier names must be unique`},
		{"no cores", hwEdit(t, "cores: 8", "cores: 0"),
			`x.yaml:10:12: tiers[1].cores: 0 is out of range: expected at least 1`},
		{"quoted cores", hwEdit(t, "cores: 2", `cores: "2"`),
			`x.yaml:5:12: tiers[0].cores: expected a whole number, got the string "2" (remove the quotes)`},
		{"fractional cores", hwEdit(t, "cores: 2", "cores: 2.5"),
			`x.yaml:5:12: tiers[0].cores: expected a whole number, got the number 2.5`},
		{"huge cores", hwEdit(t, "cores: 2", "cores: 99999999999999999999"),
			`x.yaml:5:12: tiers[0].cores: 99999999999999999999 is out of range: a whole number here is at most`},
		{"zero speed", hwEdit(t, "speed: 0.5", "speed: 0"),
			`x.yaml:6:12: tiers[0].speed: 0 is out of range: expected above 0 and at most 100 (the reference core is 1.0)`},
		{"speed too high", hwEdit(t, "speed: 1.5", "speed: 250"),
			`x.yaml:11:12: tiers[1].speed: 250 is out of range: expected above 0 and at most 100`},
		{"speed not a number", hwEdit(t, "speed: 1.5", "speed: fast"),
			`x.yaml:11:12: tiers[1].speed: expected a number, got "fast"`},
		{"speed not finite", hwEdit(t, "speed: 0.5", "speed: .inf"),
			`x.yaml:6:12: tiers[0].speed: expected a finite number, got .inf`},
		{"speed missing a value", hwEdit(t, "speed: 0.5", "speed:"),
			`x.yaml:6:11: tiers[0].speed: expected a number, got nothing`},
		{"memory without a unit", hwEdit(t, "memory: 512MiB", "memory: 512"),
			`x.yaml:7:13: tiers[0].memory: expected a memory size with the unit GiB or MiB, such as 512MiB or 32GiB, got the number 512 (add the unit)`},
		{"memory in GB", hwEdit(t, "memory: 16GiB", "memory: 16GB"),
			`x.yaml:12:13: tiers[1].memory: expected a memory size with the unit GiB or MiB, such as 512MiB or 32GiB, got "16GB"`},
		{"no memory", hwEdit(t, "memory: 512MiB", "memory: 0MiB"),
			`x.yaml:7:13: tiers[0].memory: 0 GiB is out of range: expected above 0`},
		{"price without /h", hwEdit(t, "price: 0.05/h", "price: 0.05"),
			`x.yaml:8:12: tiers[0].price: expected a price in US dollars per hour, such as 0.20/h, got the number 0.05 (add /h)`},
		{"price per month", hwEdit(t, "price: 1/h", "price: 700/month"),
			`x.yaml:13:12: tiers[1].price: expected a price in US dollars per hour, such as 0.20/h, got "700/month"`},
		{"negative price", hwEdit(t, "price: 1/h", "price: -1/h"),
			`x.yaml:13:12: tiers[1].price: -1 per hour is out of range: expected at least 0`},
		{"empty description", hwEdit(t, "description: eight fast cores", `description: ""`),
			`x.yaml:14:18: tiers[1].description: expected a non-empty string`},
		{"not a mapping", "- free\n",
			`x.yaml:1:1: expected a mapping with the fields apiVersion, kind, tiers, got a list`},
		{"empty file", "",
			`x.yaml: the file is empty: expected a hardware catalogue`},
		{"two documents", hwBase + "---\n" + hwBase,
			`x.yaml:15:1: a second YAML document: a hardware catalogue file holds exactly one`},
		{"bad YAML", hwEdit(t, "    cores: 2\n", "    cores: [2\n"),
			`x.yaml:4: invalid YAML at or just after this line: did not find expected ',' or ']'`},
	} {
		_, err := LoadHardware("x.yaml", []byte(tc.file))
		if err == nil {
			t.Errorf("%s: loaded, want an error containing %q", tc.desc, tc.want)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", tc.desc, err)
		}
		var le *LoadError
		if !errors.As(err, &le) || le.File != "x.yaml" {
			t.Errorf("%s: %v is not a *LoadError for x.yaml", tc.desc, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %s\nwant it to contain %s", tc.desc, err, tc.want)
		}
	}
}

// TestLoadHardwareReportsEveryProblem: a file with a mistake in each part
// gets them all back in one error, in file order, not just the first.
func TestLoadHardwareReportsEveryProblem(t *testing.T) {
	file := `apiVersion: stormglass/v0
kind: HardwareCatalogue
tiers:
  - name: Small
    cores: 0
    speed: 0.5
    memory: 512
    price: 0.05/h
    colour: blue
  - name: big
    cores: 8
    speed: 1.5
    memory: 16GiB
    price: -1/h
  - name: big
    cores: 8
    speed: 200
    memory: 16GiB
`
	_, err := LoadHardware("x.yaml", []byte(file))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a *LoadError", err)
	}
	want := []string{
		`x.yaml:1:13: apiVersion: unsupported version "stormglass/v0"`,
		`x.yaml:4:11: tiers[0].name: "Small" is not a valid tier name`,
		`x.yaml:5:12: tiers[0].cores: 0 is out of range`,
		`x.yaml:7:13: tiers[0].memory: expected a memory size`,
		`x.yaml:9:5: tiers[0]: unknown field "colour"`,
		`x.yaml:14:12: tiers[1].price: -1 per hour is out of range`,
		`x.yaml:15:5: tiers[2]: missing required field "price"`,
		`x.yaml:15:11: tiers[2].name: duplicate tier name "big" (first given at line 10, tiers[1])`,
		`x.yaml:17:12: tiers[2].speed: 200 is out of range`,
	}
	if len(le.Errors) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(le.Errors), len(want), err)
	}
	for i, w := range want {
		if i >= len(le.Errors) {
			break
		}
		if got := le.Errors[i].Error(); !strings.HasPrefix(got, w) {
			t.Errorf("error %d:\n got %s\nwant %s...", i, got, w)
		}
	}
}

// TestLoadHardwareAliasBomb: aliases repeating a large tier many times are
// refused after a bounded amount of work, as in a scenario file.
func TestLoadHardwareAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: stormglass/v1\nkind: HardwareCatalogue\ntiers:\n  - &t\n")
	for i := range 2000 {
		b.WriteString("    k" + strconv.Itoa(i) + ": 1\n")
	}
	for range 2000 {
		b.WriteString("  - *t\n")
	}
	_, err := LoadHardware("x.yaml", []byte(b.String()))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a *LoadError", err)
	}
	if len(le.Errors) != 1 || !strings.Contains(err.Error(), "x.yaml: the document expands to more than 200000 values") {
		t.Errorf("got %d errors, want only the one saying the document is too large:\n%.500s", len(le.Errors), err)
	}
}
