package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"stormglass/sim"
)

// TestDescribeEveryBuiltinEntry describes every timeline entry of every
// variant of every built-in scenario: each has one of the four kinds and
// a text that names what it acts on.
func TestDescribeEveryBuiltinEntry(t *testing.T) {
	kinds := []string{"set", "fault", "deploy", "note"}
	seen := map[string]int{}
	for _, name := range BuiltinNames() {
		sc, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range sc.VariantNames() {
			p, err := sc.Plan(PlanOptions{Variant: v})
			if err != nil {
				t.Fatalf("%s/%s: %v", name, v, err)
			}
			for i, e := range p.Timeline {
				kind, text := e.Describe()
				where := func() string { return fmt.Sprintf("%s/%s entry %d", name, v, i) }
				if !slices.Contains(kinds, kind) {
					t.Errorf("%s: kind %q, want one of %v", where(), kind, kinds)
				}
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s: empty text", where())
				}
				seen[kind]++
				var names []string
				switch {
				case len(e.Set) > 0:
					for _, a := range e.Set {
						names = append(names, a.Knob, a.Value.String())
					}
				case e.Fault != nil:
					names = append(names, e.Fault.Target)
				case e.Deploy != nil:
					names = append(names, e.Deploy.Target, e.Deploy.Tier)
				default:
					names = append(names, e.Annotate)
				}
				for _, n := range names {
					if !strings.Contains(text, n) {
						t.Errorf("%s: %s %q does not name %q", where(), kind, text, n)
					}
				}
			}
		}
	}
	// The built-ins between them have every kind: a kind that vanished
	// from the loop above would leave it testing nothing.
	for _, k := range kinds {
		if seen[k] == 0 {
			t.Errorf("no built-in entry described as %s", k)
		}
	}
}

// TestDescribeTexts pins the words of a few entries.
func TestDescribeTexts(t *testing.T) {
	// entry is the plan's first entry at a time, of a kind.
	entry := func(scenario, variant string, at time.Duration, kind string) Entry {
		t.Helper()
		sc, err := Builtin(scenario)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sc.Plan(PlanOptions{Variant: variant})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Timeline {
			if k, _ := e.Describe(); e.At == at && k == kind {
				return e
			}
		}
		t.Fatalf("%s/%s has no %s at %v", scenario, variant, kind, at)
		return Entry{}
	}
	cases := []struct {
		e          Entry
		kind, text string
	}{
		{entry("checkout", "incident", 10*time.Minute, "set"), "set", "shoppers = 180/s"},
		{entry("checkout", "incident", 12*time.Minute, "fault"), "fault", "shoppers surges ×1.5 for 2m"},
		{entry("checkout", "incident", 20*time.Minute, "fault"), "fault", "db slowed down ×4 for 5m"},
		{entry("checkout", "remediated", 10*time.Minute, "note"), "note", "Vacuum rescheduled to 03:00"},
		{entry("reactive-outage-2025", "incident", 4*time.Hour+50*time.Minute, "set"), "set", "queue_limit = 100000"},
		{entry("reactive-outage-2025", "incident", time.Hour, "note"), "note", "06:00 first errors: a flush invalidates more searches than the queue holds"},
		{entry("websocket-3am", "incident", 55*time.Minute, "fault"), "fault", "gateways node 1 killed: its connections close; down for 5m"},
		{entry("year-end-event", "incident", 10*time.Hour+20*time.Minute, "fault"), "fault", "activity restarts"},
		{Entry{Fault: &Fault{Kind: FaultOutage, Target: "db"}}, "fault", "outage of db until the end of the run"},
		{Entry{Fault: &Fault{Kind: FaultRestart, Target: "orders-db", For: 90 * time.Second}}, "fault", "database orders-db restarts: down for 1m30s"},
		{Entry{Deploy: &Deploy{Target: "web", Servers: 8}}, "deploy", "web redeployed on 8 servers"},
		{Entry{Deploy: &Deploy{Target: "web", Servers: 8, Gap: 30 * time.Second}}, "deploy", "web redeploying on 8 servers after a 30s gap"},
	}
	for _, c := range cases {
		kind, text := c.e.Describe()
		if kind != c.kind || text != c.text {
			t.Errorf("Describe() = %q, %q; want %q, %q", kind, text, c.kind, c.text)
		}
	}
}

// TestDescribeMatchesEventLog applies each entry of a few scenarios to a
// world and compares the event it logs with the entry's description: the
// library's list and the replay's log must read alike. A set's log adds
// units and the value before; where the entry cannot know the model (a deploy, a
// restart without a time) both must at least name the target.
func TestDescribeMatchesEventLog(t *testing.T) {
	cases := []struct {
		load    func() (*Scenario, error)
		variant string
	}{
		{func() (*Scenario, error) { return LoadFile("testdata/schema/base.yaml") }, ""},
		{func() (*Scenario, error) { return Builtin("checkout") }, "incident"},
		{func() (*Scenario, error) { return Builtin("reactive-outage-2025") }, "incident"},
		{func() (*Scenario, error) { return Builtin("year-end-event") }, "incident"},
	}
	compared := 0
	for _, c := range cases {
		sc, err := c.load()
		if err != nil {
			t.Fatal(err)
		}
		p, err := sc.Plan(PlanOptions{Variant: c.variant})
		if err != nil {
			t.Fatal(err)
		}
		w, err := Build(sim.NewKernel(sim.Config{}), sim.NewStreams(p.Seed).Replication(0), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Timeline {
			n := len(w.events)
			w.apply(e)
			if len(w.events) == n {
				t.Fatalf("%s: entry %+v logged nothing", sc.File, e)
			}
			ev := w.events[n]
			kind, text := e.Describe()
			if ev.Kind != kind {
				t.Errorf("%s: logged as %q, described as %q", sc.File, ev.Kind, kind)
			}
			switch {
			case kind == "set":
				// The log knows the knobs' units; the entry alone does not.
				if !strings.HasPrefix(ev.Text, text+" ") || !strings.Contains(ev.Text, " (was ") {
					t.Errorf("%s: set logged %q, described %q", sc.File, ev.Text, text)
				}
			case e.Deploy != nil || (e.Fault != nil && e.Fault.Kind == FaultRestart && e.Fault.For == 0):
				target := ""
				if e.Deploy != nil {
					target = e.Deploy.Target
				} else {
					target = e.Fault.Target
				}
				if !strings.Contains(ev.Text, target) || !strings.Contains(text, target) {
					t.Errorf("%s: logged %q, described %q: both should name %s", sc.File, ev.Text, text, target)
				}
			default:
				if ev.Text != text {
					t.Errorf("%s: logged %q, described %q", sc.File, ev.Text, text)
				}
			}
			compared++
		}
	}
	if compared < 10 {
		t.Errorf("compared %d entries, want the scenarios' 10 at least", compared)
	}
}
