package scenarios

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"stormglass/models/hardware"
)

// HardwareKind is the kind a hardware catalogue file declares; its
// apiVersion is APIVersion, as for scenarios.
const HardwareKind = "HardwareCatalogue"

// The built-in catalogue lives outside builtin/, whose every *.yaml file
// is taken for a scenario.
//
//go:embed catalogue/hardware.yaml
var builtinHardware []byte

// builtinHardwareFile names the built-in catalogue in messages.
const builtinHardwareFile = "builtin:hardware"

// BuiltinHardware returns the built-in hardware catalogue. It is parsed
// once (a Catalogue cannot be changed, so every caller may share it): the
// loader asks for it at every tier it reads, a run at every deploy. The
// file is embedded and checked by the tests, so it cannot fail: if it
// does, the binary was built from a broken file, and BuiltinHardware
// panics saying so.
func BuiltinHardware() *hardware.Catalogue { return builtinCatalogue() }

var builtinCatalogue = sync.OnceValue(func() *hardware.Catalogue {
	c, err := LoadHardware(builtinHardwareFile, builtinHardware)
	if err != nil {
		panic("scenarios: the built-in hardware catalogue (scenarios/catalogue/hardware.yaml) is invalid; this is a build defect:\n" + err.Error())
	}
	return c
})

// LoadHardware checks a hardware catalogue given as text; file names it in
// messages. The format is
//
//	apiVersion: stormglass/v1
//	kind: HardwareCatalogue
//	tiers:
//	  - name: free          # lower-case letters, digits and dashes; unique
//	    cores: 2            # a whole number, ≥ 1
//	    speed: 0.6          # per core, relative to the reference core (1.0)
//	    memory: 1GiB        # a number with the unit GiB or MiB
//	    price: 0/h          # US dollars per hour
//	    description: ...    # optional
//
// Every problem found is reported in one *LoadError (wrapping ErrInvalid),
// whose errors give the line, column and field path, as the scenario
// loader's do. Unknown and duplicate fields are refused.
func LoadHardware(file string, data []byte) (*hardware.Catalogue, error) {
	doc, err := readDocument(file, data, "a hardware catalogue", fmt.Sprintf("a hardware catalogue (apiVersion: %s, kind: %s, tiers: ...)", APIVersion, HardwareKind))
	if err != nil {
		return nil, err
	}
	d := &hwDecoder{file: file}
	c := d.catalogue(doc)
	if d.aborted {
		// What was found before the budget ran out is the bomb's echo.
		return nil, &LoadError{File: file, Errors: []*FieldError{d.abort}}
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *FieldError) int {
			if a.Pos.Line != b.Pos.Line {
				return a.Pos.Line - b.Pos.Line
			}
			return a.Pos.Column - b.Pos.Column
		})
		return nil, &LoadError{File: file, Errors: d.errs}
	}
	return c, nil
}

// hwDecoder walks a hardware catalogue's node tree, collecting errors with
// their positions.
type hwDecoder struct {
	file    string
	errs    []*FieldError
	visited int
	aborted bool
	abort   *FieldError // why the walk stopped, once aborted
}

func (d *hwDecoder) errorf(n *yaml.Node, field, format string, a ...any) {
	d.errs = append(d.errs, &FieldError{File: d.file, Pos: posOf(n), Field: field, Msg: fmt.Sprintf(format, a...), Err: ErrInvalid})
}

// deref follows aliases and counts the node against the same budget as a
// scenario's (aliases can make a small file a huge tree); nil once spent.
func (d *hwDecoder) deref(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 100 {
			return nil
		}
		n = n.Alias
	}
	d.visited++
	if d.visited > maxNodes {
		if !d.aborted {
			d.aborted = true
			d.abort = &FieldError{File: d.file, Msg: fmt.Sprintf("the document expands to more than %d values (aliases repeated too often?): refusing to read it", maxNodes), Err: ErrInvalid}
		}
		return nil
	}
	return n
}

// fields checks that n is a mapping whose keys are among names, each
// given once, with every required one present, and returns the value of
// each key given. ok is false if n is not a mapping.
func (d *hwDecoder) fields(n *yaml.Node, path string, names, required []string) (values map[string]*yaml.Node, ok bool) {
	n = d.deref(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping with the fields %s, got %s", strings.Join(names, ", "), describe(n))
		return nil, false
	}
	values = make(map[string]*yaml.Node, len(names))
	keys := make(map[string]*yaml.Node, len(names))
	merged := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.deref(n.Content[i])
		if k == nil {
			return nil, false
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, path, "expected a field name, got %s", describe(k))
		case k.Tag == "!!merge":
			merged = true
			d.errorf(k, path, "merge keys (<<) are not supported: write the fields out")
		case keys[k.Value] != nil:
			d.errorf(k, hwJoin(path, k.Value), "duplicate field (first given at line %d)", keys[k.Value].Line)
		case !slices.Contains(names, k.Value):
			keys[k.Value] = k
			d.errorf(k, path, "unknown field %q%s: expected one of %s", k.Value, suggest(k.Value, names), strings.Join(names, ", "))
		default:
			keys[k.Value] = k
			values[k.Value] = n.Content[i+1]
		}
	}
	for _, name := range required {
		if keys[name] == nil && !merged { // a merge key's fields are not missing, just refused
			d.errorf(n, path, "missing required field %q", name)
		}
	}
	return values, true
}

