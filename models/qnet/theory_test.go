package qnet

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim"
)

// closedCase is a network with a closed form, how much to simulate, and an
// independent check of what Theory says of it.
type closedCase struct {
	name  string
	cfg   Config
	model string
	jobs  float64 // external arrivals per replication, after warm-up
	// hand recomputes some of Theory's numbers from the textbook formulas,
	// not through package queueing, so that Theory itself is checked.
	hand func(t *testing.T, th Theory)
}

// single is one Poisson source feeding one station that routes to a sink.
func single(lambda float64, st StationConfig) Config {
	st.Name = "q"
	st.Routes = []Route{{To: "out", P: 1}}
	return Config{
		Sources:  []SourceConfig{{Name: "in", Rate: lambda, Routes: []Route{{To: "q", P: 1}}}},
		Stations: []StationConfig{st},
		Sinks:    []string{"out"},
	}
}

func closedCases() []closedCase {
	exp := func(mean float64) Service { return Service{Kind: Exponential, Mean: mean} }
	return []closedCase{
		{
			name:  "M/M/1 ρ=0.8",
			cfg:   single(0.8, StationConfig{Servers: 1, Service: exp(1)}),
			model: "M/M/1", jobs: 1e6,
			hand: func(t *testing.T, th Theory) {
				// W = 1/(μ − λ), L = ρ/(1 − ρ), Wq = ρ/(μ − λ).
				near(t, "W", th.W, 5)
				near(t, "L", th.L, 4)
				near(t, "Wq", th.Stations[0].Wq, 4)
				near(t, "ρ", th.Stations[0].Rho, 0.8)
			},
		},
		{
			name:  "M/D/1 ρ=0.7",
			cfg:   single(0.7, StationConfig{Servers: 1, Service: Service{Kind: DeterministicService, Mean: 1}}),
			model: "M/D/1", jobs: 5e5,
			hand: func(t *testing.T, th Theory) {
				// Pollaczek–Khinchine with E[S²] = D²: Wq = ρD/(2(1 − ρ)).
				wq := 0.7 / (2 * 0.3)
				near(t, "Wq", th.Stations[0].Wq, wq)
				near(t, "W", th.W, wq+1)
			},
		},
		{
			name:  "M/M/2/5 overloaded",
			cfg:   single(2.4, StationConfig{Servers: 2, Capacity: 5, Service: exp(1)}),
			model: "M/M/2/5", jobs: 3e5,
			hand: func(t *testing.T, th Theory) {
				// p_n ∝ aⁿ/n! for n ≤ c and aⁿ/(c!·c^(n−c)) beyond; an
				// arrival is lost with probability p_K (PASTA).
				a := 2.4
				p := []float64{1, a, a * a / 2, a * a * a / 4, a * a * a * a / 8, a * a * a * a * a / 16}
				var sum, l float64
				for n, x := range p {
					sum += x
					l += float64(n) * x
				}
				near(t, "PBlock", th.BlockedFraction, p[5]/sum)
				near(t, "L", th.L, l/sum)
				near(t, "X", th.Throughput, a*(1-p[5]/sum))
			},
		},
		{
			name: "tandem M/M/1 → M/M/1",
			cfg: Config{
				Sources: []SourceConfig{{Name: "in", Rate: 0.6, Routes: []Route{{To: "web", P: 1}}}},
				Stations: []StationConfig{
					{Name: "web", Servers: 1, Service: exp(1), Routes: []Route{{To: "db", P: 1}}},
					{Name: "db", Servers: 1, Service: exp(0.8), Routes: []Route{{To: "out", P: 1}}},
				},
				Sinks: []string{"out"},
			},
			model: "Jackson network (2 stations)", jobs: 5e5,
			hand: func(t *testing.T, th Theory) {
				// Burke: each station is M/M/1 at λ; W = Σ 1/(μᵢ − λ).
				near(t, "W", th.W, 1/(1-0.6)+1/(1.25-0.6))
				near(t, "ρ db", th.Stations[1].Rho, 0.6*0.8)
			},
		},
		{
			// a sends jobs on to b or c or out; b sends half back to a; c is
			// processor sharing and sends a fifth of its jobs round again.
			name: "Jackson network with feedback",
			cfg: Config{
				Sources: []SourceConfig{{Name: "in", Rate: 1, Routes: []Route{{To: "a", P: 1}}}},
				Stations: []StationConfig{
					{Name: "a", Servers: 1, Service: exp(0.5), Routes: []Route{{To: "b", P: 0.4}, {To: "c", P: 0.4}, {To: "out", Rest: true}}},
					{Name: "b", Servers: 2, Service: exp(2.5), Routes: []Route{{To: "a", P: 0.5}, {To: "out", P: 0.5}}},
					{Name: "c", Discipline: PS, Servers: 1, Service: exp(1), Routes: []Route{{To: "c", P: 0.2}, {To: "out", Rest: true}}},
				},
				Sinks: []string{"out"},
			},
			model: "Jackson network (3 stations)", jobs: 4e5,
			hand: func(t *testing.T, th Theory) {
				// Traffic: λa = 1 + 0.5λb, λb = 0.4λa, λc = 0.4λa + 0.2λc,
				// so λa = 1.25, λb = 0.5, λc = 0.625, and every ρ = 0.625.
				near(t, "λa", th.Stations[0].Lambda, 1.25)
				near(t, "λb", th.Stations[1].Lambda, 0.5)
				near(t, "λc", th.Stations[2].Lambda, 0.625)
				// L = ρ/(1 − ρ) for M/M/1 (twice) and 2ρ/(1 − ρ²) for M/M/2;
				// W = L/γ with γ = 1.
				rho := 0.625
				l := 2*rho/(1-rho) + 2*rho/(1-rho*rho)
				near(t, "L", th.L, l)
				near(t, "W", th.W, l)
				// PS: Wq is W − 1/μ.
				near(t, "Wq c", th.Stations[2].Wq, 1/(1-rho)-1)
			},
		},
		{
			name:  "M/G/1-PS lognormal",
			cfg:   single(0.6, StationConfig{Discipline: PS, Servers: 1, Service: Service{Kind: LogNormal, Mean: 1, CV: 1.5}}),
			model: "M/G/1-PS", jobs: 5e5,
			hand: func(t *testing.T, th Theory) {
				// Insensitivity: W = E[S]/(1 − ρ), whatever the shape.
				near(t, "W", th.W, 1/(1-0.6))
				near(t, "Wq", th.Stations[0].Wq, 1/(1-0.6)-1)
			},
		},
	}
}

