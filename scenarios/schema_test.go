package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"stormglass/knob"
	"stormglass/models/service"
	"stormglass/models/wsfleet"
)

// The JSON Schema shipped beside this package lets editors validate and
// complete scenario files. These tests keep it in step with the loader,
// which stays the source of truth: every file the loader accepts must
// pass the schema, and the mistakes a schema can see must be refused by
// both.

const (
	schemaPath = "stormglass-v1.schema.json"
	schemaID   = "https://stormglass.dev/schemas/stormglass-v1.schema.json"
	schemaBase = "testdata/schema/base.yaml"
	// schemaReactive is the built-in scenario of a reactive backend, the
	// base of the tests of that component kind.
	schemaReactive = "reactive-outage-2025"
	// schemaServices is the built-in scenario of a system of services, the
	// base of the tests of that component kind.
	schemaServices = "card-shop-flash-sale"
	// schemaFleet is the built-in scenario of a WebSocket fleet, the base
	// of the tests of that component kind.
	schemaFleet = "websocket-3am"
)

// compileSchema reads and compiles the schema; the compiler checks it
// against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not valid JSON: %v", schemaPath, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaID, doc); err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	sch, err := c.Compile(schemaID)
	if err != nil {
		t.Fatalf("%s does not compile: %v", schemaPath, err)
	}
	return sch
}

// schemaJSON returns the schema as plain JSON values.
func schemaJSON(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not valid JSON: %v", schemaPath, err)
	}
	return doc
}

