package admission

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestConfigZeroIsDefaults: the zero Config is valid, no limits are set,
// and degradation takes the incident's figures.
func TestConfigZeroIsDefaults(t *testing.T) {
	got, err := Config{}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Degradation: DegradationConfig{
		L1Pause: DefaultL1Pause, L2Pause: DefaultL2Pause, IdleClose: DefaultIdleClose, QuietPeriod: DefaultQuietPeriod,
	}}
	if got != want {
		t.Fatalf("zero config resolves to %+v, want %+v", got, want)
	}
	g := newGate(t, Config{})
	if g.Config() != want {
		t.Fatalf("gate config %+v, want %+v", g.Config(), want)
	}
}

// TestConfigDefaultBurst: a tenth of a second of the rate, rounded up, at
// least one token.
func TestConfigDefaultBurst(t *testing.T) {
	for _, tc := range []struct {
		perSecond float64
		burst     int
	}{{5000, 500}, {1000, 100}, {33, 4}, {10, 1}, {0.5, 1}, {MaxRate, MaxBurst / 10}} {
		got, err := RateConfig{PerSecond: tc.perSecond}.WithDefaults()
		if err != nil {
			t.Fatal(err)
		}
		want := int(math.Max(1, math.Ceil(tc.perSecond*DefaultBurstWindow.Seconds())))
		if got.Burst != want {
			t.Errorf("default burst at %v/s = %d, want %d", tc.perSecond, got.Burst, want)
		}
	}
}

// TestConfigErrorsNameTheField: each bad field gives an error naming it
// and what was expected, wrapping ErrInvalidConfig, and every bad field of
// one config is reported together.
func TestConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		fields []string
	}{
		{"negative max", Config{Requests: Limits{Concurrency: ConcurrencyConfig{Max: -1}}}, []string{"Config.Requests.Concurrency.Max -1: want 0 (no limit) to"}},
		{"max too large", Config{Connections: Limits{Concurrency: ConcurrencyConfig{Max: MaxInFlightLimit + 1}}}, []string{"Config.Connections.Concurrency.Max"}},
		{"negative rate", Config{Requests: Limits{Rate: RateConfig{PerSecond: -5000}}}, []string{"Config.Requests.Rate.PerSecond -5000: want 0 (no limit) or"}},
		{"NaN rate", Config{Requests: Limits{Rate: RateConfig{PerSecond: math.NaN()}}}, []string{"Config.Requests.Rate.PerSecond NaN"}},
		{"infinite rate", Config{Connections: Limits{Rate: RateConfig{PerSecond: math.Inf(1)}}}, []string{"Config.Connections.Rate.PerSecond +Inf"}},
		{"rate too small", Config{Requests: Limits{Rate: RateConfig{PerSecond: MinRate / 2}}}, []string{"Config.Requests.Rate.PerSecond"}},
		{"negative burst", Config{Requests: Limits{Rate: RateConfig{PerSecond: 10, Burst: -1}}}, []string{"Config.Requests.Rate.Burst -1: want 0 (default"}},
		{"burst without rate", Config{Connections: Limits{Rate: RateConfig{Burst: 10}}}, []string{"Config.Connections.Rate.Burst 10 without Config.Connections.Rate.PerSecond"}},
		{"negative L1", Config{Degradation: DegradationConfig{L1Pause: -time.Millisecond}}, []string{"Config.Degradation.L1Pause -1ms: want a duration in (0, 1m0s]"}},
		{"L1 too long", Config{Degradation: DegradationConfig{L1Pause: 2 * time.Minute, L2Pause: 3 * time.Minute}}, []string{"Config.Degradation.L1Pause 2m0s", "Config.Degradation.L2Pause 3m0s"}},
		{"L2 not above L1", Config{Degradation: DegradationConfig{L1Pause: 80 * time.Millisecond, L2Pause: 80 * time.Millisecond}}, []string{"Config.Degradation.L2Pause 80ms: want a duration above L1Pause 80ms"}},
		{"L1 raised past the default L2", Config{Degradation: DegradationConfig{L1Pause: 150 * time.Millisecond}}, []string{"Config.Degradation.L2Pause 120ms", "set L2Pause explicitly"}},
		{"negative idle close", Config{Degradation: DegradationConfig{IdleClose: -time.Second}}, []string{"Config.Degradation.IdleClose -1s"}},
		{"quiet period too long", Config{Degradation: DegradationConfig{QuietPeriod: 25 * time.Hour}}, []string{"Config.Degradation.QuietPeriod 25h0m0s: want a duration in (0, 24h0m0s]"}},
		{"several at once", Config{
			Requests:    Limits{Concurrency: ConcurrencyConfig{Max: -2}},
			Connections: Limits{Rate: RateConfig{PerSecond: -1}},
			Degradation: DegradationConfig{QuietPeriod: -1},
		}, []string{"Config.Requests.Concurrency.Max -2", "Config.Connections.Rate.PerSecond -1", "Config.Degradation.QuietPeriod -1ns"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, err := range []error{tc.cfg.Validate(), errOf(NewGate(tc.cfg))} {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
				}
				for _, f := range tc.fields {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("error %q does not contain %q", err, f)
					}
				}
			}
		})
	}
}

// TestComponentConfigErrors: the standalone constructors validate too and
// name their own config type.
func TestComponentConfigErrors(t *testing.T) {
	for want, err := range map[string]error{
		"ConcurrencyConfig.Max -1":      errOf(NewConcurrencyLimit(ConcurrencyConfig{Max: -1})),
		"RateConfig.PerSecond -1":       errOf(NewRateLimit(RateConfig{PerSecond: -1})),
		"RateConfig.Burst -3":           errOf(NewRateLimit(RateConfig{PerSecond: 1, Burst: -3})),
		"DegradationConfig.L2Pause 1ms": errOf(NewDegrader(DegradationConfig{L2Pause: time.Millisecond})),
	} {
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one naming %q wrapping ErrInvalidConfig", err, want)
		}
	}
	if _, err := NewService(Config{}, nil); err == nil {
		t.Error("NewService without a clock must fail")
	}
}

func errOf[T any](_ T, err error) error { return err }
