package queueing

import (
	"errors"
	"strings"
	"testing"
)

// TestJacksonTandemIsTheSumOfItsParts: in a line of M/M/1 stations every
// job visits each once at the external rate, so the sojourn time is the sum
// of the stations' 1/(μ_i − λ).
func TestJacksonTandemIsTheSumOfItsParts(t *testing.T) {
	const lambda = 1.0
	stations := []JacksonStation{
		{Name: "lb", Servers: 1, Mu: 2, External: lambda},
		{Name: "app", Servers: 1, Mu: 3},
		{Name: "db", Servers: 1, Mu: 1.5},
	}
	routing := [][]float64{
		{0, 1, 0},
		{0, 0, 1},
		{0, 0, 0}, // db: every job leaves
	}
	res, err := Jackson(stations, routing)
	if err != nil {
		t.Fatal(err)
	}
	// W_i = 1/(μ_i − λ): 1, 0.5 and 2 s; L_i = λ W_i.
	wantW := []float64{1, 0.5, 2}
	for i, w := range wantW {
		m := res.Stations[i]
		near(t, stations[i].Name+" λ", m.Lambda, lambda, 1e-12)
		near(t, stations[i].Name+" W", m.W, w, 1e-12)
		near(t, stations[i].Name+" visits", res.Visits[i], 1, 1e-12)
	}
	near(t, "throughput", res.Throughput, lambda, 1e-12)
	near(t, "network W", res.W, 3.5, 1e-12)
	near(t, "network L", res.L, 3.5, 1e-12)
}

// TestJacksonFeedbackIsMM1AtTheVisitRate: a job served with probability p
// of returning for another service visits 1/(1 − p) times, so the station
// sees λ = γ/(1 − p) and each visit lasts 1/(μ − λ) on average.
func TestJacksonFeedbackIsMM1AtTheVisitRate(t *testing.T) {
	const gamma, mu, p = 0.3, 1.0, 0.4
	res, err := Jackson([]JacksonStation{{Name: "retry", Servers: 1, Mu: mu, External: gamma}},
		[][]float64{{p}})
	if err != nil {
		t.Fatal(err)
	}
	lambda := gamma / (1 - p) // 0.5
	perVisit := 1 / (mu - lambda)
	visits := 1 / (1 - p)
	m := res.Stations[0]
	near(t, "λ", m.Lambda, 0.5, 1e-12)
	near(t, "W per visit", m.W, perVisit, 1e-12) // 2 s
	near(t, "visits", res.Visits[0], visits, 1e-12)
	near(t, "sojourn", res.W, visits*perVisit, 1e-12) // 10/3 s
	near(t, "L", res.L, 1, 1e-12)                     // ρ/(1 − ρ) at ρ = 0.5
	near(t, "throughput", res.Throughput, gamma, 1e-12)
}

// TestJacksonThreeStationsWithFeedback checks a network solved by hand.
//
//	γ = (4, 1, 0) into web, app, db;
//	web → app 0.5, web → db 0.25, web leaves 0.25;
//	app → web 0.2, app → db 0.6, app leaves 0.2;
//	db → web 0.5, db leaves 0.5.
//
// Traffic equations:
//
//	λw = 4 + 0.2 λa + 0.5 λd
//	λa = 1 + 0.5 λw
//	λd = 0.25 λw + 0.6 λa = 0.6 + 0.55 λw
//	⇒ λw = 4 + 0.2 + 0.1 λw + 0.3 + 0.275 λw = 4.5 + 0.375 λw
//	⇒ λw = 4.5 / 0.625 = 7.2, λa = 4.6, λd = 4.56.
//
// Check: the exits 0.25·7.2 + 0.2·4.6 + 0.5·4.56 = 1.8 + 0.92 + 2.28 = 5 =
// Σγ. Stations: web M/M/2 with μ = 5 (ρ = 0.72), app M/M/1 with μ = 5
// (ρ = 0.92), db M/M/3 with μ = 2 (a = 2.28, ρ = 0.76):
//
//	L_web = 2ρ/(1 − ρ²) = 2.990033
//	L_app = λ/(μ − λ) = 4.6/0.4 = 11.5
//	L_db  = a + P0·a³ρ/(3!(1 − ρ)²), P0 = 1/(1 + a + a²/2 + a³/(3!(1 − ρ)))
//	      = 2.28 + 1.847215 = 4.127215
//	L = 18.617248, W = L/5 = 3.723450.
func TestJacksonThreeStationsWithFeedback(t *testing.T) {
	stations := []JacksonStation{
		{Name: "web", Servers: 2, Mu: 5, External: 4},
		{Name: "app", Servers: 1, Mu: 5, External: 1},
		{Name: "db", Servers: 3, Mu: 2},
	}
	routing := [][]float64{
		{0, 0.5, 0.25},
		{0.2, 0, 0.6},
		{0.5, 0, 0},
	}
	res, err := Jackson(stations, routing)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{7.2, 4.6, 4.56} {
		near(t, stations[i].Name+" λ", res.Stations[i].Lambda, want, 1e-12)
		near(t, stations[i].Name+" visits", res.Visits[i], want/5, 1e-12)
	}
	// Closed forms written out, independent of ErlangB/ErlangC.
	rho := 0.72
	lWeb := 2 * rho / (1 - rho*rho)
	a, rho := 2.28, 0.76
	p0 := 1 / (1 + a + a*a/2 + a*a*a/(6*(1-rho)))
	lDB := a + p0*a*a*a*rho/(6*(1-rho)*(1-rho))
	near(t, "web L", res.Stations[0].L, lWeb, 1e-12)
	near(t, "web L (hand)", res.Stations[0].L, 2.990033, 1e-6)
	near(t, "app L", res.Stations[1].L, 11.5, 1e-12)
	near(t, "app W", res.Stations[1].W, 2.5, 1e-12)
	near(t, "db L", res.Stations[2].L, lDB, 1e-12)
	near(t, "db L (hand)", res.Stations[2].L, 4.127215, 1e-6)
	near(t, "db ρ", res.Stations[2].Rho, 0.76, 1e-12)
	near(t, "throughput", res.Throughput, 5, 1e-12)
	near(t, "network L", res.L, 18.617248, 1e-6)
	near(t, "network W", res.W, 3.723450, 1e-6)
	near(t, "Little", res.W*res.Throughput, res.L, 1e-12)
}

