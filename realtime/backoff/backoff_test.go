package backoff

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/realtime/clock"
)

type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }
func (c *manualClock) AfterFunc(time.Duration, func()) clock.Timer {
	panic("a Backoff must not arm timers")
}

func newTestBackoff(t testing.TB, p Policy, seed uint64) (*Backoff, *manualClock) {
	t.Helper()
	clk := &manualClock{now: time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)}
	b, err := New(p, clk, rand.NewPCG(seed, seed^0x5eed))
	if err != nil {
		t.Fatal(err)
	}
	return b, clk
}

func mustNext(t testing.TB, b *Backoff, reason string) time.Duration {
	t.Helper()
	d, err := b.Next(reason)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testPolicies covers every jitter kind, with caps reached early and late.
func testPolicies() []Policy {
	var ps []Policy
	for _, j := range []Jitter{NoJitter, FullJitter, EqualJitter, DecorrelatedJitter, ProportionalJitter} {
		for _, shape := range []struct {
			initial, cap time.Duration
			mult         float64
		}{{5 * time.Millisecond, 2 * time.Second, 2}, {time.Second, 120 * time.Second, 1.6}, {100 * time.Millisecond, 100 * time.Millisecond, 1}} {
			p := Policy{Name: fmt.Sprintf("%v/%v-%v×%v", j, shape.initial, shape.cap, shape.mult),
				Initial: shape.initial, Cap: shape.cap, Multiplier: shape.mult, Jitter: j}
			if j == ProportionalJitter {
				p.JitterFraction = 0.5
			}
			ps = append(ps, p)
		}
	}
	return ps
}

// TestDelaysStayInTheirBounds: every delay lies inside its jitter kind's
// interval around d(n), below Cap (Cap·(1+f) for proportional jitter),
// and never negative, over long runs of failures with resets between.
func TestDelaysStayInTheirBounds(t *testing.T) {
	for _, p := range testPolicies() {
		t.Run(p.Name, func(t *testing.T) {
			b, _ := newTestBackoff(t, p, 1)
			prev := p.Initial
			for i := range 5000 {
				if i%40 == 0 {
					b.Reset()
					prev = p.Initial
				}
				n := b.Failures()
				base := p.Base(n, "")
				d := mustNext(t, b, "")
				lo, hi := time.Duration(0), base // hi inclusive
				switch p.Jitter {
				case NoJitter:
					lo = base
				case EqualJitter:
					lo = base / 2
				case DecorrelatedJitter:
					lo, hi = p.Initial, min(p.Cap, 3*prev)
				case ProportionalJitter:
					lo, hi = time.Duration(float64(base)*(1-p.JitterFraction)), time.Duration(float64(base)*(1+p.JitterFraction))
				}
				if d < lo || d > hi {
					t.Fatalf("failure %d: delay %v outside [%v, %v] (d(n) = %v)", n, d, lo, hi, base)
				}
				if d > p.MaxDelay() || (p.Jitter != ProportionalJitter && d > p.Cap) {
					t.Fatalf("failure %d: delay %v above the cap %v (max %v)", n, d, p.Cap, p.MaxDelay())
				}
				prev = d
			}
		})
	}
}

// ksCritical is the two-sample Kolmogorov–Smirnov critical distance at
// significance 0.001 (c(α) = sqrt(−ln(α/2)/2) ≈ 1.949).
func ksCritical(n, m int) float64 {
	c := math.Sqrt(-math.Log(0.001/2) / 2)
	return c * math.Sqrt(float64(n+m)/float64(n*m))
}

// ksDistance compares a sample with a sample drawn from gonum's uniform
// distribution on [lo, hi).
func ksDistance(sample []float64, lo, hi float64, seed uint64) float64 {
	ref := distuv.Uniform{Min: lo, Max: hi, Src: rand.NewPCG(seed, 99)}
	want := make([]float64, 4*len(sample))
	for i := range want {
		want[i] = ref.Rand()
	}
	got := slices.Clone(sample)
	slices.Sort(got)
	slices.Sort(want)
	return stat.KolmogorovSmirnov(got, nil, want, nil)
}

// drawAt collects the delays a fresh client draws at its (n+1)-th
// consecutive failure.
func drawAt(t *testing.T, p Policy, n, count int, reason string, seed uint64) []float64 {
	b, _ := newTestBackoff(t, p, seed)
	out := make([]float64, count)
	for i := range out {
		b.Reset()
		for range n {
			mustNext(t, b, reason)
		}
		out[i] = mustNext(t, b, reason).Seconds()
	}
	return out
}

// TestDelayDistributionsMatchTheFormulas: the delays at a given failure
// count follow each kind's uniform law, by a Kolmogorov–Smirnov test
// against gonum's uniform distribution; a wrong formula is rejected by the
// same test, so it has the power to notice.
func TestDelayDistributionsMatchTheFormulas(t *testing.T) {
	const count = 3000
	aws := AWSFullJitter()
	after := Reactive2025After()
	grpc := GRPC()
	equal := aws
	equal.Jitter = EqualJitter
	for _, c := range []struct {
		name   string
		p      Policy
		n      int
		reason string
		lo, hi float64 // the law, in seconds
	}{
		{"full jitter, 4th retry", aws, 3, "", 0, 0.08},
		{"full jitter at the cap", aws, 12, "", 0, 2},
		{"equal jitter, 4th retry", equal, 3, "", 0.04, 0.08},
		{"reactive-2025-after at the cap: the field's 8-24 s", after, 10, "", 8, 24},
		{"reactive-2025-after, first retry after overloaded", after, 0, ReasonOverloaded, 1.5, 4.5},
		{"grpc, 3rd retry: 2.56 s ± 20 %", grpc, 2, "", 2.048, 3.072},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := drawAt(t, c.p, c.n, count, c.reason, 7)
			if d, crit := ksDistance(got, c.lo, c.hi, 8), ksCritical(count, 4*count); d > crit {
				t.Fatalf("KS distance %.4f from uniform [%v, %v) s, critical %.4f", d, c.lo, c.hi, crit)
			}
			// Power: the same test tells a law shifted by a tenth apart.
			shift := (c.hi - c.lo) / 10
			if d, crit := ksDistance(got, c.lo+shift, c.hi+shift, 8), ksCritical(count, 4*count); d <= crit {
				t.Fatalf("KS distance %.4f from a shifted law is within %.4f: the test cannot see a wrong formula", d, crit)
			}
		})
	}
	// Decorrelated jitter depends on the previous delay: given it, the
	// next is uniform on [Initial, 3·previous) when that stays below the
	// cap. Transform each such draw to [0, 1) and test the pooled values.
	t.Run("decorrelated, given the previous delay", func(t *testing.T) {
		p := Policy{Name: "decorrelated", Initial: 5 * time.Millisecond, Multiplier: 1, Cap: 2 * time.Second, Jitter: DecorrelatedJitter}
		b, _ := newTestBackoff(t, p, 3)
		var u []float64
		prev := p.Initial
		for len(u) < count {
			if b.Failures() > 30 {
				b.Reset()
				prev = p.Initial
			}
			d := mustNext(t, b, "")
			if 3*prev < p.Cap {
				u = append(u, float64(d-p.Initial)/float64(3*prev-p.Initial))
			}
			prev = d
		}
		if d, crit := ksDistance(u, 0, 1, 4), ksCritical(count, 4*count); d > crit {
			t.Fatalf("KS distance %.4f of the transformed delays from uniform [0, 1), critical %.4f", d, crit)
		}
	})
}

