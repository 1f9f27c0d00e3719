package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
)

// saveShop is a small scenario written for the save tests: comments in
// several places, routing shares set by knobs (which fit one by one but
// not together), a timeline with ids and variants that set, drop and add.
const saveShop = `# A small shop, for the save tests.
apiVersion: stormglass/v1
kind: Scenario
metadata:
  name: save-shop
  title: A shop with a web tier and a database
run:
  horizon: 1h
  warmup: 5m
  replications: 2
knobs:
  # How fast shoppers arrive.
  - name: rate
    type: rate
    default: 10/s
    min: 0/s
    max: 10000/s
    help: Shoppers per second.
  - name: servers
    type: integer
    unit: servers
    default: 4
    min: 1
    max: 64
    help: Web servers.
  - name: db_share
    type: number
    default: 0.3
    min: 0
    max: 0.6
    help: Share of web visits that query the database.
  - name: cache_share
    type: number
    default: 0.2
    min: 0
    max: 0.6
    help: Share of web visits that read the cache.
  - name: db_time
    type: duration
    default: 20ms
    min: 1ms
    max: 1s
    help: Mean database service time.
components:
  - name: shop
    kind: queueing-network
    stations:
      - name: web
        servers: $servers # the knob panel turns this
        service: {distribution: exponential, mean: 50ms}
        routes:
          - {to: db, p: $db_share}
          - {to: cache, p: $cache_share}
          - {to: done}
      - name: db
        servers: 2
        service: {distribution: exponential, mean: $db_time}
        to: done
      - name: cache
        servers: 1
        service: {distribution: deterministic, mean: 1ms}
        to: done
    sinks: [done]
workload:
  - name: shoppers
    rate: $rate
    to: web
timeline:
  # The sale starts.
  - {at: 10m, id: sale, set: {rate: 30/s}}
  - {at: 20m, id: slow-db, fault: {kind: slowdown, target: db, factor: 3, for: 5m}}
  - {at: 30m, annotate: Half time}
variants:
  - name: incident
    title: As it happened
  # The fixed shop keeps the sale but not the slow database.
  - name: fixed
    title: More servers, no slowdown
    set: {servers: 8, db_time: 10ms} # doubled
    drop: [slow-db]
    timeline:
      - {at: 40m, id: late-surge, fault: {kind: surge, target: shoppers, factor: 2, for: 1m}}
`

func loadSaveShop(t *testing.T) *Scenario {
	t.Helper()
	sc, err := Load("save-shop.yaml", []byte(saveShop))
	if err != nil {
		t.Fatalf("the test scenario does not load: %v", err)
	}
	return sc
}

// entryText describes a timeline entry by what it does, leaving out where
// it is written: a saved file is re-indented. It is written here rather
// than shared with save.go, so the test does not trust the code it tests.
func entryText(e Entry) string {
	var sets []string
	for _, a := range e.Set {
		sets = append(sets, a.Knob+"="+a.Value.String())
	}
	fault, deploy := "-", "-"
	if e.Fault != nil {
		fault = fmt.Sprintf("%+v", *e.Fault)
	}
	if e.Deploy != nil {
		deploy = fmt.Sprintf("%s/%d/%s/%d/%v", e.Deploy.Target, e.Deploy.Servers, e.Deploy.Tier, e.Deploy.Instances, e.Deploy.Gap)
	}
	return fmt.Sprintf("at %v id %q set [%s] fault %s deploy %s note %q", e.At, e.ID, strings.Join(sets, " "), fault, deploy, e.Annotate)
}

func timelineText(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = entryText(e)
	}
	return out
}