// schemaInstance decodes YAML as an editor's YAML language server does and
// turns it into the JSON value the schema validates: mappings with string
// keys, lists, strings, numbers, booleans and null.
func schemaInstance(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	v, err := schemaJSONValue(v)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

func schemaJSONValue(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := schemaJSONValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := schemaJSONValue(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := schemaJSONValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// schemaValidate checks YAML text against the schema.
func schemaValidate(sch *jsonschema.Schema, data []byte) error {
	inst, err := schemaInstance(data)
	if err != nil {
		return fmt.Errorf("not YAML the schema can see: %w", err)
	}
	return sch.Validate(inst)
}

// schemaErrorAt reports whether the schema's error tree holds an error at the
// instance location loc (a JSON pointer such as /components/0/stations/1).
func schemaErrorAt(err error, loc string) bool {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	var walk func(e *jsonschema.ValidationError) bool
	walk = func(e *jsonschema.ValidationError) bool {
		if schemaPointer(e.InstanceLocation) == loc {
			return true
		}
		return slices.ContainsFunc(e.Causes, walk)
	}
	return walk(ve)
}

func schemaPointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

func schemaReadBase(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(schemaBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// schemaReadBuiltin returns a built-in scenario as embedded in the binary.
func schemaReadBuiltin(t *testing.T, name string) string {
	t.Helper()
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// schemaBases are the valid documents the walking tests edit: the test
// base (queueing networks), the reactive-backend built-in, the services
// built-in and the websocket-fleet built-in.
func schemaBases(t *testing.T) []struct{ name, text string } {
	t.Helper()
	return []struct{ name, text string }{
		{schemaBase, schemaReadBase(t)},
		{schemaReactive, schemaReadBuiltin(t, schemaReactive)},
		{schemaServices, schemaReadBuiltin(t, schemaServices)},
		{schemaFleet, schemaReadBuiltin(t, schemaFleet)},
	}
}

// TestSchemaIsValidJSONAndCompiles checks the file itself: valid JSON, a
// draft 2020-12 schema that compiles, with the parts editors rely on.
func TestSchemaIsValidJSONAndCompiles(t *testing.T) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("%s is not valid JSON", schemaPath)
	}
	compileSchema(t)
	doc := schemaJSON(t)
	for key, want := range map[string]string{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     schemaID,
	} {
		if doc[key] != want {
			t.Errorf("%s = %v, want %s", key, doc[key], want)
		}
	}
	for _, key := range []string{"title", "description"} {
		if s, _ := doc[key].(string); strings.TrimSpace(s) == "" {
			t.Errorf("the schema has no %s", key)
		}
	}
	defs, _ := doc["$defs"].(map[string]any)
	for _, name := range []string{"duration", "rate", "knobRef", "station", "source", "route", "service", "entry", "fault", "deploy", "variant", "knob", "slo",
		"component", "componentKind", "queueingNetwork", "reactiveBackend", "tier", "gateway", "workers", "cost", "invalidation", "searchIndex",
		"clients", "arrival", "clientVersion", "backendMetric", "zeroDuration",
		"services", "database", "memory", "cache", "queue", "app", "pool", "job", "endpoint", "requestRate", "followup",
		"step", "stepCost", "queryCost", "queryStep", "stockStep", "callStep", "fanoutStep", "servicesMetric",
		"timeOfDay", "websocketFleet", "fleetMix", "fleetGateway", "fleetMemory", "fleetGC", "nightJob", "fleetNetwork",
		"fleetTraffic", "dayPoint", "fleetMobile", "fleetThrottle", "fleetHeartbeat", "fleetDegradation", "fleetReconnect",
		"fleetResume", "fleetMetric"} {
		if _, ok := defs[name]; !ok {
			t.Errorf("$defs has no %s", name)
		}
	}
	// Editors show descriptions as hover help and complete property names:
	// every declared property needs a description, and every object must
	// refuse unknown fields as the loader does.
	props := map[string]bool{}
	var declared func(path string, s map[string]any)
	declared = func(path string, s map[string]any) {
		if ps, ok := s["properties"].(map[string]any); ok {
			if s["additionalProperties"] != false {
				t.Errorf("%s: declares properties without additionalProperties: false", path)
			}
			for name, p := range ps {
				props[name] = true
				sub, ok := p.(map[string]any)
				if !ok {
					t.Errorf("%s/properties/%s: expected a schema object", path, name)
					continue
				}
				if d, _ := sub["description"].(string); strings.TrimSpace(d) == "" {
					t.Errorf("%s/properties/%s: no description", path, name)
				}
				declared(path+"/properties/"+name, sub)
			}
		} else if s["type"] == "object" && s["additionalProperties"] == nil {
			t.Errorf("%s: an object schema without additionalProperties", path)
		}
		for _, kw := range []string{"items", "additionalProperties"} {
			if sub, ok := s[kw].(map[string]any); ok {
				declared(path+"/"+kw, sub)
			}
		}
		for _, kw := range []string{"anyOf", "oneOf", "allOf"} {
			subs, _ := s[kw].([]any)
			for i, sub := range subs {
				if m, ok := sub.(map[string]any); ok {
					declared(path+"/"+kw+"/"+strconv.Itoa(i), m)
				}
			}
		}
	}
	declared("#", doc)
	for name, d := range defs {
		m, _ := d.(map[string]any)
		if s, _ := m["description"].(string); strings.TrimSpace(s) == "" {
			t.Errorf("#/$defs/%s: no description", name)
		}
		declared("#/$defs/"+name, m)
	}
	// A required name, anywhere (if/then included), must be a declared
	// property: a typo there would silently require nothing.
	var required func(path string, v any)
	required = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if req, ok := x["required"].([]any); ok {
				for _, r := range req {
					if !props[r.(string)] {
						t.Errorf("%s/required: %q is not a declared property", path, r)
					}
				}
			}
			for k, e := range x {
				if k != "examples" && k != "default" && k != "const" && k != "enum" {
					required(path+"/"+k, e)
				}
			}
		case []any:
			for i, e := range x {
				required(path+"/"+strconv.Itoa(i), e)
			}
		}
	}
	required("#", doc)
}

// TestSchemaAcceptsBuiltins validates every built-in scenario, as embedded
// in the binary, against the schema.
func TestSchemaAcceptsBuiltins(t *testing.T) {
	sch := compileSchema(t)
	names := BuiltinNames()
	if len(names) == 0 {
		t.Fatal("no built-in scenarios")
	}
	for _, name := range names {
		data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := schemaValidate(sch, data); err != nil {
			t.Errorf("builtin %s: the schema refuses it:\n%v", name, err)
		}
	}
}

// TestSchemaAcceptsWhatTheLoaderAccepts checks the test base, which uses
// every section, distribution, fault and value syntax, with both.
func TestSchemaAcceptsWhatTheLoaderAccepts(t *testing.T) {
	sch := compileSchema(t)
	base := schemaReadBase(t)
	if _, err := Load(schemaBase, []byte(base)); err != nil {
		t.Fatalf("the loader refuses the base document:\n%v", err)
	}
	if err := schemaValidate(sch, []byte(base)); err != nil {
		t.Fatalf("the schema refuses the base document:\n%v", err)
	}
}

// schemaEdit turns the valid base document into another.
type schemaEdit func(t *testing.T, doc string) string

// schemaReplace replaces text that must occur exactly once in the base, so an
// an edit cannot silently miss or hit the wrong place.
func schemaReplace(old, new string) schemaEdit {
	return func(t *testing.T, doc string) string {
		t.Helper()
		if n := strings.Count(doc, old); n != 1 {
			t.Fatalf("the base document holds %q %d times, want exactly once", old, n)
		}
		return strings.Replace(doc, old, new, 1)
	}
}

// schemaReplaceRE replaces the text matching re (in multi-line mode), which
// must occur exactly once, with new taken literally: an edit of a built-in
// that does not depend on the numbers its authors tune.
func schemaReplaceRE(re, new string) schemaEdit {
	r := regexp.MustCompile("(?m)" + re)
	return func(t *testing.T, doc string) string {
		t.Helper()
		if n := len(r.FindAllStringIndex(doc, -1)); n != 1 {
			t.Fatalf("the base document matches %q %d times, want exactly once", re, n)
		}
		return r.ReplaceAllLiteralString(doc, new)
	}
}

func schemaAppend(s string) schemaEdit {
	return func(t *testing.T, doc string) string { return doc + s }
}

// TestSchemaAcceptsVariationsTheLoaderAccepts edits the base in ways the
// loader accepts, some of them unusual: the schema must accept each.
func TestSchemaAcceptsVariationsTheLoaderAccepts(t *testing.T) {
	schemaAcceptEach(t, schemaReadBase(t), []schemaVariation{
		{"number as a title", schemaReplace("title: With the fix", "title: 2024")},
		{"bool as a note", schemaReplace(`annotate: "Capacity doubled"`, "annotate: true")},
		{"bare 0 duration", schemaReplace("warmup: 10m", "warmup: 0")},
		{"bare 0 gap", schemaReplace("gap: 30s", "gap: 0")},
		{"days in a duration", schemaReplace("horizon: 2h", "horizon: 1d12h")},
		{"fraction without a leading digit", schemaReplace("mean: 5ms", "mean: .5s")},
		{"micro sign", schemaReplace("mean: 250ms", "mean: 500µs")},
		{"quoted duration", schemaReplace("mean: 100ms", `mean: "100ms"`)},
		{"quoted rate", schemaReplace("rate: 30/min", `rate: "30/min"`)},
		{"spaces in a rate", schemaReplace("rate: 30/min", "rate: 30 / min")},
		{"rate with a multiplier", schemaReplace("rate: 30/min", "rate: 0.5M/d")},
		{"digit separators", schemaReplace("replications: 5", "replications: 1_000")},
		{"share of 0 and 1", schemaReplace("{to: printer, p: 0.1}\n          - {to: archive, p: 0.9}", "{to: printer, p: 0}\n          - {to: archive, p: 1}")},
		{"whole-number bound", schemaReplace("max: 0.9}", "max: 1}")},
		{"zero time bound", schemaReplace("stat: p99, max: 2s}", "stat: p99, max: 0}")},
		{"explicit mean", schemaReplace("metric: station.db.utilization,", "metric: station.db.utilization, stat: mean,")},
		{"processor sharing", schemaReplace("discipline: fcfs", "discipline: ps")},
		{"literal block description", schemaReplace("  description: A valid scenario touching every part of the format.\n", "  description: |\n    Two lines\n    of text.\n")},
		{"aliases", schemaReplace("service: {distribution: exponential, mean: 250ms}", "service: &svc {distribution: exponential, mean: 250ms}\n        to: archive\n      - name: mailer2\n        servers: 1\n        service: *svc")},
	})
}

// TestSchemaAcceptsReactiveVariationsTheLoaderAccepts does the same with
// the reactive-backend built-in.
func TestSchemaAcceptsReactiveVariationsTheLoaderAccepts(t *testing.T) {
	schemaAcceptEach(t, schemaReadBuiltin(t, schemaReactive), []schemaVariation{
		{"zero warmup", schemaReplace("\nrun:\n", "\nrun:\n  warmup: 0s\n")},
		{"bare 0 warmup", schemaReplace("\nrun:\n", "\nrun:\n  warmup: 0\n")},
		{"another overflow policy", schemaReplaceRE(`^      overflow: .*$`, "      overflow: shed")},
		{"no overflow policy", schemaReplaceRE(`^      overflow: .*\n`, "")},
		{"several instances", schemaReplaceRE(`^    instances: .*$`, "    instances: 3")},
		{"optional fields set", schemaReplace("    invalidation:\n", "    invalidation:\n      splay: true\n      write_log: 100_000\n")},
		{"fixed cost", schemaReplaceRE(`range_cost: \{.*\}`, "range_cost: {mean: 4ms}")},
		{"zero compaction time", schemaReplaceRE(`^      compaction_time: .*$`, "      compaction_time: 0")},
		{"arrivals per minute", schemaReplaceRE(`\{at: 0s, rate: [^}]*\}`, "{at: 0s, rate: 30/min}")},
		{"other backoff presets", schemaReplace("backoff: reactive-2025-before,", "backoff: grpc,")},
		{"no search queries", schemaReplaceRE(`^      search_queries: .*$`, "      search_queries: 0")},
		{"deploy with instances", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 5h, deploy: {target: backend, tier: pro-large, instances: 2, gap: 0}}\n")},
		{"deploy in a variant", schemaReplace("\nvariants:\n", "\nvariants:\n  - name: probe\n    timeline:\n      - {at: 6h, deploy: {target: backend, tier: starter}}\n")},
		{"percentile of query latency", schemaReplace("\nslos:\n", "\nslos:\n  - {name: probe, metric: query_latency, stat: p99, max: 2s}\n")},
		{"rate bound", schemaReplace("\nslos:\n", "\nslos:\n  - {name: probe, metric: queries_peak, max: 5k/s}\n")},
	})
}

// schemaEdits applies edits in order.
func schemaEdits(edits ...schemaEdit) schemaEdit {
	return func(t *testing.T, doc string) string {
		t.Helper()
		for _, e := range edits {
			doc = e(t, doc)
		}
		return doc
	}
}

// schemaFulfilSteps puts steps first in the flash sale's fulfil endpoint,
// the queue's consumer.
func schemaFulfilSteps(steps string) schemaEdit {
	return schemaReplace("          - name: fulfil\n            steps:\n", "          - name: fulfil\n            steps:\n"+steps)
}

// TestSchemaAcceptsServicesVariationsTheLoaderAccepts does the same with
// the services built-in: every step kind, knob references on fields of
// each type, elements with only their required fields, and what a services
// scenario takes of the rest of the file.
func TestSchemaAcceptsServicesVariationsTheLoaderAccepts(t *testing.T) {
	notify := schemaReplace("\nslos:\n", `
      - name: notify
        pods: 2
        cores: 0.5
        connections: 1000
        endpoints:
          - name: push
            steps:
              - fanout: {mode: broadcast, per_recipient: 10us}
slos:
`)
	knobs := func(decls string) schemaEdit { return schemaReplace("\ncomponents:\n", "\n"+decls+"components:\n") }
	schemaAcceptEach(t, schemaReadBuiltin(t, schemaServices), []schemaVariation{
		{"every step kind", schemaEdits(notify, schemaReplace("          - name: fulfil\n", `          - name: checkout
            arrivals: [{at: 0, rate: 30/min}, {at: "10m", rate: 0.5k/s}]
            steps:
              - cpu: {mean: 0s}
              - wait: {mean: 1ms}
              - query: {database: mysql, cost: {mean: 2ms}, rows: 20, batched: true, row_cost: 50us, cache: items}
              - stock: {mode: atomic, stock: 100, hold: {mean: 0s}, lock_timeout: 10s, degrade: true}
              - stock: {mode: pessimistic, database: mysql, cost: {mean: 1ms}, stock: 1_000_000}
              - call: {service: notify, endpoint: push, timeout: 2s}
              - call: {service: shop, endpoint: item}
              - enqueue: payments
              - fanout: {mode: broadcast, per_recipient: 0}
              - {fanout: {mode: pubsub, group_size: 20, per_recipient: 12us}, enabled: true, unless: false}
          - name: fulfil
`))},
		{"knob references of every type", schemaEdits(
			knobs(`  - {name: db.cores, type: number, unit: cores, default: 16, min: 1, max: 64, help: Cores of the database.}
  - {name: db.restart, type: duration, default: 2m, min: 1s, max: 10m, help: Restart time of the database.}
  - {name: warm_cache, type: bool, default: true, help: Cache loaded at the start.}
  - {name: reconnect, type: choice, choices: [none, auto], default: auto, help: Pool reconnection.}
  - {name: consumers, type: integer, default: 4, min: 1, max: 64, help: Consumers per pod.}
  - {name: leak, type: number, default: 0, min: 0, max: 0.1, help: Share of requests leaking a connection.}
`),
			schemaReplaceRE(`^        cores: .*\n        knee:`, "        cores: $db.cores\n        knee:"),
			schemaReplaceRE(`^        restart_time: .*$`, "        restart_time: $db.restart"),
			schemaReplace("warm: true}", "warm: $warm_cache}"),
			schemaReplace("reconnect: auto}", "reconnect: $reconnect}"),
			schemaReplaceRE(`consumers: [^,}]*`, "consumers: $consumers"),
			schemaReplace("          - name: fulfil\n", "          - name: fulfil\n            leak: $leak\n"),
			schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 20m, set: {leak: 0.05}}\n"),
		)},
		{"elements with only their required fields", schemaEdits(
			schemaReplace("    caches:\n", "    caches:\n      - {name: sessions, keys: 1, ttl: 1s}\n"),
			schemaReplace("    databases:\n", "    databases:\n      - {name: replica, cores: 0.5, knee: 1, max_connections: 1, restart_time: 1ms}\n"),
			schemaReplace("    queues:\n", "    queues:\n      - {name: mails, service: shop, endpoint: fulfil, consumers: 1}\n"),
			schemaReplace("        pools:\n", "        pools:\n          - {database: replica, max: 1, acquire_timeout: 1s}\n"),
			schemaReplace("          - name: fulfil\n", "          - name: noop\n            steps: []\n          - name: fulfil\n"),
			schemaReplace("\nslos:\n", "\n      - {name: idle, pods: 1, cores: 1, endpoints: [{name: e, steps: [{cpu: {mean: 1ms}}]}]}\nslos:\n"),
		)},
		{"slow threshold", schemaReplace("    kind: services\n", "    kind: services\n    slow: 500ms\n")},
		{"background jobs", schemaReplace("        rate_limit: $rate_limit\n", "        rate_limit: $rate_limit\n        jobs:\n          - {name: sync, at: 20m, for: 5m, threads: 8}\n          - {name: backup, at: 0, for: 1h, threads: 0.5}\n")},
		{"follow-ups", schemaReplace("          - name: item\n", "          - name: item\n            followups: [{endpoint: order, count: 2, after: 30s, share: 0.1}, {endpoint: fulfil, count: 0}]\n")},
		{"edge limits and client connections", schemaReplace("        rate_limit: $rate_limit\n", "        rate_limit: $rate_limit\n        burst: 100_000\n        max_in_flight: 500\n        connections: 0\n        connection_limit: 30000\n        speed: 1.5\n")},
		{"every memory figure", schemaReplaceRE(`memory: \{.*\}`, "memory: {base: 8192, per_connection: 4, growth: 0.5, per_connection_max: 64, limit: 65_536}")},
		{"every pool setting", schemaReplaceRE(`\{database: mysql, min: [^}]*\}`, "{database: mysql, min: 0, max: $pool_size, acquire_timeout: 500ms, idle_timeout: 10m, leak_detection: 0, reconnect: none, reconnect_delay: 2s}")},
		{"every cache setting", schemaReplaceRE(`\{name: items, [^}]*\}`, "{name: items, keys: 100_000, ttl: 5m, ttl_spread: 0, negative_ttl: 1m, local_ttl: 0, missing: 0.05, warm: false}")},
		{"bounded queue", schemaReplaceRE(`\{name: payments, [^}]*\}`, "{name: payments, service: shop, endpoint: fulfil, consumers: 1, capacity: 10000}")},
		{"database speed and no thrash", schemaReplaceRE(`^        thrash: .*$`, "        thrash: 0\n        speed: 2")},
		{"restarts", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 20m, fault: {kind: restart, target: mysql, for: 30s}}\n  - {at: 21m, fault: {kind: restart, target: mysql}}\n  - {at: 25m, fault: {kind: restart, target: shop}}\n")},
		{"deploys of a service", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 20m, deploy: {target: shop, servers: 16, gap: 30s}}\n  - {at: 30m, deploy: {target: shop, servers: 4}}\n")},
		{"live knobs set mid-run", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 20m, set: {rate_limit: 5000/s, async_orders: true, item_cache: true}}\n")},
		{"restart and deploy in a variant", schemaReplace("\nvariants:\n", "\nvariants:\n  - name: probe\n    timeline:\n      - {at: 20m, fault: {kind: restart, target: mysql, for: 1m}}\n      - {at: 25m, deploy: {target: shop, servers: 2, gap: 0}}\n")},
		{"objectives in every unit", schemaReplace("\nslos:\n", `
slos:
  - {name: goodput kept, metric: goodput, min: 100/s}
  - {name: fast, metric: latency, stat: p99, max: 2s}
  - {name: database up, metric: mysql.down_time, max: 1m}
  - {name: shop fast, metric: shop.latency, stat: p95, max: 1s}
  - {name: shop failing, metric: shop.failing_time, max: 0}
  - {name: shop answers, metric: shop.error_ratio, max: 0.01}
  - {name: cache holds, metric: items.misses_peak, max: 1k/s}
  - {name: queue short, metric: payments.depth_peak, max: 1000}
  - {name: pools fine, metric: errors_pool_timeout, max: 0}
`)},
		{"zero warmup", schemaReplace("\nrun:\n", "\nrun:\n  warmup: 0s\n")},
		{"aliases", schemaEdits(schemaReplace("              - cpu: {mean: 1ms, cv: 1}\n", "              - cpu: &cpu {mean: 1ms, cv: 1}\n"), schemaFulfilSteps("              - cpu: *cpu\n"))},
	})
}

// schemaFleetLiteralPolicy gives the fleet built-in's clients a reconnect
// policy written out, and drops the knob that chose it.
func schemaFleetLiteralPolicy(policy string) schemaEdit {
	return schemaEdits(
		schemaReplaceRE(`^  - name: reconnect_policy\n(    .*\n)+`, ""),
		schemaReplaceRE(`, reconnect_policy: [a-z0-9-]+`, ""),
		schemaReplace("policy: $reconnect_policy", "policy: "+policy),
	)
}

// TestSchemaAcceptsFleetVariationsTheLoaderAccepts does the same with the
// websocket-fleet built-in: knob references on fields of each type, each
// reconnect policy, optional fields left out and all given, times of day
// in each form, and what a fleet scenario takes of the rest of the file.
func TestSchemaAcceptsFleetVariationsTheLoaderAccepts(t *testing.T) {
	knobs := func(decls string) schemaEdit { return schemaReplace("\ncomponents:\n", "\n"+decls+"components:\n") }
	cases := []schemaVariation{
		{"knob references of every type", schemaEdits(
			knobs(`  - {name: fleet.nodes, type: integer, unit: nodes, default: 4, min: 1, max: 16, help: Gateway nodes.}
  - {name: lb, type: choice, choices: [least-connections, random], default: random, help: Load balancing.}
  - {name: desktop, type: number, unit: fraction, default: 0.5, min: 0, max: 1, help: Share of desktop clients.}
  - {name: handshake, type: duration, default: 500us, min: 100us, max: 1s, help: CPU of a handshake.}
  - {name: heap.per_conn, type: number, unit: KiB, default: 40, min: 0, max: 1024, help: Heap per connection.}
  - {name: job.over, type: duration, default: 2m, min: 1s, max: 1h, help: Length of the night job.}
  - {name: night, type: number, default: 0.05, min: 0, max: 10, help: Activity at 03:00.}
  - {name: nat, type: duration, default: 300s, min: 0s, max: 1h, help: NAT idle timeout.}
  - {name: pongs, type: integer, default: 3, min: 1, max: 10, help: Missed pongs.}
`),
			schemaReplaceRE(`^    nodes: .*$`, "    nodes: $fleet.nodes"),
			schemaReplaceRE(`^    load_balancer: .*$`, "    load_balancer: $lb"),
			schemaReplaceRE(`desktop: [0-9.]+,`, "desktop: $desktop,"),
			schemaReplaceRE(`^      handshake_cost: .*$`, "      handshake_cost: $handshake"),
			schemaReplaceRE(`^      heap_per_connection: .*$`, "      heap_per_connection: $heap.per_conn"),
			schemaReplaceRE(`, over: [^,}]+`, ", over: $job.over"),
			schemaReplaceRE(`^      broadcasts: .*$`, "      broadcasts: [\"03:00\"]\n      day: [{at: \"00:00\", factor: 0.25}, {at: \"03:00\", factor: $night}, {at: \"12:00\", factor: 1}]"),
			schemaReplaceRE(`^      nat_idle: .*$`, "      nat_idle: $nat"),
			schemaReplaceRE(`^      missed_pongs: .*$`, "      missed_pongs: $pongs"),
		)},
		{"only a name and a kind", schemaEdits(
			schemaReplaceRE(`(?s)^knobs:\n.*?\ncomponents:\n`, "components:\n"),
			schemaReplaceRE(`(?s)^  - name: gateways\n.*?\ntimeline:\n`, "  - {name: gateways, kind: websocket-fleet}\ntimeline:\n"),
			schemaReplaceRE(`(?s)^variants:\n.*`, ""),
		)},
		{"optional sections left out", schemaEdits(
			schemaReplaceRE(`(?s)^    memory:\n.*?\n    gc:\n`, "    gc:\n"),
			schemaReplaceRE(`(?s)^    network:\n.*?\n    heartbeat:\n`, "    heartbeat:\n"),
			schemaReplaceRE(`^    nodes: .*\n    cores: .*\n    clients: .*\n    load_balancer: .*\n    mix: .*\n`, ""),
		)},
		{"mandatory switches only", schemaEdits(
			schemaReplaceRE(`(?s)^    heartbeat:\n.*?\n    degradation:\n`, "    heartbeat: {enabled: $heartbeats}\n    degradation:\n"),
			schemaReplaceRE(`(?s)^    degradation:\n.*?\n    reconnect:\n`, "    degradation: {enabled: $degradation}\n    reconnect:\n"),
			schemaReplaceRE(`(?s)^    resume:\n.*?\ntimeline:\n`, "    resume: {enabled: $session_resume}\ntimeline:\n"),
			schemaReplaceRE(`(?s)^      night_jobs:\n.*?\n    network:\n`, "      night_jobs:\n        - {at: \"03:30\"}\n    network:\n"),
		)},
		{"every optional field given", schemaEdits(
			schemaReplace("      close_superseded: $takeover\n", "      close_superseded: $takeover\n      write_latency: 0\n      message_cpu: 1s\n      ping_cpu: 5us\n"),
			schemaReplaceRE(`^      alloc_per_message: .*$`, "      alloc_per_message: 11\n      goroutines_base: 0\n      goroutines_per_connection: 1000\n      alloc_per_handshake: 64\n      alloc_per_ping: 0.25\n      alloc_base: 1_048_576"),
			schemaReplaceRE(`^      nat_idle: .*$`, "      nat_idle: 0\n      handshake_rtts: 10\n      inject_both_ways: true"),
			schemaReplaceRE(`^    throttle: .*$`, "    throttle: {min: 0s, align: 1m}"),
			schemaReplaceRE(`^      idle_close: .*$`, "      idle_close: 1h\n      quiet_period: 1m\n      sweep_interval: 1s"),
		)},
		{"no night jobs, no broadcasts", schemaEdits(
			schemaReplaceRE(`(?s)^      night_jobs:\n.*?\n    network:\n`, "      night_jobs: []\n    network:\n"),
			schemaReplaceRE(`^      broadcasts: .*$`, "      broadcasts: []"),
		)},
		{"several night jobs and broadcasts", schemaEdits(
			schemaReplaceRE(`(?s)^      night_jobs:\n.*?\n    network:\n`, "      night_jobs:\n        - {at: \"00:00\", over: 1d, allocates: 0, live: 0, chunk: 0}\n        - {at: \"23:59:59\", over: 1ms, allocates: 1_048_576}\n    network:\n"),
			schemaReplaceRE(`^      broadcasts: .*$`, "      broadcasts: [\"03:00\", \"12:00:30\", 18:00]"),
		)},
		{"a day curve", schemaReplaceRE(`^      broadcasts: .*$`, "      broadcasts: [\"03:00\"]\n      day:\n        - {at: \"00:00\", factor: 0}\n        - {at: \"03:00:30\", factor: 0.05}\n        - {at: \"12:00\", factor: 1000}")},
		{"clock with seconds", schemaReplaceRE(`^  clock: .*$`, `  clock: "23:59:59"`)},
		{"unquoted clock", schemaReplaceRE(`^  clock: .*$`, "  clock: 02:00")},
		{"no clock", schemaReplaceRE(`^  clock: .*\n`, "")},
		{"zero warmup", schemaReplace("\nrun:\n", "\nrun:\n  warmup: 0s\n")},
		{"size limits and digit separators", schemaEdits(
			schemaReplaceRE(`^    nodes: .*$`, "    nodes: 256"),
			schemaReplaceRE(`^    cores: .*$`, "    cores: 1"),
			schemaReplaceRE(`^    clients: .*$`, "    clients: 1_000_000"),
			schemaReplaceRE(`^    load_balancer: .*$`, "    load_balancer: random"),
			schemaReplaceRE(`^    mix: .*$`, "    mix: {desktop: 1, background: 0, mobile: 0}"),
			schemaReplaceRE(`^      connection_limit: .*$`, "      connection_limit: 10_000_000"),
		)},
		{"zero and longest durations", schemaEdits(
			schemaReplaceRE(`^      latency: .*$`, "      latency: 10s"),
			schemaReplaceRE(`^      push_interval: .*$`, "      push_interval: 0"),
			schemaReplaceRE(`^      send_interval: .*$`, "      send_interval: 1d"),
			schemaReplaceRE(`^      connect_timeout: .*$`, "      connect_timeout: 0s"),
			schemaReplaceRE(`^      window: .*$`, "      window: 1d"),
			schemaReplaceRE(`^    mobile: .*$`, "    mobile: {awake: 1d, asleep: 1ms}"),
		)},
		{"collector off in a variant", schemaReplace("\nvariants:\n", "\nvariants:\n  - name: gc-off\n    set: {gogc: -1}\n")},
		{"live knobs set mid-run", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 30m, set: {heartbeats: true, gogc: 50, degradation: true, takeover: true, immediate_reconnect: true, session_resume: true}}\n")},
		{"more faults", schemaReplace("\ntimeline:\n", `
timeline:
  - {at: 1m, fault: {kind: latency, target: gateways, delay: 0}}
  - {at: 2m, fault: {kind: latency, target: gateways, delay: 10s, jitter: 10s, for: 1m}}
  - {at: 3m, fault: {kind: kill, target: gateways, node: 4}}
`)},
		{"faults in a variant", schemaReplace("\nvariants:\n", `
variants:
  - name: probe
    drop: [chaos-kill]
    timeline:
      - {at: 10m, fault: {kind: kill, target: gateways, node: 2, for: 30s}}
      - {at: 20m, fault: {kind: latency, target: gateways, delay: 200ms, jitter: 0s}}
`)},
		{"objectives in every unit", schemaReplace("\ntimeline:\n", `
slos:
  - {name: recovered, metric: session_recovery, stat: p99, max: 30s}
  - {name: phones recovered, metric: session_recovery_mobile, stat: p50, max: 2m}
  - {name: reconnects succeed, metric: reconnect_success, min: 0.99}
  - {name: short pauses, metric: gc_pause_max, max: 50ms}
  - {name: few zombies, metric: zombie_peak, max: 100}
  - {name: cpu, metric: cpu_utilization, max: 0.8}
timeline:
`)},
	}
	for _, p := range reconnectPolicies() {
		cases = append(cases, schemaVariation{"reconnect policy " + p, schemaFleetLiteralPolicy(p)})
	}
	schemaAcceptEach(t, schemaReadBuiltin(t, schemaFleet), cases)
}

// schemaVariation is an edit of a valid document that the loader accepts.
type schemaVariation struct {
	name string
	edit schemaEdit
}

// schemaAcceptEach applies each edit to base: the loader must accept the
// copy (else the test is wrong), and so must the schema.
func schemaAcceptEach(t *testing.T, base string, cases []schemaVariation) {
	t.Helper()
	sch := compileSchema(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := c.edit(t, base)
			if _, err := Load("variation.yaml", []byte(doc)); err != nil {
				t.Fatalf("the loader refuses it (fix the test):\n%v", err)
			}
			if err := schemaValidate(sch, []byte(doc)); err != nil {
				t.Errorf("the schema refuses what the loader accepts:\n%v", err)
			}
		})
	}
}

