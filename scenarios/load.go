package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
	"stormglass/models/wsfleet"
)

// MaxFileSize is the largest scenario file Load reads. Real scenarios are
// a few kilobytes; the cap keeps a wrong path (a log, a disk image) from
// being read into memory.
const MaxFileSize = 1 << 20

// LoadFile reads and checks the scenario file at path.
func LoadFile(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return Load(path, data)
}

// Load checks a scenario given as text; file names it in messages. Every
// problem found is reported in one *LoadError, whose errors give the line,
// column and field.
func Load(file string, data []byte) (sc *Scenario, err error) {
	doc, err := readDocument(file, data, "a scenario", fmt.Sprintf("a scenario (apiVersion: %s, kind: %s, ...)", APIVersion, Kind))
	if err != nil {
		return nil, err
	}
	d := &decoder{file: file, uses: map[string][]use{}, knobDecl: map[string]Pos{}, broken: map[string]bool{}, refused: map[string]bool{}}
	sc = &Scenario{File: file, Text: data}
	d.scenario(doc, sc)
	if !d.aborted {
		d.check(sc)
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
	sc.uses = d.uses
	return sc, nil
}

// readDocument parses the one YAML document a file holds, what it is
// ("a scenario") naming it in messages and expected saying what an empty
// file should have held. Files over MaxFileSize, YAML syntax errors, a
// second document and a panic of the parser (third-party code fed
// untrusted text) all come back as a *LoadError, never a crash.
func readDocument(file string, data []byte, what, expected string) (doc *yaml.Node, err error) {
	fail := func(pos Pos, format string, a ...any) (*yaml.Node, error) {
		return nil, &LoadError{File: file, Errors: []*FieldError{{File: file, Pos: pos, Msg: fmt.Sprintf(format, a...), Err: ErrInvalid}}}
	}
	if len(data) > MaxFileSize {
		return fail(Pos{}, "the file is larger than %d KiB: %s is a few kilobytes of YAML (is this the right file?)", MaxFileSize>>10, what)
	}
	defer func() {
		if r := recover(); r != nil {
			doc, err = fail(Pos{}, "the YAML parser failed on this file (%v)", r)
		}
	}()
	doc = &yaml.Node{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(Pos{}, "the file is empty: expected %s", expected)
		}
		return fail(syntaxPos(err), "invalid YAML at or just after this line: %s", syntaxMsg(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return fail(syntaxPos(err), "invalid YAML: %s", syntaxMsg(err))
		}
		return fail(posOf(&extra), "a second YAML document: %s file holds exactly one (remove the '---')", what)
	}
	return doc, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxPos(err error) Pos {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		// The parser names a line but no column, and often the line
		// before the mistake; the message says so rather than guess.
		line, _ := strconv.Atoi(m[1])
		return Pos{Line: line}
	}
	return Pos{}
}

// syntaxHints explain the YAML parser's commonest complaints in the words
// of the mistake that causes them.
var syntaxHints = map[string]string{
	"mapping values are not allowed in this context": " (a value that contains \": \" must be quoted, or a line is indented too far)",
	"found character that cannot start any token":    " (tabs cannot indent YAML: use spaces)",
	"did not find expected key":                      " (check the indentation of this line and the one before)",
}

func syntaxMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		msg = m[2]
	}
	return msg + syntaxHints[msg]
}