// near fails unless got equals want to 1e-9 relative.
func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("theory %s = %.12g, by hand %.12g", what, got, want)
	}
}

// runClosed is one replication: warm up for a tenth of the run, delete the
// warm-up, measure.
func runClosed(ctx context.Context, s sim.Streams, c closedCase, jobs float64) (map[string]float64, error) {
	k := sim.NewKernel(sim.Config{Seed: s.Seed()})
	n, err := New(k, s, c.cfg)
	if err != nil {
		return nil, err
	}
	var rate float64
	for _, src := range n.Sources() {
		rate += src.Rate()
	}
	horizon := sim.DurationOf(jobs / rate)
	n.Start()
	if err := k.RunUntil(ctx, horizon/10); err != nil {
		return nil, err
	}
	n.ResetStats()
	if err := k.RunUntil(ctx, horizon/10+horizon); err != nil {
		return nil, err
	}
	return metricMap(n.Metrics()), nil
}

func metricMap(m Metrics) map[string]float64 {
	out := map[string]float64{
		"W": m.Response.Mean, "L": m.InSystemMean, "X": m.Throughput, "PBlock": m.BlockedFraction,
	}
	for _, s := range m.Stations {
		out[s.Name+"/U"] = s.Utilization
		out[s.Name+"/W"] = s.ResponseMean
		out[s.Name+"/Wq"] = s.WaitMean
		out[s.Name+"/L"] = s.SystemMean
		out[s.Name+"/X"] = s.Throughput
	}
	return out
}