// TestSchemaAndLoaderRefuseTheSameMistakes breaks the base document one way
// at a time; the loader must refuse each copy for the reason given (want,
// a part of its message), and the schema must refuse it with an error at
// the place given (at, a JSON pointer into the document).
func TestSchemaAndLoaderRefuseTheSameMistakes(t *testing.T) {
	cases := []schemaMistake{
		// Unknown fields.
		{"unknown top-level field", schemaAppend("extras: 1\n"), `unknown field "extras"`, ""},
		{"unknown field in a station", schemaReplace("      - name: db\n        servers: 2\n", "      - name: db\n        servers: 2\n        replicas: 3\n"), `unknown field "replicas"`, "/components/0/stations/1"},
		{"unknown field in a route", schemaReplace("{to: cache, p: 0.2}", "{to: cache, p: 0.2, weight: 1}"), `unknown field "weight"`, "/components/0/stations/0/routes/1"},

		// Enums.
		{"unknown distribution", schemaReplace("distribution: gamma", "distribution: gama"), `unknown distribution "gama"`, "/components/0/stations/1/service/distribution"},
		{"unknown discipline", schemaReplace("discipline: fcfs", "discipline: lifo"), `unknown value "lifo"`, "/components/0/stations/2/discipline"},
		{"unknown arrival process", schemaReplace("process: deterministic", "process: bursty"), `unknown arrival process "bursty"`, "/workload/1/process"},
		{"unknown fault kind", schemaReplace("kind: outage", "kind: crash"), `unknown fault "crash"`, "/timeline/1/fault/kind"},
		{"unknown statistic", schemaReplace("stat: p99", "stat: p90"), `unknown statistic "p90"`, "/slos/0/stat"},
		{"unknown knob type", schemaReplace("type: rate", "type: float"), `"float": expected one of number, integer`, "/knobs/0/type"},
		{"unknown component kind", schemaReplace("  - name: backoffice\n    kind: queueing-network", "  - name: backoffice\n    kind: queue-network"), `unknown component kind "queue-network"`, "/components/1/kind"},
		{"wrong apiVersion", schemaReplace("apiVersion: stormglass/v1", "apiVersion: stormglass/v2"), "unsupported version", "/apiVersion"},
		{"wrong document kind", schemaReplace("kind: Scenario", "kind: Scenarios"), `unknown kind "Scenarios"`, "/kind"},

		// Value syntax.
		{"duration without a unit", schemaReplace("mean: 100ms", "mean: 300"), `"300": expected a duration with a unit`, "/components/0/stations/0/service/mean"},
		{"duration in words", schemaReplace("horizon: 2h", "horizon: 2 hours"), "expected a duration with a unit", "/run/horizon"},
		{"rate without a unit", schemaReplace("rate: 30/min", "rate: 30"), `"30": expected a rate with a unit of time`, "/workload/1/rate"},
		{"rate per ambiguous m", schemaReplace("rate: 1.2k/h", "rate: 1.2k/m"), "expected a rate with a unit of time", "/workload/2/rate"},
		{"quoted integer", schemaReplace("      - name: db\n        servers: 2\n", "      - name: db\n        servers: \"2\"\n"), "remove the quotes", "/components/0/stations/1/servers"},
		{"malformed knob reference", schemaReplace("servers: $web_servers", "servers: $Web_Servers"), `"Web_Servers"`, "/components/0/stations/0/servers"},
		{"scenario name with capitals", schemaReplace("name: schema-base", "name: Schema-Base"), "is not a valid name", "/metadata/name"},
		{"blank title", schemaReplace("title: Schema test base", `title: " "`), "expected a non-empty string", "/metadata/title"},
		{"drop id that is not a name", schemaReplace("drop: [surge]", "drop: [Surge]"), "is not a valid name", "/variants/0/drop/0"},

		// Ranges the schema can see.
		{"zero service mean", schemaReplace("mean: 5ms", "mean: 0s"), "out of range", "/components/0/stations/2/service/mean"},
		{"share above 1", schemaReplace("{to: cache, p: 0.2}", "{to: cache, p: 1.5}"), "out of range", "/components/0/stations/0/routes/1/p"},
		{"negative capacity", schemaReplace("capacity: 0", "capacity: -1"), "out of range", "/components/1/stations/0/capacity"},
		{"no replications", schemaReplace("replications: 5", "replications: 0"), "out of range", "/run/replications"},
		{"fault lasting no time", schemaReplace("factor: 2, for: 1m", "factor: 2, for: 0s"), "out of range", "/timeline/3/fault/for"},
		{"deploy to no servers", schemaReplace("servers: 8, gap: 30s", "servers: 0, gap: 30s"), "out of range", "/timeline/4/deploy/servers"},
		{"zero factor", schemaReplace("factor: 3", "factor: 0"), "out of range", "/timeline/2/fault/factor"},

		// Shape: one of, exactly one of, required together.
		{"entry with two actions", schemaReplace(`{at: 1h, annotate: "Capacity doubled"}`, `{at: 1h, annotate: "Capacity doubled", set: {arrival_rate: 50/s}}`), "expected exactly one action (set, fault, deploy, annotate), got annotate and set", "/timeline/5"},
		{"entry with no action", schemaReplace(`{at: 1h, annotate: "Capacity doubled"}`, `{at: 1h}`), "expected exactly one action (set, fault, deploy, annotate), got none", "/timeline/5"},
		{"entry without a time", schemaReplace("{at: 45m, fault:", "{fault:"), `missing required field "at"`, "/timeline/1"},
		{"station with both to and routes", schemaReplace("cv: 1.5}\n        to: done\n", "cv: 1.5}\n        to: done\n        routes: [{to: done}]\n"), "give either to (one destination) or routes (shares), not both", "/components/0/stations/1"},
		{"station with neither to nor routes", schemaReplace("mean: 250ms}\n        to: archive\n", "mean: 250ms}\n"), "missing where jobs go next", "/components/1/stations/2"},
		{"source with both to and routes", schemaReplace("rate: 1.2k/h\n", "rate: 1.2k/h\n    to: worker\n"), "not both", "/workload/2"},
		{"two routes without p", schemaReplace("{to: db, p: 0.5}", "{to: db}"), "a second route without p", "/workload/1/routes"},
		{"empty routes", schemaReplace("routes:\n          - {to: printer, p: 0.1}\n          - {to: archive, p: 0.9}", "routes: []"), "expected at least one route", "/components/1/stations/1/routes"},
		{"sinks not a list", schemaReplace("sinks: [archive]", "sinks: archive"), "expected a list of sink names", "/components/1/sinks"},
		{"sink listed twice", schemaReplace("sinks: [archive]", "sinks: [archive, archive]"), `the name "archive" is already used`, "/components/1/sinks"},

		// Service laws.
		{"erlang without phases", schemaReplace("          phases: 2\n", ""), `missing required field "phases" for the erlang distribution`, "/components/0/stations/0/service"},
		{"gamma with phases", schemaReplace("cv: 1.5}", "cv: 1.5, phases: 2}"), "the gamma distribution takes no phases", "/components/0/stations/1/service/phases"},
		{"exponential with spread", schemaReplace("{distribution: exponential, mean: 250ms}", "{distribution: exponential, mean: 250ms, spread: 0.1}"), "exponential distribution takes no spread", "/components/1/stations/2/service/spread"},
		{"lognormal without cv", schemaReplace("{distribution: lognormal, mean: 2s, cv: 0.8}", "{distribution: lognormal, mean: 2s}"), `missing required field "cv" for the lognormal distribution`, "/components/1/stations/0/service"},

		// Faults.
		{"outage with a factor", schemaReplace("{kind: outage, target: db, for: 5m}", "{kind: outage, target: db, for: 5m, factor: 2}"), "a fault of kind outage takes no factor", "/timeline/1/fault/factor"},
		{"slowdown without a factor", schemaReplace("{kind: slowdown, target: web, factor: 3, for: 10m}", "{kind: slowdown, target: web, for: 10m}"), `missing required field "factor" for a slowdown`, "/timeline/2/fault"},
		{"outage with a delay", schemaReplace("{kind: outage, target: db, for: 5m}", "{kind: outage, target: db, for: 5m, delay: 1s}"), "a fault of kind outage takes no delay: it is for a latency fault", "/timeline/1/fault/delay"},
		{"surge with a node", schemaReplace("{kind: surge, target: users, factor: 2, for: 1m}", "{kind: surge, target: users, factor: 2, for: 1m, node: 1}"), "a fault of kind surge takes no node: it is for a kill fault", "/timeline/3/fault/node"},
		{"latency fault in a queueing network", schemaReplace("{kind: outage, target: db, for: 5m}", "{kind: latency, target: db, delay: 1s}"), "a latency fault is for a websocket-fleet component, and this scenario has none", "/timeline/1/fault/kind"},

		// Knob declarations.
		{"duration knob with default 5", schemaReplace("default: 20ms", "default: 5"), `"5": expected a duration with a unit`, "/knobs/2/default"},
		{"rate knob with a duration max", schemaReplace("    max: 100/s\n", "    max: 100s\n"), "expected a rate with a unit of time", "/knobs/0/max"},
		{"integer knob with a fraction", schemaReplace("    default: 4\n", "    default: 4.5\n"), "expected a whole number", "/knobs/1/default"},
		{"number knob with a bool default", schemaReplace("    default: 0.3\n", "    default: true\n"), "expected a number", "/knobs/3/default"},
		{"choice knob without choices", schemaReplace("    choices: [fcfs, ps]\n", ""), `missing required field "choices"`, "/knobs/4"},
		{"choice knob with a range", schemaReplace("    default: ps\n", "    default: ps\n    min: fcfs\n"), "a choice knob has no range", "/knobs/4/min"},
		{"duration knob with a unit", schemaReplace("    default: 20ms\n", "    unit: seconds\n    default: 20ms\n"), "only number and integer knobs take a unit", "/knobs/2/unit"},
		{"knob name with capitals", schemaReplace("  - name: web_servers\n", "  - name: Web_Servers\n"), "is not a valid knob name", "/knobs/1/name"},
		{"knob without help", schemaReplace("    help: Servers at the web tier.\n", ""), `missing required field "help"`, "/knobs/1"},

		// Metadata, objectives, variants.
		{"missing metadata.title", schemaReplace("  title: Schema test base\n", ""), `missing required field "title"`, "/metadata"},
		{"objective without a bound", schemaReplace("{name: throughput kept, metric: throughput, min: 35/s}", "{name: throughput kept, metric: throughput}"), "an objective needs a bound", "/slos/2"},
		{"percentile of a metric without a distribution", schemaReplace("metric: station.db.utilization, max: 0.9", "metric: station.db.utilization, stat: p99, max: 0.9"), "has only a mean", "/slos/1/metric"},
		{"unknown station metric", schemaReplace("station.db.utilization", "station.db.utilisation"), `unknown metric "station.db.utilisation"`, "/slos/1/metric"},
		{"rate bound on a time metric", schemaReplace("max: 2s}", "max: 2/s}"), "expected a duration with a unit", "/slos/0/max"},
		{"variant without name", schemaReplace("  - name: remediated\n    title: With the fix\n", "  - title: With the fix\n"), `missing required field "name"`, "/variants/0"},
		{"variant named base", schemaReplace("  - name: remediated\n", "  - name: base\n"), "names the scenario as declared", "/variants/0/name"},
		{"variant setting nothing", schemaReplace("set: {web_servers: 8}", "set: {}"), "expected at least one knob: value", "/variants/0/set"},
		{"profile point without a rate", schemaReplace("{at: 1h, rate: 50/s}", "{at: 1h}"), `missing required field "rate"`, "/workload/0/profile/0"},
	}
	if len(cases) < 12 {
		t.Fatalf("only %d cases", len(cases))
	}
	schemaRefuseEach(t, schemaReadBase(t), cases)
}