// scenario decodes the top level. Knobs are decoded first wherever they
// appear in the file, since every other section may refer to them.
func (d *decoder) scenario(doc *yaml.Node, sc *Scenario) {
	root := d.deref(doc)
	if root == nil {
		return
	}
	if root.Kind == yaml.DocumentNode && len(root.Content) == 0 {
		d.errorAt(Pos{}, "", "the file holds only comments: expected a scenario (apiVersion: %s, kind: %s, ...)", APIVersion, Kind)
		return
	}
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = d.deref(root.Content[0])
		if root == nil {
			return
		}
	}
	var knobsNode *yaml.Node
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "knobs" {
				knobsNode = root.Content[i+1]
			}
		}
	}
	d.knobs = d.knobSet(knobsNode, "knobs")
	var workloadNode *yaml.Node
	sc.Knobs = d.knobs
	sc.Run = RunDefaults{Horizon: time.Hour, Replications: 10, Seed: 1}
	d.mapping(root, "", []field{
		{"apiVersion", true, func(v *yaml.Node, p string) {
			if s, ok := d.scalar(v, p, "a string"); ok && s != APIVersion {
				d.errorf(v, p, "unsupported version %q: expected %s", s, APIVersion)
			}
		}},
		{"kind", true, func(v *yaml.Node, p string) {
			if s, ok := d.scalar(v, p, "a string"); ok && s != Kind {
				d.errorf(v, p, "unknown kind %q: expected %s", s, Kind)
			}
		}},
		{"metadata", true, func(v *yaml.Node, p string) { d.metadata(v, p, &sc.Meta) }},
		{"run", false, func(v *yaml.Node, p string) { d.runDefaults(v, p, &sc.Run) }},
		{"knobs", false, func(*yaml.Node, string) {}},
		{"components", true, func(v *yaml.Node, p string) {
			d.sequence(v, p, "components", func(i int, v *yaml.Node, p string) {
				switch c := d.component(v, p); {
				case c.net != nil:
					sc.Networks = append(sc.Networks, c.net)
				case c.backend != nil:
					sc.Backends = append(sc.Backends, c.backend)
				case c.system != nil:
					sc.Systems = append(sc.Systems, c.system)
				case c.fleet != nil:
					sc.Fleets = append(sc.Fleets, c.fleet)
				default:
					d.dropped = true
				}
			})
			if len(sc.Networks) == 0 && len(sc.Backends) == 0 && len(sc.Systems) == 0 && len(sc.Fleets) == 0 {
				d.dropped = true
				if n := d.deref(v); n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
					d.errorf(n, p, "expected at least one component")
				}
			}
		}},
		{"workload", false, func(v *yaml.Node, p string) {
			workloadNode = v
			d.sequence(v, p, "sources", func(i int, v *yaml.Node, p string) {
				sc.Workload = append(sc.Workload, d.source(v, p))
			})
			if n := d.deref(v); n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
				d.errorf(n, p, "expected at least one source")
			}
		}},
		{"slos", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "objectives", func(i int, v *yaml.Node, p string) { sc.SLOs = append(sc.SLOs, d.slo(v, p)) })
		}},
		{"timeline", false, func(v *yaml.Node, p string) { sc.Timeline = d.timeline(v, p) }},
		{"variants", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "variants", func(i int, v *yaml.Node, p string) { sc.Variants = append(sc.Variants, d.variant(v, p)) })
		}},
	})
	d.componentMix(root, workloadNode, sc)
}

// componentMix checks what the components need of the rest of the file: a
// queueing network takes its jobs from the workload; a reactive backend or
// a services system brings its own load, stands alone and measures from
// the start.
func (d *decoder) componentMix(root, workloadNode *yaml.Node, sc *Scenario) {
	if d.aborted || root.Kind != yaml.MappingNode {
		return
	}
	type standalone struct {
		kind string // as a noun: "reactive-backend", "services component"
		pos  Pos
	}
	var alone []standalone
	for _, be := range sc.Backends {
		alone = append(alone, standalone{KindReactiveBackend + " component", be.Pos})
	}
	for _, sys := range sc.Systems {
		alone = append(alone, standalone{KindServices + " component", sys.Pos})
	}
	for _, f := range sc.Fleets {
		alone = append(alone, standalone{KindWebSocketFleet + " component", f.Pos})
	}
	switch {
	case len(alone) > 1 && alone[0].kind == alone[1].kind:
		d.errorAt(alone[1].pos, "components", "a scenario holds one %s; this is the second", alone[1].kind)
	case len(alone) > 1:
		d.errorAt(alone[1].pos, "components", "a %s cannot share a scenario with a %s: their metrics would collide", alone[1].kind, alone[0].kind)
	case len(alone) == 1 && len(sc.Networks) > 0:
		d.errorAt(alone[0].pos, "components", "a %s cannot share a scenario with a %s component: their metrics would collide", alone[0].kind, KindQueueingNetwork)
	case len(alone) == 1 && workloadNode != nil:
		d.errorf(workloadNode, "workload", "a %s brings its own load: remove the workload, which only feeds a %s", alone[0].kind, KindQueueingNetwork)
	case len(alone) == 1 && sc.Run.Warmup > 0:
		d.errorAt(warmupPos(root), "run.warmup", "a %s is measured from the start of the run (its day has no steady state to wait for): remove run.warmup", alone[0].kind)
	case len(alone) == 0 && workloadNode == nil && !d.dropped:
		d.errorf(root, "", "missing required field \"workload\"")
	}
}

