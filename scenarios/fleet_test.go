package scenarios

import (
	"context"
	"strings"
	"testing"
	"time"

	"stormglass/knob"
	"stormglass/sim"
)

// smallFleet is a two-node fleet of desktop clients that reconnect at
// once, with no night job: what happens to it is what the timeline does.
const smallFleet = `apiVersion: stormglass/v1
kind: Scenario
metadata: {name: small-fleet, title: Small fleet}
run: {clock: "12:00", horizon: 10m, sample: 10s, replications: 1}
knobs:
  - {name: heartbeats, type: bool, default: false, help: Server pings.}
components:
  - name: gateways
    kind: websocket-fleet
    nodes: 2
    clients: 400
    mix: {desktop: 1, background: 0, mobile: 0}
    gc: {night_jobs: []}
    traffic: {broadcasts: []}
    heartbeat: {enabled: $heartbeats}
    reconnect: {policy: aws-full-jitter, immediate: true}
timeline:
`

// runFleet runs the small fleet with the timeline entries given (YAML
// list items) and returns its world.
func runFleet(t *testing.T, timeline string) *World {
	t.Helper()
	sc, err := Load("small-fleet.yaml", []byte(smallFleet+timeline))
	if err != nil {
		t.Fatal(err)
	}
	p, err := sc.Plan(PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k := sim.NewKernel(sim.Config{Seed: p.Seed, Epoch: p.Epoch()})
	w, err := Build(k, sim.NewStreams(p.Seed), p)
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	if err := k.RunUntil(context.Background(), p.Horizon); err != nil {
		t.Fatal(err)
	}
	return w
}

func measured(t *testing.T, w *World, name string) Measured {
	t.Helper()
	for _, m := range w.Measure() {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no metric %s", name)
	return Measured{}
}

func seriesOf(t *testing.T, w *World, name string) []float64 {
	t.Helper()
	for _, s := range w.Series() {
		if s.Name == name {
			return s.Values
		}
	}
	t.Fatalf("no series %s", name)
	return nil
}

// A kill closes the node's connections and the node comes back after its
// for, or stays down to the end without one.
func TestFleetKill(t *testing.T) {
	w := runFleet(t, "  - {at: 2m, fault: {kind: kill, target: gateways, node: 2, for: 3m}}\n")
	live := seriesOf(t, w, "nodes.live")
	for i, n := range live {
		end := time.Duration(i+1) * 10 * time.Second
		want := 2.0
		if end >= 2*time.Minute && end < 5*time.Minute { // a sample at the kill's instant sees it
			want = 1
		}
		if n != want {
			t.Fatalf("%v nodes live in the interval ending %v, want %v", n, end, want)
		}
	}
	if k := measured(t, w, "disconnects_kill").Value; k < 150 || k > 250 {
		t.Fatalf("%v connections closed by the kill, want about half of 400", k)
	}
	if s := measured(t, w, "reconnect_success").Value; s != 1 {
		t.Fatalf("reconnect success %v: the other node has room for everyone", s)
	}

	w = runFleet(t, "  - {at: 2m, fault: {kind: kill, target: gateways, node: 1}}\n")
	if live := seriesOf(t, w, "nodes.live"); live[len(live)-1] != 1 {
		t.Fatalf("%v nodes live at the end: a kill without for lasts to the end", live[len(live)-1])
	}
	if !strings.Contains(eventText(w), "node 1 killed: its connections close; down until the end of the run") {
		t.Fatalf("event log:\n%s", eventText(w))
	}
}

// Injected latency lengthens every reconnect after a kill: a connection
// takes three round trips, each with one packet leaving a node. When a
// later latency fault ends, the earlier one holds again.
func TestFleetLatencyFaults(t *testing.T) {
	recovery := func(timeline string) float64 {
		w := runFleet(t, timeline+"  - {at: 6m, fault: {kind: kill, target: gateways, node: 1, for: 1m}}\n")
		return measured(t, w, "session_recovery").P50
	}
	calm := recovery("")
	slow := recovery("  - {at: 0s, fault: {kind: latency, target: gateways, delay: 1s}}\n")
	over := recovery("  - {at: 0s, fault: {kind: latency, target: gateways, delay: 1s, for: 1m}}\n")
	stacked := recovery("  - {at: 0s, fault: {kind: latency, target: gateways, delay: 1s}}\n" +
		"  - {at: 1m, fault: {kind: latency, target: gateways, delay: 10ms, for: 2m}}\n")
	t.Logf("median recovery: calm %.3f s, 1 s latency %.3f s, ended %.3f s, 10 ms over 1 s then ended %.3f s", calm, slow, over, stacked)
	if calm > 0.5 || over > 0.5 {
		t.Fatalf("without latency at the kill the median recovery took %.3f s and %.3f s, want well under 0.5 s", calm, over)
	}
	if slow < 3 || stacked < 3 {
		t.Fatalf("with 1 s on every packet a node sends the median recovery took %.3f s and %.3f s, want at least 3 round trips of 1 s", slow, stacked)
	}
}

// A bool knob set mid-run takes effect then: heartbeats start with the
// connections opened from then on (the kill reopens half of them).
func TestFleetLiveKnob(t *testing.T) {
	w := runFleet(t, "  - {at: 3m, set: {heartbeats: true}}\n  - {at: 4m, fault: {kind: kill, target: gateways, node: 1, for: 30s}}\n")
	pings := seriesOf(t, w, "pings.sent")
	for i, p := range pings {
		if end := time.Duration(i+1) * 10 * time.Second; end <= 3*time.Minute && p != 0 {
			t.Fatalf("%v pings/s in the interval ending %v, before heartbeats were on", p, end)
		}
	}
	if p := pings[len(pings)-1]; p < 10 {
		t.Fatalf("%v pings/s at the end: the connections reopened after the kill should ping", p)
	}
}

func eventText(w *World) string {
	var b strings.Builder
	for _, e := range w.Events() {
		b.WriteString(e.Text + "\n")
	}
	return b.String()
}

// Timers that clash with another field's default are refused at load,
// where the field is written; values that only a knob or the timeline
// gives are refused by the plan, naming the entry.
func TestFleetChecksWithDefaults(t *testing.T) {
	base := strings.Replace(smallFleet, "heartbeat: {enabled: $heartbeats}", "heartbeat: {enabled: $heartbeats, HB}", 1)
	for _, c := range []struct{ edit, want string }{
		{"pong_timeout: 12s", "components[0].heartbeat.pong_timeout: 12s is longer than the interval (10s)"},
		{"write_timeout: 6s", "components[0].heartbeat.write_timeout: 6s is longer than the pong timeout (5s)"},
		{"interval: 4s, write_timeout: 3s", "components[0].heartbeat.write_timeout: 3s is longer than the pong timeout (2s)"},
	} {
		_, err := Load("f.yaml", []byte(strings.Replace(base, "HB", c.edit, 1)+"  - {at: 1m, annotate: x}\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.edit, err, c.want)
		}
	}
	degr := strings.Replace(smallFleet, "    reconnect:", "    degradation: {enabled: false, l1_pause: 200ms}\n    reconnect:", 1)
	if _, err := Load("f.yaml", []byte(degr+"  - {at: 1m, annotate: x}\n")); err == nil || !strings.Contains(err.Error(), "components[0].degradation.l2_pause: 120ms is not above l1_pause (200ms)") {
		t.Errorf("l1 above the default l2: %v", err)
	}
	day := strings.Replace(smallFleet, "traffic: {broadcasts: []}", `traffic: {broadcasts: [], day: [{at: "00:00", factor: 0}, {at: "12:00", factor: 0}]}`, 1)
	if _, err := Load("f.yaml", []byte(day+"  - {at: 1m, annotate: x}\n")); err == nil || !strings.Contains(err.Error(), "components[0].traffic.day: every factor is 0") {
		t.Errorf("a day of zeros: %v", err)
	}

	withGOGC := strings.Replace(smallFleet, "gc: {night_jobs: []}", "gc: {night_jobs: [], gogc: $gogc}", 1)
	withGOGC = strings.Replace(withGOGC, "knobs:\n", "knobs:\n  - {name: gogc, type: integer, default: 100, min: -1, max: 10000, help: GOGC.}\n", 1)
	sc, err := Load("f.yaml", []byte(withGOGC+"  - {at: 1m, set: {gogc: 0}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.Plan(PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "f.yaml:19:5: timeline at 1m: component gateways: gc.gogc is 0") || !strings.Contains(err.Error(), "gogc=0") {
		t.Errorf("gogc set to 0 mid-run: %v", err)
	}
	if _, err := sc.Plan(PlanOptions{Set: []Assignment{{Knob: "gogc", Value: knob.IntegerValue(0)}}}); err == nil || !strings.Contains(err.Error(), "f.yaml: component gateways: gc.gogc is 0") {
		t.Errorf("gogc 0 from the start: %v", err)
	}
}