// TestAgainstClosedForms simulates networks that have closed forms, with
// independent replications, and holds every estimate to Theory: M/M/1,
// M/D/1, M/M/2/5 blocking, a tandem, a Jackson network with feedback
// (FCFS, multi-server and PS stations) and M/G/1-PS. Each case's Theory is
// first checked against numbers computed by hand.
//
// A correct simulator misses a 95 % interval one time in twenty, so among
// the ~70 intervals here a few misses are expected; demanding none would
// only make the test pass or fail by the choice of seed. The test logs
// every miss and fails when there are more than chance explains with
// probability 0.999, when any estimate is more than 3 half-widths off
// (about 7 standard errors) or when it is off by more than a few per cent,
// which keeps the test sensitive to biases even where an interval is wide.
// Little's law is checked on every replication and station. With -short
// the runs are 8 times shorter and the relative bound looser.
func TestAgainstClosedForms(t *testing.T) {
	scale, relMax, littleMax := 1.0, 0.03, 0.01
	if testing.Short() {
		scale, relMax, littleMax = 1.0/8, 0.10, 0.03
	}
	var checks, misses int
	for i, c := range closedCases() {
		t.Run(c.name, func(t *testing.T) {
			k := sim.NewKernel(sim.Config{})
			n, err := New(k, k.Streams(), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			th, ok := n.Theory()
			if !ok {
				t.Fatal("Theory: no closed form")
			}
			if th.Model != c.model {
				t.Errorf("Theory model %q, want %q", th.Model, c.model)
			}
			c.hand(t, th)

			res, err := sim.Replicate(context.Background(), uint64(100+i), sim.ReplicateOptions{Replications: 10},
				func(ctx context.Context, _ int, s sim.Streams) (map[string]float64, error) {
					return runClosed(ctx, s, c, c.jobs*scale)
				})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]float64{"W": th.W, "L": th.L, "X": th.Throughput}
			if th.BlockedFraction > 0 {
				want["PBlock"] = th.BlockedFraction
			}
			names := []string{"W", "L", "X", "PBlock"}
			for j, st := range c.cfg.Stations {
				m := th.Stations[j]
				want[st.Name+"/U"] = m.Rho
				want[st.Name+"/W"] = m.W
				want[st.Name+"/Wq"] = m.Wq
				want[st.Name+"/L"] = m.L
				want[st.Name+"/X"] = m.Lambda
				for _, x := range []string{"U", "W", "Wq", "L", "X"} {
					names = append(names, st.Name+"/"+x)
				}
			}
			for _, name := range names {
				w, ok := want[name]
				if !ok {
					continue
				}
				m, _ := res.Metric(name)
				rel := math.Abs(m.Mean-w) / w
				t.Logf("%-6s theory %.5g  sim %.5g  95%% CI [%.5g, %.5g]  rel.err %.2f%%", name, w, m.Mean, m.Lo, m.Hi, 100*rel)
				checks++
				if !m.Contains(w) {
					misses++
					t.Logf("%s: closed form %.5g outside the 95%% CI", name, w)
				}
				if math.Abs(m.Mean-w) > 3*m.HalfWidth {
					t.Errorf("%s: closed form %.5g is %.1f half-widths from the estimate %.5g", name, w, math.Abs(m.Mean-w)/m.HalfWidth, m.Mean)
				}
				if rel > relMax {
					t.Errorf("%s: relative error %.2f%% > %.0f%%", name, 100*rel, 100*relMax)
				}
			}
			for r, run := range res.Runs {
				little(t, fmt.Sprintf("replication %d, network", r), run["L"], run["X"]*run["W"], littleMax)
				for _, st := range c.cfg.Stations {
					p := st.Name + "/"
					little(t, fmt.Sprintf("replication %d, station %s", r, st.Name), run[p+"L"], run[p+"X"]*run[p+"W"], littleMax)
				}
			}
		})
	}
	allowed := chanceMisses(checks, 0.05, 0.999)
	t.Logf("%d of %d closed forms outside their 95%% CI; chance alone allows up to %d", misses, checks, allowed)
	if misses > allowed {
		t.Errorf("%d of %d closed forms fell outside their 95%% CI: more than the %d chance allows", misses, checks, allowed)
	}
}

// little checks L = λW.
func little(t *testing.T, where string, l, lw, tol float64) {
	t.Helper()
	if d := math.Abs(l-lw) / l; d > tol {
		t.Errorf("%s: Little's law off by %.2f%%: L = %.5g, λW = %.5g", where, 100*d, l, lw)
	}
}

// chanceMisses is the smallest k with P(X ≤ k) ≥ level for X ~ Binomial(n,
// p): the most misses that chance explains at that level.
func chanceMisses(n int, p, level float64) int {
	b := distuv.Binomial{N: float64(n), P: p}
	k := 0
	for b.CDF(float64(k)) < level {
		k++
	}
	return k
}