func (d *decoder) metadata(n *yaml.Node, path string, m *Metadata) {
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &m.Name) }},
		{"title", true, func(v *yaml.Node, p string) { d.text(v, p, &m.Title) }},
		{"description", false, func(v *yaml.Node, p string) { d.text(v, p, &m.Description) }},
		{"source", false, func(v *yaml.Node, p string) { d.text(v, p, &m.Source) }},
	})
}

// Run limits: long enough for a week-long soak, short enough that a typo
// (1000d) is caught.
const (
	MaxHorizon      = 30 * 24 * time.Hour
	MaxReplications = 10000
)

func (d *decoder) runDefaults(n *yaml.Node, path string, r *RunDefaults) {
	var warmupNode *yaml.Node
	d.mapping(n, path, []field{
		{"horizon", false, func(v *yaml.Node, p string) {
			if d.duration(v, p, time.Millisecond, &r.Horizon) && r.Horizon > MaxHorizon {
				d.errorf(v, p, "%v is out of range: expected at most %v", knob.DurationValue(r.Horizon), knob.DurationValue(MaxHorizon))
			}
		}},
		{"warmup", false, func(v *yaml.Node, p string) { warmupNode = v; d.duration(v, p, 0, &r.Warmup) }},
		{"clock", false, func(v *yaml.Node, p string) { d.timeOfDay(v, p, &r.Clock) }},
		{"sample", false, func(v *yaml.Node, p string) { d.duration(v, p, time.Millisecond, &r.Sample) }},
		{"replications", false, func(v *yaml.Node, p string) {
			var x int64
			if d.integer(v, p, 1, MaxReplications, &x) {
				r.Replications = int(x)
			}
		}},
		{"seed", false, func(v *yaml.Node, p string) {
			var x int64
			if d.integer(v, p, 0, math.MaxInt64, &x) {
				r.Seed = uint64(x)
			}
		}},
	})
	if warmupNode != nil && r.Warmup >= r.Horizon {
		d.errorf(warmupNode, join(path, "warmup"), "%v is not below the horizon %v: nothing would be measured", knob.DurationValue(r.Warmup), knob.DurationValue(r.Horizon))
	}
}

// knobSet decodes the knob declarations. It always returns a set (empty
// when there are none or all are broken), so references can be checked.
func (d *decoder) knobSet(n *yaml.Node, path string) *knob.Set {
	var knobs []knob.Knob
	if n != nil {
		d.sequence(n, path, "knob declarations", func(i int, v *yaml.Node, p string) {
			k, ok := d.knobDeclaration(v, p)
			if k.Name != "" {
				if _, seen := d.knobDecl[k.Name]; !seen {
					d.knobDecl[k.Name] = k.pos
				}
				if !ok {
					d.broken[k.Name] = true
				}
			}
			if ok {
				if slices.ContainsFunc(knobs, func(o knob.Knob) bool { return o.Name == k.Name }) {
					d.errorf(v, p+".name", "knob %q is declared twice", k.Name)
					return
				}
				knobs = append(knobs, k.Knob)
			}
		})
	}
	s, err := knob.NewSet(knobs...)
	if err != nil { // unreachable: each knob was validated above
		d.errorf(n, path, "%v", err)
		s, _ = knob.NewSet()
	}
	return s
}

// declaredKnob is a knob and where its name is written.
type declaredKnob struct {
	knob.Knob
	pos Pos
}