func hwJoin(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// scalar returns a scalar's text, or reports that expected was wanted.
func (d *hwDecoder) scalar(n *yaml.Node, path, expected string) (*yaml.Node, string, bool) {
	n = d.deref(n)
	if n == nil {
		return nil, "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "expected %s, got %s", expected, describe(n))
		return n, "", false
	}
	return n, n.Value, true
}

// quoted reports a number written as a quoted string.
func quoted(n *yaml.Node) bool {
	return n.Tag == "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
}

// number decodes a YAML number: an integer if whole, else any finite
// number.
func (d *hwDecoder) number(n *yaml.Node, path string, whole bool) (float64, bool) {
	expected := "a number"
	if whole {
		expected = "a whole number"
	}
	n, s, ok := d.scalar(n, path, expected)
	if !ok {
		return 0, false
	}
	if quoted(n) {
		d.errorf(n, path, "expected %s, got the string %q (remove the quotes)", expected, s)
		return 0, false
	}
	if whole && n.Tag == "!!float" {
		// Past int64 the parser calls a whole number a float.
		var x float64
		if n.Decode(&x) == nil && math.Abs(x) >= 1<<63 {
			d.errorf(n, path, "%s is out of range: a whole number here is at most %d", s, math.MaxInt)
			return 0, false
		}
	}
	if n.Tag != "!!int" && (whole || n.Tag != "!!float") {
		d.errorf(n, path, "expected %s, got %s", expected, describe(n))
		return 0, false
	}
	if whole {
		var i int64
		if err := n.Decode(&i); err != nil || int64(int(i)) != i {
			d.errorf(n, path, "%s is out of range: a whole number here is at most %d", s, math.MaxInt)
			return 0, false
		}
		return float64(i), true
	}
	var x float64
	if err := n.Decode(&x); err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		d.errorf(n, path, "expected a finite number, got %s", s)
		return 0, false
	}
	return x, true
}

var (
	memoryRE = regexp.MustCompile(`^(-?[0-9]+(?:\.[0-9]+)?)(GiB|MiB)$`)
	priceRE  = regexp.MustCompile(`^(-?[0-9]+(?:\.[0-9]+)?)/h$`)
)

// unitValue decodes a number followed by a unit, matched by re (whose
// first group is the number and second, if any, the unit). expected says
// what to write; hint, how to fix a bare number.
func (d *hwDecoder) unitValue(n *yaml.Node, path string, re *regexp.Regexp, expected, hint string) ([]string, bool) {
	n, s, ok := d.scalar(n, path, expected)
	if !ok {
		return nil, false
	}
	if n.Tag == "!!int" || n.Tag == "!!float" {
		d.errorf(n, path, "expected %s, got %s (%s)", expected, describe(n), hint)
		return nil, false
	}
	m := re.FindStringSubmatch(s)
	if m == nil {
		d.errorf(n, path, "expected %s, got %s", expected, describe(n))
		return nil, false
	}
	return m, true
}

// memory decodes a size in GiB or MiB, returning GiB.
func (d *hwDecoder) memory(n *yaml.Node, path string) (float64, bool) {
	m, ok := d.unitValue(n, path, memoryRE, "a memory size with the unit GiB or MiB, such as 512MiB or 32GiB", "add the unit")
	if !ok {
		return 0, false
	}
	x, _ := strconv.ParseFloat(m[1], 64) // the pattern admits only numbers; too many digits give ±Inf, refused as out of range
	if m[2] == "MiB" {
		x /= 1024
	}
	return x, true
}

// price decodes US dollars per hour.
func (d *hwDecoder) price(n *yaml.Node, path string) (float64, bool) {
	m, ok := d.unitValue(n, path, priceRE, "a price in US dollars per hour, such as 0.20/h", "add /h")
	if !ok {
		return 0, false
	}
	x, _ := strconv.ParseFloat(m[1], 64)
	return x, true
}

// tierFields are a tier's fields in file order; all but description are
// required.
var (
	tierFields         = []string{"name", "cores", "speed", "memory", "price", "description"}
	requiredTierFields = tierFields[:5]
)

// namedTier is a decoded tier and where its name is, for duplicates.
type namedTier struct {
	hardware.Tier
	nameNode *yaml.Node
	nameOK   bool // the name is well formed, so duplicates of it count
	path     string
}

