// Package queueing holds the closed forms of queueing theory that
// Stormglass checks its simulations against: the Erlang B and C formulas
// for many-server queues, M/M/c and M/M/c/K in steady state, the
// Pollaczek–Khinchine formula for M/G/1, and processor sharing. Jackson
// solves open Jackson networks: by Jackson's theorem each station behaves as
// an independent M/M/c queue at the total arrival rate given by the traffic
// equations λ = γ + Pᵀλ.
//
// Notation: λ is the arrival rate, μ the service rate of one server (1/mean
// service time), c the number of servers, K the most customers present at
// once, a = λ/μ the offered load in erlangs and ρ = a/c the utilisation.
// Times are in the unit of 1/λ (seconds throughout Stormglass). Wq is the
// mean wait in queue, W = Wq + 1/μ the mean time in system, Lq and L the
// time-average numbers waiting and present (Little's law: L = λ_eff·W).
//
// Steady state exists only for ρ < 1 in the infinite-capacity models; their
// functions return an error otherwise rather than a meaningless number.
package queueing