func (d *decoder) knobDeclaration(n *yaml.Node, path string) (declaredKnob, bool) {
	var k declaredKnob
	var typeNode, defNode, minNode, maxNode, choicesNode *yaml.Node
	before := len(d.errs)
	if !d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) {
			k.pos = posOf(d.deref(v))
			if s, ok := d.scalar(v, p, "a knob name"); ok {
				if !knob.ValidName(s) {
					d.errorf(v, p, "%q is not a valid knob name: expected lower-case letters, digits and _, in words joined by dots, starting with a letter", s)
				}
				k.Name = s
			}
		}},
		{"type", true, func(v *yaml.Node, _ string) { typeNode = v }},
		{"unit", false, func(v *yaml.Node, p string) { d.text(v, p, &k.Unit) }},
		{"default", true, func(v *yaml.Node, _ string) { defNode = v }},
		{"min", false, func(v *yaml.Node, _ string) { minNode = v }},
		{"max", false, func(v *yaml.Node, _ string) { maxNode = v }},
		{"choices", false, func(v *yaml.Node, _ string) { choicesNode = v }},
		{"help", true, func(v *yaml.Node, p string) { d.text(v, p, &k.Help) }},
	}) || typeNode == nil {
		return k, false
	}
	s, ok := d.scalar(typeNode, path+".type", "a knob type")
	if !ok {
		return k, false
	}
	kind, err := knob.ParseKind(s)
	if err != nil {
		var kinds []string
		for _, k := range knob.Kinds() {
			kinds = append(kinds, k.String())
		}
		d.errorf(typeNode, path+".type", "unknown knob type %q%s: expected one of %s", s, suggest(s, kinds), strings.Join(kinds, ", "))
		return k, false
	}
	k.Kind = kind
	if k.Unit != "" && kind != knob.Number && kind != knob.Integer {
		d.errorf(n, path+".unit", "only number and integer knobs take a unit; a %v carries its unit in its values", kind)
	}
	if choicesNode != nil {
		if kind != knob.Choice {
			d.errorf(choicesNode, path+".choices", "only a choice knob takes choices")
		} else {
			d.sequence(choicesNode, path+".choices", "words", func(i int, v *yaml.Node, p string) {
				if s, ok := d.scalar(v, p, "a word"); ok {
					if strings.ContainsAny(s, " \t\n,=") || s == "" || slices.Contains(k.Choices, s) {
						d.errorf(v, p, "%q: expected a single word, not listed before", s)
						return
					}
					k.Choices = append(k.Choices, s)
				}
			})
		}
	} else if kind == knob.Choice {
		d.errorf(n, path, "missing required field \"choices\" (a choice knob lists its words)")
		return k, false
	}
	for _, b := range []struct {
		node *yaml.Node
		name string
		out  *knob.Value
	}{{minNode, "min", &k.Min}, {maxNode, "max", &k.Max}} {
		if b.node == nil {
			continue
		}
		if !kind.Numeric() {
			d.errorf(b.node, path+"."+b.name, "a %v knob has no range", kind)
			continue
		}
		if v, ok := d.value(b.node, path+"."+b.name, kind); ok {
			*b.out = v
		}
	}
	if k.Min.IsSet() && k.Max.IsSet() && k.Min.Float() > k.Max.Float() {
		d.errorf(maxNode, path+".max", "%v is below min %v", k.Max, k.Min)
		return k, false
	}
	if v, ok := d.value(defNode, path+".default", kind); ok {
		k.Default = v
		if err := k.Check(v); err != nil {
			d.errorf(defNode, path+".default", "%v", err)
		}
	}
	if len(d.errs) > before {
		return k, false
	}
	return k, k.Knob.Validate() == nil
}

// Component kinds.
const KindQueueingNetwork = "queueing-network"

// decodedComponent is a component as decoded: one of its fields is set,
// or none when it could not be decoded.
type decodedComponent struct {
	net     *Network
	backend *BackendSpec
	system  *SystemSpec
	fleet   *FleetSpec
}

func (d *decoder) component(n *yaml.Node, path string) decodedComponent {
	if m := d.deref(n); m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i]; k.Value == "kind" {
				v := d.deref(m.Content[i+1])
				if v == nil || v.Kind != yaml.ScalarNode {
					continue
				}
				if !slices.Contains(componentKinds, v.Value) {
					// Decoding the rest as some kind would bury the one
					// mistake under a list of fields that kind lacks.
					d.oneOf(v, path+".kind", "a component kind", "component kind", componentKinds)
					d.unread(m)
					return decodedComponent{}
				}
				switch v.Value {
				case KindReactiveBackend:
					be := &BackendSpec{Pos: posOf(m)}
					d.backend(n, path, be)
					return decodedComponent{backend: be}
				case KindServices:
					sys := &SystemSpec{Pos: posOf(m)}
					d.system(n, path, sys)
					return decodedComponent{system: sys}
				case KindWebSocketFleet:
					f := &FleetSpec{Pos: posOf(m)}
					d.fleet(n, path, f)
					return decodedComponent{fleet: f}
				}
			}
		}
	}
	net := &Network{Pos: posOf(d.deref(n))}
	kindOK := false
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &net.Name) }},
		{"kind", true, func(v *yaml.Node, p string) {
			// A reactive backend or a services system was recognised
			// before: here a known kind is a queueing network.
			_, kindOK = d.oneOf(v, p, "a component kind", "component kind", componentKinds)
		}},
		{"stations", true, func(v *yaml.Node, p string) {
			d.sequence(v, p, "stations", func(i int, v *yaml.Node, p string) { net.Stations = append(net.Stations, d.station(v, p)) })
		}},
		{"sinks", true, func(v *yaml.Node, p string) {
			d.sequence(v, p, "sink names", func(i int, v *yaml.Node, p string) {
				s := SinkSpec{Pos: posOf(d.deref(v))}
				d.name(v, p, &s.Name)
				net.Sinks = append(net.Sinks, s)
			})
		}},
	})
	if !kindOK {
		return decodedComponent{}
	}
	return decodedComponent{net: net}
}

