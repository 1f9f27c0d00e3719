package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"stormglass/knob"
	"stormglass/scenarios"
)

func resultJSON(t *testing.T, r *Result) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A session advanced to the horizon in uneven stretches, one of them
// cancelled halfway, is replication 0 of Run: the same figures, timeline
// and series, to the bit.
func TestSessionIsReplicationZero(t *testing.T) {
	p := plan(t, "checkout", scenarios.PlanOptions{Variant: "incident", Replications: 1, Horizon: 15 * time.Minute})
	want, err := Run(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(p)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AdvanceTo(cancelled, 5*time.Minute); !errors.Is(err, context.Canceled) || s.Over() {
		t.Fatalf("a cancelled advance: %v, over %v; want context.Canceled and a session that goes on", err, s.Over())
	}
	for _, to := range []time.Duration{7 * time.Second, 61 * time.Second, 10*time.Minute + 1, 20 * time.Minute} {
		if err := s.AdvanceTo(context.Background(), to); err != nil {
			t.Fatal(err)
		}
		if s.Now() != min(to, p.Horizon) {
			t.Fatalf("advanced to %v, now %v", to, s.Now())
		}
	}
	if !s.Over() || !errors.Is(s.AdvanceTo(context.Background(), time.Hour), ErrSessionOver) {
		t.Fatal("a session at its horizon should be over")
	}
	if got := s.Result(); !bytes.Equal(resultJSON(t, got), resultJSON(t, want)) {
		t.Errorf("the session's result differs from replication 0 of Run:\n%.600s\n%.600s", resultJSON(t, got), resultJSON(t, want))
	}
}

// A knob turned mid-run takes effect at that simulated time, is recorded
// on the timeline, and a bad value is refused with nothing changed.
func TestSessionKnobTurnedMidRun(t *testing.T) {
	p := plan(t, "mm1", scenarios.PlanOptions{Horizon: 40 * time.Minute})
	s, err := NewSession(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.AdvanceTo(ctx, 20*time.Minute); err != nil {
		t.Fatal(err)
	}
	k, _ := p.Scenario.Knobs.Lookup("arrival_rate")
	bad, err := knob.Parse(knob.Rate, "12/s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set([]scenarios.Assignment{{Knob: "arrival_rate", Value: bad}}); !errors.Is(err, knob.ErrOutOfRange) {
		t.Fatalf("arrival_rate=12/s: %v, want out of range", err)
	}
	if v := s.Values()["arrival_rate"]; !v.Equal(k.Default) {
		t.Fatalf("a refused value changed the knob to %v", v)
	}
	low, err := knob.Parse(knob.Rate, "2/s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set([]scenarios.Assignment{{Knob: "arrival_rate", Value: low}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceTo(ctx, p.Horizon); err != nil {
		t.Fatal(err)
	}
	var set *scenarios.Event
	for _, e := range s.Events() {
		if e.Kind == "set" {
			set = &e
		}
	}
	if set == nil || set.At != 20*time.Minute || !strings.Contains(set.Text, "arrival_rate = 2/s (was 8/s)") {
		t.Fatalf("the timeline records %+v, want arrival_rate = 2/s (was 8/s) at 20m", set)
	}
	var arrivals []float64
	for _, ser := range s.Series() {
		if ser.Name == "arrival_rate" {
			arrivals = ser.Values
		}
	}
	per := int(time.Minute / p.Sample)
	before, after := mean(arrivals[10*per:20*per]), mean(arrivals[25*per:40*per])
	if before < 7 || before > 9 || after < 1.5 || after > 2.5 {
		t.Errorf("arrivals %.2f/s before the turn and %.2f/s after, want about 8 and 2", before, after)
	}
	r := s.Result()
	if r.Theory != "" || r.Replications != 1 || r.HorizonS != p.Horizon.Seconds() {
		t.Errorf("result after a turn: theory %q, %d replications, horizon %v; want no closed form, 1, %v", r.Theory, r.Replications, r.HorizonS, p.Horizon.Seconds())
	}
}