// TestSchemaAndLoaderRefuseTheSameReactiveMistakes breaks the reactive-backend
// built-in one way at a time, as TestSchemaAndLoaderRefuseTheSameMistakes
// breaks the base.
func TestSchemaAndLoaderRefuseTheSameReactiveMistakes(t *testing.T) {
	cases := []schemaMistake{
		// Unknown and missing fields.
		{"unknown field in gateway", schemaReplace("    gateway:\n", "    gateway:\n      keepalive: 30s\n"), `unknown field "keepalive"`, "/components/0/gateway"},
		{"unknown field in a client version", schemaReplace("{name: after, ", "{name: after, jitter: 0.5, "), `unknown field "jitter"`, "/components/0/clients/versions/1"},
		{"station fields on a backend", schemaReplace("    kind: reactive-backend\n", "    kind: reactive-backend\n    sinks: [done]\n"), `unknown field "sinks"`, "/components/0"},
		{"missing clients.versions", schemaReplaceRE(`^      versions:\n(        - .*\n)+`, ""), `missing required field "versions"`, "/components/0/clients"},
		{"missing gateway threads", schemaReplaceRE(`^      threads: .*\n`, ""), `missing required field "threads"`, "/components/0/gateway"},
		{"cost without a mean", schemaReplaceRE(`search_cost: \{.*\}`, "search_cost: {cv: 1}"), `missing required field "mean"`, "/components/0/workers/search_cost"},
		{"backend without a tier", schemaReplaceRE(`^    tier: .*\n`, ""), `missing required field "tier"`, "/components/0"},

		// Enums.
		{"unknown overflow policy", schemaReplaceRE(`^      overflow: .*$`, "      overflow: drop"), `unknown value "drop"`, "/components/0/invalidation/overflow"},
		{"misspelt backoff preset", schemaReplace("backoff: reactive-2025-after,", "backoff: reactive-2025-afterr,"), `unknown backoff preset "reactive-2025-afterr"`, "/components/0/clients/versions/1/backoff"},
		{"unknown hardware tier", schemaReplaceRE(`^    tier: .*$`, "    tier: enterprise"), `unknown value "enterprise"`, "/components/0/tier"},
		{"unknown tier in a deploy", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 5h, deploy: {target: backend, tier: premium}}\n"), `unknown hardware tier "premium"`, "/timeline/0/deploy/tier"},
		{"misspelt component kind", schemaReplace("kind: reactive-backend", "kind: reactive-backends"), `unknown component kind "reactive-backends"`, "/components/0/kind"},

		// Values.
		{"quoted bool", schemaReplaceRE(`^      legacy_metadata_reads: .*$`, `      legacy_metadata_reads: "true"`), "remove the quotes", "/components/0/invalidation/legacy_metadata_reads"},
		{"heartbeat without a unit", schemaReplaceRE(`^      heartbeat: .*$`, "      heartbeat: 15"), `"15": expected a duration with a unit`, "/components/0/gateway/heartbeat"},
		{"no instances", schemaReplaceRE(`^    instances: .*$`, "    instances: 0"), "out of range", "/components/0/instances"},
		{"too many range queries", schemaReplaceRE(`^      range_queries: .*$`, "      range_queries: 9"), "out of range", "/components/0/clients/range_queries"},
		{"too many search queries", schemaReplaceRE(`^      search_queries: .*$`, "      search_queries: 7"), "out of range", "/components/0/clients/search_queries"},
		{"share above 1", schemaReplaceRE(`^      keep_open: .*$`, "      keep_open: 1.5"), "out of range", "/components/0/clients/keep_open"},
		{"sessions lasting no time", schemaReplaceRE(`^      session: .*$`, "      session: 0s"), "out of range", "/components/0/clients/session"},
		{"arrival rate without a unit", schemaReplaceRE(`\{at: 0s, rate: [^}]*\}`, "{at: 0s, rate: 1}"), "expected a rate with a unit of time", "/components/0/clients/arrivals/0/rate"},

		// What a reactive backend takes of the rest of the file.
		{"workload with a reactive backend", schemaAppend("workload:\n  - {name: users, rate: 1/s, to: backend}\n"), "a reactive-backend component brings its own load", "/workload"},
		{"warmup with a reactive backend", schemaReplace("\nrun:\n", "\nrun:\n  warmup: 10m\n"), "remove run.warmup", "/run/warmup"},
		{"queueing network beside a reactive backend", schemaReplace("\ncomponents:\n", "\ncomponents:\n  - name: shop\n    kind: queueing-network\n    stations: [{name: web, servers: 1, service: {distribution: exponential, mean: 1s}, to: done}]\n    sinks: [done]\n"), "cannot share a scenario with a queueing-network component", "/components"},
		{"deploy of a backend with both tier and servers", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 5h, deploy: {target: backend, tier: free, servers: 2}}\n"), "a backend runs on a hardware tier", "/timeline/0/deploy"},
		{"deploy of a backend onto servers", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 5h, deploy: {target: backend, servers: 2}}\n"), `a backend runs on a hardware tier: give tier (and instances), not servers`, "/timeline/0/deploy"},
		{"deploy of a backend with instances only", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 5h, deploy: {target: backend, instances: 2}}\n"), `missing required field "tier"`, "/timeline/0/deploy"},
		{"kill in a reactive scenario", schemaReplace("\ntimeline:\n", "\ntimeline:\n  - {at: 5h, fault: {kind: kill, target: backend, node: 1}}\n"), "a kill fault is for a websocket-fleet component, and this scenario has none", "/timeline/0/fault/kind"},
		{"deploy onto servers in a variant", schemaReplace("\nvariants:\n", "\nvariants:\n  - name: probe\n    timeline:\n      - {at: 6h, deploy: {target: backend, servers: 4}}\n"), `a backend runs on a hardware tier: give tier (and instances), not servers`, "/variants/0/timeline/0/deploy"},

		// Objectives.
		{"network metric on a reactive backend", schemaReplace("\nslos:\n", "\nslos:\n  - {name: probe, metric: throughput, min: 5/s}\n"), `unknown metric "throughput"`, "/slos/0/metric"},
		{"percentile of a figure without a distribution", schemaReplace("\nslos:\n", "\nslos:\n  - {name: probe, metric: unusable_time, stat: p99, max: 0s}\n"), "has only a mean", "/slos/0/metric"},
		{"number bound on a time figure", schemaReplace("\nslos:\n", "\nslos:\n  - {name: probe, metric: unusable_time, max: 5}\n"), "expected a duration with a unit", "/slos/0/max"},
		{"time bound on a count", schemaReplace("\nslos:\n", "\nslos:\n  - {name: probe, metric: disconnects_overloaded, max: 5s}\n"), "expected a number", "/slos/0/max"},
	}
	if len(cases) < 10 {
		t.Fatalf("only %d cases", len(cases))
	}
	schemaRefuseEach(t, schemaReadBuiltin(t, schemaReactive), cases)
}

