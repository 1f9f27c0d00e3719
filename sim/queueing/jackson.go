package queueing

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ErrNoExit is returned for an open network whose routing traps jobs: from
// some station no sequence of routes ever leaves the network, so jobs
// reaching it circulate for ever and the traffic equations have no
// solution.
var ErrNoExit = errors.New("queueing: routing never leaves the network")

// routeTol absorbs rounding in the rows of the routing matrix (0.2 + 0.7 +
// 0.1 is 0.9999999999999999): a row may sum to at most 1 + routeTol, and a
// row within routeTol of 1 counts as 1, with no exit.
const routeTol = 1e-9

// JacksonStation is one station of an open Jackson network.
type JacksonStation struct {
	Name     string
	Servers  int     // c ≥ 1, FCFS exponential service (or PS with exponential service: same means)
	Mu       float64 // service rate per server, 1/s
	External float64 // γ: external Poisson arrival rate into this station, 1/s (≥ 0)
}

// JacksonResult is the steady state of an open Jackson network.
type JacksonResult struct {
	Stations   []Metrics // per station, in input order (Lambda = total arrival rate λ_i)
	Throughput float64   // Σ γ_i: jobs entering (= leaving) per second
	L          float64   // mean jobs in the network
	W          float64   // mean sojourn time of a job, by Little's law L / Throughput
	Visits     []float64 // mean visits per job to each station, λ_i / Σγ
}

// Jackson returns the steady state of an open Jackson network: Poisson
// arrivals from outside at rate γ_i into station i, exponential service,
// and Markov routing, where routing[i][j] is the probability that a job
// leaving station i goes next to station j and 1 − Σ_j routing[i][j] that it
// leaves the network.
//
// Jackson's theorem says the stations then behave as independent M/M/c
// queues, each fed at its total arrival rate λ_i, even though the flows
// inside the network (with feedback) are not Poisson. The rates solve the
// traffic equations λ = γ + Pᵀλ: what enters a station is what arrives
// from outside plus what the other stations route to it. The network's
// means follow from the stations': L = Σ L_i and, by Little's law, W =
// L / Σγ.
//
// The network must be open — every station can reach an exit (ErrNoExit
// otherwise) — and every station stable, λ_i < c_i μ_i (ErrUnstable
// otherwise, naming the station).
func Jackson(stations []JacksonStation, routing [][]float64) (JacksonResult, error) {
	n := len(stations)
	if n == 0 {
		return JacksonResult{}, errors.New("queueing: a Jackson network needs at least one station")
	}
	if len(routing) != n {
		return JacksonResult{}, fmt.Errorf("queueing: routing has %d rows for %d stations", len(routing), n)
	}
	var gamma float64
	for i, st := range stations {
		// check's arrival rate λ is here the external rate γ.
		if err := check(st.External, st.Mu, st.Servers); err != nil {
			return JacksonResult{}, fmt.Errorf("station %d (%q): %w", i, st.Name, err)
		}
		gamma += st.External
		row := routing[i]
		if len(row) != n {
			return JacksonResult{}, fmt.Errorf("queueing: routing row %d (%q) has %d entries for %d stations", i, st.Name, len(row), n)
		}
		var sum float64
		for j, p := range row {
			if !(p >= 0 && p <= 1) {
				return JacksonResult{}, fmt.Errorf("queueing: routing probability from %q to %q is %v, not in [0, 1]", st.Name, stations[j].Name, p)
			}
			sum += p
		}
		if sum > 1+routeTol {
			return JacksonResult{}, fmt.Errorf("queueing: routing probabilities out of %q sum to %v > 1", st.Name, sum)
		}
	}
	if !(gamma > 0) {
		// Nothing enters: every rate is 0 and the per-job means (W, visits)
		// have no meaning.
		return JacksonResult{}, errors.New("queueing: an open network needs external arrivals, but every γ is 0")
	}
	if i := trapped(routing); i >= 0 {
		return JacksonResult{}, fmt.Errorf("station %q: %w", stations[i].Name, ErrNoExit)
	}

	lambda, err := traffic(stations, routing, gamma)
	if err != nil {
		return JacksonResult{}, err
	}

	res := JacksonResult{
		Stations:   make([]Metrics, n),
		Throughput: gamma,
		Visits:     make([]float64, n),
	}
	for i, st := range stations {
		l := lambda[i]
		if capacity := float64(st.Servers) * st.Mu; l >= capacity {
			return JacksonResult{}, fmt.Errorf("station %q receives λ = %.6g/s but serves at most cμ = %.6g/s (ρ = %.4g): %w",
				st.Name, l, capacity, l/capacity, ErrUnstable)
		}
		m, err := MMc(l, st.Mu, st.Servers)
		if err != nil {
			return JacksonResult{}, fmt.Errorf("station %q: %w", st.Name, err)
		}
		res.Stations[i] = m
		res.Visits[i] = l / gamma
		res.L += m.L
	}
	res.W = res.L / gamma
	return res, nil
}

// trapped returns a station from which no route leads out of the network,
// or −1 if every station can reach an exit. Such a station makes I − Pᵀ
// singular; finding it by reachability names it, where a failed solve
// could only say the matrix is singular.
func trapped(routing [][]float64) int {
	n := len(routing)
	exits := make([]bool, n)
	var frontier []int
	for i, row := range routing {
		var sum float64
		for _, p := range row {
			sum += p
		}
		if sum < 1-routeTol {
			exits[i] = true
			frontier = append(frontier, i)
		}
	}
	// Walk the routes backwards from the stations with an exit: a station
	// that routes to one that can leave can leave too.
	for len(frontier) > 0 {
		j := frontier[len(frontier)-1]
		frontier = frontier[:len(frontier)-1]
		for i, row := range routing {
			if !exits[i] && row[j] > 0 {
				exits[i] = true
				frontier = append(frontier, i)
			}
		}
	}
	for i, ok := range exits {
		if !ok {
			return i
		}
	}
	return -1
}

// traffic solves the traffic equations (I − Pᵀ)λ = γ.
// total is Σγ, the scale of the rates.
func traffic(stations []JacksonStation, routing [][]float64, total float64) ([]float64, error) {
	n := len(stations)
	a := mat.NewDense(n, n, nil)
	gamma := mat.NewVecDense(n, nil)
	for i, st := range stations {
		gamma.SetVec(i, st.External)
		a.Set(i, i, 1)
	}
	for i, row := range routing {
		for j, p := range row {
			// Row j of I − Pᵀ balances station j: flow i → j enters it.
			a.Set(j, i, a.At(j, i)-p)
		}
	}
	var lambda mat.VecDense
	if err := lambda.SolveVec(a, gamma); err != nil {
		// With every station able to exit the matrix is invertible, but
		// an exit taken with tiny probability makes it near-singular and
		// the rates meaningless.
		return nil, fmt.Errorf("queueing: traffic equations of the network: %w", err)
	}
	out := make([]float64, n)
	for i := range out {
		l := lambda.AtVec(i)
		// λ ≥ γ ≥ 0 in exact arithmetic; rounding can leave −ε where the
		// true rate is 0 (a station nothing reaches).
		if l < 0 && l > -routeTol*total {
			l = 0
		}
		if !(l >= 0) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("queueing: traffic equations give station %q the rate λ = %v: %w", stations[i].Name, l, ErrNoExit)
		}
		out[i] = l
	}
	return out, nil
}
