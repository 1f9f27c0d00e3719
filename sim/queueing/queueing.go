package queueing

import (
	"errors"
	"fmt"
	"math"
)

// ErrUnstable is returned for an infinite-capacity queue with ρ ≥ 1, which
// has no steady state: its queue grows without bound.
var ErrUnstable = errors.New("queueing: utilisation ρ ≥ 1 has no steady state")

// ErlangB is the probability that an arrival finds all c servers busy in an
// M/M/c/c loss system with offered load a erlangs (and is lost). It uses the
// recurrence B(k) = a·B(k−1) / (k + a·B(k−1)), stable for large c.
func ErlangB(c int, a float64) float64 {
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC is the probability that an arrival to an M/M/c queue with offered
// load a < c must wait.
func ErlangC(c int, a float64) (float64, error) {
	if a >= float64(c) {
		return 0, fmt.Errorf("M/M/%d at a = %v: %w", c, a, ErrUnstable)
	}
	b := ErlangB(c, a)
	return float64(c) * b / (float64(c) - a*(1-b)), nil
}

// Metrics are the steady-state means of a queue.
type Metrics struct {
	Wq, W   float64 // mean wait in queue, mean time in system
	Lq, L   float64 // mean number waiting, mean number present
	PWait   float64 // probability an admitted arrival waits
	PBlock  float64 // probability an arrival is lost (finite capacity)
	Rho     float64 // utilisation of a server
	Lambda  float64 // admitted arrival rate λ(1 − PBlock)
	Servers int
}

// MMc returns the steady state of the M/M/c queue (M/M/1 for c = 1).
func MMc(lambda, mu float64, c int) (Metrics, error) {
	if err := check(lambda, mu, c); err != nil {
		return Metrics{}, err
	}
	a := lambda / mu
	pw, err := ErlangC(c, a)
	if err != nil {
		return Metrics{}, err
	}
	wq := pw / (float64(c)*mu - lambda)
	w := wq + 1/mu
	return Metrics{Wq: wq, W: w, Lq: lambda * wq, L: lambda * w, PWait: pw,
		Rho: a / float64(c), Lambda: lambda, Servers: c}, nil
}

// MG1 returns the steady state of the M/G/1 queue whose service time has
// mean es and second moment es2 (Pollaczek–Khinchine):
// Wq = λ·E[S²] / (2(1 − ρ)). M/D/1 is es2 = es².
func MG1(lambda, es, es2 float64) (Metrics, error) {
	if err := check(lambda, 1/es, 1); err != nil {
		return Metrics{}, err
	}
	rho := lambda * es
	if rho >= 1 {
		return Metrics{}, fmt.Errorf("M/G/1 at ρ = %v: %w", rho, ErrUnstable)
	}
	wq := lambda * es2 / (2 * (1 - rho))
	w := wq + es
	return Metrics{Wq: wq, W: w, Lq: lambda * wq, L: lambda * w, PWait: rho,
		Rho: rho, Lambda: lambda, Servers: 1}, nil
}

// MD1 returns the steady state of the M/D/1 queue with service time d.
func MD1(lambda, d float64) (Metrics, error) { return MG1(lambda, d, d*d) }

// MMcK returns the steady state of the M/M/c/K queue: c servers and room for
// K ≥ c customers in all; arrivals finding K present are lost. It exists
// for any load.
func MMcK(lambda, mu float64, c, k int) (Metrics, error) {
	if err := check(lambda, mu, c); err != nil {
		return Metrics{}, err
	}
	if k < c {
		return Metrics{}, fmt.Errorf("queueing: M/M/c/K needs K ≥ c, got c = %d, K = %d", c, k)
	}
	a := lambda / mu
	// Unnormalised p_n, built by ratios to stay finite for large K.
	p := make([]float64, k+1)
	p[0] = 1
	for n := 1; n <= k; n++ {
		p[n] = p[n-1] * a / float64(min(n, c))
	}
	var sum, l, lq, pw float64
	for n, v := range p {
		sum += v
		l += float64(n) * v
		if n > c {
			lq += float64(n-c) * v
		}
		if n >= c && n < k {
			pw += v
		}
	}
	pBlock := p[k] / sum
	l, lq = l/sum, lq/sum
	lamEff := lambda * (1 - pBlock)
	m := Metrics{L: l, Lq: lq, PBlock: pBlock, Lambda: lamEff, Servers: c,
		Rho: lamEff / (float64(c) * mu)}
	if lamEff > 0 {
		m.W, m.Wq = l/lamEff, lq/lamEff
		m.PWait = pw / sum / (1 - pBlock)
	}
	return m, nil
}

// MM1PS returns the steady state of the M/M/1 processor-sharing queue: the
// same means as FCFS M/M/1 (W = 1/(μ − λ)), but a job of size x spends
// x/(1 − ρ) in the system whatever the other jobs' sizes.
func MM1PS(lambda, mu float64) (Metrics, error) {
	m, err := MMc(lambda, mu, 1)
	if err != nil {
		return m, err
	}
	m.Wq, m.Lq = 0, 0 // no one waits: everyone is served, slower
	return m, nil
}

func check(lambda, mu float64, c int) error {
	switch {
	case !(lambda >= 0) || math.IsInf(lambda, 0):
		return fmt.Errorf("queueing: arrival rate λ must be finite and ≥ 0, got %v", lambda)
	case !(mu > 0) || math.IsInf(mu, 0):
		return fmt.Errorf("queueing: service rate μ must be finite and > 0, got %v", mu)
	case c < 1:
		return fmt.Errorf("queueing: need at least one server, got %d", c)
	}
	return nil
}