// TestSchemaAndLoaderRefuseTheSameServicesMistakes breaks the services
// built-in one way at a time, as TestSchemaAndLoaderRefuseTheSameMistakes
// breaks the base. Mistakes only the loader can see (references between
// names, a pool's min above its max, a knob of the wrong type, a restart of
// a service with for) are in the corpus of testdata/invalid.
func TestSchemaAndLoaderRefuseTheSameServicesMistakes(t *testing.T) {
	const (
		system = "/components/0"
		shop   = system + "/services/0"
		item   = shop + "/endpoints/0"
		order  = shop + "/endpoints/1"
		fulfil = shop + "/endpoints/2"
	)
	timeline := func(entry string) schemaEdit {
		return schemaReplace("\ntimeline:\n", "\ntimeline:\n  - "+entry+"\n")
	}
	slo := func(s string) schemaEdit { return schemaReplace("\nslos:\n", "\nslos:\n  - "+s+"\n") }
	cases := []schemaMistake{
		// Unknown and missing fields.
		{"unknown field in a database", schemaReplaceRE(`^        restart_time: .*$`, "        restart_time: 2m\n        replicas: 2"), `unknown field "replicas"`, system + "/databases/0"},
		{"unknown field in a query step", schemaReplace("rows: 2, cache: items}", "rows: 2, cache: items, ttl: 1s}"), `unknown field "ttl"`, item + "/steps/1/query"},
		{"network fields on a services component", schemaReplace("    kind: services\n", "    kind: services\n    sinks: [done]\n"), `unknown field "sinks"`, system},
		{"unknown step kind", schemaFulfilSteps("              - sleep: {mean: 1ms}\n"), `unknown field "sleep"`, fulfil + "/steps/0"},
		{"database without restart_time", schemaReplaceRE(`^        restart_time: .*\n`, ""), `missing required field "restart_time"`, system + "/databases/0"},
		{"memory without base", schemaReplaceRE(`memory: \{base: [^,]*, `, "memory: {"), `missing required field "base"`, system + "/databases/0/memory"},
		{"pool without max", schemaReplaceRE(`max: [^,]*, acquire_timeout`, "acquire_timeout"), `missing required field "max"`, shop + "/pools/0"},
		{"job without threads", schemaReplace("        rate_limit: $rate_limit\n", "        rate_limit: $rate_limit\n        jobs: [{name: sync, at: 1m, for: 1m}]\n"), `missing required field "threads"`, shop + "/jobs/0"},
		{"follow-up without count", schemaReplace("          - name: fulfil\n", "          - name: fulfil\n            followups: [{endpoint: item}]\n"), `missing required field "count"`, fulfil + "/followups/0"},
		{"fan-out without per_recipient", schemaFulfilSteps("              - fanout: {mode: broadcast}\n"), `missing required field "per_recipient"`, fulfil + "/steps/0/fanout"},
		{"call without endpoint", schemaFulfilSteps("              - call: {service: shop}\n"), `missing required field "endpoint"`, fulfil + "/steps/0/call"},
		{"rate point without a rate", schemaReplace("{at: 15m, rate: $sale_rate}", "{at: 15m}"), `missing required field "rate"`, item + "/arrivals/1"},

		// Exactly one step kind.
		{"step with two kinds", schemaFulfilSteps("              - {cpu: {mean: 1ms}, wait: {mean: 1ms}}\n"), "a step holds exactly one of", fulfil + "/steps/0"},
		{"step with no kind", schemaFulfilSteps("              - {enabled: true}\n"), "this one holds none", fulfil + "/steps/0"},

		// Lists that may not be empty.
		{"service without endpoints", schemaReplaceRE(`(?s)^        endpoints:\n.*\nslos:`, "        endpoints: []\nslos:"), "expected at least one endpoint", shop + "/endpoints"},
		{"no services", schemaReplaceRE(`(?s)^    services:\n.*\nslos:`, "    services: []\nslos:"), "expected at least one service", system + "/services"},

		// Enums.
		{"misspelt component kind", schemaReplace("kind: services", "kind: service"), `unknown component kind "service" (did you mean "services"?)`, system + "/kind"},
		{"unknown stock mode", schemaReplace("mode: $stock_mode", "mode: optimistic"), `unknown value "optimistic"`, order + "/steps/1/stock/mode"},
		{"unknown reconnect policy", schemaReplace("reconnect: auto}", "reconnect: always}"), `unknown value "always"`, shop + "/pools/0/reconnect"},
		{"unknown fan-out mode", schemaFulfilSteps("              - fanout: {mode: multicast, per_recipient: 1us}\n"), `unknown value "multicast"`, fulfil + "/steps/0/fanout/mode"},
		{"pessimistic stock without a database", schemaReplace("mode: $stock_mode\n                  database: mysql\n", "mode: pessimistic\n"), `missing required field "database": a pessimistic stock decrement locks a row`, order + "/steps/1/stock"},

		// Values.
		{"restart_time without a unit", schemaReplaceRE(`^        restart_time: .*$`, "        restart_time: 120"), `"120": expected a duration with a unit`, system + "/databases/0/restart_time"},
		{"arrival rate without a unit", schemaReplace("{at: 15m, rate: $sale_rate}", "{at: 15m, rate: 3000}"), "expected a rate with a unit of time", item + "/arrivals/1/rate"},
		{"knob reference for a rate point's time", schemaReplace("{at: 15m, rate: $sale_rate}", "{at: $sale_start, rate: $sale_rate}"), "expected a duration with a unit", item + "/arrivals/1/at"},
		{"quoted integer", schemaReplaceRE(`^        knee: .*$`, `        knee: "48"`), "remove the quotes", system + "/databases/0/knee"},
		{"quoted bool", schemaReplace("warm: true}", `warm: "true"}`), "remove the quotes", system + "/caches/0/warm"},
		{"knob reference for a database name", schemaReplace("{database: mysql, min:", "{database: $db, min:"), `"$db" is not a valid name`, shop + "/pools/0/database"},
		{"enqueue of a list", schemaReplace("enqueue: payments", "enqueue: [payments]"), "expected a name", order + "/steps/2/enqueue"},

		// Ranges the schema can see.
		{"no cores", schemaReplaceRE(`^        cores: .*\n        rate_limit:`, "        cores: 0\n        rate_limit:"), "out of range", shop + "/cores"},
		{"no pods", schemaReplace("pods: $pods", "pods: 0"), "out of range", shop + "/pods"},
		{"too many pods", schemaReplace("pods: $pods", "pods: 10001"), "out of range", shop + "/pods"},
		{"retry of every failure", schemaReplace("          - name: fulfil\n", "          - name: fulfil\n            retry: 1\n"), "out of range", fulfil + "/retry"},
		{"negative stock", schemaReplaceRE(`^                  stock: .*$`, "                  stock: -1"), "out of range", order + "/steps/1/stock/stock"},
		{"zero acquire timeout", schemaReplaceRE(`acquire_timeout: [^,}]*`, "acquire_timeout: 0s"), "out of range", shop + "/pools/0/acquire_timeout"},
		{"cv above 10", schemaFulfilSteps("              - wait: {mean: 1ms, cv: 11}\n"), "out of range", fulfil + "/steps/0/wait/cv"},
		{"zero query cost", schemaFulfilSteps("              - query: {database: mysql, cost: {mean: 0s}}\n"), "out of range", fulfil + "/steps/0/query/cost/mean"},
		{"too many rows", schemaFulfilSteps("              - query: {database: mysql, cost: {mean: 1ms}, rows: 10001}\n"), "out of range", fulfil + "/steps/0/query/rows"},
		{"no consumers", schemaReplaceRE(`consumers: [^,}]*`, "consumers: 0"), "out of range", system + "/queues/0/consumers"},
		{"no keys", schemaReplaceRE(`keys: [^,}]*`, "keys: 0"), "out of range", system + "/caches/0/keys"},
		{"share of misses above 1", schemaReplace("{name: items, ", "{name: items, missing: 1.5, "), "out of range", system + "/caches/0/missing"},

		// What a services component takes of the rest of the file.
		{"workload with services", schemaAppend("workload:\n  - {name: users, rate: 1/s, to: shop}\n"), "brings its own load: remove the workload", "/workload"},
		{"warmup with services", schemaReplace("\nrun:\n", "\nrun:\n  warmup: 10m\n"), "remove run.warmup", "/run/warmup"},
		{"two services components", schemaReplace("\nslos:\n", "\n  - name: other\n    kind: services\n    services: [{name: x, pods: 1, cores: 1, endpoints: [{name: e, steps: [{cpu: {mean: 1ms}}]}]}]\nslos:\n"), "a scenario holds one services component; this is the second", "/components"},
		{"queueing network beside services", schemaReplace("\ncomponents:\n", "\ncomponents:\n  - name: net\n    kind: queueing-network\n    stations: [{name: web, servers: 1, service: {distribution: exponential, mean: 1s}, to: done}]\n    sinks: [done]\n"), "cannot share a scenario with a queueing-network component", "/components"},

		// Timeline.
		{"deploy of a service with a tier", timeline("{at: 20m, deploy: {target: shop, servers: 4, tier: pro}}"), "a service has pods, not a hardware tier", "/timeline/0/deploy"},
		{"deploy of a service without servers", timeline("{at: 20m, deploy: {target: shop, gap: 1m}}"), `missing required field "servers": a service is scaled to a number of pods`, "/timeline/0/deploy"},
		{"deploy with instances in a variant", schemaReplace("\nvariants:\n", "\nvariants:\n  - name: probe\n    timeline:\n      - {at: 6m, deploy: {target: shop, servers: 4, instances: 2}}\n"), "a service has pods, not a hardware tier", "/variants/0/timeline/0/deploy"},
		{"deploy to no pods", timeline("{at: 20m, deploy: {target: shop, servers: 0}}"), "out of range", "/timeline/0/deploy/servers"},
		{"restart with a factor", timeline("{at: 20m, fault: {kind: restart, target: mysql, factor: 2}}"), "takes no factor", "/timeline/0/fault/factor"},
		{"restart lasting no time", timeline("{at: 20m, fault: {kind: restart, target: mysql, for: 0s}}"), "out of range", "/timeline/0/fault/for"},
		{"outage in a services scenario", timeline("{at: 20m, fault: {kind: outage, target: mysql, for: 1m}}"), "a services scenario takes restart faults (of a service or a database), not outage", "/timeline/0/fault/kind"},
		{"surge in a variant", schemaReplace("\nvariants:\n", "\nvariants:\n  - name: probe\n    timeline:\n      - {at: 6m, fault: {kind: surge, target: shop, factor: 2}}\n"), "a services scenario takes restart faults (of a service or a database), not surge", "/variants/0/timeline/0/fault/kind"},
		{"unknown fault kind", timeline("{at: 20m, fault: {kind: reboot, target: mysql}}"), `unknown fault "reboot"`, "/timeline/0/fault/kind"},
		{"latency fault in a services scenario", timeline("{at: 20m, fault: {kind: latency, target: shop, delay: 100ms}}"), "a services scenario takes restart faults (of a service or a database), not latency", "/timeline/0/fault/kind"},

		// Objectives.
		{"network metric", slo("{name: probe, metric: throughput, min: 5/s}"), `unknown metric "throughput"`, "/slos/0/metric"},
		{"reactive metric", slo("{name: probe, metric: queries_steady, min: 5/s}"), `unknown metric "queries_steady"`, "/slos/0/metric"},
		{"unknown field of an element", slo("{name: probe, metric: mysql.cpu, max: 0.5}"), `unknown metric "mysql.cpu"`, "/slos/0/metric"},
		{"percentile of a figure without a distribution", slo("{name: probe, metric: error_ratio, stat: p99, max: 0.1}"), "has only a mean", "/slos/0/metric"},
		{"time bound on a share", slo("{name: probe, metric: error_ratio, max: 5s}"), "expected a number", "/slos/0/max"},
		{"number bound on a time figure", slo("{name: probe, metric: mysql.down_time, max: 5}"), "expected a duration with a unit", "/slos/0/max"},
		{"time bound on a rate", slo("{name: probe, metric: mysql.queries_peak, max: 5s}"), "expected a rate with a unit of time", "/slos/0/max"},
	}
	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
	schemaRefuseEach(t, schemaReadBuiltin(t, schemaServices), cases)
}