var (
	disciplines   = []string{"fcfs", "ps"}
	distributions = []string{"exponential", "deterministic", "erlang", "gamma", "lognormal", "uniform"}
	processes     = []string{"poisson", "deterministic"}
)

func (d *decoder) station(n *yaml.Node, path string) *StationSpec {
	st := &StationSpec{Pos: posOf(d.deref(n))}
	var toNode, routesNode *yaml.Node
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &st.Name) }},
		{"discipline", false, func(v *yaml.Node, p string) {
			st.Discipline = d.param(v, p, paramSpec{kind: knob.Choice, choices: disciplines})
		}},
		{"servers", true, func(v *yaml.Node, p string) {
			st.Servers = d.param(v, p, paramSpec{kind: knob.Integer, min: 1, max: 1e6, live: true})
		}},
		{"capacity", false, func(v *yaml.Node, p string) {
			st.Capacity = d.param(v, p, paramSpec{kind: knob.Integer, min: 0, max: 1e9, live: true})
		}},
		{"service", true, func(v *yaml.Node, p string) { st.Service = d.service(v, p) }},
		{"to", false, func(v *yaml.Node, _ string) { toNode = v }},
		{"routes", false, func(v *yaml.Node, _ string) { routesNode = v }},
	})
	st.Routes = d.routes(n, toNode, routesNode, path)
	return st
}

// routes decodes either to: NAME (everything goes there) or routes: a list
// of {to, p}; exactly one of the two.
func (d *decoder) routes(owner, toNode, routesNode *yaml.Node, path string) []RouteSpec {
	if o := d.deref(owner); d.aborted || o == nil || o.Kind != yaml.MappingNode {
		return nil // the owner's own error is reported
	}
	switch {
	case toNode != nil && routesNode != nil:
		d.errorf(routesNode, path+".routes", "give either to (one destination) or routes (shares), not both")
		return nil
	case toNode != nil:
		r := RouteSpec{Pos: posOf(d.deref(toNode)), Rest: true}
		d.name(toNode, path+".to", &r.To)
		return []RouteSpec{r}
	case routesNode == nil:
		d.errorf(owner, path, "missing where jobs go next: give to: NAME or routes: [{to: NAME, p: SHARE}, ...]")
		return nil
	}
	var out []RouteSpec
	rests := 0
	d.sequence(routesNode, path+".routes", "routes", func(i int, v *yaml.Node, p string) {
		r := RouteSpec{Pos: posOf(d.deref(v))}
		var pNode *yaml.Node
		d.mapping(v, p, []field{
			{"to", true, func(v *yaml.Node, p string) { d.name(v, p, &r.To) }},
			{"p", false, func(v *yaml.Node, p string) {
				pNode = v
				r.P = d.param(v, p, paramSpec{kind: knob.Number, min: 0, max: 1, live: true})
			}},
		})
		if pNode == nil {
			r.Rest = true
			if rests++; rests == 2 {
				d.errorf(v, p, "a second route without p: only one route may take the rest")
			}
		}
		out = append(out, r)
	})
	if len(out) == 0 && routesNode != nil && d.deref(routesNode) != nil && d.deref(routesNode).Kind == yaml.SequenceNode {
		d.errorf(routesNode, path+".routes", "expected at least one route")
	}
	return out
}