// TestTheoryCases checks which configurations have a closed form, under
// which name, and that Theory follows live changes.
func TestTheoryCases(t *testing.T) {
	exp := Service{Kind: Exponential, Mean: 1}
	base := func() Config { return single(0.5, StationConfig{Servers: 1, Service: exp}) }
	type tc struct {
		name   string
		cfg    func() Config
		change func(n *Network)
		model  string // "" for no closed form
	}
	cases := []tc{
		{name: "M/M/1", cfg: base, model: "M/M/1"},
		{name: "M/M/8", cfg: func() Config { return single(4, StationConfig{Servers: 8, Service: exp}) }, model: "M/M/8"},
		{name: "M/M/1-PS", cfg: func() Config { return single(0.5, StationConfig{Discipline: PS, Servers: 1, Service: exp}) }, model: "M/M/1-PS"},
		{name: "M/M/2/10", cfg: func() Config { return single(0.5, StationConfig{Servers: 2, Capacity: 10, Service: exp}) }, model: "M/M/2/10"},
		{name: "M/M/2/10-PS", cfg: func() Config {
			return single(0.5, StationConfig{Discipline: PS, Servers: 2, Capacity: 10, Service: exp})
		}, model: "M/M/2/10-PS"},
		{name: "M/G/1 gamma", cfg: func() Config {
			return single(0.5, StationConfig{Servers: 1, Service: Service{Kind: Gamma, Mean: 1, CV: 2}})
		}, model: "M/G/1"},
		{name: "M/G/2 has none", cfg: func() Config {
			return single(0.5, StationConfig{Servers: 2, Service: Service{Kind: Erlang, Mean: 1, K: 2}})
		}},
		{name: "M/G/1/K has none", cfg: func() Config {
			return single(0.5, StationConfig{Servers: 1, Capacity: 4, Service: Service{Kind: Erlang, Mean: 1, K: 2}})
		}},
		{name: "self-loop M/M/1 is Jackson", cfg: func() Config {
			c := single(0.2, StationConfig{Servers: 1, Service: exp})
			c.Stations[0].Routes = []Route{{To: "q", P: 0.5}, {To: "out", P: 0.5}}
			return c
		}, model: "Jackson network (1 station)"},
		{name: "self-loop M/D/1 has none", cfg: func() Config {
			c := single(0.2, StationConfig{Servers: 1, Service: Service{Kind: DeterministicService, Mean: 1}})
			c.Stations[0].Routes = []Route{{To: "q", P: 0.5}, {To: "out", P: 0.5}}
			return c
		}},
		{name: "unstable", cfg: func() Config { return single(1, StationConfig{Servers: 1, Service: exp}) }},
		{name: "deterministic source", cfg: func() Config { c := base(); c.Sources[0].Process = Deterministic; return c }},
		{name: "profile", cfg: func() Config { c := base(); c.Sources[0].Profile = []RatePoint{{At: time.Hour, Rate: 0.5}}; return c }},
		{name: "no arrivals", cfg: func() Config { c := base(); c.Sources[0].Rate = 0; return c }},
		{name: "surge", cfg: base, change: func(n *Network) { n.Source("in").SetSurge(1.2) }},
		{name: "outage", cfg: base, change: func(n *Network) { n.Station("q").SetOutage(true) }},
		{name: "outage over", cfg: base, change: func(n *Network) { n.Station("q").SetOutage(true); n.Station("q").SetOutage(false) }, model: "M/M/1"},
		{name: "slowdown", cfg: base, change: func(n *Network) { n.Station("q").SetSlowdown(2) }},
		{name: "servers set", cfg: base, change: func(n *Network) { n.Station("q").SetServers(3) }, model: "M/M/3"},
		{name: "overloaded by SetRate", cfg: base, change: func(n *Network) { n.Source("in").SetRate(1.5) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := sim.NewKernel(sim.Config{})
			n, err := New(k, k.Streams(), c.cfg())
			if err != nil {
				t.Fatal(err)
			}
			if c.change != nil {
				c.change(n)
			}
			th, ok := n.Theory()
			switch {
			case c.model == "" && ok:
				t.Errorf("Theory gave %q, want no closed form", th.Model)
			case c.model != "" && !ok:
				t.Errorf("Theory: no closed form, want %q", c.model)
			case ok && th.Model != c.model:
				t.Errorf("Theory model %q, want %q", th.Model, c.model)
			}
		})
	}
}

// TestTheoryFollowsLiveChanges checks the numbers after changes of rate,
// service mean, servers and routes.
func TestTheoryFollowsLiveChanges(t *testing.T) {
	k := sim.NewKernel(sim.Config{})
	cfg := single(0.5, StationConfig{Servers: 1, Service: Service{Kind: Exponential, Mean: 1}})
	cfg.Sources[0].Routes = []Route{{To: "q", Rest: true}, {To: "out", P: 0}}
	n, err := New(k, k.Streams(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	must(t, n.Source("in").SetRate(0.8))
	must(t, n.Station("q").SetServiceMean(0.5))
	th, _ := n.Theory()
	near(t, "W after SetRate and SetServiceMean", th.W, 1/(2-0.8))
	// Half the jobs now skip the station: they count with a sojourn of 0.
	must(t, n.Source("in").SetRouteP(1, 0.5))
	th, _ = n.Theory()
	near(t, "throughput with a bypass", th.Throughput, 0.8)
	near(t, "station λ with a bypass", th.Stations[0].Lambda, 0.4)
	near(t, "W with a bypass", th.W, 0.4/(2-0.4)/0.8)
	// Capacity makes it M/M/1/3.
	must(t, n.Station("q").SetCapacity(3))
	th, ok := n.Theory()
	if !ok || th.Model != "M/M/1/3" {
		t.Fatalf("after SetCapacity(3): %q, %v", th.Model, ok)
	}
	a := 0.4 / 2
	pK := a * a * a / (1 + a + a*a + a*a*a)
	near(t, "blocked fraction of all arrivals", th.BlockedFraction, 0.4*pK/0.8)
	if !strings.HasPrefix(th.Model, "M/M/1/") {
		t.Errorf("model %q", th.Model)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
