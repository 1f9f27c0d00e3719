package runner

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"stormglass/scenarios"
)

// The version a report prints is the one the desktop app's about box
// shows.
func TestVersionMatchesFyneApp(t *testing.T) {
	toml, err := os.ReadFile("../../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*Version\s*=\s*"([^"]+)"`).FindSubmatch(toml)
	if m == nil {
		t.Fatal("FyneApp.toml has no Version")
	}
	if string(m[1]) != release || !strings.HasPrefix(Version(), release) {
		t.Fatalf("FyneApp.toml says %s, the runner %s (Version() %q)", m[1], release, Version())
	}
}

// A result read back from its JSON is the result: what run history stores
// and reports are regenerated from.
func TestResultRoundTripsThroughJSON(t *testing.T) {
	p := plan(t, "checkout", scenarios.PlanOptions{Replications: 3, Horizon: 10 * 60e9})
	r, err := Run(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Fatal("the result read back from JSON differs")
	}
	if len(back.MetricNames()) == 0 || len(back.Runs()) != 3 || back.Lookup(back.MetricNames()[0]) == nil {
		t.Fatalf("read back: %d metrics, %d replications", len(back.MetricNames()), len(back.Runs()))
	}
	if want := fmt.Sprintf("%x", sha256.Sum256(p.Scenario.Text)); r.ScenarioSHA256 != want {
		t.Fatalf("scenario hash %s, want %s", r.ScenarioSHA256, want)
	}
}