func (d *decoder) service(n *yaml.Node, path string) ServiceSpec {
	s := ServiceSpec{Pos: posOf(d.deref(n))}
	given := map[string]*yaml.Node{}
	keep := func(name string) func(v *yaml.Node, p string) {
		return func(v *yaml.Node, p string) { given[name] = v }
	}
	if !d.mapping(n, path, []field{
		{"distribution", true, func(v *yaml.Node, p string) {
			if w, ok := d.oneOf(v, p, "a distribution", "distribution", distributions); ok {
				s.Distribution = w
			}
		}},
		{"mean", true, func(v *yaml.Node, p string) {
			s.Mean = d.param(v, p, paramSpec{kind: knob.Duration, min: 0, max: 86400, positive: true, live: true})
		}},
		{"phases", false, keep("phases")},
		{"cv", false, keep("cv")},
		{"spread", false, keep("spread")},
	}) || s.Distribution == "" {
		return s
	}
	need := map[string]string{"erlang": "phases", "gamma": "cv", "lognormal": "cv", "uniform": "spread"}[s.Distribution]
	for _, name := range []string{"phases", "cv", "spread"} {
		v, ok := given[name]
		p := path + "." + name
		switch {
		case ok && name != need:
			d.errorf(v, p, "the %s distribution takes no %s", s.Distribution, name)
		case !ok && name == need:
			d.errorf(n, path, "missing required field %q for the %s distribution", name, s.Distribution)
		case ok && name == "phases":
			s.Phases = d.param(v, p, paramSpec{kind: knob.Integer, min: 1, max: 1000})
		case ok && name == "cv":
			s.CV = d.param(v, p, paramSpec{kind: knob.Number, min: 0, max: 100, positive: true})
		case ok && name == "spread":
			s.Spread = d.param(v, p, paramSpec{kind: knob.Number, min: 0, max: 1})
		}
	}
	return s
}

func (d *decoder) source(n *yaml.Node, path string) *SourceSpec {
	src := &SourceSpec{Pos: posOf(d.deref(n)), Process: "poisson"}
	var toNode, routesNode *yaml.Node
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &src.Name) }},
		{"process", false, func(v *yaml.Node, p string) {
			if w, ok := d.oneOf(v, p, "an arrival process", "arrival process", processes); ok {
				src.Process = w
			}
		}},
		{"rate", true, func(v *yaml.Node, p string) {
			src.Rate = d.param(v, p, paramSpec{kind: knob.Rate, min: 0, max: 1e9, live: true})
		}},
		{"profile", false, func(v *yaml.Node, p string) {
			d.sequence(v, p, "rate changes", func(i int, v *yaml.Node, p string) {
				pt := RatePointSpec{Pos: posOf(d.deref(v))}
				d.mapping(v, p, []field{
					{"at", true, func(v *yaml.Node, p string) { d.duration(v, p, 0, &pt.At) }},
					{"rate", true, func(v *yaml.Node, p string) { pt.Rate = d.param(v, p, paramSpec{kind: knob.Rate, min: 0, max: 1e9}) }},
				})
				if i > 0 && pt.At <= src.Profile[len(src.Profile)-1].At {
					d.errorAt(pt.Pos, p+".at", "%v is not after the previous point's %v: a profile lists its points in time order", knob.DurationValue(pt.At), knob.DurationValue(src.Profile[len(src.Profile)-1].At))
				}
				src.Profile = append(src.Profile, pt)
			})
		}},
		{"to", false, func(v *yaml.Node, _ string) { toNode = v }},
		{"routes", false, func(v *yaml.Node, _ string) { routesNode = v }},
	})
	src.Routes = d.routes(n, toNode, routesNode, path)
	return src
}

var sloStats = []string{"mean", "p50", "p95", "p99", "min", "max"}

func (d *decoder) slo(n *yaml.Node, path string) SLO {
	s := SLO{Pos: posOf(d.deref(n)), Stat: "mean"}
	var minNode, maxNode, metricNode *yaml.Node
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.text(v, p, &s.Name) }},
		{"metric", true, func(v *yaml.Node, p string) { metricNode = v; d.text(v, p, &s.Metric) }},
		{"stat", false, func(v *yaml.Node, p string) {
			if w, ok := d.scalar(v, p, "a statistic"); ok {
				if !slices.Contains(sloStats, w) {
					d.errorf(v, p, "unknown statistic %q: expected one of %s", w, strings.Join(sloStats, ", "))
					return
				}
				s.Stat = w
			}
		}},
		{"max", false, func(v *yaml.Node, _ string) { maxNode = v }},
		{"min", false, func(v *yaml.Node, _ string) { minNode = v }},
	})
	if minNode == nil && maxNode == nil {
		d.errorf(n, path, "an objective needs a bound: give max, min or both")
	}
	// Bounds are read once the metric, and so its unit, is known.
	s.boundNodes = [2]*yaml.Node{minNode, maxNode}
	s.metricNode = metricNode
	return s
}