// TestSeededRunsAreReproducible: the same policy and seed draw the same
// delays; another seed draws others.
func TestSeededRunsAreReproducible(t *testing.T) {
	for _, p := range testPolicies() {
		if p.Jitter == NoJitter || p.Jitter == DecorrelatedJitter && p.Initial == p.Cap {
			continue // nothing random to draw
		}
		run := func(seed uint64) []time.Duration {
			b, _ := newTestBackoff(t, p, seed)
			var ds []time.Duration
			for i := range 200 {
				if i%17 == 0 {
					b.Reset()
				}
				ds = append(ds, mustNext(t, b, ""))
			}
			return ds
		}
		if a, b := run(5), run(5); !slices.Equal(a, b) {
			t.Fatalf("%s: the same seed drew different delays", p.Name)
		}
		if a, b := run(5), run(6); slices.Equal(a, b) {
			t.Fatalf("%s: different seeds drew the same delays", p.Name)
		}
	}
}

// TestResetPolicies: after three failures, walk a connection through its
// life and check the failure count after every step, for every policy.
func TestResetPolicies(t *testing.T) {
	const stable = 30 * time.Second
	steps := []string{"message before connecting", "synced before connecting", "connected", "first message", "second message", "synced", "up 29 s", "up 30 s"}
	for _, c := range []struct {
		reset Reset
		want  []int // failures after each step
	}{
		{ResetOnConnect, []int{3, 3, 0, 0, 0, 0, 0, 0}},
		{ResetOnFirstMessage, []int{3, 3, 3, 0, 0, 0, 0, 0}},
		{ResetWhenSynced, []int{3, 3, 3, 3, 3, 0, 0, 0}},
		{ResetWhenStable, []int{3, 3, 3, 3, 3, 3, 3, 0}},
	} {
		t.Run(c.reset.String(), func(t *testing.T) {
			p := Policy{Name: "t", Initial: time.Second, Multiplier: 2, Cap: time.Minute, Reset: c.reset}
			if c.reset == ResetWhenStable {
				p.StableFor = stable
			}
			b, clk := newTestBackoff(t, p, 1)
			for range 3 {
				mustNext(t, b, "")
			}
			actions := []func(){
				b.MessageReceived, b.Synced, b.Connected, b.MessageReceived, b.MessageReceived, b.Synced,
				func() { clk.now = clk.now.Add(stable - time.Second) },
				func() { clk.now = clk.now.Add(time.Second) },
			}
			for i, act := range actions {
				act()
				if got := b.Failures(); got != c.want[i] {
					t.Fatalf("after %q: %d failures, want %d", steps[i], got, c.want[i])
				}
			}
			if want := uint64(1); b.Stats().Resets != want {
				t.Fatalf("%d resets counted, want %d", b.Stats().Resets, want)
			}
		})
	}
	// A connection that fails before it is healthy keeps counting: the
	// failures only fall back once the client has really recovered.
	p := Reactive2025After()
	b, _ := newTestBackoff(t, p, 1)
	for range 3 {
		mustNext(t, b, "")
		b.Connected()
		b.MessageReceived()
	}
	if b.Failures() != 3 {
		t.Fatalf("connections that dropped before re-syncing reset the count to %d", b.Failures())
	}
	p.Reset, p.StableFor = ResetWhenStable, time.Minute
	b, clk := newTestBackoff(t, p, 1)
	for range 3 {
		mustNext(t, b, "")
		b.Connected()
		clk.now = clk.now.Add(59 * time.Second)
	}
	if b.Failures() != 3 {
		t.Fatalf("connections up 59 s of a required minute reset the count to %d", b.Failures())
	}
}

