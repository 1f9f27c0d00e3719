package queueing

import (
	"errors"
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.6g, want %.6g", what, got, want)
	}
}

// Values from published Erlang tables and textbook examples.
func TestAgainstPublishedValues(t *testing.T) {
	near(t, "ErlangB(10, 5)", ErlangB(10, 5), 0.018385, 1e-5)
	near(t, "ErlangB(1, 1)", ErlangB(1, 1), 0.5, 1e-12)
	c, _ := ErlangC(2, 1) // M/M/2 at a = 1: C = 1/3
	near(t, "ErlangC(2, 1)", c, 1.0/3, 1e-12)
	// The M/M/c benchmark: c = 8, λ = 7.2, μ = 1 gives Wq = 0.8769.
	m, err := MMc(7.2, 1, 8)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "M/M/8 Wq", m.Wq, 0.8769, 1e-4)
	// M/M/1: Wq = ρ/(μ − λ).
	m, _ = MMc(0.8, 1, 1)
	near(t, "M/M/1 Wq", m.Wq, 4, 1e-12)
	near(t, "M/M/1 L", m.L, 4, 1e-12)
	// M/D/1 is half the M/M/1 wait.
	d, _ := MD1(0.8, 1)
	near(t, "M/D/1 Wq", d.Wq, 2, 1e-12)
}

func TestMMcKAgreesWithLimits(t *testing.T) {
	// K = c is the Erlang loss system.
	m, _ := MMcK(5, 1, 10, 10)
	near(t, "M/M/10/10 blocking", m.PBlock, ErlangB(10, 5), 1e-12)
	// K → ∞ approaches M/M/c.
	inf, _ := MMc(0.9, 1, 2)
	big, _ := MMcK(0.9, 1, 2, 2000)
	near(t, "M/M/2/2000 Wq", big.Wq, inf.Wq, 1e-9)
	// M/M/1/K closed form: p_K = (1−ρ)ρ^K / (1−ρ^(K+1)).
	rho, k := 0.9, 5
	m, _ = MMcK(rho, 1, 1, k)
	near(t, "M/M/1/5 blocking", m.PBlock, (1-rho)*math.Pow(rho, float64(k))/(1-math.Pow(rho, float64(k+1))), 1e-12)
	// Little's law holds in the formulas themselves.
	near(t, "L = λ_eff W", m.L, m.Lambda*m.W, 1e-12)
}

func TestUnstableAndInvalidInputsAreErrors(t *testing.T) {
	if _, err := MMc(1, 1, 1); !errors.Is(err, ErrUnstable) {
		t.Errorf("ρ = 1: err = %v", err)
	}
	if _, err := MD1(2, 1); !errors.Is(err, ErrUnstable) {
		t.Errorf("M/D/1 ρ = 2: err = %v", err)
	}
	if _, err := MMcK(10, 1, 2, 1); err == nil {
		t.Error("K < c must be an error")
	}
	for _, bad := range []struct{ l, mu float64 }{{-1, 1}, {1, 0}, {math.NaN(), 1}, {1, math.Inf(1)}} {
		if _, err := MMc(bad.l, bad.mu, 1); err == nil {
			t.Errorf("MMc(%v, %v) must be an error", bad.l, bad.mu)
		}
	}
	if _, err := MMcK(100, 1, 4, 10); err != nil {
		t.Errorf("an overloaded finite queue has a steady state: %v", err)
	}
}