// TestSchemaAndLoaderRefuseTheSameFleetMistakes breaks the websocket-fleet
// built-in one way at a time, as TestSchemaAndLoaderRefuseTheSameMistakes
// breaks the base. Mistakes only the loader can see (shares of the mix not
// adding up to 1, a jitter above its delay, l2_pause not above l1_pause, a
// pong timeout above the interval, a day curve out of order, a duration
// above its field's maximum, a knob of the wrong type) are in the corpus of
// testdata/invalid (websocket-*) and in
// TestSchemaLeavesFleetCrossChecksToTheLoader, with the one the plan
// checks (a kill of a node the fleet does not have).
func TestSchemaAndLoaderRefuseTheSameFleetMistakes(t *testing.T) {
	const (
		fleet   = "/components/0"
		latency = "/timeline/1/fault"
		kill    = "/timeline/2/fault"
	)
	timeline := func(entry string) schemaEdit {
		return schemaReplace("\ntimeline:\n", "\ntimeline:\n  - "+entry+"\n")
	}
	variant := func(entry string) schemaEdit {
		return schemaReplace("\nvariants:\n", "\nvariants:\n  - name: probe\n    timeline:\n      - "+entry+"\n")
	}
	slo := func(s string) schemaEdit { return schemaReplace("\ntimeline:\n", "\nslos:\n  - "+s+"\ntimeline:\n") }
	latencyFault := func(f string) schemaEdit { return schemaReplaceRE(`\{kind: latency, [^}]*\}`, f) }
	killFault := func(f string) schemaEdit { return schemaReplaceRE(`\{kind: kill, [^}]*\}`, f) }
	clock := func(s string) schemaEdit { return schemaReplaceRE(`^  clock: .*$`, "  clock: "+s) }
	line := func(re, s string) schemaEdit { return schemaReplaceRE(`^`+re+`: .*$`, s) }
	cases := []schemaMistake{
		// Unknown and missing fields, at each level.
		{"misspelt section", schemaReplace("    heartbeat:\n", "    hearbeat:\n"), `unknown field "hearbeat" (did you mean "heartbeat"?)`, fleet},
		{"services fields on a fleet", schemaReplace("    kind: websocket-fleet\n", "    kind: websocket-fleet\n    pods: 4\n"), `unknown field "pods"`, fleet},
		{"reactive gateway fields on a fleet", schemaReplace("    gateway:\n", "    gateway:\n      threads: 64\n"), `unknown field "threads"`, fleet + "/gateway"},
		{"unknown field in mix", schemaReplace("mobile: 0.3}", "mobile: 0.3, bots: 0}"), `unknown field "bots"`, fleet + "/mix"},
		{"unknown field in memory", schemaReplace("    memory:\n", "    memory:\n      heap_limit: 512\n"), `unknown field "heap_limit"`, fleet + "/memory"},
		{"unknown field in gc", schemaReplace("    gc:\n", "    gc:\n      gomemlimit: 1024\n"), `unknown field "gomemlimit"`, fleet + "/gc"},
		{"unknown field in a night job", schemaReplace("chunk: 256}", "chunk: 256, every: 1d}"), `unknown field "every"`, fleet + "/gc/night_jobs/0"},
		{"unknown field in network", schemaReplace("    network:\n", "    network:\n      loss: 0.01\n"), `unknown field "loss"`, fleet + "/network"},
		{"unknown field in traffic", schemaReplace("    traffic:\n", "    traffic:\n      burst: 10\n"), `unknown field "burst"`, fleet + "/traffic"},
		{"unknown field in a day point", line(`      broadcasts`, "      broadcasts: [\"03:00\"]\n      day: [{at: \"03:00\", factor: 1, weight: 2}]"), `unknown field "weight"`, fleet + "/traffic/day/0"},
		{"unknown field in mobile", schemaReplace("asleep: 15m}", "asleep: 15m, doze: 1m}"), `unknown field "doze"`, fleet + "/mobile"},
		{"unknown field in throttle", schemaReplace("{min: 1s}", "{min: 1s, max: 1m}"), `unknown field "max"`, fleet + "/throttle"},
		{"unknown field in heartbeat", schemaReplace("      missed_pongs: 3\n", "      missed_pongs: 3\n      timeout: 5s\n"), `unknown field "timeout": expected one of enabled, interval, pong_timeout, write_timeout, missed_pongs`, fleet + "/heartbeat"},
		{"unknown field in degradation", schemaReplace("      idle_close: 30s\n", "      idle_close: 30s\n      l3_pause: 1s\n"), `unknown field "l3_pause"`, fleet + "/degradation"},
		{"unknown field in reconnect", schemaReplace("      connect_timeout: 10s\n", "      connect_timeout: 10s\n      jitter: 0.5\n"), `unknown field "jitter"`, fleet + "/reconnect"},
		{"unknown field in resume", schemaReplace("      window: 2m\n", "      window: 2m\n      store: redis\n"), `unknown field "store"`, fleet + "/resume"},
		{"unknown field in a fault", latencyFault("{kind: latency, target: gateways, delay: 100ms, loss: 0.1}"), `unknown field "loss"`, latency},
		{"heartbeat without enabled", schemaReplace("      enabled: $heartbeats\n", ""), `missing required field "enabled"`, fleet + "/heartbeat"},
		{"degradation without enabled", schemaReplace("      enabled: $degradation\n", ""), `missing required field "enabled"`, fleet + "/degradation"},
		{"resume without enabled", schemaReplace("      enabled: $session_resume\n", ""), `missing required field "enabled"`, fleet + "/resume"},
		{"mix without mobile", schemaReplaceRE(`^    mix: .*$`, "    mix: {desktop: 0.5, background: 0.5}"), `missing required field "mobile"`, fleet + "/mix"},
		{"night job without a time", schemaReplaceRE(`\{at: "03:00", over:`, "{over:"), `missing required field "at"`, fleet + "/gc/night_jobs/0"},
		{"day point without a factor", line(`      broadcasts`, "      broadcasts: [\"03:00\"]\n      day: [{at: \"03:00\"}]"), `missing required field "factor"`, fleet + "/traffic/day/0"},
		{"fleet without a name", schemaReplace("  - name: gateways\n    kind: websocket-fleet\n", "  - kind: websocket-fleet\n"), `missing required field "name"`, fleet},

		// Enums.
		{"misspelt component kind", schemaReplace("kind: websocket-fleet", "kind: websocket-flet"), `unknown component kind "websocket-flet"`, fleet + "/kind"},
		{"unknown load balancer", line(`    load_balancer`, "    load_balancer: round-robin"), `unknown value "round-robin"`, fleet + "/load_balancer"},
		{"unknown reconnect policy", schemaReplace("policy: $reconnect_policy", "policy: exponential"), `unknown value "exponential"`, fleet + "/reconnect/policy"},

		// Value syntax.
		{"quoted integer", line(`    nodes`, `    nodes: "4"`), "remove the quotes", fleet + "/nodes"},
		{"quoted bool", schemaReplace("      nat_idle: 300s\n", "      nat_idle: 300s\n      inject_both_ways: \"true\"\n"), "remove the quotes", fleet + "/network/inject_both_ways"},
		{"NAT timeout without a unit", line(`      nat_idle`, "      nat_idle: 300"), `"300": expected a duration with a unit`, fleet + "/network/nat_idle"},
		{"fractional GOGC", schemaReplace("gogc: $gogc", "gogc: 1.5"), "expected a whole number", fleet + "/gc/gogc"},
		{"mix as a list", line(`    mix`, "    mix: [0.5, 0.2, 0.3]"), "expected a mapping with the fields desktop, background, mobile, got a list", fleet + "/mix"},
		{"night jobs as a mapping", schemaReplaceRE(`(?s)^      night_jobs:\n.*?\n    network:\n`, "      night_jobs: {at: \"03:00\"}\n    network:\n"), "expected a list of night jobs, got a mapping", fleet + "/gc/night_jobs"},
		{"broadcasts as one time", line(`      broadcasts`, `      broadcasts: "03:00"`), "expected a list of times of day", fleet + "/traffic/broadcasts"},
		{"knob reference for a time of day", schemaReplaceRE(`\{at: "03:00", over:`, "{at: $night, over:"), `"$night" is not a time of day`, fleet + "/gc/night_jobs/0/at"},

		// Times of day.
		{"clock at 24:00", clock(`"24:00"`), `"24:00" is not a time of day: expected HH:MM or HH:MM:SS, from 00:00 to 23:59:59`, "/run/clock"},
		{"clock with one-digit hours", clock(`"3:00"`), `"3:00" is not a time of day`, "/run/clock"},
		{"clock at minute 60", clock(`"03:60"`), `"03:60" is not a time of day`, "/run/clock"},
		{"clock at second 60", clock(`"03:00:60"`), `"03:00:60" is not a time of day`, "/run/clock"},
		{"clock in words", clock("3am"), `"3am" is not a time of day`, "/run/clock"},
		{"clock as a number", clock("300"), `"300" is not a time of day`, "/run/clock"},
		{"night job at one-digit hours", schemaReplace(`{at: "03:00", over:`, `{at: "3:00", over:`), `"3:00" is not a time of day`, fleet + "/gc/night_jobs/0/at"},
		{"broadcast at 25:00", line(`      broadcasts`, `      broadcasts: ["25:00"]`), `"25:00" is not a time of day`, fleet + "/traffic/broadcasts/0"},

		// Ranges the schema can see.
		{"no nodes", line(`    nodes`, "    nodes: 0"), "out of range", fleet + "/nodes"},
		{"too many nodes", line(`    nodes`, "    nodes: 257"), "out of range", fleet + "/nodes"},
		{"no cores", line(`    cores`, "    cores: 0"), "out of range", fleet + "/cores"},
		{"too many clients", line(`    clients`, "    clients: 1_000_001"), "out of range", fleet + "/clients"},
		{"mix share above 1", line(`    mix`, "    mix: {desktop: 1.5, background: 0.2, mobile: 0.3}"), "out of range", fleet + "/mix/desktop"},
		{"free handshakes", line(`      handshake_cost`, "      handshake_cost: 0s"), "out of range", fleet + "/gateway/handshake_cost"},
		{"no backlog", line(`      backlog`, "      backlog: 0"), "out of range", fleet + "/gateway/backlog"},
		{"negative heap", line(`      heap_base`, "      heap_base: -1"), "out of range", fleet + "/memory/heap_base"},
		{"too many goroutines per connection", line(`      heap_base`, "      heap_base: 20\n      goroutines_per_connection: 1001"), "out of range", fleet + "/memory/goroutines_per_connection"},
		{"GOGC 0", schemaReplace("gogc: $gogc", "gogc: 0"), "0 is not a GOGC: expected -1 (collector off) or 1 to 10000", fleet + "/gc/gogc"},
		{"GOGC below -1", schemaReplace("gogc: $gogc", "gogc: -2"), "out of range", fleet + "/gc/gogc"},
		{"night job lasting no time", schemaReplaceRE(`, over: [^,}]+`, ", over: 0s"), "out of range", fleet + "/gc/night_jobs/0/over"},
		{"too many handshake round trips", line(`      nat_idle`, "      nat_idle: 300s\n      handshake_rtts: 11"), "out of range", fleet + "/network/handshake_rtts"},
		{"negative day factor", line(`      broadcasts`, "      broadcasts: [\"03:00\"]\n      day: [{at: \"03:00\", factor: -1}]"), "out of range", fleet + "/traffic/day/0/factor"},
		{"phones never awake", line(`    mobile`, "    mobile: {awake: 0s, asleep: 15m}"), "out of range", fleet + "/mobile/awake"},
		{"pings without an interval", line(`      interval`, "      interval: 0s"), "out of range", fleet + "/heartbeat/interval"},
		{"no missed pongs", line(`      missed_pongs`, "      missed_pongs: 0"), "out of range", fleet + "/heartbeat/missed_pongs"},
		{"zero L1 pause", line(`      l1_pause`, "      l1_pause: 0s"), "out of range", fleet + "/degradation/l1_pause"},
		{"empty resume window", line(`      window`, "      window: 0s"), "out of range", fleet + "/resume/window"},

		// Faults.
		{"latency without a delay", latencyFault("{kind: latency, target: gateways}"), `missing required field "delay" for a latency fault`, latency},
		{"kill without a node", killFault("{kind: kill, target: gateways, for: 5m}"), `missing required field "node" for a kill`, kill},
		{"kill with a factor", killFault("{kind: kill, target: gateways, node: 1, factor: 2}"), "a fault of kind kill takes no factor", kill + "/factor"},
		{"latency with a factor", latencyFault("{kind: latency, target: gateways, delay: 100ms, factor: 2}"), "a fault of kind latency takes no factor", latency + "/factor"},
		{"jitter on a kill", killFault("{kind: kill, target: gateways, node: 1, jitter: 20ms}"), "a fault of kind kill takes no jitter: it is for a latency fault", kill + "/jitter"},
		{"delay on a kill", killFault("{kind: kill, target: gateways, node: 1, delay: 1s}"), "a fault of kind kill takes no delay", kill + "/delay"},
		{"node on a latency fault", latencyFault("{kind: latency, target: gateways, delay: 100ms, node: 1}"), "a fault of kind latency takes no node: it is for a kill fault", latency + "/node"},
		{"kill of node 0", killFault("{kind: kill, target: gateways, node: 0}"), "out of range", kill + "/node"},
		{"kill of node 257", killFault("{kind: kill, target: gateways, node: 257}"), "out of range", kill + "/node"},
		{"delay without a unit", latencyFault("{kind: latency, target: gateways, delay: 100}"), "expected a duration with a unit", latency + "/delay"},
		{"unknown fault kind", latencyFault("{kind: partition, target: gateways}"), `unknown fault "partition"`, latency + "/kind"},
		{"restart in a fleet scenario", timeline("{at: 10m, fault: {kind: restart, target: gateways}}"), "a websocket-fleet scenario takes latency and kill faults, not restart", "/timeline/0/fault/kind"},
		{"slowdown in a variant", variant("{at: 10m, fault: {kind: slowdown, target: gateways, factor: 2}}"), "a websocket-fleet scenario takes latency and kill faults, not slowdown", "/variants/0/timeline/0/fault/kind"},
		{"deploy in a fleet scenario", timeline("{at: 10m, deploy: {target: gateways, servers: 8}}"), "a websocket-fleet is not redeployed", "/timeline/0/deploy"},
		{"deploy in a variant", variant("{at: 10m, deploy: {target: gateways, tier: pro}}"), "a websocket-fleet is not redeployed", "/variants/0/timeline/0/deploy"},

		// What a fleet takes of the rest of the file.
		{"workload with a fleet", schemaAppend("workload:\n  - {name: users, rate: 1/s, to: gateways}\n"), "a websocket-fleet component brings its own load: remove the workload", "/workload"},
		{"warmup with a fleet", schemaReplace("\nrun:\n", "\nrun:\n  warmup: 10m\n"), "remove run.warmup", "/run/warmup"},
		{"two fleets", schemaReplace("\ntimeline:\n", "\n  - {name: more, kind: websocket-fleet}\ntimeline:\n"), "a scenario holds one websocket-fleet component; this is the second", "/components"},
		{"services beside a fleet", schemaReplace("\ncomponents:\n", "\ncomponents:\n  - name: shop\n    kind: services\n    services: [{name: x, pods: 1, cores: 1, endpoints: [{name: e, steps: [{cpu: {mean: 1ms}}]}]}]\n"), "a websocket-fleet component cannot share a scenario with a services component", "/components"},
		{"queueing network beside a fleet", schemaReplace("\ncomponents:\n", "\ncomponents:\n  - name: shop\n    kind: queueing-network\n    stations: [{name: web, servers: 1, service: {distribution: exponential, mean: 1s}, to: done}]\n    sinks: [done]\n"), "cannot share a scenario with a queueing-network component", "/components"},

		// Objectives.
		{"network metric on a fleet", slo("{name: probe, metric: throughput, min: 5/s}"), `unknown metric "throughput"`, "/slos/0/metric"},
		{"services metric on a fleet", slo("{name: probe, metric: error_ratio, max: 0.01}"), `unknown metric "error_ratio"`, "/slos/0/metric"},
		{"percentile of a share", slo("{name: probe, metric: reconnect_success, stat: p99, min: 0.9}"), "has only a mean", "/slos/0/metric"},
		{"number bound on a time figure", slo("{name: probe, metric: session_recovery, max: 5}"), "expected a duration with a unit", "/slos/0/max"},
		{"time bound on a share", slo("{name: probe, metric: message_loss, max: 5s}"), "expected a number", "/slos/0/max"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	schemaRefuseEach(t, schemaReadBuiltin(t, schemaFleet), cases)
}

// TestSchemaLeavesFleetCrossChecksToTheLoader lists the websocket-fleet
// mistakes a schema cannot see, because they join two fields or a field
// and a bound a schema has no words for: the schema accepts each, the
// loader refuses it (or, for a kill of a node beyond the fleet's, the
// plan, once the knobs have values). A mistake that moves into the schema
// moves to TestSchemaAndLoaderRefuseTheSameFleetMistakes.
func TestSchemaLeavesFleetCrossChecksToTheLoader(t *testing.T) {
	sch := compileSchema(t)
	base := schemaReadBuiltin(t, schemaFleet)
	for _, c := range []struct {
		name string
		edit schemaEdit
		want string // part of the loader's or the plan's message
	}{
		{"mix not adding up to 1", schemaReplaceRE(`^    mix: .*$`, "    mix: {desktop: 0.5, background: 0.3, mobile: 0.3}"), "the shares add up to 1.1: expected desktop + background + mobile = 1"},
		{"jitter above the delay", schemaReplaceRE(`\{kind: latency, [^}]*\}`, "{kind: latency, target: gateways, delay: 100ms, jitter: 200ms}"), "200ms is above the delay (100ms)"},
		{"delay above 10s", schemaReplaceRE(`\{kind: latency, [^}]*\}`, "{kind: latency, target: gateways, delay: 11s}"), "11s is out of range: expected at most 10s"},
		{"L2 pause not above L1", schemaReplaceRE(`^      l2_pause: .*$`, "      l2_pause: 50ms"), "50ms is not above l1_pause (50ms)"},
		{"pong timeout above the interval", schemaReplaceRE(`^      pong_timeout: .*$`, "      pong_timeout: 15s"), "15s is longer than the interval (10s)"},
		{"heartbeat interval above 1h", schemaReplaceRE(`^      interval: .*$`, "      interval: 2h"), "2h is out of range: expected a value above 0 and at most 1h"},
		{"day curve out of order", schemaReplaceRE(`^      broadcasts: .*$`, "      broadcasts: [\"03:00\"]\n      day: [{at: \"12:00\", factor: 1}, {at: \"03:00\", factor: 0.05}]"), "03:00 is not after the previous point's 12:00"},
		{"knob of the wrong type", schemaReplace("policy: $reconnect_policy", "policy: $gogc"), "knob gogc is of type integer, but this field takes a word"},
		{"kill of a node the fleet lacks", schemaReplaceRE(`\{kind: kill, [^}]*\}`, "{kind: kill, target: gateways, node: 5}"), "a kill of node 5, but gateways has 4 nodes: expected 1 to 4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := c.edit(t, base)
			if err := schemaValidate(sch, []byte(doc)); err != nil {
				t.Errorf("the schema refuses it: move the case to TestSchemaAndLoaderRefuseTheSameFleetMistakes\n%v", err)
			}
			sc, err := Load("loader-only.yaml", []byte(doc))
			if err == nil {
				_, err = sc.Plan(PlanOptions{})
			}
			switch {
			case err == nil:
				t.Errorf("the loader and the plan accept it")
			case !strings.Contains(err.Error(), c.want):
				t.Errorf("refused, but not for the expected reason %q:\n%v", c.want, err)
			}
		})
	}
}

// schemaMistake is a one-edit breakage of a valid document.
type schemaMistake struct {
	name string
	edit schemaEdit
	want string // part of the loader's message
	at   string // where the schema reports an error
}

// schemaRefuseEach applies each edit to base: the loader must refuse the
// copy for the reason given, and the schema must report an error at the
// place given.
func schemaRefuseEach(t *testing.T, base string, cases []schemaMistake) {
	t.Helper()
	sch := compileSchema(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := c.edit(t, base)
			_, lerr := Load("broken.yaml", []byte(doc))
			switch {
			case lerr == nil:
				t.Errorf("the loader accepts it")
			case !strings.Contains(lerr.Error(), c.want):
				t.Errorf("the loader refuses it, but not for the expected reason %q:\n%v", c.want, lerr)
			}
			serr := schemaValidate(sch, []byte(doc))
			switch {
			case serr == nil:
				t.Errorf("the schema accepts it (the loader says: %v)", lerr)
			case !schemaErrorAt(serr, c.at):
				t.Errorf("the schema refuses it, but reports nothing at %q:\n%v", c.at, serr)
			}
		})
	}
}

