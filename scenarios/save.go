package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
)

// ErrNothingChanged is wrapped by SaveVariant when every knob already has
// the value the base variant gives it: a new variant would repeat the base.
// A caller may still want to save a copy of the file as it is.
var ErrNothingChanged = errors.New("nothing to save: no knob differs from the base variant")

// ErrVariantName is wrapped by SaveVariant when the new variant's name is
// not a valid name or is taken.
var ErrVariantName = errors.New("invalid variant name")

// maxTitleKnobs caps the knobs a made-up title lists: a title is one line
// in a picker; the description lists them all.
const maxTitleKnobs = 4

// SaveVariant returns sc's file text with a variant added: the variant base
// (as sc.Plan resolves it: "" = sc.DefaultVariant()) with every knob whose
// value in values differs from base's start value set to the value in
// values. name must be a valid new variant name; title may be empty (then a
// title is made that lists the knobs set; a title of spaces counts as
// empty).
//
// The new variant copies base's drop and timeline and merges its set: base's
// assignments in their order, overridden by the turned knobs, then the
// other turned knobs in declaration order, each written in the knob's own
// syntax (8/s, 100ms, 40). It goes at the end of variants:, which is made
// when the file has none. The rest of the file keeps its content, order
// and comments; the YAML is re-emitted with a 2-space indent, so long
// folded (>) text comes back on one line.
//
// A knob missing from values keeps base's value. Errors: base unknown
// (ErrUnknownVariant), name invalid or taken (ErrVariantName), a knob the
// scenario does not declare (knob.ErrUnknown), a value its knob refuses
// (knob.ErrOutOfRange, knob.ErrSyntax), values that fit one by one but not
// together (ErrPlan), and values equal to base's everywhere
// (ErrNothingChanged). The text is loaded again before it is returned and
// checked to give the new variant exactly these start values and base's
// timeline, and every other variant its plan as before; a file that does
// not is an error, never returned.
func SaveVariant(sc *Scenario, base, name, title string, values knob.Values) ([]byte, error) {
	if base == "" {
		base = sc.DefaultVariant()
	}
	basePlan, err := sc.Plan(PlanOptions{Variant: base})
	if err != nil {
		return nil, fmt.Errorf("save as variant %q from %q: %w", name, base, err)
	}
	if err := checkNewVariantName(sc, name); err != nil {
		return nil, err
	}
	texts, err := checkValues(sc, name, values)
	if err != nil {
		return nil, err
	}

	// The turned knobs, in declaration order: what the file must add to
	// base to reproduce values.
	var turned []knob.Knob
	var overrides []Assignment
	want := basePlan.Values.Clone()
	for _, k := range sc.Knobs.All() {
		if v, ok := values[k.Name]; ok && !v.Equal(basePlan.Values[k.Name]) {
			turned = append(turned, k)
			overrides = append(overrides, Assignment{Knob: k.Name, Value: v})
			want[k.Name] = v
		}
	}
	if len(turned) == 0 {
		return nil, fmt.Errorf("save as variant %q: %w %s (save a copy of the file instead)", name, ErrNothingChanged, base)
	}
	// Each value fits its knob; the plan also checks them together
	// (routing shares, a backend's settings), which is a planner's
	// mistake to report as such, not a file that fails to round-trip.
	if _, err := sc.Plan(PlanOptions{Variant: base, Set: overrides}); err != nil {
		return nil, fmt.Errorf("save as variant %q: the knob values do not fit together: %w", name, err)
	}

	if title = strings.TrimSpace(title); title == "" {
		title = madeTitle(base, turned, texts)
	}
	text, err := editVariants(sc, base, name, title, describeTurns(base, basePlan, turned, texts), turned, texts)
	if err != nil {
		return nil, fmt.Errorf("save as variant %q: %w", name, err)
	}
	if err := checkSaved(sc, text, name, want, basePlan); err != nil {
		return nil, fmt.Errorf("save as variant %q: bug: the saved file does not reproduce the scenario: %w", name, err)
	}
	return text, nil
}

// checkNewVariantName refuses a name the loader would refuse: malformed,
// "base", or already a variant's.
func checkNewVariantName(sc *Scenario, name string) error {
	switch {
	case !nameRE.MatchString(name):
		return fmt.Errorf("save as variant %q: %w: expected a lower-case letter, then lower-case letters, digits, _ or -, at most 64 characters", name, ErrVariantName)
	case name == BaseVariant:
		return fmt.Errorf("save as variant %q: %w: %q names the scenario as declared: choose another name", name, ErrVariantName, BaseVariant)
	case slices.Contains(sc.VariantNames(), name):
		return fmt.Errorf("save as variant %q: %w: the scenario already has a variant of that name (it has %s): choose a new one",
			name, ErrVariantName, strings.Join(sc.VariantNames(), ", "))
	}
	return nil
}

