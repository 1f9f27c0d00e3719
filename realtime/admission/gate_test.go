package admission

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func newGate(t *testing.T, cfg Config) *Gate {
	t.Helper()
	g, err := NewGate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGateRefusalOrder sets up states where several checks would refuse at
// once and checks that the first in the documented order (degradation,
// concurrency, rate) is the reason, and that a refusal by an earlier check
// spends nothing of a later one.
func TestGateRefusalOrder(t *testing.T) {
	limits := Limits{Concurrency: ConcurrencyConfig{Max: 1}, Rate: RateConfig{PerSecond: 1, Burst: 1}}
	g := newGate(t, Config{Requests: limits, Connections: limits})

	// Fill both kinds: one in flight each, buckets empty.
	conn := g.AdmitConnection(t0)
	req := g.AdmitRequest(t0)
	if !conn.Admitted || !req.Admitted {
		t.Fatalf("first of each kind refused: %v / %v", conn.Explanation(), req.Explanation())
	}
	g.ObservePause(t0, 63*time.Millisecond)

	// All three would refuse a connection: degradation wins.
	if d := g.AdmitConnection(t0); d.Reason != RefusedDegraded {
		t.Fatalf("connection at L1, full, no token: %v, want %v", d.Reason, RefusedDegraded)
	}
	// Requests skip degradation: concurrency and rate would refuse, concurrency wins.
	if d := g.AdmitRequest(t0); d.Reason != RefusedConcurrency {
		t.Fatalf("request at L1, full, no token: %v, want %v", d.Reason, RefusedConcurrency)
	}
	// Room again but no token: rate.
	if err := g.Release(req.Ticket); err != nil {
		t.Fatal(err)
	}
	d := g.AdmitRequest(t0)
	if d.Reason != RefusedRate {
		t.Fatalf("request with room and no token: %v, want %v", d.Reason, RefusedRate)
	}
	// A token accrues; refusals for concurrency must not spend it.
	at := t0.Add(d.RetryAfter)
	req = g.AdmitRequest(at)
	if !req.Admitted {
		t.Fatalf("request at the retry-after: %v", req.Explanation())
	}
	at = at.Add(time.Second) // one token accrues while the slot is held
	for range 5 {
		if d := g.AdmitRequest(at); d.Reason != RefusedConcurrency {
			t.Fatalf("request while full: %v", d.Reason)
		}
	}
	if err := g.Release(req.Ticket); err != nil {
		t.Fatal(err)
	}
	if d := g.AdmitRequest(at); !d.Admitted {
		t.Fatalf("token spent by concurrency refusals: %v", d.Explanation())
	}

	// Connections: at Normal again, full: concurrency; with room, no token: rate.
	at = at.Add(2 * DefaultQuietPeriod)
	if d := g.AdmitConnection(at); d.Reason != RefusedConcurrency {
		t.Fatalf("connection at Normal, full: %v, want %v", d.Reason, RefusedConcurrency)
	}
	if err := g.Release(conn.Ticket); err != nil {
		t.Fatal(err)
	}
	if d := g.AdmitConnection(at); !d.Admitted {
		t.Fatalf("connection at Normal with room and a token: %v", d.Explanation())
	}
	if err := g.SetMaxInFlight(Connection, 0); err != nil {
		t.Fatal(err)
	}
	if d := g.AdmitConnection(at); d.Reason != RefusedRate {
		t.Fatalf("connection with room and no token: %v, want %v", d.Reason, RefusedRate)
	}
}

// TestGateCountersAddUp drives seeded random traffic (requests,
// connections, releases, pauses, live knob changes) and checks, after
// every step, that each decision's reason agrees with the state the test
// tracks, in-flight never exceeds the limit, and the counts add up:
// Asked = Admitted + refusals per reason, each reason counted as often as
// it was returned.
func TestGateCountersAddUp(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x6A7E))
		cfg := Config{
			Requests:    Limits{Concurrency: ConcurrencyConfig{Max: 1 + rng.IntN(20)}, Rate: RateConfig{PerSecond: 50 + 500*rng.Float64()}},
			Connections: Limits{Concurrency: ConcurrencyConfig{Max: 1 + rng.IntN(20)}, Rate: RateConfig{PerSecond: 5 + 50*rng.Float64(), Burst: 1 + rng.IntN(10)}},
			// A short quiet period, so the run spends time at every level.
			Degradation: DegradationConfig{QuietPeriod: time.Second},
		}
		g := newGate(t, cfg)
		var held [numKinds][]Ticket
		var seen [numKinds][4]uint64
		at := t0
		for step := 0; step < 20_000; step++ {
			at = at.Add(time.Duration(rng.Int64N(int64(5 * time.Millisecond))))
			switch op := rng.IntN(1000); {
			case op < 2:
				g.ObservePause(at, time.Duration(rng.Int64N(int64(200*time.Millisecond))))
			case op < 5:
				if err := g.SetMaxInFlight(Kind(rng.IntN(2)), rng.IntN(20)); err != nil {
					t.Fatal(err)
				}
			case op < 8:
				if err := g.SetRateAt(at, Kind(rng.IntN(2)), 10+500*rng.Float64()); err != nil {
					t.Fatal(err)
				}
			case op < 400:
				k := Kind(rng.IntN(2))
				if len(held[k]) > 0 {
					i := rng.IntN(len(held[k]))
					if err := g.Release(held[k][i]); err != nil {
						t.Fatalf("seed %d step %d: %v", seed, step, err)
					}
					held[k][i] = held[k][len(held[k])-1]
					held[k] = held[k][:len(held[k])-1]
				}
			default:
				k := Kind(rng.IntN(2))
				level := g.Level(at)
				maxInFlight := g.Config().Requests.Concurrency.Max
				if k == Connection {
					maxInFlight = g.Config().Connections.Concurrency.Max
				}
				var d Decision
				if k == Connection {
					d = g.AdmitConnection(at)
				} else {
					d = g.AdmitRequest(at)
				}
				seen[k][d.Reason]++
				full := maxInFlight > 0 && len(held[k]) >= maxInFlight
				degraded := k == Connection && level != Normal
				switch {
				case d.Admitted != (d.Reason == Admitted) || d.Kind != k:
					t.Fatalf("seed %d step %d: inconsistent decision %+v", seed, step, d)
				case degraded != (d.Reason == RefusedDegraded):
					t.Fatalf("seed %d step %d: %v %v at level %v", seed, step, k, d.Reason, level)
				case !degraded && full != (d.Reason == RefusedConcurrency):
					t.Fatalf("seed %d step %d: %v %v with %d of %d in flight", seed, step, k, d.Reason, len(held[k]), maxInFlight)
				case d.Reason == RefusedRate && d.RetryAfter <= 0:
					t.Fatalf("seed %d step %d: rate refusal without a retry-after", seed, step)
				}
				if d.Admitted {
					held[k] = append(held[k], d.Ticket)
				}
			}
			st := g.Stats()
			for k := range numKinds {
				ks := st.Kind(k)
				if ks.Asked != ks.Admitted+ks.Refused() || ks.InFlight != len(held[k]) || ks.Admitted-ks.Released != uint64(ks.InFlight) {
					t.Fatalf("seed %d step %d: %v stats %+v, %d held", seed, step, k, ks, len(held[k]))
				}
				for r := range Reason(4) {
					if ks.Count(r) != seen[k][r] {
						t.Fatalf("seed %d step %d: %v %v counted %d, returned %d", seed, step, k, r, ks.Count(r), seen[k][r])
					}
				}
			}
			if st.Degradation.RefusedConnections != st.Connections.RefusedDegraded {
				t.Fatalf("seed %d: degrader refused %d, gate counted %d", seed, st.Degradation.RefusedConnections, st.Connections.RefusedDegraded)
			}
		}
		st := g.Stats()
		t.Logf("seed %d: requests %+v; connections %+v", seed, st.Requests, st.Connections)
		for k := range numKinds {
			for r := range Reason(4) {
				if st.Kind(k).Count(r) == 0 && !(k == Request && r == RefusedDegraded) {
					t.Errorf("seed %d: no %v decision was %v: the run does not exercise every reason", seed, k, r)
				}
			}
		}
	}
}

