package qnet

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Process is the law of a source's arrivals.
type Process int

const (
	// Poisson arrivals: exponential interarrival times of mean 1/rate.
	Poisson Process = iota
	// Deterministic arrivals: exactly 1/rate apart, the first at Start.
	Deterministic
)

func (p Process) String() string {
	switch p {
	case Poisson:
		return "Poisson"
	case Deterministic:
		return "Deterministic"
	}
	return fmt.Sprintf("Process(%d)", int(p))
}

// Discipline is how a station shares its servers among the jobs present.
type Discipline int

const (
	// FCFS is first come, first served on c servers (sim.Station).
	FCFS Discipline = iota
	// PS is processor sharing on c cores of speed 1 (sim.CPU).
	PS
)

func (d Discipline) String() string {
	switch d {
	case FCFS:
		return "FCFS"
	case PS:
		return "PS"
	}
	return fmt.Sprintf("Discipline(%d)", int(d))
}

// DistKind is the shape of a service-time law.
type DistKind int

const (
	// Exponential service: coefficient of variation 1.
	Exponential DistKind = iota
	// DeterministicService: every job takes exactly Mean.
	DeterministicService
	// Erlang service with K phases: CV = 1/√K.
	Erlang
	// Gamma service with coefficient of variation CV.
	Gamma
	// LogNormal service with coefficient of variation CV.
	LogNormal
	// Uniform service on Mean·(1 ± Spread).
	Uniform
)

func (k DistKind) String() string {
	switch k {
	case Exponential:
		return "Exponential"
	case DeterministicService:
		return "Deterministic"
	case Erlang:
		return "Erlang"
	case Gamma:
		return "Gamma"
	case LogNormal:
		return "LogNormal"
	case Uniform:
		return "Uniform"
	}
	return fmt.Sprintf("DistKind(%d)", int(k))
}

// Service is a service-time law. Every kind is a scale family: a draw is
// Mean × (a unit-mean variate), so the mean can change mid-run without
// changing the shape. Fields a kind does not use are ignored.
type Service struct {
	Kind   DistKind
	Mean   float64 // seconds, > 0
	K      int     // Erlang shape (phases), ≥ 1
	CV     float64 // Gamma and LogNormal: coefficient of variation, > 0
	Spread float64 // Uniform: half-width as a fraction of the mean, in [0, 1]
}

// Validate reports whether the law is well defined.
func (s Service) Validate() error {
	if !(s.Mean > 0) || math.IsInf(s.Mean, 0) {
		return fmt.Errorf("mean service time must be finite and > 0, got %v", s.Mean)
	}
	switch s.Kind {
	case Exponential, DeterministicService:
	case Erlang:
		if s.K < 1 {
			return fmt.Errorf("Erlang service needs K ≥ 1 phases, got %d", s.K)
		}
	case Gamma, LogNormal:
		if !(s.CV > 0) || math.IsInf(s.CV, 0) {
			return fmt.Errorf("%v service needs a finite coefficient of variation CV > 0, got %v", s.Kind, s.CV)
		}
	case Uniform:
		if !(s.Spread >= 0 && s.Spread <= 1) {
			return fmt.Errorf("Uniform service needs a spread in [0, 1], got %v", s.Spread)
		}
	default:
		return fmt.Errorf("unknown service distribution %v", s.Kind)
	}
	return nil
}

// scv returns the squared coefficient of variation of the law.
func (s Service) scv() float64 {
	switch s.Kind {
	case Exponential:
		return 1
	case Erlang:
		return 1 / float64(s.K)
	case Gamma, LogNormal:
		return s.CV * s.CV
	case Uniform:
		// U(m(1−s), m(1+s)) has variance (2ms)²/12.
		return s.Spread * s.Spread / 3
	}
	return 0 // deterministic
}

// Moments returns E[S] and E[S²] exactly, for Pollaczek–Khinchine:
// E[S²] = Mean²·(1 + CV²).
func (s Service) Moments() (m1, m2 float64) {
	return s.Mean, s.Mean * s.Mean * (1 + s.scv())
}

// unitSampler draws unit-mean variates of one shape from a stream. It
// allocates nothing per draw.
type unitSampler struct {
	kind   DistKind
	rng    *rand.Rand
	alpha  float64 // Gamma shape (Erlang K, or 1/CV²)
	sigma  float64 // LogNormal: σ of the underlying normal
	spread float64
}

func newUnitSampler(s Service, rng *rand.Rand) unitSampler {
	u := unitSampler{kind: s.Kind, rng: rng, spread: s.Spread}
	switch s.Kind {
	case Erlang:
		u.alpha = float64(s.K)
	case Gamma:
		u.alpha = 1 / (s.CV * s.CV)
	case LogNormal:
		u.sigma = math.Sqrt(math.Log1p(s.CV * s.CV))
	}
	return u
}

// draw returns one unit-mean variate.
func (u *unitSampler) draw() float64 {
	switch u.kind {
	case Exponential:
		return u.rng.ExpFloat64()
	case Erlang, Gamma:
		return gammaVariate(u.rng, u.alpha) / u.alpha
	case LogNormal:
		// exp(N(−σ²/2, σ²)) has mean 1.
		return math.Exp(u.sigma*u.rng.NormFloat64() - u.sigma*u.sigma/2)
	case Uniform:
		return 1 + u.spread*(2*u.rng.Float64()-1)
	}
	return 1 // deterministic
}

// gammaVariate draws from Gamma(alpha, 1) by Marsaglia and Tsang's method
// (2000), with the boost Gamma(α) = Gamma(α+1)·U^(1/α) for α < 1. gonum's
// distuv.Gamma is not used because it builds a rand.Rand on every draw.
func gammaVariate(rng *rand.Rand, alpha float64) float64 {
	if alpha == 1 {
		return rng.ExpFloat64()
	}
	boost := 1.0
	if alpha < 1 {
		boost = math.Pow(1-rng.Float64(), 1/alpha) // 1−U is in (0, 1]
		alpha++
	}
	d := alpha - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		var x, v float64
		for {
			x = rng.NormFloat64()
			v = 1 + c*x
			if v > 0 {
				break
			}
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v * boost
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v * boost
		}
	}
}