func TestJacksonRejectsBadNetworks(t *testing.T) {
	two := func() []JacksonStation {
		return []JacksonStation{
			{Name: "web", Servers: 1, Mu: 10, External: 1},
			{Name: "db", Servers: 2, Mu: 1},
		}
	}

	// web → db always, db → web with 0.8: λ_web = λ_db = 1/(1 − 0.8) = 5,
	// far within web's μ = 10 but beyond db's cμ = 2.
	_, err := Jackson(two(), [][]float64{{0, 1}, {0.8, 0}})
	if !errors.Is(err, ErrUnstable) {
		t.Fatalf("saturated db: err = %v, want ErrUnstable", err)
	}
	if !strings.Contains(err.Error(), `"db"`) || strings.Contains(err.Error(), `"web"`) {
		t.Errorf("the error must name the saturated station db (and only it): %v", err)
	}
	// The same network with gentler feedback is stable: the check is on
	// λ_i, not a blanket refusal of feedback. λ = 1/(1 − 0.4) = 5/3 < 2.
	if _, err := Jackson(two(), [][]float64{{0, 1}, {0.4, 0}}); err != nil {
		t.Errorf("a stable network was refused: %v", err)
	}

	for _, tc := range []struct {
		name    string
		st      []JacksonStation
		routing [][]float64
		is      error
		mention string
	}{
		{name: "row sum > 1", st: two(), routing: [][]float64{{0.6, 0.5}, {0, 0}}, mention: `"web"`},
		{name: "negative probability", st: two(), routing: [][]float64{{0, -0.1}, {0, 0}}},
		{name: "probability > 1", st: two(), routing: [][]float64{{0, 0}, {1.5, 0}}},
		{name: "too few rows", st: two(), routing: [][]float64{{0, 1}}},
		{name: "short row", st: two(), routing: [][]float64{{0, 1}, {0}}},
		{name: "no stations", st: nil, routing: nil},
		{name: "no external arrivals", st: []JacksonStation{{Name: "idle", Servers: 1, Mu: 1}}, routing: [][]float64{{0}}},
		{name: "no servers", st: []JacksonStation{{Name: "x", Mu: 1, External: 1}}, routing: [][]float64{{0}}},
		{name: "negative γ", st: []JacksonStation{{Name: "x", Servers: 1, Mu: 1, External: -1}}, routing: [][]float64{{0}}},
		// web and db bounce every job between them for ever.
		{name: "loop with no exit", st: two(), routing: [][]float64{{0, 1}, {1, 0}}, is: ErrNoExit},
		// Rounding does not open an exit: 0.2 + 0.7 + 0.1 sums to
		// 0.9999999999999999 and counts as exactly 1.
		{name: "loop summing to 1 by rounding", st: []JacksonStation{
			{Name: "a", Servers: 1, Mu: 10, External: 1}, {Name: "b", Servers: 1, Mu: 10}, {Name: "c", Servers: 1, Mu: 10},
		}, routing: [][]float64{{0.2, 0.7, 0.1}, {1, 0, 0}, {0, 1, 0}}, is: ErrNoExit},
		// web exits, but a job sent to db stays there for ever.
		{name: "trap behind an exit", st: two(), routing: [][]float64{{0, 0.5}, {0, 1}}, is: ErrNoExit, mention: `"db"`},
	} {
		_, err := Jackson(tc.st, tc.routing)
		switch {
		case err == nil:
			t.Errorf("%s: no error", tc.name)
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.is)
		case errors.Is(err, ErrUnstable):
			t.Errorf("%s: err = %v must not claim instability", tc.name, err)
		case tc.mention != "" && !strings.Contains(err.Error(), tc.mention):
			t.Errorf("%s: err = %v, want it to name %s", tc.name, err, tc.mention)
		}
	}
}