// TestGateExplanations checks that each explanation states the numbers
// behind the decision, with the incidents' figures.
func TestGateExplanations(t *testing.T) {
	const perSecond, burst, maxConns = 5000, 500, 2
	g := newGate(t, Config{
		Requests:    Limits{Rate: RateConfig{PerSecond: perSecond, Burst: burst}},
		Connections: Limits{Concurrency: ConcurrencyConfig{Max: maxConns}},
	})
	for range burst {
		g.AdmitRequest(t0)
	}
	d := g.AdmitRequest(t0)
	token := time.Duration(float64(time.Second) / perSecond)
	if want := fmt.Sprintf("request rate limit %d/s (burst %d) exceeded: busy, retry after %v", perSecond, burst, token); d.Explanation() != want {
		t.Errorf("rate: %q, want %q", d.Explanation(), want)
	}
	if d.RetryAfter != token || d.PerSecond != perSecond || d.Burst != burst {
		t.Errorf("rate decision numbers: %+v", d)
	}

	for range maxConns {
		g.AdmitConnection(t0)
	}
	d = g.AdmitConnection(t0)
	if want := fmt.Sprintf("connection concurrency limit %d reached (%d connections open): busy, retry later", maxConns, maxConns); d.Explanation() != want {
		t.Errorf("concurrency: %q, want %q", d.Explanation(), want)
	}

	pauseEnd := time.Date(2025, 6, 1, 3, 17, 2, 0, time.UTC)
	g.ObservePause(pauseEnd, 63*time.Millisecond)
	d = g.AdmitConnection(pauseEnd)
	if want := "degradation L1: GC pause 63ms > 50ms at 03:17:02, new connections refused"; d.Explanation() != want {
		t.Errorf("L1: %q, want %q", d.Explanation(), want)
	}
	g.ObservePause(pauseEnd.Add(time.Second), 130*time.Millisecond)
	d = g.AdmitConnection(pauseEnd.Add(time.Second))
	if want := "degradation L2: GC pause 130ms > 120ms at 03:17:03, new connections refused, connections idle > 30s closed"; d.Explanation() != want {
		t.Errorf("L2: %q, want %q", d.Explanation(), want)
	}
	if d := g.AdmitRequest(pauseEnd.Add(time.Second)); !strings.Contains(d.Explanation(), "admitted") || d.Level != L2CloseIdle {
		t.Errorf("request at L2: %q at level %v", d.Explanation(), d.Level)
	}
	for r := range Reason(4) {
		if strings.HasPrefix(r.String(), "Reason(") {
			t.Errorf("reason %d has no name", r)
		}
	}
}

