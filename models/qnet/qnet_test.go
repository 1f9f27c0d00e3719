package qnet

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"stormglass/sim"
)

// approx compares to within the nanosecond resolution of virtual time.
func approx(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

// sec is a virtual instant or span in seconds.
func sec(s float64) time.Duration { return sim.DurationOf(s) }

func build(t *testing.T, seed uint64, cfg Config) (*sim.Kernel, *Network) {
	t.Helper()
	k := sim.NewKernel(sim.Config{Seed: seed})
	n, err := New(k, k.Streams(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k, n
}

func runTo(t *testing.T, k *sim.Kernel, s float64) {
	t.Helper()
	if err := k.RunUntil(context.Background(), sec(s)); err != nil {
		t.Fatal(err)
	}
}

// at runs fn at virtual time s.
func at(k *sim.Kernel, s float64, fn func()) { k.AtFunc(sec(s), fn) }

func TestValidation(t *testing.T) {
	exp := Service{Kind: Exponential, Mean: 1}
	ok := func() Config {
		return Config{
			Sources: []SourceConfig{{Name: "in", Rate: 1, Routes: []Route{{To: "web", P: 1}}}},
			Stations: []StationConfig{
				{Name: "web", Servers: 2, Service: exp, Routes: []Route{{To: "db", P: 0.5}, {To: "out", Rest: true}}},
				{Name: "db", Servers: 1, Service: exp, Routes: []Route{{To: "out", P: 1}}},
			},
			Sinks: []string{"out"},
		}
	}
	cases := []struct {
		name  string
		edit  func(c *Config)
		wants []string // substrings of the error
	}{
		{"capacity below servers", func(c *Config) { c.Stations[0].Capacity = 1 },
			[]string{`qnet: station "web": capacity 1 is below its 2 servers`}},
		{"negative capacity", func(c *Config) { c.Stations[1].Capacity = -1 },
			[]string{`station "db": capacity -1 is negative`}},
		{"no servers", func(c *Config) { c.Stations[1].Servers = 0 },
			[]string{`station "db": needs at least 1 server, got 0`}},
		{"bad discipline", func(c *Config) { c.Stations[1].Discipline = 7 },
			[]string{`station "db": unknown discipline Discipline(7)`}},
		{"zero mean", func(c *Config) { c.Stations[1].Service.Mean = 0 },
			[]string{`station "db": service: mean service time must be finite and > 0, got 0`}},
		{"NaN mean", func(c *Config) { c.Stations[1].Service.Mean = math.NaN() },
			[]string{`station "db": service: mean service time`}},
		{"Erlang without phases", func(c *Config) { c.Stations[1].Service = Service{Kind: Erlang, Mean: 1} },
			[]string{`station "db": service: Erlang service needs K ≥ 1 phases, got 0`}},
		{"gamma without CV", func(c *Config) { c.Stations[1].Service = Service{Kind: Gamma, Mean: 1} },
			[]string{`station "db": service: Gamma service needs a finite coefficient of variation CV > 0`}},
		{"lognormal negative CV", func(c *Config) { c.Stations[1].Service = Service{Kind: LogNormal, Mean: 1, CV: -1} },
			[]string{`LogNormal service needs a finite coefficient of variation CV > 0, got -1`}},
		{"uniform spread", func(c *Config) { c.Stations[1].Service = Service{Kind: Uniform, Mean: 1, Spread: 1.5} },
			[]string{`station "db": service: Uniform service needs a spread in [0, 1], got 1.5`}},
		{"unknown kind", func(c *Config) { c.Stations[1].Service.Kind = 42 },
			[]string{`unknown service distribution DistKind(42)`}},
		{"negative rate", func(c *Config) { c.Sources[0].Rate = -1 },
			[]string{`qnet: source "in": rate must be finite and ≥ 0, got -1`}},
		{"infinite rate", func(c *Config) { c.Sources[0].Rate = math.Inf(1) },
			[]string{`source "in": rate must be finite`}},
		{"bad process", func(c *Config) { c.Sources[0].Process = 3 },
			[]string{`source "in": unknown arrival process Process(3)`}},
		{"unsorted profile", func(c *Config) {
			c.Sources[0].Profile = []RatePoint{{At: 2 * time.Second, Rate: 1}, {At: time.Second, Rate: 2}}
		}, []string{`source "in": profile point 1 at 1s comes before point 0 at 2s`}},
		{"negative profile rate", func(c *Config) { c.Sources[0].Profile = []RatePoint{{At: time.Second, Rate: -2}} },
			[]string{`source "in": profile point 0: rate must be finite and ≥ 0, got -2`}},
		{"profile before the start", func(c *Config) { c.Sources[0].Profile = []RatePoint{{At: -time.Second, Rate: 2}} },
			[]string{`source "in": profile point 0 is at -1s, before the start`}},
		{"route to nowhere", func(c *Config) { c.Stations[1].Routes[0].To = "nowhere" },
			[]string{`qnet: station "db": route 0 to "nowhere": no such station or sink`}},
		{"route to a source", func(c *Config) { c.Stations[1].Routes[0].To = "in" },
			[]string{`station "db": route 0 to "in": that is a source`}},
		{"probability above 1", func(c *Config) { c.Stations[0].Routes[0].P = 1.5 },
			[]string{`station "web": route 0 to "db": probability 1.5 is not in [0, 1]`}},
		{"sum below 1", func(c *Config) { c.Stations[1].Routes[0].P = 0.9 },
			[]string{`station "db": route probabilities sum to 0.9, not 1`}},
		{"sum above 1 with rest", func(c *Config) {
			c.Stations[0].Routes = []Route{{To: "db", P: 0.7}, {To: "out", P: 0.5}, {To: "db", Rest: true}}
		}, []string{`station "web": the probabilities of the routes other than the rest sum to 1.2, more than 1`}},
		{"two rests", func(c *Config) { c.Stations[0].Routes[0] = Route{To: "db", Rest: true} },
			[]string{`station "web": route 1 to "out": routes 0 and 1 both take the rest`}},
		{"rest with P", func(c *Config) { c.Stations[0].Routes[1].P = 0.2 },
			[]string{`station "web": route 1 to "out" takes the rest and cannot also have P = 0.2`}},
		{"no routes", func(c *Config) { c.Sources[0].Routes = nil },
			[]string{`qnet: source "in": no routes`}},
		{"all zero", func(c *Config) { c.Stations[0].Routes = []Route{{To: "out", P: 0}} },
			[]string{`station "web": route probabilities sum to 0, not 1`}},
		{"duplicate name", func(c *Config) { c.Stations[1].Name = "in"; c.Stations[0].Routes[0].To = "in" },
			[]string{`qnet: station "in": name already used by a source`}},
		{"sink named like a station", func(c *Config) { c.Sinks = append(c.Sinks, "db") },
			[]string{`qnet: sink "db": name already used by a station`}},
		{"empty name", func(c *Config) { c.Sinks = append(c.Sinks, "") },
			[]string{`qnet: a sink has an empty name`}},
		{"no sink", func(c *Config) {
			c.Sinks = nil
			c.Stations[0].Routes = []Route{{To: "db", P: 1}}
			c.Stations[1].Routes = []Route{{To: "web", P: 1}}
		}, []string{`qnet: the network has no sink`}},
		{"trapped loop", func(c *Config) {
			c.Stations[1].Routes = []Route{{To: "db", P: 0.5}, {To: "web", P: 0.5}}
			c.Stations[0].Routes = []Route{{To: "db", P: 1}, {To: "out", P: 0}}
		}, []string{`qnet: station "web": no sink can be reached from it`, `qnet: station "db": no sink can be reached`}},
		{"several at once", func(c *Config) {
			c.Stations[0].Capacity = 1
			c.Sources[0].Rate = -1
			c.Stations[1].Routes[0].To = "nowhere"
		}, []string{`station "web": capacity 1`, `source "in": rate`, `station "db": route 0 to "nowhere"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok()
			c.edit(&cfg)
			k := sim.NewKernel(sim.Config{})
			n, err := New(k, k.Streams(), cfg)
			if err == nil {
				t.Fatalf("no error; want %q", c.wants)
			}
			if n != nil {
				t.Error("a network came back with the error")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		k := sim.NewKernel(sim.Config{})
		if _, err := New(k, k.Streams(), ok()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("service error is wrapped", func(t *testing.T) {
		cfg := ok()
		cfg.Stations[1].Service.Mean = -1
		k := sim.NewKernel(sim.Config{})
		_, err := New(k, k.Streams(), cfg)
		want := cfg.Stations[1].Service.Validate()
		var found bool
		for e := range unwrapAll(err) {
			if e.Error() == want.Error() {
				found = true
			}
		}
		if !found {
			t.Errorf("%q does not wrap the service's own error %q", err, want)
		}
	})
}

// unwrapAll yields err and everything it wraps, through joins too.
func unwrapAll(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if !walk(x) {
						return false
					}
				}
			case interface{ Unwrap() error }:
				return walk(u.Unwrap())
			}
			return true
		}
		walk(err)
	}
}

func TestServiceMoments(t *testing.T) {
	cases := []struct {
		s      Service
		m1, m2 float64
	}{
		{Service{Kind: Exponential, Mean: 2}, 2, 8},
		{Service{Kind: DeterministicService, Mean: 2}, 2, 4},
		{Service{Kind: Erlang, Mean: 2, K: 4}, 2, 4 * 1.25},
		{Service{Kind: Gamma, Mean: 2, CV: 0.5}, 2, 4 * 1.25},
		{Service{Kind: LogNormal, Mean: 2, CV: 2}, 2, 4 * 5},
		{Service{Kind: Uniform, Mean: 2, Spread: 0.5}, 2, 4 + 1.0/3}, // U(1, 3): Var = 4/12
	}
	for _, c := range cases {
		m1, m2 := c.s.Moments()
		if math.Abs(m1-c.m1) > 1e-12 || math.Abs(m2-c.m2) > 1e-12 {
			t.Errorf("%v: moments %v, %v; want %v, %v", c.s.Kind, m1, m2, c.m1, c.m2)
		}
	}
}

// TestServiceSamplers draws from every law and compares the sample mean and
// second moment with Moments: the unit-mean variates must have the shape
// the law promises.
func TestServiceSamplers(t *testing.T) {
	laws := []Service{
		{Kind: Exponential, Mean: 1},
		{Kind: DeterministicService, Mean: 1},
		{Kind: Erlang, Mean: 1, K: 3},
		{Kind: Gamma, Mean: 1, CV: 0.5},
		{Kind: Gamma, Mean: 1, CV: 1.5}, // shape < 1
		{Kind: LogNormal, Mean: 1, CV: 0.5},
		{Kind: Uniform, Mean: 1, Spread: 0.8},
	}
	const n = 200000
	for i, s := range laws {
		u := newUnitSampler(s, rand.New(rand.NewPCG(uint64(i), 1)))
		var s1, s2 float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for range n {
			x := u.draw()
			s1 += x
			s2 += x * x
			lo, hi = min(lo, x), max(hi, x)
		}
		m1, m2 := s.Moments()
		mean, second := s1/n, s2/n
		se := math.Sqrt((m2 - m1*m1) / n)
		if math.Abs(mean-m1) > 5*se+1e-12 {
			t.Errorf("%v %+v: sample mean %.5f, want %.5f ± %.5f", s.Kind, s, mean, m1, 5*se)
		}
		if math.Abs(second-m2)/m2 > 0.03 {
			t.Errorf("%v %+v: sample E[S²] %.5f, want %.5f", s.Kind, s, second, m2)
		}
		if lo < 0 {
			t.Errorf("%v: negative draw %v", s.Kind, lo)
		}
		if s.Kind == Uniform && (lo < 1-s.Spread || hi > 1+s.Spread) {
			t.Errorf("uniform draws in [%v, %v], outside 1 ± %v", lo, hi, s.Spread)
		}
	}
}

// stream is a source feeding straight into a sink: arrivals counted alone.
func stream(p Process, rate float64, profile ...RatePoint) Config {
	return Config{
		Sources: []SourceConfig{{Name: "in", Process: p, Rate: rate, Profile: profile, Routes: []Route{{To: "out", P: 1}}}},
		Sinks:   []string{"out"},
	}
}

func TestSetRateDeterministic(t *testing.T) {
	k, n := build(t, 1, stream(Deterministic, 10))
	n.Start()
	src := n.Source("in")
	// Arrivals at 0, 0.1, ..., 9.9; at 10.05 the rate doubles: the next
	// arrival is 0.05 after the last (10.0), at once, then every 0.05 s.
	var before, after int64
	at(k, 9.99, func() { before = n.Snapshot().Arrivals })
	at(k, 10.05, func() { must(t, src.SetRate(20)) })
	at(k, 19.99, func() { after = n.Snapshot().Arrivals })
	runTo(t, k, 20)
	if before != 100 {
		t.Errorf("%d arrivals in the first 10 s at 10/s, want 100", before)
	}
	if got := after - 101; got != 199 {
		// 10.0 is the 101st; then 10.05 ... 19.95.
		t.Errorf("%d arrivals in (10, 19.99] after doubling, want 199", got)
	}
	if src.Rate() != 20 {
		t.Errorf("Rate() = %v after SetRate(20)", src.Rate())
	}
	// A surge multiplies the base rate; SetRate keeps the surge.
	must(t, src.SetSurge(1.5))
	must(t, src.SetRate(10))
	if src.Rate() != 15 {
		t.Errorf("Rate() = %v with base 10 and surge 1.5", src.Rate())
	}
	a0 := n.Snapshot().Arrivals
	runTo(t, k, 30)
	if got := n.Snapshot().Arrivals - a0; got < 149 || got > 151 {
		t.Errorf("%d arrivals in 10 s at 15/s", got)
	}
	// Rate 0: no arrival pending.
	must(t, src.SetRate(0))
	a0 = n.Snapshot().Arrivals
	runTo(t, k, 40)
	if got := n.Snapshot().Arrivals - a0; got != 0 {
		t.Errorf("%d arrivals at rate 0", got)
	}
	for _, bad := range []error{src.SetRate(-1), src.SetRate(math.NaN()), src.SetSurge(-0.5)} {
		if bad == nil || !strings.Contains(bad.Error(), `source "in"`) {
			t.Errorf("bad rate or surge: error %v", bad)
		}
	}
	if src.Rate() != 0 {
		t.Errorf("a rejected change altered the rate: %v", src.Rate())
	}
}

func TestSetRatePoisson(t *testing.T) {
	k, n := build(t, 2, stream(Poisson, 10))
	n.Start()
	at(k, 1000, func() { must(t, n.Source("in").SetRate(20)) })
	runTo(t, k, 1000)
	first := n.Snapshot().Arrivals
	runTo(t, k, 2000)
	second := n.Snapshot().Arrivals - first
	// Poisson counts: mean 10,000 and 20,000, standard deviations 100 and
	// 141; allow 5.
	if math.Abs(float64(first)-1e4) > 500 || math.Abs(float64(second)-2e4) > 710 {
		t.Errorf("arrivals %d then %d, want about 10000 then 20000", first, second)
	}
}

func TestProfile(t *testing.T) {
	for _, p := range []Process{Deterministic, Poisson} {
		t.Run(p.String(), func(t *testing.T) {
			k, n := build(t, 3, stream(p, 0,
				RatePoint{At: sec(5), Rate: 2},
				RatePoint{At: sec(10), Rate: 0},
				RatePoint{At: sec(20), Rate: 4},
				RatePoint{At: sec(20), Rate: 1000}, // same instant: the later wins
				RatePoint{At: sec(30), Rate: 4},
			))
			src := n.Source("in")
			n.Start()
			check := func(when, wantRate float64) int64 {
				t.Helper()
				runTo(t, k, when)
				if got := src.Rate(); got != wantRate {
					t.Errorf("at %vs: rate %v, want %v", when, got, wantRate)
				}
				return n.Snapshot().Arrivals
			}
			if a := check(4.999, 0); a != 0 {
				t.Errorf("%d arrivals before the first profile point", a)
			}
			a5 := check(5, 2)
			a10 := check(10, 0)
			a19 := check(19.999, 0)
			check(20, 1000)
			check(29.999, 1000)
			a30 := check(30, 4)
			if a19 != a10 {
				t.Errorf("%d arrivals while the profile rate was 0", a19-a10)
			}
			if p == Deterministic {
				// The first arrival comes with the rate, at 5 s; then every
				// 0.5 s up to 9.5 s. At 10 s the rate drops first.
				if a5 != 1 || a10 != 10 {
					t.Errorf("deterministic: %d arrivals at 5 s and %d at 10 s, want 1 and 10", a5, a10)
				}
				// 20 s to 30 s at 1000/s: 10,000 arrivals, plus the one at 30 s.
				if got := a30 - a19; got < 9999 || got > 10001 {
					t.Errorf("deterministic: %d arrivals in [20 s, 30 s] at 1000/s", got)
				}
			} else if got := a30 - a19; math.Abs(float64(got)-1e4) > 500 {
				t.Errorf("Poisson: %d arrivals in [20 s, 30 s] at 1000/s, want about 10000", got)
			}
			// SetRate holds until the next profile point only.
			runTo(t, k, 30)
			must(t, src.SetRate(7))
			if src.Rate() != 7 {
				t.Errorf("Rate() = %v after SetRate(7)", src.Rate())
			}
		})
	}
}

// overload is a station with deterministic arrivals at 2/s and exponential
// service of mean 1 s.
func overload(d Discipline, servers int) Config {
	return Config{
		Sources:  []SourceConfig{{Name: "in", Process: Deterministic, Rate: 2, Routes: []Route{{To: "q", P: 1}}}},
		Stations: []StationConfig{{Name: "q", Discipline: d, Servers: servers, Service: Service{Kind: Exponential, Mean: 1}, Routes: []Route{{To: "out", P: 1}}}},
		Sinks:    []string{"out"},
	}
}

func TestSetServers(t *testing.T) {
	for _, d := range []Discipline{FCFS, PS} {
		t.Run(d.String(), func(t *testing.T) {
			k, n := build(t, 4, overload(d, 1))
			q := n.Station("q")
			n.Start()
			runTo(t, k, 100)
			// One server against 2/s: saturated, a backlog of about 100.
			m := n.Metrics().Stations[0]
			if math.Abs(m.Utilization-1) > 0.01 || math.Abs(m.Throughput-1) > 0.2 || q.Len() < 60 {
				t.Errorf("1 server: utilisation %.3f, throughput %.3f, %d present", m.Utilization, m.Throughput, q.Len())
			}
			must(t, q.SetServers(4))
			if q.Servers() != 4 || n.Snapshot().Stations[0].Servers != 4 {
				t.Errorf("Servers() = %d, snapshot %d after SetServers(4)", q.Servers(), n.Snapshot().Stations[0].Servers)
			}
			if b := n.Snapshot().Stations[0].Busy; b != 4 {
				t.Errorf("%v busy right after adding servers to a backlog, want 4", b)
			}
			// The backlog drains at about 2/s; then 4 servers carry 2/s.
			runTo(t, k, 300)
			n.ResetStats()
			runTo(t, k, 1300)
			m = n.Metrics().Stations[0]
			if math.Abs(m.Throughput-2) > 0.01 || math.Abs(m.Utilization-0.5) > 0.03 {
				t.Errorf("4 servers: throughput %.3f (want 2), utilisation %.3f (want 0.5)", m.Throughput, m.Utilization)
			}
			if err := q.SetServers(0); err == nil || !strings.Contains(err.Error(), `station "q"`) {
				t.Errorf("SetServers(0): %v", err)
			}
			if q.Servers() != 4 {
				t.Errorf("a rejected SetServers changed the target to %d", q.Servers())
			}
		})
	}
}

// TestUtilizationAcrossChanges checks ∫busy/∫servers when the servers
// change inside the window.
func TestUtilizationAcrossChanges(t *testing.T) {
	// Deterministic arrivals at 2/s and deterministic service of 0.5 s:
	// exactly one server busy all the time, whatever the servers.
	cfg := overload(FCFS, 1)
	cfg.Stations[0].Service = Service{Kind: DeterministicService, Mean: 0.5}
	k, n := build(t, 5, cfg)
	n.Start()
	at(k, 10, func() { must(t, n.Station("q").SetServers(3)) })
	runTo(t, k, 20)
	// ∫busy = 20, ∫servers = 10·1 + 10·3 = 40.
	if u := n.Metrics().Stations[0].Utilization; math.Abs(u-0.5) > 1e-3 {
		t.Errorf("utilisation %v, want 0.5", u)
	}

	// Servers removed (or lost in an outage) while serving finish their
	// jobs and count as at work until then: utilisation never exceeds 1.
	for _, outage := range []bool{false, true} {
		cfg := Config{
			Sources: []SourceConfig{
				{Name: "x", Process: Deterministic, Rate: 0.01, Routes: []Route{{To: "q", P: 1}}},
				{Name: "y", Process: Deterministic, Rate: 0.01, Routes: []Route{{To: "q", P: 1}}},
			},
			Stations: []StationConfig{{Name: "q", Servers: 2, Service: Service{Kind: DeterministicService, Mean: 10}, Routes: []Route{{To: "out", P: 1}}}},
			Sinks:    []string{"out"},
		}
		k, n := build(t, 5, cfg)
		n.Start()
		q := n.Station("q")
		at(k, 1, func() {
			if outage {
				q.SetOutage(true)
			} else {
				must(t, q.SetServers(1))
			}
		})
		runTo(t, k, 10)
		// Both jobs in service over [0, 10]: ∫busy = 20 = ∫servers at work.
		if u := n.Metrics().Stations[0].Utilization; math.Abs(u-1) > 1e-6 {
			t.Errorf("outage %v: utilisation %v while two servers finish their jobs, want 1", outage, u)
		}
		runTo(t, k, 20)
		want := map[bool]int{false: 1, true: 0}[outage]
		if s := n.Snapshot().Stations[0].Servers; s != want {
			t.Errorf("outage %v: %d servers up once the services ended, want %d", outage, s, want)
		}
	}
}

func TestOutage(t *testing.T) {
	for _, d := range []Discipline{FCFS, PS} {
		t.Run(d.String(), func(t *testing.T) {
			cfg := overload(d, 2)
			cfg.Sources[0].Process = Poisson
			cfg.Sources[0].Rate = 1.5
			k, n := build(t, 6, cfg)
			q := n.Station("q")
			n.Start()
			runTo(t, k, 100)
			before := n.Snapshot().Stations[0]
			q.SetOutage(true)
			if s := n.Snapshot().Stations[0].Servers; s != 0 {
				t.Errorf("%d servers up in an outage", s)
			}
			// A new target during the outage waits for the recovery.
			must(t, q.SetServers(3))
			if s := n.Snapshot().Stations[0].Servers; s != 0 || q.Servers() != 3 {
				t.Errorf("SetServers in an outage: %d up, target %d", s, q.Servers())
			}
			runTo(t, k, 150)
			during := n.Snapshot().Stations[0]
			done := during.Completed - before.Completed
			if d == PS && done != 0 {
				t.Errorf("PS: %d completions in an outage", done)
			}
			if d == FCFS && done > int64(before.Busy) {
				// Service in progress is not interrupted, but none starts.
				t.Errorf("FCFS: %d completions in an outage that began with %v in service", done, before.Busy)
			}
			arrived := during.Arrivals - before.Arrivals
			if grow := during.Present - before.Present; int64(grow) < arrived-int64(before.Busy) || arrived < 40 {
				t.Errorf("the queue grew by %d while %d arrived", grow, arrived)
			}
			// A window wholly inside the outage: nothing served, nothing busy.
			runTo(t, k, 160) // the FCFS services in progress are long done
			n.ResetStats()
			runTo(t, k, 170)
			if m := n.Metrics().Stations[0]; m.Throughput != 0 || m.Utilization != 0 {
				t.Errorf("in an outage: throughput %v, utilisation %v", m.Throughput, m.Utilization)
			}
			q.SetOutage(false)
			s := n.Snapshot().Stations[0]
			if s.Servers != 3 || s.Busy != 3 {
				t.Errorf("after recovery: %d servers up, %v busy; want the target 3, all busy", s.Servers, s.Busy)
			}
			// 3 servers against 1.5/s drain the backlog of ~100 in ~70 s.
			runTo(t, k, 400)
			if l := q.Len(); l > 20 {
				t.Errorf("%d still present 230 s after recovery", l)
			}
			if th, ok := n.Theory(); !ok || th.Model != "M/M/3"+map[Discipline]string{FCFS: "", PS: "-PS"}[d] {
				t.Errorf("Theory after recovery: %q, %v", th.Model, ok)
			}
		})
	}
}

// one is a single job at a time: deterministic arrivals every 10 s.
func one(d Discipline, s Service) Config {
	return Config{
		Sources:  []SourceConfig{{Name: "in", Process: Deterministic, Rate: 0.1, Routes: []Route{{To: "q", P: 1}}}},
		Stations: []StationConfig{{Name: "q", Discipline: d, Servers: 1, Service: s, Routes: []Route{{To: "out", P: 1}}}},
		Sinks:    []string{"out"},
	}
}

func TestSlowdownAndServiceMean(t *testing.T) {
	for _, d := range []Discipline{FCFS, PS} {
		t.Run(d.String(), func(t *testing.T) {
			k, n := build(t, 7, one(d, Service{Kind: DeterministicService, Mean: 1}))
			q := n.Station("q")
			n.Start()
			window := func(until float64) StationMetrics {
				n.ResetStats()
				runTo(t, k, until)
				return n.Metrics().Stations[0]
			}
			// Jobs arrive at 0, 10, 20, ...; each is alone, so its response
			// is its service time.
			at(k, 0.5, func() { must(t, q.SetSlowdown(2)) }) // the job in service keeps 1 s
			m := window(5)
			if !approx(m.ResponseMean, 1) {
				t.Errorf("the job in service when the slowdown began took %v s, want 1", m.ResponseMean)
			}
			if m = window(45); !approx(m.ResponseMean, 2) || m.Throughput == 0 {
				t.Errorf("slowdown 2: response %v, want 2", m.ResponseMean)
			}
			must(t, q.SetServiceMean(0.25))
			if m = window(85); !approx(m.ResponseMean, 0.5) {
				t.Errorf("mean 0.25 with slowdown 2: response %v, want 0.5", m.ResponseMean)
			}
			must(t, q.SetSlowdown(1))
			if m = window(125); !approx(m.ResponseMean, 0.25) || !approx(m.WaitMean, 0) {
				t.Errorf("no slowdown: response %v, wait %v; want 0.25, 0", m.ResponseMean, m.WaitMean)
			}
			for _, err := range []error{q.SetSlowdown(0.001), q.SetServiceMean(0), q.SetServiceMean(math.Inf(1)), q.SetCapacity(-1)} {
				if err == nil || !strings.Contains(err.Error(), `station "q"`) {
					t.Errorf("bad setting: error %v", err)
				}
			}
		})
	}
}

// TestSlowdownShape checks that a slowdown scales a random law: the mean
// service time (utilisation per throughput) follows the factor.
func TestSlowdownShape(t *testing.T) {
	cfg := single(0.2, StationConfig{Servers: 1, Service: Service{Kind: Erlang, Mean: 1, K: 4}})
	k, n := build(t, 8, cfg)
	n.Start()
	must(t, n.Station("q").SetSlowdown(3))
	runTo(t, k, 50000)
	m := n.Metrics().Stations[0]
	// E[S] = U/X; 10,000 jobs with CV 0.5: standard error 0.5 %.
	if es := m.Utilization / m.Throughput; math.Abs(es-3) > 0.06 {
		t.Errorf("mean service time %.4f under slowdown 3, want 3", es)
	}
}

func TestSetRouteP(t *testing.T) {
	cfg := Config{
		Sources: []SourceConfig{{Name: "in", Rate: 1, Routes: []Route{{To: "a", P: 0.3}, {To: "b", Rest: true}}}},
		Stations: []StationConfig{
			{Name: "a", Servers: 4, Service: Service{Kind: Exponential, Mean: 0.1}, Routes: []Route{{To: "a", P: 0.5}, {To: "out", P: 0.5}}},
			{Name: "b", Servers: 4, Service: Service{Kind: Exponential, Mean: 0.1}, Routes: []Route{{To: "out", P: 1}}},
		},
		Sinks: []string{"out"},
	}
	k, n := build(t, 9, cfg)
	src, a := n.Source("in"), n.Station("a")
	// Errors leave the old probabilities.
	if err := src.SetRouteP(1, 0.5); err == nil || !strings.Contains(err.Error(), `source "in": route 1 to "b" takes the rest`) {
		t.Errorf("setting the rest: %v", err)
	}
	if err := src.SetRouteP(0, 1.2); err == nil || !strings.Contains(err.Error(), "not in [0, 1]") {
		t.Errorf("p = 1.2: %v", err)
	}
	if err := src.SetRouteP(2, 0.1); err == nil || !strings.Contains(err.Error(), "no route 2") {
		t.Errorf("route 2: %v", err)
	}
	if err := a.SetRouteP(0, 0.6); err == nil || !strings.Contains(err.Error(), `station "a": route 0 to "a": route probabilities sum to 1.1, not 1`) {
		t.Errorf("sum 1.1: %v", err)
	}
	if err := a.SetRouteP(1, 0); err == nil {
		t.Error("a sum of 0.5 was accepted")
	}
	if a.route.p[0] != 0.5 || a.route.p[1] != 0.5 || src.route.p[0] != 0.3 {
		t.Errorf("rejected changes altered the routes: %v, %v", a.route.p, src.route.p)
	}
	// A change that traps jobs is rejected too.
	cfg2 := cfg
	cfg2.Stations = append([]StationConfig(nil), cfg.Stations...)
	cfg2.Stations[0].Routes = []Route{{To: "a", P: 0.5}, {To: "out", Rest: true}}
	_, n2 := build(t, 9, cfg2)
	if err := n2.Station("a").SetRouteP(0, 1); err == nil || !strings.Contains(err.Error(), `leaves station "a" with no way to a sink`) {
		t.Errorf("trapping change: %v", err)
	}
	if n2.Station("a").route.effective(1) != 0.5 {
		t.Error("a rejected trapping change altered the routes")
	}

	// A valid change moves the traffic: the rest follows.
	n.Start()
	runTo(t, k, 20000)
	share := func() float64 {
		m := n.Metrics()
		return m.Stations[1].ArrivalRate / m.ArrivalRate
	}
	if s := share(); math.Abs(s-0.7) > 0.02 {
		t.Errorf("share to b %.3f, want 0.7", s)
	}
	must(t, src.SetRouteP(0, 0.9))
	n.ResetStats()
	runTo(t, k, 40000)
	if s := share(); math.Abs(s-0.1) > 0.01 {
		t.Errorf("share to b %.3f after SetRouteP(0, 0.9), want 0.1", s)
	}
}

func TestCapacityBlocking(t *testing.T) {
	// Deterministic service 1 s, two jobs arriving together every 10 s on one
	// server with capacity 1: the second is blocked, counted once.
	for _, d := range []Discipline{FCFS, PS} {
		t.Run(d.String(), func(t *testing.T) {
			cfg := Config{
				Sources: []SourceConfig{
					{Name: "x", Process: Deterministic, Rate: 0.1, Routes: []Route{{To: "front", P: 1}}},
					{Name: "y", Process: Deterministic, Rate: 0.1, Routes: []Route{{To: "front", P: 1}}},
				},
				Stations: []StationConfig{
					{Name: "front", Discipline: d, Servers: 2, Service: Service{Kind: DeterministicService, Mean: 1}, Routes: []Route{{To: "back", P: 1}}},
					{Name: "back", Discipline: d, Servers: 1, Capacity: 1, Service: Service{Kind: DeterministicService, Mean: 1}, Routes: []Route{{To: "out", P: 1}}},
				},
				Sinks: []string{"out"},
			}
			k, n := build(t, 10, cfg)
			n.Start()
			runTo(t, k, 95)
			m := n.Metrics()
			if m.BlockedFraction != 0.5 || m.Stations[1].BlockedFraction != 0.5 || m.Stations[0].BlockedFraction != 0 {
				t.Errorf("blocked fractions: network %v, front %v, back %v; want 0.5, 0, 0.5",
					m.BlockedFraction, m.Stations[0].BlockedFraction, m.Stations[1].BlockedFraction)
			}
			sn := n.Snapshot()
			if sn.Arrivals != 20 || sn.Blocked != 10 || sn.Completed != 10 || sn.InSystem != 0 {
				t.Errorf("snapshot %+v", sn)
			}
			// Unlimited capacity: none blocked from now on; the second
			// job waits (FCFS) or shares (PS).
			must(t, n.Station("back").SetCapacity(0))
			n.ResetStats()
			runTo(t, k, 195)
			m = n.Metrics()
			if m.BlockedFraction != 0 || m.Response.Count != 20 {
				t.Errorf("unlimited: blocked %v, %d jobs out", m.BlockedFraction, m.Response.Count)
			}
			want := map[Discipline]float64{FCFS: 2.5, PS: 3}[d] // FCFS: 2 and 3 s; PS: both 3 s
			if !approx(m.Response.Mean, want) {
				t.Errorf("end-to-end response %v, want %v", m.Response.Mean, want)
			}
		})
	}
}

func TestMetricsAndSnapshot(t *testing.T) {
	cfg := closedCases()[4].cfg // the Jackson network with feedback
	k, n := build(t, 11, cfg)
	// Before anything happens every figure is finite and zero-ish.
	checkFinite(t, n.Metrics())
	n.Start()
	runTo(t, k, 1000)
	n.ResetStats()
	checkFinite(t, n.Metrics()) // an empty window
	sn0 := n.Snapshot()
	if sn0.Arrivals == 0 || sn0.At != sec(1000) {
		t.Errorf("ResetStats reset the snapshot counters: %+v", sn0)
	}
	runTo(t, k, 2000)
	m := n.Metrics()
	checkFinite(t, m)
	sn := n.Snapshot()
	if !approx(m.Elapsed, 1000) {
		t.Errorf("Elapsed %v, want 1000", m.Elapsed)
	}
	if got := float64(sn.Arrivals-sn0.Arrivals) / 1000; !approx(got, m.ArrivalRate) {
		t.Errorf("arrival rate %v, snapshot difference %v", m.ArrivalRate, got)
	}
	if got := float64(sn.Completed-sn0.Completed) / 1000; !approx(got, m.Throughput) {
		t.Errorf("throughput %v, snapshot difference %v", m.Throughput, got)
	}
	present := 0
	for i, s := range sn.Stations {
		present += s.Present
		if s.Present != n.Stations()[i].Len() {
			t.Errorf("station %d: present %d, Len %d", i, s.Present, n.Stations()[i].Len())
		}
		if s.Servers != cfg.Stations[i].Servers {
			t.Errorf("station %d: %d servers up", i, s.Servers)
		}
	}
	if present != sn.InSystem {
		t.Errorf("%d jobs in the network, %d at the stations", sn.InSystem, present)
	}
	// Every job present has a slot, and the slab holds no more than the
	// most ever present.
	if inUse := len(n.jobs) - len(n.free); inUse != sn.InSystem {
		t.Errorf("%d slots in use for %d jobs", inUse, sn.InSystem)
	}
	r := m.Response
	if !(r.Min <= r.P50 && r.P50 <= r.P95 && r.P95 <= r.P99 && r.P99 <= r.Max && r.Count > 0) {
		t.Errorf("response stats out of order: %+v", r)
	}
	if names := []string{m.Stations[0].Name, m.Stations[1].Name, m.Stations[2].Name}; !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
		t.Errorf("stations in order %v", names)
	}
	if n.Source("nope") != nil || n.Station("nope") != nil || n.Station("in") != nil {
		t.Error("lookup of a missing name returned something")
	}
	if len(n.Sources()) != 1 || n.Sources()[0].Name() != "in" || n.Stations()[2].Name() != "c" {
		t.Error("Sources or Stations out of order")
	}
}

func checkFinite(t *testing.T, m Metrics) {
	t.Helper()
	v := reflect.ValueOf(m)
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Float64:
			if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				t.Errorf("%s = %v", path, f)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(path, v.Index(i))
			}
		}
	}
	walk("Metrics", v)
}

// scripted runs the Jackson network with feedback through a scripted
// incident and returns its metrics and a snapshot.
func scripted(t *testing.T, seed uint64, extra bool) (Metrics, Snapshot) {
	cfg := closedCases()[4].cfg
	cfg.Sources[0].Profile = []RatePoint{{At: sec(300), Rate: 1.2}}
	cfg.Stations[2].Service = Service{Kind: LogNormal, Mean: 1, CV: 2}
	if extra {
		// An unrelated source and station: they must not change the draws
		// of the others.
		cfg.Sources = append(cfg.Sources, SourceConfig{Name: "batch", Rate: 0.3, Routes: []Route{{To: "z", P: 1}}})
		cfg.Stations = append(cfg.Stations, StationConfig{Name: "z", Servers: 1, Service: Service{Kind: Gamma, Mean: 1, CV: 0.7}, Routes: []Route{{To: "out", P: 1}}})
	}
	k, n := build(t, seed, cfg)
	n.Start()
	at(k, 100, func() { n.Station("b").SetOutage(true) })
	at(k, 130, func() { n.Station("b").SetOutage(false) })
	at(k, 200, func() { must(t, n.Station("a").SetSlowdown(1.3)) })
	at(k, 250, func() { must(t, n.Source("in").SetSurge(1.1)) })
	at(k, 350, func() { must(t, n.Station("c").SetServers(2)) })
	runTo(t, k, 100)
	n.ResetStats()
	runTo(t, k, 1000)
	m := n.Metrics()
	sn := n.Snapshot()
	if extra {
		m.Stations = m.Stations[:3]
		sn.Stations = sn.Stations[:3]
	}
	return m, sn
}

func TestDeterminism(t *testing.T) {
	m1, s1 := scripted(t, 42, false)
	m2, s2 := scripted(t, 42, false)
	if !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(s1, s2) {
		t.Errorf("same seed, different results:\n%+v\n%+v", m1, m2)
	}
	m3, _ := scripted(t, 43, false)
	if reflect.DeepEqual(m1, m3) {
		t.Error("a different seed gave identical metrics")
	}
	// Adding an element leaves the others' draws alone: the original
	// stations see the same jobs at the same times. (Network-wide figures
	// include the new element's jobs and so differ.)
	m4, s4 := scripted(t, 42, true)
	if !reflect.DeepEqual(m1.Stations, m4.Stations) || !reflect.DeepEqual(s1.Stations, s4.Stations) {
		t.Errorf("adding a source and a station changed the others:\n%+v\n%+v", m1.Stations, m4.Stations)
	}
}

// TestNoAllocationPerJob runs tandems in steady state and counts heap
// allocations over windows of 1,000 events: after the warm-up the slab,
// the queues, the event table and the histograms have their working size,
// and nothing is allocated per job.
func TestNoAllocationPerJob(t *testing.T) {
	for _, d := range []Discipline{FCFS, PS} {
		t.Run(d.String(), func(t *testing.T) {
			cfg := Config{
				Sources: []SourceConfig{{Name: "in", Rate: 1, Routes: []Route{{To: "a", P: 1}}}},
				Stations: []StationConfig{
					{Name: "a", Discipline: d, Servers: 2, Service: Service{Kind: Erlang, Mean: 1.2, K: 2}, Routes: []Route{{To: "b", P: 1}}},
					{Name: "b", Discipline: d, Servers: 1, Capacity: 20, Service: Service{Kind: Exponential, Mean: 0.6}, Routes: []Route{{To: "a", P: 0.1}, {To: "out", Rest: true}}},
				},
				Sinks: []string{"out"},
			}
			k, n := build(t, 12, cfg)
			n.Start()
			ctx := context.Background()
			if err := k.RunEvents(ctx, 400000); err != nil {
				t.Fatal(err)
			}
			before := n.Snapshot().Completed
			allocs := testing.AllocsPerRun(100, func() {
				if err := k.RunEvents(ctx, 1000); err != nil {
					t.Fatal(err)
				}
			})
			if jobs := n.Snapshot().Completed - before; jobs < 10000 {
				t.Fatalf("only %d jobs in the measured windows", jobs)
			}
			// A rare new extreme can still grow a histogram or a queue.
			if allocs > 1 {
				t.Errorf("%v allocations per 1,000 events", allocs)
			}
		})
	}
}

func TestEnumStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Poisson.String(), "Poisson"}, {Deterministic.String(), "Deterministic"},
		{FCFS.String(), "FCFS"}, {PS.String(), "PS"},
		{Exponential.String(), "Exponential"}, {DeterministicService.String(), "Deterministic"},
		{Erlang.String(), "Erlang"}, {Gamma.String(), "Gamma"}, {LogNormal.String(), "LogNormal"}, {Uniform.String(), "Uniform"},
	} {
		if c.got != c.want {
			t.Errorf("String() = %q, want %q", c.got, c.want)
		}
	}
	if (Service{}).Validate() == nil {
		t.Error("the zero Service validated")
	}
}

// TestSetRouteShares checks the all-at-once change of route probabilities
// (shares.go): two shares moved together, which SetRouteP cannot do one at
// a time without passing through a sum other than 1.
func TestSetRouteShares(t *testing.T) {
	cfg := Config{
		Sources: []SourceConfig{{Name: "in", Rate: 1, Routes: []Route{{To: "a", P: 0.5}, {To: "out", P: 0.5}}}},
		Stations: []StationConfig{
			{Name: "a", Servers: 1, Service: Service{Kind: Exponential, Mean: 0.1}, Routes: []Route{{To: "a", P: 0.2}, {To: "out", Rest: true}}},
		},
		Sinks: []string{"out"},
	}
	_, n := build(t, 13, cfg)
	src, a := n.Source("in"), n.Station("a")
	if err := src.SetRouteP(0, 0.8); err == nil {
		t.Error("SetRouteP broke the sum without an error")
	}
	must(t, src.SetRouteShares([]float64{0.8, 0.2}))
	if !approx(src.route.effective(0), 0.8) || !approx(src.route.effective(1), 0.2) {
		t.Errorf("shares %v", src.route.p)
	}
	for _, bad := range [][]float64{{0.8}, {0.8, 0.3}, {-0.1, 1.1}} {
		if err := src.SetRouteShares(bad); err == nil || !strings.Contains(err.Error(), `source "in"`) {
			t.Errorf("shares %v: %v", bad, err)
		}
	}
	if !approx(src.route.effective(0), 0.8) {
		t.Error("rejected shares changed the routes")
	}
	if err := a.SetRouteShares([]float64{1, 0}); err == nil || !strings.Contains(err.Error(), `station "a"`) {
		t.Errorf("trapping shares: %v", err)
	}
	must(t, a.SetRouteShares([]float64{0.5, 0}))
	if !approx(a.route.effective(1), 0.5) {
		t.Errorf("the rest is %v, want 0.5", a.route.effective(1))
	}
	if th, ok := n.Theory(); !ok || math.Abs(th.Stations[0].Lambda-1.6) > 1e-12 {
		t.Errorf("Theory after shares: λa = %v, %v; want 0.8/(1 − 0.5)", th.Stations[0].Lambda, ok)
	}
}