var timelineActions = []string{"set", "fault", "deploy", "annotate"}

func (d *decoder) timeline(n *yaml.Node, path string) []Entry {
	var out []Entry
	d.sequence(n, path, "timeline entries", func(i int, v *yaml.Node, p string) { out = append(out, d.entry(v, p)) })
	return out
}

func (d *decoder) entry(n *yaml.Node, path string) Entry {
	e := Entry{Pos: posOf(d.deref(n))}
	var actions []string
	act := func(name string, f func(v *yaml.Node, p string)) field {
		return field{name, false, func(v *yaml.Node, p string) { actions = append(actions, name); f(v, p) }}
	}
	d.mapping(n, path, []field{
		{"id", false, func(v *yaml.Node, p string) { d.name(v, p, &e.ID) }},
		{"at", true, func(v *yaml.Node, p string) { d.duration(v, p, 0, &e.At) }},
		act("set", func(v *yaml.Node, p string) { e.Set = d.assignments(v, p) }),
		act("fault", func(v *yaml.Node, p string) { e.Fault = d.fault(v, p) }),
		act("deploy", func(v *yaml.Node, p string) { e.Deploy = d.deploy(v, p) }),
		act("annotate", func(v *yaml.Node, p string) { d.text(v, p, &e.Annotate) }),
	})
	if len(actions) != 1 {
		got := "none"
		if len(actions) > 1 {
			got = strings.Join(actions, " and ")
		}
		d.errorf(n, path, "expected exactly one action (%s), got %s", strings.Join(timelineActions, ", "), got)
	}
	return e
}

// assignments decodes {knob: value, ...}, each value read in its knob's
// type and range.
func (d *decoder) assignments(n *yaml.Node, path string) []Assignment {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping of knob: value, got %s", describe(n))
		return nil
	}
	var out []Assignment
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := d.deref(n.Content[i]), n.Content[i+1]
		if kn == nil {
			return out
		}
		name := kn.Value
		p := join(path, name)
		if slices.ContainsFunc(out, func(a Assignment) bool { return a.Knob == name }) {
			d.errorf(kn, p, "duplicate field: knob %s is set twice", name)
			continue
		}
		k, err := d.knobs.Get(name)
		if err != nil {
			d.errorf(kn, p, "%v", err)
			continue
		}
		v, ok := d.value(vn, p, k.Kind)
		if !ok {
			continue
		}
		if err := k.Check(v); err != nil {
			d.errorf(vn, p, "%v", err)
			continue
		}
		out = append(out, Assignment{Pos: posOf(kn), Knob: name, Value: v})
	}
	if len(out) == 0 && len(n.Content) == 0 {
		d.errorf(n, path, "expected at least one knob: value")
	}
	return out
}

var faultKinds = []string{FaultOutage, FaultSlowdown, FaultSurge, FaultRestart, FaultLatency, FaultKill}