// TestGateRetryAfterAdmits: a request refused by the rate limit and
// retried after its retry-after is admitted.
func TestGateRetryAfterAdmits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	g := newGate(t, Config{Requests: Limits{Rate: RateConfig{PerSecond: 333.3, Burst: 7}}})
	at, retried := t0, 0
	for range 10_000 {
		d := g.AdmitRequest(at)
		if d.Reason == RefusedRate {
			at = at.Add(d.RetryAfter)
			if again := g.AdmitRequest(at); !again.Admitted {
				t.Fatalf("refused again at the retry-after %v: %v", d.RetryAfter, again.Explanation())
			}
			retried++
		}
		at = at.Add(time.Duration(rng.Int64N(int64(2 * time.Millisecond))))
	}
	if retried < 1000 {
		t.Fatalf("only %d rate refusals retried", retried)
	}
}

// TestGateBadRelease: a zero ticket, and one released twice, are errors
// wrapping ErrUnknownSlot, counted, and free nothing.
func TestGateBadRelease(t *testing.T) {
	g := newGate(t, Config{Requests: Limits{Concurrency: ConcurrencyConfig{Max: 1}}})
	d := g.AdmitRequest(t0)
	if err := g.Release(Ticket{}); !errors.Is(err, ErrUnknownSlot) {
		t.Fatalf("zero ticket: %v", err)
	}
	if err := g.Release(Ticket{kind: 9, slot: 1}); !errors.Is(err, ErrUnknownSlot) {
		t.Fatalf("ticket of no kind: %v", err)
	}
	if err := g.Release(d.Ticket); err != nil {
		t.Fatal(err)
	}
	if err := g.Release(d.Ticket); !errors.Is(err, ErrUnknownSlot) {
		t.Fatalf("double release: %v", err)
	}
	g.AdmitRequest(t0)
	if d := g.AdmitRequest(t0); d.Admitted {
		t.Fatal("bad releases freed capacity")
	}
	if st := g.Stats().Requests; st.BadReleases != 2 || st.Released != 1 || st.InFlight != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestGateLiveKnobs: setters act at once, name the field in errors, and
// show in Config.
func TestGateLiveKnobs(t *testing.T) {
	g := newGate(t, Config{})
	if err := g.SetRateAt(t0, Request, 5000); err != nil {
		t.Fatal(err)
	}
	if err := g.SetBurstAt(t0, Connection, 3); err != nil {
		t.Fatal(err)
	}
	if err := g.SetMaxInFlight(Connection, 16); err != nil {
		t.Fatal(err)
	}
	cfg := g.Config()
	if cfg.Requests.Rate != (RateConfig{PerSecond: 5000, Burst: 500}) || cfg.Connections.Concurrency.Max != 16 || cfg.Connections.Rate.Burst != 3 {
		t.Fatalf("config after live changes: %+v", cfg)
	}
	for name, err := range map[string]error{
		"Config.Requests.Rate.PerSecond":      g.SetRateAt(t0, Request, -5),
		"Config.Connections.Rate.Burst":       g.SetBurstAt(t0, Connection, -1),
		"Config.Connections.Concurrency.Max":  g.SetMaxInFlight(Connection, -1),
		"kind Kind(7): want Request or Conne": g.SetMaxInFlight(7, 1),
	} {
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v, want one naming %q wrapping ErrInvalidConfig", err, name)
		}
	}
}