// TestTheHerdAndItsFix replays the 2025 loop: the server accepts each
// reconnect, says hello at once, then drops the client as overloaded.
// Before the fix the delay never grows past 100 ms ± 50 %; after it, it
// climbs to the cap.
func TestTheHerdAndItsFix(t *testing.T) {
	loop := func(p Policy) (longest time.Duration) {
		b, _ := newTestBackoff(t, p, 2)
		for range 20 {
			longest = max(longest, mustNext(t, b, ReasonOverloaded))
			b.Connected()
			b.MessageReceived() // the first server message: an idle tab has nothing to re-sync but gets it at once
		}
		return longest
	}
	if got := loop(Reactive2025Before()); got > 150*time.Millisecond {
		t.Fatalf("before the fix the longest delay was %v; the reset on the first message should hold it at 100 ms ± 50 %%", got)
	}
	if got := loop(Reactive2025After()); got < 8*time.Second {
		t.Fatalf("after the fix the longest delay was %v; the count should grow to the 16 s cap (8-24 s with jitter)", got)
	}
}

func TestReasonInitialAndMaxAttempts(t *testing.T) {
	p := Reactive2025After()
	p.Jitter, p.JitterFraction = NoJitter, 0
	p.MaxAttempts = 3
	b, _ := newTestBackoff(t, p, 1)
	if d := mustNext(t, b, ReasonOverloaded); d != 3*time.Second {
		t.Fatalf("first delay after overloaded %v, want 3s", d)
	}
	if d := mustNext(t, b, "going away"); d != 2*time.Second {
		t.Fatalf("second delay after another reason %v, want 1s×2", d)
	}
	if d := mustNext(t, b, ReasonOverloaded); d != 12*time.Second {
		t.Fatalf("third delay after overloaded %v, want 3s×4", d)
	}
	if _, err := b.Next(""); !errors.Is(err, ErrMaxAttempts) {
		t.Fatalf("fourth failure of three allowed: %v, want ErrMaxAttempts", err)
	}
	if b.Stats().GaveUp != 1 || b.Stats().Retries != 3 {
		t.Fatalf("stats %+v, want 3 retries and 1 give-up", b.Stats())
	}
	b.Connected()
	b.Synced()
	if d := mustNext(t, b, ""); d != time.Second {
		t.Fatalf("after recovering, first delay %v, want 1s", d)
	}
}