// schemaMapping is a mapping of a YAML tree and its JSON pointer.
type schemaMapping struct {
	node *yaml.Node
	path string
}

// schemaMappings lists every mapping in a YAML tree with its JSON pointer.
func schemaMappings(n *yaml.Node, path string, out *[]schemaMapping) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			schemaMappings(c, path, out)
		}
	case yaml.MappingNode:
		*out = append(*out, schemaMapping{n, path})
		for i := 0; i+1 < len(n.Content); i += 2 {
			schemaMappings(n.Content[i+1], path+"/"+n.Content[i].Value, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			schemaMappings(c, path+"/"+strconv.Itoa(i), out)
		}
	}
}

// schemaForEachMapping parses base and calls f for each of its mappings, on
// a fresh tree each time so edits do not accumulate.
func schemaForEachMapping(t *testing.T, base string, f func(root, m *yaml.Node, path string)) {
	t.Helper()
	var count yaml.Node
	if err := yaml.Unmarshal([]byte(base), &count); err != nil {
		t.Fatal(err)
	}
	var list []schemaMapping
	schemaMappings(&count, "", &list)
	for i := range list {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(base), &root); err != nil {
			t.Fatal(err)
		}
		var fresh []schemaMapping
		schemaMappings(&root, "", &fresh)
		f(&root, fresh[i].node, fresh[i].path)
	}
}