// script is a seeded sequence of calls on a Gate, recorded as decisions.
func script(t *testing.T, seed uint64) ([]Decision, Stats) {
	rng := rand.New(rand.NewPCG(seed, 0xDE7))
	g := newGate(t, Config{
		Requests:    Limits{Concurrency: ConcurrencyConfig{Max: 8}, Rate: RateConfig{PerSecond: 200}},
		Connections: Limits{Concurrency: ConcurrencyConfig{Max: 4}, Rate: RateConfig{PerSecond: 20, Burst: 2}},
	})
	var out []Decision
	var held []Ticket
	at := t0
	for range 5000 {
		at = at.Add(time.Duration(rng.Int64N(int64(10 * time.Millisecond))))
		switch op := rng.IntN(10); {
		case op == 0:
			g.ObservePause(at, time.Duration(rng.Int64N(int64(150*time.Millisecond))))
		case op < 4 && len(held) > 0:
			i := rng.IntN(len(held))
			if err := g.Release(held[i]); err != nil {
				t.Fatal(err)
			}
			held = append(held[:i], held[i+1:]...)
		default:
			var d Decision
			if op%2 == 0 {
				d = g.AdmitConnection(at)
			} else {
				d = g.AdmitRequest(at)
			}
			if d.Admitted {
				held = append(held, d.Ticket)
			}
			out = append(out, d)
		}
	}
	return out, g.Stats()
}

// TestGateDeterministic: the same calls at the same times give the same
// decisions and counts; a different seed gives different ones (so the
// comparison is not vacuous).
func TestGateDeterministic(t *testing.T) {
	a, sa := script(t, 42)
	b, sb := script(t, 42)
	if !reflect.DeepEqual(a, b) || sa != sb {
		t.Fatal("two runs of the same script differ")
	}
	c, _ := script(t, 43)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different scripts gave identical decisions")
	}
}