// catalogue decodes the document.
func (d *hwDecoder) catalogue(doc *yaml.Node) *hardware.Catalogue {
	root := d.deref(doc)
	if root == nil {
		return nil
	}
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) != 1 {
			d.errs = append(d.errs, &FieldError{File: d.file, Msg: fmt.Sprintf("the file holds only comments: expected a hardware catalogue (apiVersion: %s, kind: %s, tiers: ...)", APIVersion, HardwareKind), Err: ErrInvalid})
			return nil
		}
		if root = d.deref(root.Content[0]); root == nil {
			return nil
		}
	}
	top := []string{"apiVersion", "kind", "tiers"}
	values, ok := d.fields(root, "", top, top)
	if !ok {
		return nil
	}
	if v := values["apiVersion"]; v != nil {
		if n, s, ok := d.scalar(v, "apiVersion", "a string"); ok && s != APIVersion {
			d.errorf(n, "apiVersion", "unsupported version %q: expected %s", s, APIVersion)
		}
	}
	if v := values["kind"]; v != nil {
		if n, s, ok := d.scalar(v, "kind", "a string"); ok && s != HardwareKind {
			hint := ""
			if s == Kind {
				hint = " (this is a scenario file: load it as a scenario)"
			}
			d.errorf(n, "kind", "unknown kind %q: expected %s%s", s, HardwareKind, hint)
		}
	}
	v := d.deref(values["tiers"])
	if v == nil {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "tiers", "expected a list of tiers, got %s", describe(v))
		return nil
	}
	if len(v.Content) == 0 {
		d.errorf(v, "tiers", "expected at least one tier, got an empty list")
		return nil
	}
	// Duplicates are looked for among every well-named tier, broken or
	// not, so a file is fixed in one pass.
	var tiers []namedTier
	first := make(map[string]namedTier, len(v.Content))
	for i, tn := range v.Content {
		t, ok := d.tier(tn, fmt.Sprintf("tiers[%d]", i))
		if d.aborted {
			return nil
		}
		if ok {
			tiers = append(tiers, t)
		}
		if !t.nameOK {
			continue
		}
		if f, dup := first[t.Name]; dup {
			d.errorf(t.nameNode, t.path+".name", "duplicate tier name %q (first given at line %d, %s): tier names must be unique", t.Name, f.nameNode.Line, f.path)
			continue
		}
		first[t.Name] = t
	}
	if len(d.errs) > 0 {
		return nil
	}
	plain := make([]hardware.Tier, len(tiers))
	for i, t := range tiers {
		plain[i] = t.Tier
	}
	c, err := hardware.NewCatalogue(plain)
	if err != nil {
		// The checks above are the model's; reaching here is a bug in
		// them, but still a refusal with a message rather than a panic.
		d.errorf(v, "tiers", "%v", err)
		return nil
	}
	return c
}

// tier decodes one tier and checks it against the model's rules, each
// broken rule reported at its field.
func (d *hwDecoder) tier(n *yaml.Node, path string) (namedTier, bool) {
	values, ok := d.fields(n, path, tierFields, requiredTierFields)
	if !ok {
		return namedTier{}, false
	}
	t := namedTier{path: path}
	decoded := map[string]bool{}
	var x float64
	for _, f := range tierFields {
		v := values[f]
		if v == nil {
			continue
		}
		p := path + "." + f
		switch f {
		case "name":
			t.nameNode, t.Name, ok = d.scalar(v, p, "a tier name")
			t.nameOK = ok && hardware.ValidName(t.Name)
		case "cores":
			x, ok = d.number(v, p, true)
			t.Cores = int(x)
		case "speed":
			t.Speed, ok = d.number(v, p, false)
		case "memory":
			t.MemoryGiB, ok = d.memory(v, p)
		case "price":
			t.PricePerHour, ok = d.price(v, p)
		case "description":
			var dn *yaml.Node
			dn, t.Description, ok = d.scalar(v, p, "a string")
			if ok && strings.TrimSpace(t.Description) == "" {
				d.errorf(dn, p, "expected a non-empty string")
				ok = false
			}
		}
		decoded[f] = ok
	}
	good := true
	for _, f := range requiredTierFields {
		good = good && decoded[f]
	}
	if err := t.Validate(); err != nil {
		for _, te := range tierErrors(err) {
			if !decoded[te.Field] {
				continue // missing or malformed: reported already
			}
			good = false
			d.errorf(d.deref(values[te.Field]), path+"."+te.Field, "%s", te.Msg)
		}
	}
	return t, good
}

// tierErrors lists the problems a hardware.Tier.Validate error holds.
func tierErrors(err error) []*hardware.TierError {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []*hardware.TierError
	for _, e := range errs {
		if te, ok := errors.AsType[*hardware.TierError](e); ok {
			out = append(out, te)
		}
	}
	return out
}