// TestBudget: AWS SDK numbers. 500 tokens pay for 100 retries (50 after
// timeouts); a success after a retry gives its cost back, a first-try
// success one token; a shared budget stops a whole fleet.
func TestBudget(t *testing.T) {
	bud, err := NewBudget(BudgetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	granted := 0
	for {
		if _, ok := bud.TryRetry(false); !ok {
			break
		}
		granted++
	}
	if granted != 100 || bud.Tokens() != 0 {
		t.Fatalf("%d retries granted from 500 tokens at 5 each, %d left", granted, bud.Tokens())
	}
	bud.Succeeded(5)
	bud.Succeeded(0)
	if bud.Tokens() != 6 {
		t.Fatalf("after a retried and a first-try success the budget holds %d, want 5+1", bud.Tokens())
	}
	bud2, _ := NewBudget(BudgetConfig{})
	timeouts := 0
	for ; ; timeouts++ {
		if _, ok := bud2.TryRetry(true); !ok {
			break
		}
	}
	if timeouts != 50 {
		t.Fatalf("%d timeout retries from 500 tokens at 10 each, want 50", timeouts)
	}
	for range 1000 {
		bud2.Succeeded(0)
	}
	if bud2.Tokens() != DefaultBudgetCapacity {
		t.Fatalf("refills overflowed the capacity: %d", bud2.Tokens())
	}

	// A fleet sharing a small budget against a dead service: retries stop.
	shared, _ := NewBudget(BudgetConfig{Capacity: 50})
	p := AWSFullJitter()
	stopped := 0
	for i := range 20 {
		b, _ := newTestBackoff(t, p, uint64(i))
		b.UseBudget(shared)
		for {
			if _, err := b.Next(""); err != nil {
				if !errors.Is(err, ErrBudgetExhausted) {
					t.Fatal(err)
				}
				stopped++
				break
			}
		}
	}
	if s := shared.Stats(); stopped != 20 || s.Retries != 10 {
		t.Fatalf("%d clients stopped after %d retries in all; a 50-token budget at 5 a retry allows 10", stopped, s.Retries)
	}
	// Through a Backoff, a success after a retry refills what it took.
	b, _ := newTestBackoff(t, p, 1)
	refill, _ := NewBudget(BudgetConfig{Capacity: 20})
	b.UseBudget(refill)
	mustNext(t, b, ReasonTimeout)
	if refill.Tokens() != 10 {
		t.Fatalf("a retry after a timeout left %d of 20 tokens, want 10", refill.Tokens())
	}
	b.Connected()
	if refill.Tokens() != 20 {
		t.Fatalf("the retry's success left %d tokens, want its 10 back", refill.Tokens())
	}
}

// TestBudgetUnderConcurrentClients (run with -race): every client takes a
// retry and gives it back, so however they interleave the budget ends full
// and never goes negative.
func TestBudgetUnderConcurrentClients(t *testing.T) {
	bud, _ := NewBudget(BudgetConfig{Capacity: 40})
	var wg sync.WaitGroup
	var mu sync.Mutex
	low := bud.Tokens()
	asked := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				cost, ok := bud.TryRetry((g+i)%3 == 0)
				tokens := bud.Tokens()
				mu.Lock()
				asked++
				low = min(low, tokens)
				mu.Unlock()
				if ok {
					bud.Succeeded(cost)
				}
			}
		}()
	}
	wg.Wait()
	s := bud.Stats()
	if bud.Tokens() != 40 || low < 0 {
		t.Fatalf("budget ends at %d (lowest seen %d), want 40 and never negative", bud.Tokens(), low)
	}
	if int(s.Retries+s.Refusals) != asked || s.Refills != s.Retries {
		t.Fatalf("stats %+v do not add up to %d asks", s, asked)
	}
}