// checkValues checks every value against its knob and returns each one's
// text for the file. Problems are reported together, as the loader does,
// so a caller can show them all at once.
func checkValues(sc *Scenario, name string, values knob.Values) (map[string]string, error) {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names) // map order would make the message change from run to run
	texts := make(map[string]string, len(values))
	var errs []error
	for _, n := range names {
		k, err := sc.Knobs.Get(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v := values[n]
		if err := k.Check(v); err != nil {
			errs = append(errs, fmt.Errorf("knob %s: %w", n, err))
			continue
		}
		s, err := valueText(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("knob %s: %w", n, err))
			continue
		}
		texts[n] = s
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("save as variant %q: %w", name, errors.Join(errs...))
	}
	return texts, nil
}

// valueText writes v in its knob's syntax so that the loader reads back
// the very same value. Value.String picks the friendliest unit (a rate of
// 0.34/s as 20.4/min), which reads back a hair off; a plain per-second or
// decimal form is exact for any finite number.
func valueText(v knob.Value) (string, error) {
	candidates := []string{v.String()}
	switch v.Kind() {
	case knob.Rate:
		candidates = append(candidates, strconv.FormatFloat(v.Float(), 'g', -1, 64)+"/s")
	case knob.Number:
		candidates = append(candidates, strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case knob.Duration:
		candidates = append(candidates, strconv.FormatFloat(v.Float(), 'f', -1, 64)+"s")
	}
	for _, s := range candidates {
		if back, err := knob.Parse(v.Kind(), s); err == nil && back.Equal(v) {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: %s cannot be written so that it reads back the same (durations are kept to the nanosecond; numbers must be finite)", knob.ErrSyntax, v)
}

// madeTitle is the title of a variant the planner did not name: the base
// and the knobs turned, in the --set syntax a planner knows.
func madeTitle(base string, turned []knob.Knob, texts map[string]string) string {
	var parts []string
	for i, k := range turned {
		if i == maxTitleKnobs {
			parts = append(parts, fmt.Sprintf("and %d more", len(turned)-maxTitleKnobs))
			break
		}
		parts = append(parts, k.Name+"="+texts[k.Name])
	}
	return base + " with " + strings.Join(parts, ", ")
}

// describeTurns says where the variant came from, for whoever opens the
// file later: the base, and each knob turned, from what to what.
func describeTurns(base string, basePlan *Plan, turned []knob.Knob, texts map[string]string) string {
	from := "the scenario as declared"
	if base != BaseVariant {
		from = "variant " + base // its title is in the file, above
	}
	var parts []string
	for _, k := range turned {
		to, _ := knob.Parse(k.Kind, texts[k.Name]) // the checked text of a checked value
		parts = append(parts, fmt.Sprintf("%s from %s to %s", k.Name, k.Format(basePlan.Values[k.Name]), k.Format(to)))
	}
	return fmt.Sprintf("Saved from %s with knobs turned: %s.", from, strings.Join(parts, ", "))
}

// editVariants adds the new variant to the file's node tree and writes it
// out. Working on the tree rather than the text keeps every other part of
// the file, comments included, without re-deriving YAML's layout rules.
func editVariants(sc *Scenario, base, name, title, description string, turned []knob.Knob, texts map[string]string) ([]byte, error) {
	doc, err := readDocument(sc.File, sc.Text, "a scenario", "a scenario")
	if err != nil {
		return nil, fmt.Errorf("reading the scenario's text: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the scenario's text is not a YAML mapping")
	}
	root := doc.Content[0]

	variants := mappingValue(root, "variants")
	if variants == nil {
		variants = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, strNode("variants"), variants)
	} else if variants.Kind == yaml.AliasNode {
		// Appending to an anchored list would change it wherever it is
		// aliased: this file gets its own copy.
		copied := copyNode(variants.Alias)
		copied.Anchor = ""
		for i := 1; i < len(root.Content); i += 2 {
			if root.Content[i] == variants {
				root.Content[i] = copied
			}
		}
		variants = copied
	}
	if variants.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("variants is not a list")
	}
	if len(variants.Content) == 0 {
		// variants: [] would put the whole new variant on one line.
		variants.Style &^= yaml.FlowStyle
	}

	var baseNode *yaml.Node
	if base != BaseVariant {
		for _, item := range variants.Content {
			if item = resolveAlias(item); item.Kind == yaml.MappingNode {
				if n := mappingValue(item, "name"); n != nil && resolveAlias(n).Value == base {
					baseNode = item
				}
			}
		}
		if baseNode == nil {
			return nil, fmt.Errorf("variant %s is not in the file's variants", base)
		}
	}

	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add := func(key string, value *yaml.Node) { v.Content = append(v.Content, strNode(key), value) }
	add("name", strNode(name))
	add("title", strNode(title))
	add("description", strNode(description))
	add("set", mergedSet(baseNode, turned, texts))
	for _, key := range []string{"drop", "timeline"} {
		if baseNode != nil {
			if n := mappingValue(baseNode, key); n != nil {
				add(key, copyNode(resolveAlias(n)))
			}
		}
	}
	variants.Content = append(variants.Content, v)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2) // the built-ins' indent
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// mergedSet is base's set with the turned knobs' values: base's
// assignments keep their place (and the text of those not turned), the
// other turned knobs follow in declaration order. A new set is written
// {knob: value}, as the built-ins write theirs.
func mergedSet(baseNode *yaml.Node, turned []knob.Knob, texts map[string]string) *yaml.Node {
	set := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
	if baseNode != nil {
		if n := mappingValue(baseNode, "set"); n != nil {
			set = copyNode(resolveAlias(n))
		}
	}
	for _, k := range turned {
		value := valueNode(k, texts[k.Name])
		replaced := false
		for i := 0; i+1 < len(set.Content); i += 2 {
			if resolveAlias(set.Content[i]).Value == k.Name {
				set.Content[i+1] = value
				replaced = true
			}
		}
		if !replaced {
			set.Content = append(set.Content, strNode(k.Name), value)
		}
	}
	return set
}

// valueNode is a knob value as a YAML scalar. Numbers and bools stay plain
// so YAML reads them as such (the loader refuses a quoted 8); durations,
// rates and words are strings, quoted by the encoder only where YAML would
// read them as something else (a choice named true or null).
func valueNode(k knob.Knob, text string) *yaml.Node {
	switch k.Kind {
	case knob.Number, knob.Integer, knob.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: text}
	}
	return strNode(text)
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// mappingValue returns the value of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if resolveAlias(m.Content[i]).Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// resolveAlias follows an alias to its node. The loader accepted the file,
// so chains end; the cap only guards against a cycle.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for hops := 0; n.Kind == yaml.AliasNode && n.Alias != nil && hops < 100; hops++ {
		n = n.Alias
	}
	return n
}