func schemaMarshal(t *testing.T, root *yaml.Node) []byte {
	t.Helper()
	data, err := yaml.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSchemaRefusesUnknownFieldsEverywhere adds an unknown field to every
// mapping of each base document in turn: both must refuse each copy. (The
// name is not a valid knob name either, so knob assignments refuse it.)
func TestSchemaRefusesUnknownFieldsEverywhere(t *testing.T) {
	sch := compileSchema(t)
	for _, b := range schemaBases(t) {
		n := 0
		schemaForEachMapping(t, b.text, func(root, m *yaml.Node, path string) {
			n++
			m.Content = append(m.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "Unknown-Field"},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"})
			doc := schemaMarshal(t, root)
			if _, err := Load("unknown.yaml", doc); err == nil {
				t.Errorf("%s %s: the loader accepts an unknown field", b.name, path)
			}
			if err := schemaValidate(sch, doc); err == nil {
				t.Errorf("%s %s: the schema accepts an unknown field", b.name, path)
			} else if !schemaErrorAt(err, path) {
				t.Errorf("%s %s: the schema reports nothing there:\n%v", b.name, path, err)
			}
		})
		if n < 40 {
			t.Errorf("only %d schemaMappings in %s", n, b.name)
		}
	}
}

// TestSchemaRequiredMatchesLoader removes each field of each base document
// in turn. The schema must never refuse what the loader accepts, and a
// field the loader requires must be required by the schema too.
func TestSchemaRequiredMatchesLoader(t *testing.T) {
	sch := compileSchema(t)
	for _, b := range schemaBases(t) {
		schemaForEachMapping(t, b.text, func(root, m *yaml.Node, path string) {
			keys := len(m.Content) / 2
			content := m.Content
			for k := range keys {
				name := content[2*k].Value
				m.Content = slices.Concat(content[:2*k], content[2*k+2:])
				doc := schemaMarshal(t, root)
				m.Content = content
				_, lerr := Load("removed.yaml", doc)
				serr := schemaValidate(sch, doc)
				if serr != nil && lerr == nil {
					t.Errorf("%s %s/%s removed: the schema refuses what the loader accepts:\n%v", b.name, path, name, serr)
				}
				if lerr != nil && serr == nil && (strings.Contains(lerr.Error(), "missing required field") || strings.Contains(lerr.Error(), "missing where jobs go next")) {
					t.Errorf("%s %s/%s removed: the loader requires it, the schema does not:\n%v", b.name, path, name, lerr)
				}
			}
		})
	}
}

// TestSchemaEnumsMatchLoader compares the schema's fixed words with the
// loader's lists, so adding a distribution or a fault means updating both.
func TestSchemaEnumsMatchLoader(t *testing.T) {
	doc := schemaJSON(t)
	get := func(path ...string) any {
		var v any = doc
		for _, p := range path {
			switch x := v.(type) {
			case map[string]any:
				v = x[p]
			case []any:
				i, _ := strconv.Atoi(p)
				if i >= len(x) {
					return nil
				}
				v = x[i]
			default:
				return nil
			}
		}
		return v
	}
	words := func(v any) []string {
		var out []string
		list, _ := v.([]any)
		for _, w := range list {
			out = append(out, fmt.Sprint(w))
		}
		return out
	}
	var kinds []string
	for _, k := range knob.Kinds() {
		kinds = append(kinds, k.String())
	}
	var network, fields []string
	for _, m := range networkMetrics {
		network = append(network, m.Name)
	}
	for _, f := range StationFields {
		fields = append(fields, f.Name)
	}
	var actions []string
	for _, alt := range get("$defs", "entry", "oneOf").([]any) {
		actions = append(actions, words(alt.(map[string]any)["required"])...)
	}
	var summary []string
	for _, m := range backendMetrics() {
		summary = append(summary, m.Name)
	}
	var distributed []string
	for _, m := range slices.Concat(networkMetrics, backendMetrics()) {
		if m.Distribution {
			distributed = append(distributed, m.Name)
		}
	}
	// A system of services reports figures for the whole system, and
	// NAME.FIELD per element: the model lists them for a system with one
	// element of each kind.
	probe := schemaServicesProbe()
	var servicesGlobal, elementFields []string
	for _, m := range systemMetrics(probe) {
		if _, field, ok := strings.Cut(m.Name, "."); ok {
			if !slices.Contains(elementFields, field) {
				elementFields = append(elementFields, field)
			}
			continue
		}
		servicesGlobal = append(servicesGlobal, m.Name)
		if m.Distribution {
			distributed = append(distributed, m.Name)
		}
	}
	var fleetSummary []string
	for _, m := range fleetMetrics() {
		fleetSummary = append(fleetSummary, m.Name)
		if m.Distribution {
			distributed = append(distributed, m.Name)
		}
	}
	var stepOneOf []string
	for _, alt := range get("$defs", "step", "oneOf").([]any) {
		stepOneOf = append(stepOneOf, words(alt.(map[string]any)["required"])...)
	}
	var stepFields []string
	for name := range get("$defs", "step", "properties").(map[string]any) {
		if name != "enabled" && name != "unless" {
			stepFields = append(stepFields, name)
		}
	}
	slices.Sort(stepFields)
	sortedStepKinds := slices.Sorted(slices.Values(stepKinds))
	// The kinds the loader decodes: componentKinds names them in its
	// "unknown component kind" message.
	loaderKinds := slices.Clone(componentKinds)
	fleetAllOf := []string{"allOf", "0", "else", "else"} // the top level's websocket-fleet branch
	networkAllOf := append(slices.Clone(fleetAllOf), "else")
	scalarAt := func(prefix []string, rest ...string) []string {
		switch v := get(slices.Concat(prefix, rest)...).(type) {
		case float64:
			return []string{strconv.FormatFloat(v, 'f', -1, 64)}
		default:
			return []string{fmt.Sprint(v)}
		}
	}
	faultKindIn := []string{"properties", "timeline", "items", "properties", "fault", "properties", "kind"}
	variantFaultKindIn := slices.Concat([]string{"properties", "variants", "items", "properties", "timeline", "items"}, faultKindIn[3:])
	for _, c := range []struct {
		what string
		got  []string
		want []string
	}{
		{"service distributions", words(get("$defs", "service", "properties", "distribution", "enum")), distributions},
		{"station disciplines", words(get("$defs", "station", "properties", "discipline", "oneOf", "0", "enum")), disciplines},
		{"arrival processes", words(get("$defs", "source", "properties", "process", "enum")), processes},
		{"fault kinds", words(get("$defs", "fault", "properties", "kind", "enum")), faultKinds},
		{"statistics", words(get("$defs", "slo", "properties", "stat", "enum")), sloStats},
		{"knob types", words(get("$defs", "knob", "properties", "type", "enum")), kinds},
		{"component kinds", words(get("$defs", "componentKind", "enum")), loaderKinds},
		{"queueing-network kind", []string{fmt.Sprint(get("$defs", "queueingNetwork", "properties", "kind", "const"))}, []string{KindQueueingNetwork}},
		{"reactive-backend kind", []string{fmt.Sprint(get("$defs", "reactiveBackend", "properties", "kind", "const"))}, []string{KindReactiveBackend}},
		{"reactive-backend kind (component)", []string{fmt.Sprint(get("$defs", "component", "if", "properties", "kind", "const"))}, []string{KindReactiveBackend}},
		{"reactive-backend kind (top level)", []string{fmt.Sprint(get("allOf", "0", "if", "properties", "components", "contains", "properties", "kind", "const"))}, []string{KindReactiveBackend}},
		{"queueing-network kind (component)", []string{fmt.Sprint(get("$defs", "component", "else", "if", "properties", "kind", "const"))}, []string{KindQueueingNetwork}},
		{"overflow policies", words(get("$defs", "invalidation", "properties", "overflow", "oneOf", "0", "enum")), overflowPolicies},
		{"backoff presets", words(get("$defs", "clientVersion", "properties", "backoff", "enum")), backoffPresets()},
		{"hardware tiers", words(get("$defs", "tier", "enum")), BuiltinHardware().Names()},
		{"reactive summary metrics", words(get("$defs", "backendMetric", "enum")), summary},
		{"metrics with a distribution", words(get("$defs", "slo", "allOf", "0", "then", "properties", "metric", "anyOf", "0", "enum")), distributed},
		{"services kind", []string{fmt.Sprint(get("$defs", "services", "properties", "kind", "const"))}, []string{KindServices}},
		{"services kind (component)", []string{fmt.Sprint(get("$defs", "component", "else", "else", "if", "properties", "kind", "const"))}, []string{KindServices}},
		{"services kind (top level)", []string{fmt.Sprint(get("allOf", "0", "else", "if", "properties", "components", "contains", "properties", "kind", "const"))}, []string{KindServices}},
		{"the fault of a services scenario", []string{fmt.Sprint(get("allOf", "0", "else", "then", "properties", "timeline", "items", "properties", "fault", "properties", "kind", "const"))}, []string{FaultRestart}},
		{"the fault of a services scenario (variants)", []string{fmt.Sprint(get("allOf", "0", "else", "then", "properties", "variants", "items", "properties", "timeline", "items", "properties", "fault", "properties", "kind", "const"))}, []string{FaultRestart}},
		{"the faults queueing networks lack", words(get(slices.Concat(networkAllOf, faultKindIn, []string{"not", "enum"})...)), []string{FaultRestart, FaultLatency, FaultKill}},
		{"the faults queueing networks lack (variants)", words(get(slices.Concat(networkAllOf, variantFaultKindIn, []string{"not", "enum"})...)), []string{FaultRestart, FaultLatency, FaultKill}},
		{"the faults a reactive backend lacks", words(get(slices.Concat([]string{"allOf", "0", "then"}, faultKindIn, []string{"not", "enum"})...)), []string{FaultLatency, FaultKill}},
		{"the faults a reactive backend lacks (variants)", words(get(slices.Concat([]string{"allOf", "0", "then"}, variantFaultKindIn, []string{"not", "enum"})...)), []string{FaultLatency, FaultKill}},
		{"the faults of a fleet scenario", words(get(slices.Concat(fleetAllOf, []string{"then"}, faultKindIn, []string{"enum"})...)), []string{FaultLatency, FaultKill}},
		{"the faults of a fleet scenario (variants)", words(get(slices.Concat(fleetAllOf, []string{"then"}, variantFaultKindIn, []string{"enum"})...)), []string{FaultLatency, FaultKill}},
		{"faults without a factor", words(get("$defs", "fault", "allOf", "0", "if", "properties", "kind", "enum")), []string{FaultOutage, FaultRestart, FaultLatency, FaultKill}},
		{"faults with a factor", words(get("$defs", "fault", "allOf", "1", "if", "properties", "kind", "enum")), []string{FaultSlowdown, FaultSurge}},
		{"the fault with a delay", scalarAt([]string{"$defs", "fault", "allOf", "2", "if", "properties", "kind", "const"}), []string{FaultLatency}},
		{"the fault with a node", scalarAt([]string{"$defs", "fault", "allOf", "3", "if", "properties", "kind", "const"}), []string{FaultKill}},
		{"websocket-fleet kind", scalarAt([]string{"$defs", "websocketFleet", "properties", "kind", "const"}), []string{KindWebSocketFleet}},
		{"websocket-fleet kind (component)", scalarAt([]string{"$defs", "component", "else", "else", "else", "if", "properties", "kind", "const"}), []string{KindWebSocketFleet}},
		{"websocket-fleet kind (top level)", scalarAt(fleetAllOf, "if", "properties", "components", "contains", "properties", "kind", "const"), []string{KindWebSocketFleet}},
		{"load balancers", words(get("$defs", "websocketFleet", "properties", "load_balancer", "oneOf", "0", "enum")), loadBalancers},
		{"reconnect policies", words(get("$defs", "fleetReconnect", "properties", "policy", "oneOf", "0", "enum")), reconnectPolicies()},
		{"fleet summary metrics", words(get("$defs", "fleetMetric", "enum")), fleetSummary},
		{"most nodes", scalarAt([]string{"$defs", "websocketFleet", "properties", "nodes", "oneOf", "0", "maximum"}), []string{strconv.Itoa(wsfleet.MaxNodes)}},
		{"most nodes (kill)", scalarAt([]string{"$defs", "fault", "properties", "node", "maximum"}), []string{strconv.Itoa(wsfleet.MaxNodes)}},
		{"most cores", scalarAt([]string{"$defs", "websocketFleet", "properties", "cores", "oneOf", "0", "maximum"}), []string{strconv.Itoa(wsfleet.MaxCores)}},
		{"most clients", scalarAt([]string{"$defs", "websocketFleet", "properties", "clients", "oneOf", "0", "maximum"}), []string{strconv.Itoa(wsfleet.MaxClients)}},
		{"step kinds", stepOneOf, stepKinds},
		{"step kinds (fields)", stepFields, sortedStepKinds},
		{"stock modes", words(get("$defs", "stockStep", "properties", "mode", "oneOf", "0", "enum")), stockModes},
		{"fan-out modes", words(get("$defs", "fanoutStep", "properties", "mode", "oneOf", "0", "enum")), fanoutModes},
		{"pool reconnect policies", words(get("$defs", "pool", "properties", "reconnect", "oneOf", "0", "enum")), reconnectModes},
		{"services summary metrics", words(get("$defs", "servicesMetric", "anyOf", "0", "enum")), servicesGlobal},
		{"most pods", []string{fmt.Sprint(get("$defs", "app", "properties", "pods", "oneOf", "0", "maximum"))}, []string{strconv.Itoa(service.MaxPods)}},
		{"most rows", []string{fmt.Sprint(get("$defs", "queryStep", "properties", "rows", "oneOf", "0", "maximum"))}, []string{strconv.Itoa(service.MaxRows)}},
		{"network metrics", words(get("$defs", "metric", "anyOf", "0", "enum")), network},
		{"timeline actions", actions, timelineActions},
		{"apiVersion", []string{fmt.Sprint(get("properties", "apiVersion", "const"))}, []string{APIVersion}},
		{"kind", []string{fmt.Sprint(get("properties", "kind", "const"))}, []string{Kind}},
		{"reserved variant", []string{fmt.Sprint(get("$defs", "variant", "properties", "name", "allOf", "1", "not", "const"))}, []string{BaseVariant}},
		{"name pattern", []string{fmt.Sprint(get("$defs", "name", "pattern"))}, []string{nameRE.String()}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: the schema has %q, the loader %q", c.what, c.got, c.want)
		}
	}
	pattern := fmt.Sprint(get("$defs", "metric", "anyOf", "1", "pattern"))
	if want := `\.(` + strings.Join(fields, "|") + `)$`; !strings.HasSuffix(pattern, want) {
		t.Errorf("station metrics: the schema's pattern %s does not end in %s", pattern, want)
	}
	pattern = fmt.Sprint(get("$defs", "servicesMetric", "anyOf", "1", "pattern"))
	if want := `^[a-z][a-z0-9_-]{0,63}\.(` + strings.Join(elementFields, "|") + `)$`; pattern != want {
		t.Errorf("services element metrics: the schema's pattern is %s, want %s", pattern, want)
	}

	// The objectives' bounds: each metric's name matches the pattern of
	// its unit and no other, and the pattern of metrics with percentiles
	// only if it has them.
	networkInfo := slices.Clone(networkMetrics)
	for _, f := range StationFields {
		f.Name = "station.db." + f.Name
		networkInfo = append(networkInfo, f)
	}
	units := []MetricUnit{UnitSeconds, UnitPerSecond, UnitNumber}
	unitRE := map[MetricUnit]*regexp.Regexp{}
	for i, u := range units {
		unitRE[u] = regexp.MustCompile(fmt.Sprint(get("$defs", "slo", "allOf", strconv.Itoa(i+1), "if", "properties", "metric", "pattern")))
	}
	distEnum := words(get("$defs", "slo", "allOf", "0", "then", "properties", "metric", "anyOf", "0", "enum"))
	distRE := regexp.MustCompile(fmt.Sprint(get("$defs", "slo", "allOf", "0", "then", "properties", "metric", "anyOf", "1", "pattern")))
	for _, m := range slices.Concat(networkInfo, backendMetrics(), systemMetrics(probe), fleetMetrics()) {
		for _, u := range units {
			if got := unitRE[u].MatchString(m.Name); got != (u == m.Unit) {
				t.Errorf("metric %s of unit %v: the schema's pattern for unit %v matches it: %v", m.Name, m.Unit, u, got)
			}
		}
		if got := slices.Contains(distEnum, m.Name) || distRE.MatchString(m.Name); got != m.Distribution {
			t.Errorf("metric %s: the schema gives it percentiles: %v, the loader %v", m.Name, got, m.Distribution)
		}
	}
}

// schemaServicesProbe is a services component with one element of each
// kind, whose metrics are every kind of services metric.
func schemaServicesProbe() *SystemSpec {
	return &SystemSpec{Name: "probe",
		Databases: []*DatabaseSpec{{Name: "db"}},
		Caches:    []*CacheSpec{{Name: "cache"}},
		Queues:    []*QueueSpec{{Name: "queue"}},
		Services:  []*AppSpec{{Name: "svc"}},
	}
}

// TestSchemaMetricUnitsMatchLoader adds an objective on every metric, with
// a bound in its unit and in a wrong one, and with a percentile: the
// schema must agree with the loader each time. The metrics of the other
// component kinds are refused by both, unless the kind has a metric of the
// same name (unusable_time is a reactive backend's and a system's,
// cpu_utilization a reactive backend's and a fleet's).
func TestSchemaMetricUnitsMatchLoader(t *testing.T) {
	sch := compileSchema(t)
	network := slices.Clone(networkMetrics)
	for _, f := range StationFields {
		f.Name = "station.db." + f.Name
		network = append(network, f)
	}
	reactive := backendMetrics()
	servicesText := schemaReadBuiltin(t, schemaServices)
	sc, err := Load(schemaServices, []byte(servicesText))
	if err != nil {
		t.Fatal(err)
	}
	services := sc.Metrics()
	fleet := fleetMetrics()
	right := map[MetricUnit]string{UnitNumber: "0.5", UnitSeconds: "2s", UnitPerSecond: "5/s"}
	wrong := map[MetricUnit]string{UnitNumber: "2s", UnitSeconds: "5/s", UnitPerSecond: "2s"}
	// The fleet built-in has no objectives: its probe starts the list.
	addTo, startList := "\n  - ", "\nslos:\n  - "
	for _, b := range []struct {
		name, text      string
		metrics, others []MetricInfo
		insert          string // before timeline:, then the objective
	}{
		{schemaBase, schemaReadBase(t), network, slices.Concat(reactive, services, fleet), addTo},
		{schemaReactive, schemaReadBuiltin(t, schemaReactive), reactive, slices.Concat(network, services, fleet), addTo},
		{schemaServices, servicesText, services, slices.Concat(network, reactive, fleet), addTo},
		{schemaFleet, schemaReadBuiltin(t, schemaFleet), fleet, slices.Concat(network, reactive, services), startList},
	} {
		seen := map[string]bool{}
		for _, m := range slices.Concat(b.metrics, b.others) {
			if seen[m.Name] {
				continue
			}
			seen[m.Name] = true
			i := slices.IndexFunc(b.metrics, func(x MetricInfo) bool { return x.Name == m.Name })
			known := i >= 0
			if known {
				m = b.metrics[i]
			}
			for _, c := range []struct {
				slo   string
				valid bool
			}{
				{fmt.Sprintf("{name: probe, metric: %s, max: %s}", m.Name, right[m.Unit]), known},
				{fmt.Sprintf("{name: probe, metric: %s, min: %s}", m.Name, wrong[m.Unit]), false},
				{fmt.Sprintf("{name: probe, metric: %s, stat: p99, max: %s}", m.Name, right[m.Unit]), known && m.Distribution},
			} {
				doc := schemaReplace("\ntimeline:\n", b.insert+c.slo+"\ntimeline:\n")(t, b.text)
				_, lerr := Load("probe.yaml", []byte(doc))
				serr := schemaValidate(sch, []byte(doc))
				if (lerr == nil) != c.valid {
					t.Errorf("%s %s: the loader says %v, want valid=%v", b.name, c.slo, lerr, c.valid)
				}
				if (serr == nil) != c.valid {
					t.Errorf("%s %s: the schema says %v, want valid=%v", b.name, c.slo, serr, c.valid)
				}
			}
		}
	}
}

// TestSchemaValueSyntaxMatchesKnobParse compares the schema's patterns for
// durations, rates and knob names with the parser the loader uses, on
// texts people write and texts they mistype.
func TestSchemaValueSyntaxMatchesKnobParse(t *testing.T) {
	doc := schemaJSON(t)
	defs := doc["$defs"].(map[string]any)
	pattern := func(def map[string]any) *regexp.Regexp {
		t.Helper()
		if p, ok := def["pattern"].(string); ok {
			return regexp.MustCompile(p)
		}
		for _, alt := range def["anyOf"].([]any) {
			if p, ok := alt.(map[string]any)["pattern"].(string); ok {
				return regexp.MustCompile(p)
			}
		}
		t.Fatalf("no pattern in %v", def)
		return nil
	}
	durationRE := pattern(defs["duration"].(map[string]any))
	rateRE := pattern(defs["rate"].(map[string]any))
	knobNameRE := pattern(defs["knobName"].(map[string]any))
	knobRefRE := pattern(defs["knobRef"].(map[string]any))

	// Texts the parser reads but no field accepts (every duration and rate
	// field is at least 0), which the schema refuses on purpose.
	loaderOnly := map[string]bool{"-5s": true, "1d-5s": true, "-1/s": true, "-0.5/min": true}
	// Texts the schema cannot tell from valid ones.
	schemaOnly := map[string]bool{"99999d": true} // more days than the parser's 16 bits
	cases := []struct {
		kind  knob.Kind
		re    *regexp.Regexp
		texts []string
	}{
		{knob.Duration, durationRE, []string{
			"300s", "5m", "1h30m", "250ms", "2d", "1d12h", "0", "0s", "1.5s", ".5s", "5.s", "1us", "1µs", "1μs", "1ns", "2d0", "1h1h",
			"300", "5 minutes", "+5s", "d5", "5min", "1h30", "", "-5s", "1d-5s", "1.5d", "99999d", "5S", "1e3s", "1_000s", "s", "0.0", "2dd",
		}},
		{knob.Rate, rateRE, []string{
			"5000/s", "30/min", "7200/h", "5k/s", "2/ms", "86400/d", "10 / s", "5k /s", "1.2k/h", "1e3/s", "1_000/s", "1_000.5/s", "0/s", ".5/s", "5./s", "+5/s", "2.5M/d",
			"5000", "5000/m", "5000/sec/s", "/s", "k/s", "5K/s", "1e/s", "-1/s", "-0.5/min", "NaN/s", "Inf/s", "0x10/s", "1_/s", "5 k/s", "5/", "5//s", "5/S",
		}},
	}
	for _, c := range cases {
		for _, text := range c.texts {
			_, err := knob.Parse(c.kind, text)
			parses, matches := err == nil, c.re.MatchString(text)
			switch {
			case parses && !matches && !loaderOnly[text]:
				t.Errorf("%v %q: the parser reads it, the schema's pattern refuses it", c.kind, text)
			case !parses && matches && !schemaOnly[text]:
				t.Errorf("%v %q: the schema's pattern accepts it, the parser refuses it (%v)", c.kind, text, err)
			case parses == matches && (loaderOnly[text] || schemaOnly[text]):
				t.Errorf("%v %q: listed as a known difference, but parser and schema agree", c.kind, text)
			}
		}
	}
	maxLen := func(def string) int { return int(defs[def].(map[string]any)["maxLength"].(float64)) }
	for _, name := range []string{"servers", "db.pool_size", "a1_b.c2", "x", strings.Repeat("a", 64),
		"Servers", "1abc", "db..pool", "db.", ".db", "db-pool", "db.1x", "_x", "", strings.Repeat("a", 65)} {
		valid := knob.ValidName(name)
		if got := knobNameRE.MatchString(name) && len(name) <= maxLen("knobName"); got != valid {
			t.Errorf("knob name %q: the schema says %v, the knob package %v", name, got, valid)
		}
		if got := knobRefRE.MatchString("$"+name) && len(name)+1 <= maxLen("knobRef"); got != valid {
			t.Errorf("knob reference $%s: the schema says %v, the knob package %v", name, got, valid)
		}
	}
}

// TestSchemaTimeOfDayMatchesParseClock compares the schema's pattern for
// times of day (run.clock, night jobs, the day curve, broadcasts) with the
// loader's parser, on texts people write and texts they mistype.
func TestSchemaTimeOfDayMatchesParseClock(t *testing.T) {
	defs := schemaJSON(t)["$defs"].(map[string]any)
	re := regexp.MustCompile(defs["timeOfDay"].(map[string]any)["pattern"].(string))
	loaderOnly := map[string]bool{} // none: parser and schema agree
	for _, text := range []string{
		"00:00", "03:00", "23:59", "23:59:59", "00:00:00", "12:30:15", "09:05",
		"24:00", "3:00", "03:60", "03:00:60", "03:0", "003:00", "03", "3am", "03:00am", "", "03:00:00:00",
		"03-00", "03.00", " 03:00", "03:00 ", "0x:00", "١٢:٠٠", "03:00:", ":03:00", "+3:00", "-0:00", "03:+5", "+1:+1:+1",
	} {
		_, err := parseClock(text)
		parses, matches := err == nil, re.MatchString(text)
		switch {
		case parses && !matches && !loaderOnly[text]:
			t.Errorf("%q: the parser reads it, the schema's pattern refuses it", text)
		case !parses && matches:
			t.Errorf("%q: the schema's pattern accepts it, the parser refuses it (%v)", text, err)
		case parses == matches && loaderOnly[text]:
			t.Errorf("%q: listed as a known difference, but parser and schema agree", text)
		}
	}
}