func (d *decoder) fault(n *yaml.Node, path string) *Fault {
	f := &Fault{Factor: 1}
	var factorNode, delayNode, jitterNode, nodeNode *yaml.Node
	d.mapping(n, path, []field{
		{"kind", true, func(v *yaml.Node, p string) {
			if w, ok := d.oneOf(v, p, "a fault kind", "fault", faultKinds); ok {
				f.Kind = w
			}
		}},
		{"target", true, func(v *yaml.Node, p string) { d.name(v, p, &f.Target) }},
		{"for", false, func(v *yaml.Node, p string) { d.duration(v, p, time.Millisecond, &f.For) }},
		{"factor", false, func(v *yaml.Node, p string) {
			factorNode = v
			if x, ok := d.value(v, p, knob.Number); ok {
				if !(x.Float() >= 0.01 && x.Float() <= 1000) {
					d.errorf(v, p, "%v is out of range: expected 0.01 to 1000", x)
					return
				}
				f.Factor = x.Float()
			}
		}},
		{"delay", false, func(v *yaml.Node, p string) {
			delayNode = v
			if d.duration(v, p, 0, &f.Delay) && f.Delay > 10*time.Second {
				d.errorf(v, p, "%v is out of range: expected at most 10s", knob.DurationValue(f.Delay))
			}
		}},
		{"jitter", false, func(v *yaml.Node, p string) { jitterNode = v; d.duration(v, p, 0, &f.Jitter) }},
		{"node", false, func(v *yaml.Node, p string) {
			nodeNode = v
			var x int64
			if d.integer(v, p, 1, wsfleet.MaxNodes, &x) {
				f.Node = int(x)
			}
		}},
	})
	if f.Kind != FaultLatency {
		for _, x := range []struct {
			n    *yaml.Node
			name string
		}{{delayNode, "delay"}, {jitterNode, "jitter"}} {
			if x.n != nil && f.Kind != "" {
				d.errorf(x.n, path+"."+x.name, "a fault of kind %s takes no %s: it is for a latency fault", f.Kind, x.name)
			}
		}
	}
	if nodeNode != nil && f.Kind != FaultKill && f.Kind != "" {
		d.errorf(nodeNode, path+".node", "a fault of kind %s takes no node: it is for a kill fault", f.Kind)
	}
	switch {
	case f.Kind == FaultLatency && delayNode == nil:
		d.errorf(n, path, "missing required field \"delay\" for a latency fault")
	case f.Kind == FaultLatency && f.Jitter > f.Delay:
		d.errorf(jitterNode, path+".jitter", "%v is above the delay (%v): packets cannot arrive before they are sent, so the jitter is at most the delay", knob.DurationValue(f.Jitter), knob.DurationValue(f.Delay))
	case f.Kind == FaultKill && nodeNode == nil:
		d.errorf(n, path, "missing required field \"node\" for a kill: which node, from 1")
	}
	switch {
	case (f.Kind == FaultOutage || f.Kind == FaultRestart || f.Kind == FaultLatency || f.Kind == FaultKill) && factorNode != nil:
		d.errorf(factorNode, path+".factor", "a fault of kind %s takes no factor", f.Kind)
	case (f.Kind == FaultSlowdown || f.Kind == FaultSurge) && factorNode == nil:
		d.errorf(n, path, "missing required field \"factor\" for a %s", f.Kind)
	}
	return f
}

func (d *decoder) deploy(n *yaml.Node, path string) *Deploy {
	dep := &Deploy{}
	d.mapping(n, path, []field{
		{"target", true, func(v *yaml.Node, p string) { d.name(v, p, &dep.Target) }},
		{"servers", false, func(v *yaml.Node, p string) {
			var x int64
			if d.integer(v, p, 1, 1e6, &x) {
				dep.Servers = int(x)
			}
		}},
		{"tier", false, func(v *yaml.Node, p string) {
			dep.tierGiven = true
			tiers := BuiltinHardware().Names()
			if w, ok := d.oneOf(v, p, "a hardware tier", "hardware tier", tiers); ok {
				dep.Tier = w
			}
		}},
		{"instances", false, func(v *yaml.Node, p string) {
			var x int64
			if d.integer(v, p, 1, 1000, &x) {
				dep.Instances = int(x)
			}
		}},
		{"gap", false, func(v *yaml.Node, p string) { d.duration(v, p, 0, &dep.Gap) }},
	})
	return dep
}

func (d *decoder) variant(n *yaml.Node, path string) Variant {
	v := Variant{Pos: posOf(d.deref(n))}
	d.mapping(n, path, []field{
		{"name", true, func(x *yaml.Node, p string) { d.name(x, p, &v.Name) }},
		{"title", false, func(x *yaml.Node, p string) { d.text(x, p, &v.Title) }},
		{"description", false, func(x *yaml.Node, p string) { d.text(x, p, &v.Description) }},
		{"set", false, func(x *yaml.Node, p string) { v.Set = d.assignments(x, p) }},
		{"drop", false, func(x *yaml.Node, p string) {
			d.sequence(x, p, "timeline entry ids", func(i int, x *yaml.Node, p string) {
				var id string
				d.name(x, p, &id)
				v.Drop = append(v.Drop, id)
				v.dropPos = append(v.dropPos, posOf(d.deref(x)))
			})
		}},
		{"timeline", false, func(x *yaml.Node, p string) { v.Timeline = d.timeline(x, p) }},
	})
	return v
}

// warmupPos finds run.warmup in the top-level mapping.
func warmupPos(root *yaml.Node) Pos {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "run" {
			continue
		}
		if run := root.Content[i+1]; run.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(run.Content); j += 2 {
				if run.Content[j].Value == "warmup" {
					return posOf(run.Content[j+1])
				}
			}
		}
	}
	return posOf(root)
}
