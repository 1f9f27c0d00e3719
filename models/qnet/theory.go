package qnet

import (
	"fmt"

	"stormglass/sim/queueing"
)

// Theory is what queueing theory predicts for the network's steady state.
type Theory struct {
	Model           string  // e.g. "M/M/8", "M/D/1", "M/M/2/10", "Jackson network (3 stations)", "M/G/1-PS"
	Throughput      float64 // jobs reaching a sink per second
	L               float64 // mean number of jobs in the network
	W               float64 // mean end-to-end sojourn of jobs reaching a sink, seconds (L/Throughput)
	BlockedFraction float64 // external arrivals lost / external arrivals
	// Stations holds each station's numbers in config order. For a PS
	// station Wq is W − 1/μ, matching StationMetrics.WaitMean.
	Stations []queueing.Metrics
}

// Theory returns the closed-form steady state of the network as configured
// now (rates, servers, capacities, service means and routes after any live
// change), or ok = false when no closed form applies or the network is
// unstable (some ρ ≥ 1), or has no station or no arrivals.
//
// A closed form needs Poisson sources without a profile or a surge and
// stations with neither an outage nor a slowdown. Then:
//
//   - if every station has exponential service and no capacity limit, the
//     network is a Jackson network (queueing.Jackson), feedback included.
//     A PS station with c cores and exponential service has the same
//     birth–death process of jobs present as FCFS M/M/c, hence the same
//     means;
//   - a single station with exponential service and capacity K, with no
//     route back to itself, is M/M/c/K (for PS too, by the same argument);
//   - a single station with one server, no capacity limit and no route back
//     to itself is M/G/1 for FCFS (Pollaczek–Khinchine) and M/G/1-PS for
//     PS, whose mean response m1/(1 − ρ) does not depend on the law's shape.
//
// Sources may route part of their jobs straight to a sink; those count in
// Throughput with a sojourn of zero.
func (n *Network) Theory() (Theory, bool) {
	if len(n.stations) == 0 {
		return Theory{}, false
	}
	var total float64
	for _, s := range n.sources {
		if s.process != Poisson || len(s.profile) > 0 || s.surge != 1 {
			return Theory{}, false
		}
		total += s.Rate()
	}
	if !(total > 0) {
		return Theory{}, false
	}
	allExp, anyCap := true, false
	for _, s := range n.stations {
		if s.outage || s.slowdown != 1 {
			return Theory{}, false
		}
		allExp = allExp && s.service.Kind == Exponential
		anyCap = anyCap || s.capacity > 0
	}
	// External arrival rates γ and the routing matrix between stations.
	gamma := make([]float64, len(n.stations))
	for _, s := range n.sources {
		for j, t := range s.route.to {
			if t >= 0 {
				gamma[t] += s.Rate() * s.route.effective(j)
			}
		}
	}
	routing := make([][]float64, len(n.stations))
	for i, s := range n.stations {
		routing[i] = make([]float64, len(n.stations))
		for j, t := range s.route.to {
			if t >= 0 {
				routing[i][t] += s.route.effective(j)
			}
		}
	}

	if allExp && !anyCap {
		return n.jackson(gamma, routing, total)
	}
	if len(n.stations) != 1 || routing[0][0] > 0 {
		return Theory{}, false
	}
	s := n.stations[0]
	lambda := gamma[0]
	suffix := ""
	if s.discipline == PS {
		suffix = "-PS"
	}
	switch {
	case s.capacity > 0 && s.service.Kind == Exponential:
		m, err := queueing.MMcK(lambda, 1/s.service.Mean, s.servers, s.capacity)
		if err != nil {
			return Theory{}, false
		}
		lost := lambda * m.PBlock
		th := Theory{
			Model:           fmt.Sprintf("M/M/%d/%d%s", s.servers, s.capacity, suffix),
			Throughput:      total - lost,
			L:               m.L,
			BlockedFraction: lost / total,
			Stations:        []queueing.Metrics{m},
		}
		if th.Throughput > 0 {
			th.W = th.L / th.Throughput
		}
		return th, true
	case s.capacity == 0 && s.servers == 1:
		m1, m2 := s.service.Moments()
		var m queueing.Metrics
		var model string
		if s.discipline == PS {
			rho := lambda * m1
			if rho >= 1 {
				return Theory{}, false
			}
			w := m1 / (1 - rho)
			m = queueing.Metrics{W: w, Wq: w - m1, L: lambda * w, Lq: lambda * (w - m1),
				Rho: rho, Lambda: lambda, Servers: 1}
			model = "M/G/1-PS"
		} else {
			var err error
			if m, err = queueing.MG1(lambda, m1, m2); err != nil {
				return Theory{}, false
			}
			switch s.service.Kind {
			case DeterministicService:
				model = "M/D/1"
			case Exponential:
				model = "M/M/1"
			default:
				model = "M/G/1"
			}
		}
		return Theory{Model: model, Throughput: total, L: m.L, W: m.L / total,
			Stations: []queueing.Metrics{m}}, true
	}
	return Theory{}, false
}

// jackson solves an open Jackson network of exponential stations.
func (n *Network) jackson(gamma []float64, routing [][]float64, total float64) (Theory, bool) {
	js := make([]queueing.JacksonStation, len(n.stations))
	for i, s := range n.stations {
		js[i] = queueing.JacksonStation{Name: s.name, Servers: s.servers, Mu: 1 / s.service.Mean, External: gamma[i]}
	}
	res, err := queueing.Jackson(js, routing)
	if err != nil {
		return Theory{}, false
	}
	th := Theory{Throughput: total, L: res.L, Stations: res.Stations}
	th.W = th.L / total
	for i, s := range n.stations {
		if s.discipline == PS {
			// Wq is time lost to sharing: W − 1/μ (which for M/M/c is
			// also the FCFS Wq).
			m := &th.Stations[i]
			m.Wq = m.W - s.service.Mean
			m.Lq = m.Lambda * m.Wq
		}
	}
	switch {
	case len(n.stations) > 1 || routing[0][0] > 0:
		th.Model = fmt.Sprintf("Jackson network (%d stations)", len(n.stations))
		if len(n.stations) == 1 {
			th.Model = "Jackson network (1 station)"
		}
	case n.stations[0].discipline == PS:
		th.Model = fmt.Sprintf("M/M/%d-PS", n.stations[0].servers)
	default:
		th.Model = fmt.Sprintf("M/M/%d", n.stations[0].servers)
	}
	return th, true
}