func TestPolicyValidation(t *testing.T) {
	good := Reactive2025After()
	for _, c := range []struct {
		field string
		edit  func(*Policy)
	}{
		{"Initial", func(p *Policy) { p.Initial = 0 }},
		{"Multiplier", func(p *Policy) { p.Multiplier = 0.5 }},
		{"Multiplier", func(p *Policy) { p.Multiplier = math.NaN() }},
		{"Cap", func(p *Policy) { p.Cap = time.Millisecond }},
		{"Jitter", func(p *Policy) { p.Jitter = 9 }},
		{"JitterFraction", func(p *Policy) { p.JitterFraction = 1.5 }},
		{"JitterFraction", func(p *Policy) { p.Jitter = FullJitter }},
		{"MaxAttempts", func(p *Policy) { p.MaxAttempts = -1 }},
		{"Reset", func(p *Policy) { p.Reset = -1 }},
		{"StableFor", func(p *Policy) { p.Reset = ResetWhenStable }},
		{"StableFor", func(p *Policy) { p.StableFor = time.Second }},
		{"MinConnectTimeout", func(p *Policy) { p.MinConnectTimeout = -time.Second }},
		{`ReasonInitial["overloaded"]`, func(p *Policy) { p.ReasonInitial = map[string]time.Duration{ReasonOverloaded: time.Hour} }},
	} {
		p := good
		p.ReasonInitial = nil
		c.edit(&p)
		err := p.Validate()
		if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), c.field+" = ") {
			t.Errorf("editing %s: error %v, want one naming the field and wrapping ErrInvalidPolicy", c.field, err)
		}
		if _, err := New(p, &manualClock{}, rand.NewPCG(1, 1)); err == nil {
			t.Errorf("New accepted a policy with a bad %s", c.field)
		}
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []BudgetConfig{{Capacity: -1}, {RetryCost: -5}, {Capacity: 4, RetryCost: 5}} {
		if _, err := NewBudget(cfg); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("budget %+v: error %v, want ErrInvalidPolicy", cfg, err)
		}
	}
}

// TestPresetsCarryTheIncidentConstants checks the presets against the
// constants of INCIDENTS.md, and the names the scenario files use.
func TestPresetsCarryTheIncidentConstants(t *testing.T) {
	type consts struct {
		initial, cap, overloaded time.Duration
		mult, frac               float64
		jitter                   Jitter
		reset                    Reset
	}
	want := map[string]consts{
		"reactive-2025-before": {100 * time.Millisecond, 16 * time.Second, 0, 2, 0.5, ProportionalJitter, ResetOnFirstMessage},
		"reactive-2025-after":  {time.Second, 16 * time.Second, 3 * time.Second, 2, 0.5, ProportionalJitter, ResetWhenSynced},
		"grpc":                 {time.Second, 120 * time.Second, 0, 1.6, 0.2, ProportionalJitter, ResetOnFirstMessage},
		"aws-full-jitter":      {10 * time.Millisecond, 2 * time.Second, 0, 2, 0, FullJitter, ResetOnConnect},
	}
	for _, p := range Presets() {
		w, ok := want[p.Name]
		if !ok {
			t.Fatalf("unexpected preset %q", p.Name)
		}
		got := consts{p.Initial, p.Cap, p.ReasonInitial[ReasonOverloaded], p.Multiplier, p.JitterFraction, p.Jitter, p.Reset}
		if got != w {
			t.Errorf("%s: %+v, want %+v", p.Name, got, w)
		}
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
		if q, err := Preset(p.Name); err != nil || q.Name != p.Name {
			t.Errorf("Preset(%q) = %v, %v", p.Name, q.Name, err)
		}
		delete(want, p.Name)
	}
	if len(want) != 0 {
		t.Fatalf("missing presets: %v", want)
	}
	if _, err := Preset("exponential"); !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), "grpc") {
		t.Fatalf("unknown preset: %v, want an error listing the names", err)
	}
	for j := NoJitter; j <= ProportionalJitter; j++ {
		if got, err := ParseJitter(j.String()); err != nil || got != j {
			t.Errorf("ParseJitter(%q) = %v, %v", j, got, err)
		}
	}
	for r := ResetOnConnect; r <= ResetWhenStable; r++ {
		if got, err := ParseReset(r.String()); err != nil || got != r {
			t.Errorf("ParseReset(%q) = %v, %v", r, got, err)
		}
	}
	if _, err := ParseJitter("gaussian"); err == nil {
		t.Error("ParseJitter accepted an unknown kind")
	}
}

// TestGRPCConnectTimeout: each attempt may take max(20 s, the current
// delay); the minimum rules until the delay passes it.
func TestGRPCConnectTimeout(t *testing.T) {
	b, _ := newTestBackoff(t, GRPC(), 1)
	if got := b.ConnectTimeout(); got != 20*time.Second {
		t.Fatalf("first attempt's timeout %v, want 20s", got)
	}
	for range 12 {
		mustNext(t, b, "")
	}
	if got, want := b.ConnectTimeout(), GRPC().Base(11, ""); got != want || want <= 20*time.Second {
		t.Fatalf("after 12 failures the timeout is %v, want the 12th delay %v", got, want)
	}
	plain, _ := newTestBackoff(t, AWSFullJitter(), 1)
	if plain.ConnectTimeout() != 0 {
		t.Fatal("a policy without a minimum connect timeout set one")
	}
}