// samePlans fails the test unless two plans start every knob alike and
// hold the same timeline.
func samePlans(t *testing.T, what string, sc *Scenario, got, want *Plan) {
	t.Helper()
	for _, k := range sc.Knobs.All() {
		if !got.Values[k.Name].Equal(want.Values[k.Name]) {
			t.Errorf("%s: knob %s starts at %v, expected %v", what, k.Name, got.Values[k.Name], want.Values[k.Name])
		}
	}
	if len(got.Values) != len(want.Values) {
		t.Errorf("%s: %d knob values, expected %d", what, len(got.Values), len(want.Values))
	}
	if g, w := timelineText(got.Timeline), timelineText(want.Timeline); !slices.Equal(g, w) {
		t.Errorf("%s: timeline\n%s\nexpected\n%s", what, strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

// turnOne picks a numeric knob and a value for it, other than its value in
// variant, that the plan accepts: its min or max (the loader makes every
// numeric knob bounded, since every field is). Some extremes clash with
// other settings (routing shares, a backend's limits): the next candidate
// is tried.
func turnOne(t *testing.T, sc *Scenario, variant string) (knob.Knob, knob.Value) {
	t.Helper()
	p, err := sc.Plan(PlanOptions{Variant: variant})
	if err != nil {
		t.Fatalf("variant %s does not plan: %v", variant, err)
	}
	for _, k := range sc.Knobs.All() {
		if !k.Kind.Numeric() {
			continue
		}
		cur := p.Values[k.Name]
		var candidates []knob.Value
		for _, b := range []knob.Value{k.Min, k.Max} {
			if b.IsSet() && !b.Equal(cur) {
				candidates = append(candidates, b)
			}
		}
		for _, v := range candidates {
			if k.Check(v) != nil {
				continue
			}
			if _, err := sc.Plan(PlanOptions{Variant: variant, Set: []Assignment{{Knob: k.Name, Value: v}}}); err == nil {
				return k, v
			}
		}
	}
	t.Fatalf("%s, variant %s: no numeric knob can be turned to its min or max", sc.Meta.Name, variant)
	return knob.Knob{}, knob.Value{}
}

// TestSaveVariantEveryBuiltin saves, from every variant of every built-in,
// a variant with one numeric knob turned, and checks that the file loads
// back to exactly that: the turned value, base's other values and
// timeline, and every variant that was there unchanged.
func TestSaveVariantEveryBuiltin(t *testing.T) {
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, sc := range all {
		for _, base := range sc.VariantNames() {
			t.Run(sc.Meta.Name+"/"+base, func(t *testing.T) {
				cases++
				k, v := turnOne(t, sc, base)
				t.Logf("%s: %v", k.Name, v)
				basePlan, err := sc.Plan(PlanOptions{Variant: base})
				if err != nil {
					t.Fatal(err)
				}
				values := basePlan.Values.Clone()
				values[k.Name] = v
				text, err := SaveVariant(sc, base, "saved", "", values)
				if err != nil {
					t.Fatalf("SaveVariant(%s=%v): %v", k.Name, v, err)
				}
				saved, err := Load(sc.File, text)
				if err != nil {
					t.Fatalf("the saved file does not load: %v\n%s", err, text)
				}
				if n := len(saved.Variants); n != len(sc.Variants)+1 || saved.Variants[n-1].Name != "saved" {
					t.Fatalf("variants %v, expected %v then saved", saved.VariantNames(), sc.VariantNames())
				}
				if !strings.Contains(string(text), k.Name+": "+v.String()) {
					t.Errorf("the saved file does not write %s: %v in the knob's syntax:\n%s", k.Name, v, text)
				}
				p, err := saved.Plan(PlanOptions{Variant: "saved"})
				if err != nil {
					t.Fatal(err)
				}
				if !p.Values[k.Name].Equal(v) {
					t.Errorf("the new variant starts %s at %v, expected %v", k.Name, p.Values[k.Name], v)
				}
				want := *basePlan
				want.Values = values
				samePlans(t, "the new variant", sc, p, &want)
				for _, name := range sc.VariantNames() {
					before, err := sc.Plan(PlanOptions{Variant: name})
					if err != nil {
						t.Fatal(err)
					}
					after, err := saved.Plan(PlanOptions{Variant: name})
					if err != nil {
						t.Fatalf("variant %s no longer plans: %v", name, err)
					}
					samePlans(t, "variant "+name, sc, after, before)
					if after.VariantTitle != before.VariantTitle {
						t.Errorf("variant %s: title %q, expected %q", name, after.VariantTitle, before.VariantTitle)
					}
				}
				if saved.DefaultVariant() != sc.DefaultVariant() && len(sc.Variants) > 0 {
					t.Errorf("the default variant became %s, expected %s", saved.DefaultVariant(), sc.DefaultVariant())
				}
			})
		}
	}
	if cases < len(all) {
		t.Errorf("%d cases for %d built-ins", cases, len(all))
	}
}

// TestSaveVariantMergesSet turns a knob the base variant sets and one it
// does not: the first is overridden where base sets it, the second added
// after, and drop and timeline come along.
func TestSaveVariantMergesSet(t *testing.T) {
	sc := loadSaveShop(t)
	values := knob.Values{
		"db_time": knob.DurationValue(250 * time.Millisecond), // fixed sets 10ms
		"rate":    knob.RateValue(12),                         // fixed leaves the default
		"servers": knob.IntegerValue(8),                       // as fixed sets it: not a change
	}
	text, err := SaveVariant(sc, "fixed", "fixed-busier", "", values)
	if err != nil {
		t.Fatal(err)
	}
	s := string(text)
	for _, want := range []string{
		"set: {servers: 8, db_time: 250ms, rate: 12/s} # doubled",
		"drop: [slow-db]",
		"title: fixed with rate=12/s, db_time=250ms",
		"description: 'Saved from variant fixed with knobs turned: rate from 10/s to 12/s, db_time from 10ms to 250ms.'",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the saved file lacks %q:\n%s", want, s)
		}
	}
	saved, err := Load("saved.yaml", text)
	if err != nil {
		t.Fatal(err)
	}
	p, err := saved.Plan(PlanOptions{Variant: "fixed-busier"})
	if err != nil {
		t.Fatal(err)
	}
	if got := timelineText(p.Timeline); len(got) != 3 || !strings.Contains(got[2], "late-surge") {
		t.Errorf("timeline %q: expected the sale, the note and fixed's late surge", got)
	}
	if got := p.Values["servers"]; !got.Equal(knob.IntegerValue(8)) {
		t.Errorf("servers starts at %v, expected fixed's 8", got)
	}
}

// TestSaveVariantTurnsBack sets a knob that base sets back to its default:
// the value is written where base wrote its own, not dropped.
func TestSaveVariantTurnsBack(t *testing.T) {
	sc, err := Builtin("reactive-outage-2025")
	if err != nil {
		t.Fatal(err)
	}
	text, err := SaveVariant(sc, "compaction-fix", "bug-back", "The bug is back", knob.Values{"metadata_bug": knob.BoolValue(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "set: {metadata_bug: true}") {
		t.Errorf("expected set: {metadata_bug: true} in:\n%s", text)
	}
	if !strings.Contains(string(text), "title: The bug is back") {
		t.Errorf("the given title is not used:\n%s", text)
	}
}

// TestSaveVariantKeepsComments checks that comments survive, in a
// built-in (its schema line) and in a file with comments throughout.
func TestSaveVariantKeepsComments(t *testing.T) {
	sc, err := Builtin("reactive-outage-2025")
	if err != nil {
		t.Fatal(err)
	}
	text, err := SaveVariant(sc, "", "bigger-queue", "", knob.Values{"queue_limit": knob.IntegerValue(50000)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(text), "# yaml-language-server: $schema=../stormglass-v1.schema.json\n") {
		t.Errorf("the built-in's comment line is gone:\n%.200s", text)
	}

	shop := loadSaveShop(t)
	text, err = SaveVariant(shop, "incident", "more-servers", "", knob.Values{"servers": knob.IntegerValue(16)})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(saveShop, "\n") {
		if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(string(text), line[i:]) {
			t.Errorf("comment %q is gone:\n%s", line[i:], text)
		}
	}
}

// TestSaveVariantAddsVariants saves from a file without variants: the
// section is made, and base is the scenario as declared.
func TestSaveVariantAddsVariants(t *testing.T) {
	sc, err := Builtin("mm1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Variants) != 0 {
		t.Fatal("mm1 has variants: pick another built-in without")
	}
	for _, base := range []string{"", BaseVariant} {
		text, err := SaveVariant(sc, base, "faster", "", knob.Values{"service_time": knob.DurationValue(50 * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "\nvariants:\n  - name: faster\n    title: base with service_time=50ms\n") {
			t.Errorf("base %q: expected a variants section at the end:\n%s", base, text)
		}
		saved, err := Load(sc.File, text)
		if err != nil {
			t.Fatal(err)
		}
		if got := saved.VariantNames(); !slices.Equal(got, []string{BaseVariant, "faster"}) {
			t.Errorf("variants %v", got)
		}
	}

	// An empty flow list is filled in block style.
	empty := strings.Replace(strings.SplitAfter(saveShop, "variants:")[0], "variants:", "variants: []\n", 1)
	sc, err = Load("empty.yaml", []byte(empty))
	if err != nil {
		t.Fatal(err)
	}
	text, err := SaveVariant(sc, "", "busy", "", knob.Values{"rate": knob.RateValue(20)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "variants:\n  - name: busy\n") {
		t.Errorf("expected a block list of variants:\n%s", text)
	}
}

// TestSaveVariantExactValues saves values whose friendliest text reads
// back a hair off (0.34/s is 20.4/min, which parses to 0.33999...): the
// file must still give exactly the value the planner had.
func TestSaveVariantExactValues(t *testing.T) {
	sc := loadSaveShop(t)
	for _, v := range []knob.Value{knob.RateValue(0.34), knob.RateValue(1.0 / 3), knob.RateValue(0.5), knob.RateValue(7.0 / 60), knob.RateValue(1e-7), knob.RateValue(9876.54321)} {
		text, err := SaveVariant(sc, "", "odd-rate", "", knob.Values{"rate": v})
		if err != nil {
			t.Errorf("rate %v (%g/s): %v", v, v.Float(), err)
			continue
		}
		saved, err := Load("saved.yaml", text)
		if err != nil {
			t.Fatal(err)
		}
		p, err := saved.Plan(PlanOptions{Variant: "odd-rate"})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Values["rate"]; !got.Equal(v) {
			t.Errorf("rate %g/s came back as %g/s", v.Float(), got.Float())
		}
	}
	// No loaded knob takes +Inf (every field, so every knob, is
	// bounded), but no text would write it: it is refused, not rounded.
	if _, err := valueText(knob.RateValue(math.Inf(1))); !errors.Is(err, knob.ErrSyntax) || !strings.Contains(err.Error(), "cannot be written") {
		t.Errorf("an infinite rate: got %v, expected knob.ErrSyntax saying it cannot be written", err)
	}
}

// TestSaveVariantQuotesWords checks that words YAML would read as
// something else are quoted, and numbers are not.
func TestSaveVariantQuotesWords(t *testing.T) {
	m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
		strNode("a"), valueNode(knob.Knob{Kind: knob.Choice}, "true"),
		strNode("b"), valueNode(knob.Knob{Kind: knob.Choice}, "null"),
		strNode("c"), valueNode(knob.Knob{Kind: knob.Integer}, "8"),
		strNode("d"), valueNode(knob.Knob{Kind: knob.Rate}, "8/s"),
	}}
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), `{a: "true", b: "null", c: 8, d: 8/s}`; got != want {
		t.Errorf("got %s, expected %s", got, want)
	}
}

// TestSaveVariantRefuses checks each refusal and the error it wraps.
func TestSaveVariantRefuses(t *testing.T) {
	sc := loadSaveShop(t)
	turn := knob.Values{"servers": knob.IntegerValue(16)}
	for _, c := range []struct {
		what       string
		base, name string
		values     knob.Values
		is         error
		says       string
	}{
		{"unknown base", "fixd", "x", turn, ErrUnknownVariant, `unknown variant "fixd" (did you mean "fixed"?): expected one of base, incident, fixed`},
		{"name with capitals", "", "Busy", turn, ErrVariantName, "expected a lower-case letter"},
		{"empty name", "", "", turn, ErrVariantName, "expected a lower-case letter"},
		{"name too long", "", strings.Repeat("a", 65), turn, ErrVariantName, "at most 64 characters"},
		{"name base", "", "base", turn, ErrVariantName, "names the scenario as declared"},
		{"name taken", "", "fixed", turn, ErrVariantName, "already has a variant of that name"},
		{"unknown knob", "", "x", knob.Values{"server": knob.IntegerValue(16)}, knob.ErrUnknown, `unknown knob "server" (did you mean "servers"?)`},
		{"out of range", "", "x", knob.Values{"servers": knob.IntegerValue(100)}, knob.ErrOutOfRange, "knob servers: 100 servers is out of range: expected 1 to 64 servers"},
		{"wrong kind", "", "x", knob.Values{"servers": knob.RateValue(3)}, knob.ErrSyntax, "knob servers: invalid value: expected a whole number"},
		{"several at once", "", "x", knob.Values{"server": knob.IntegerValue(1), "db_share": knob.NumberValue(2)}, knob.ErrOutOfRange, "expected 0 to 0.6"},
		{"not together", "", "x", knob.Values{"db_share": knob.NumberValue(0.6), "cache_share": knob.NumberValue(0.6)}, ErrPlan, "the knob values do not fit together"},
		{"nothing changed", "", "x", nil, ErrNothingChanged, "nothing to save"},
		{"nothing changed from fixed", "fixed", "x", knob.Values{"servers": knob.IntegerValue(8)}, ErrNothingChanged, "from the base variant fixed"},
	} {
		text, err := SaveVariant(sc, c.base, c.name, "", c.values)
		if err == nil {
			t.Errorf("%s: saved:\n%s", c.what, text)
			continue
		}
		if !errors.Is(err, c.is) {
			t.Errorf("%s: %v does not wrap %v", c.what, err, c.is)
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %q does not say %q", c.what, err, c.says)
		}
	}
	// "several at once" reports both problems.
	_, err := SaveVariant(sc, "", "x", "", knob.Values{"server": knob.IntegerValue(1), "db_share": knob.NumberValue(2)})
	if !errors.Is(err, knob.ErrUnknown) {
		t.Errorf("%v: expected the unknown knob reported beside the value out of range", err)
	}
	// Values equal to base's, knob for knob, are nothing to save too.
	p, err := sc.Plan(PlanOptions{Variant: "fixed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SaveVariant(sc, "fixed", "x", "", p.Values); !errors.Is(err, ErrNothingChanged) {
		t.Errorf("base's own values: got %v, expected ErrNothingChanged", err)
	}
}

// TestSaveVariantTwice saves a variant from a saved variant: a saved file
// is an ordinary scenario.
func TestSaveVariantTwice(t *testing.T) {
	sc := loadSaveShop(t)
	text, err := SaveVariant(sc, "fixed", "step-one", "", knob.Values{"servers": knob.IntegerValue(12)})
	if err != nil {
		t.Fatal(err)
	}
	once, err := Load("once.yaml", text)
	if err != nil {
		t.Fatal(err)
	}
	text, err = SaveVariant(once, "step-one", "step-two", "", knob.Values{"rate": knob.RateValue(15)})
	if err != nil {
		t.Fatal(err)
	}
	twice, err := Load("twice.yaml", text)
	if err != nil {
		t.Fatal(err)
	}
	p, err := twice.Plan(PlanOptions{Variant: "step-two"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]knob.Value{"servers": knob.IntegerValue(12), "rate": knob.RateValue(15), "db_time": knob.DurationValue(10 * time.Millisecond)} {
		if !p.Values[name].Equal(want) {
			t.Errorf("%s starts at %v, expected %v", name, p.Values[name], want)
		}
	}
}

// TestSaveVariantBlankTitle takes a title of spaces, as an untouched text
// field gives, for no title: one is made.
func TestSaveVariantBlankTitle(t *testing.T) {
	sc := loadSaveShop(t)
	text, err := SaveVariant(sc, "incident", "wider", "  ", knob.Values{"servers": knob.IntegerValue(6)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "title: incident with servers=6\n") {
		t.Errorf("expected a made title:\n%s", text)
	}
}

// TestSaveVariantCheckCatches feeds the final check files that do not
// reproduce the scenario, as a bug in the editing would write them: each
// is caught.
func TestSaveVariantCheckCatches(t *testing.T) {
	sc := loadSaveShop(t)
	base, err := sc.Plan(PlanOptions{Variant: "incident"})
	if err != nil {
		t.Fatal(err)
	}
	want := base.Values.Clone()
	want["servers"] = knob.IntegerValue(16)
	good := saveShop + "  - name: more\n    set: {servers: 16}\n"
	if err := checkSaved(sc, []byte(good), "more", want, base); err != nil {
		t.Fatalf("a correct file is refused: %v", err)
	}
	for what, text := range map[string]string{
		"wrong value":         saveShop + "  - name: more\n    set: {servers: 12}\n",
		"timeline entry lost": saveShop + "  - name: more\n    set: {servers: 16}\n    drop: [sale]\n",
		"variant missing":     saveShop,
		"other variant moved": strings.Replace(good, "set: {servers: 8, db_time: 10ms}", "set: {servers: 9, db_time: 10ms}", 1),
		"title changed":       strings.Replace(good, "title: As it happened", "title: As it was", 1),
		"metadata changed":    strings.Replace(good, "title: A shop with", "title: One shop with", 1),
		"does not load":       good + "  - name: more\n",
	} {
		err := checkSaved(sc, []byte(text), "more", want, base)
		t.Logf("%s: %v", what, err)
		if err == nil {
			t.Errorf("%s: not caught", what)
		}
	}
}