// copyNode copies a tree deeply, so the new variant does not share nodes
// with base's. Anchors are dropped from the copy: a second anchor of the
// same name would redefine it for every alias after it. Aliases are kept
// and still name the original anchor, defined before base and so before
// the copy.
func copyNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Anchor = ""
	c.Line, c.Column = 0, 0
	if n.Kind == yaml.AliasNode {
		return &c
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = copyNode(child)
	}
	return &c
}

// checkSaved loads the saved text and checks that it reproduces what the
// planner had: the new variant starts from want with base's timeline, and
// every variant there was, base included, plans as before.
func checkSaved(sc *Scenario, text []byte, name string, want knob.Values, basePlan *Plan) error {
	saved, err := Load(sc.File, text)
	if err != nil {
		return fmt.Errorf("it does not load: %w", err)
	}
	p, err := saved.Plan(PlanOptions{Variant: name})
	if err != nil {
		return fmt.Errorf("variant %s does not plan: %w", name, err)
	}
	if err := samePlan(sc, want, basePlan.Timeline, p); err != nil {
		return fmt.Errorf("variant %s: %w", name, err)
	}
	for _, v := range sc.VariantNames() {
		before, err := sc.Plan(PlanOptions{Variant: v})
		if err != nil {
			continue // it did not plan before either: nothing to keep
		}
		after, err := saved.Plan(PlanOptions{Variant: v})
		if err != nil {
			return fmt.Errorf("variant %s no longer plans: %w", v, err)
		}
		if err := samePlan(sc, before.Values, before.Timeline, after); err != nil {
			return fmt.Errorf("variant %s changed: %w", v, err)
		}
		if before.VariantTitle != after.VariantTitle {
			return fmt.Errorf("variant %s: title %q became %q", v, before.VariantTitle, after.VariantTitle)
		}
	}
	if saved.Meta != sc.Meta || saved.Run != sc.Run || !reflect.DeepEqual(saved.Knobs.All(), sc.Knobs.All()) {
		return fmt.Errorf("its metadata, run settings or knob declarations changed")
	}
	return nil
}

// samePlan compares a plan's start values and timeline with what they
// should be; positions are left out, since the file is re-indented.
func samePlan(sc *Scenario, values knob.Values, timeline []Entry, p *Plan) error {
	if len(p.Values) != len(values) {
		return fmt.Errorf("%d knob values, expected %d", len(p.Values), len(values))
	}
	for _, k := range sc.Knobs.All() {
		if !p.Values[k.Name].Equal(values[k.Name]) {
			return fmt.Errorf("knob %s starts at %s, expected %s", k.Name, k.Format(p.Values[k.Name]), k.Format(values[k.Name]))
		}
	}
	if !sameTimeline(p.Timeline, timeline) {
		return fmt.Errorf("its timeline differs (%d entries, expected %d)", len(p.Timeline), len(timeline))
	}
	return nil
}

// sameTimeline reports whether two timelines hold the same entries at the
// same times in the same order, wherever in the file they are written.
func sameTimeline(a, b []Entry) bool {
	return reflect.DeepEqual(withoutPos(a), withoutPos(b))
}

func withoutPos(es []Entry) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		e.Pos = Pos{}
		if e.Set != nil {
			e.Set = slices.Clone(e.Set)
			for j := range e.Set {
				e.Set[j].Pos = Pos{}
			}
		}
		out[i] = e
	}
	return out
}
