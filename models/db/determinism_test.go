package db

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"stormglass/sim"
)

// busyWorld exercises every path at once: three pools (auto reconnect
// with leak detection, no reconnect, auto with idle timeout), random
// query costs, hot-row transactions, leaks, an OOM, a manual restart and
// a process restart. It returns every stat and a hash of every callback's
// time and outcome, in order. check is Config.DeadlockCheck.
func busyWorld(t *testing.T, seed uint64, check time.Duration) (InstanceStats, []PoolStats, uint64) {
	k := newKernel(seed)
	cfg := baseConfig()
	cfg.MemoryBase, cfg.MemoryPerConnection, cfg.MemoryGrowth, cfg.MemoryPerConnectionMax = 1e9, 1e6, 2e5, 4e6
	cfg.MemoryLimit = 1e9 + 90e6
	cfg.RestartTime = 2 * time.Second
	cfg.DeadlockCheck = check
	d := mustNew(t, k, cfg)
	pools := []*Pool{
		mustPool(t, k, d, "a", PoolConfig{Min: 5, Max: 20, AcquireTimeout: time.Second, LeakDetection: 5 * time.Second,
			Reconnect: AutoReconnect, ReconnectDelay: 500 * time.Millisecond}),
		mustPool(t, k, d, "b", PoolConfig{Min: 5, Max: 20, AcquireTimeout: time.Second}),
		mustPool(t, k, d, "c", PoolConfig{Min: 2, Max: 20, AcquireTimeout: time.Second, IdleTimeout: 2 * time.Second,
			Reconnect: AutoReconnect, ReconnectDelay: 300 * time.Millisecond}),
	}
	h := fnv.New64a()
	note := func(tag string, err error) {
		var b strings.Builder
		b.WriteString(tag)
		b.WriteString(k.Now().String())
		if err != nil {
			b.WriteString(err.Error())
		}
		h.Write([]byte(b.String()))
	}
	d.OnRestart(func(cause string) { note("restart "+cause, nil) })
	rng := k.Rand("choices")
	costs := distuv.Exponential{Rate: 200, Src: k.Streams().Source("cost")}
	sim.NewSource(k, exponential(300, k.Streams(), "arrivals"), func(int64) {
		p := pools[rng.IntN(len(pools))]
		p.Acquire(func(c Conn, err error) {
			note("acquire "+p.Name(), err)
			if err != nil {
				return
			}
			if rng.Float64() < 0.01 && p == pools[0] { // only a detects leaks
				p.Leak(c)
				return
			}
			cost := costs.Rand()
			if rng.Float64() < 0.3 {
				row := int64(rng.IntN(3))
				d.Lock(c, row, 10*time.Millisecond, func(err error) {
					note("lock", err)
					if err != nil {
						p.Release(c)
						return
					}
					d.Exec(c, cost, func(err error) {
						note("txn", err)
						d.Unlock(c, row)
						p.Release(c)
					})
				})
				return
			}
			d.Exec(c, cost, func(err error) {
				note("query", err)
				p.Release(c)
			})
		})
	}).Start()
	k.AtFunc(30*time.Second, func() { d.Restart(3 * time.Second) })
	k.AtFunc(50*time.Second, pools[1].RestartProcess)
	run(t, k, 60*time.Second)
	ps := make([]PoolStats, len(pools))
	for i, p := range pools {
		ps[i] = p.Stats()
	}
	return d.Stats(), ps, h.Sum64()
}

// TestDeterminism: the same seed gives identical stats and an identical
// sequence of outcomes; another seed gives different ones.
func TestDeterminism(t *testing.T) {
	for _, check := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run(fmt.Sprintf("deadlock check %v", check), func(t *testing.T) { testDeterminism(t, check) })
	}
}

func testDeterminism(t *testing.T, check time.Duration) {
	st1, ps1, h1 := busyWorld(t, 42, check)
	st2, ps2, h2 := busyWorld(t, 42, check)
	st3, _, h3 := busyWorld(t, 43, check)
	t.Logf("seed 42: %d queries (%d failed), %d OOMs, %d restarts, %d lock timeouts, %d deadlock checks, peak memory %.0f; pools: %d/%d/%d timeouts, %d reclaimed",
		st1.Queries, st1.Failed, st1.OOMs, st1.Restarts, st1.LockTimeouts, st1.DeadlockChecks, st1.PeakMemory,
		ps1[0].Timeouts, ps1[1].Timeouts, ps1[2].Timeouts, ps1[0].Reclaimed)
	if st1 != st2 || h1 != h2 {
		t.Errorf("same seed, different runs:\n%+v\n%+v", st1, st2)
	}
	for i := range ps1 {
		if ps1[i] != ps2[i] {
			t.Errorf("pool %d: same seed, different stats:\n%+v\n%+v", i, ps1[i], ps2[i])
		}
	}
	if st1 == st3 || h1 == h3 {
		t.Error("seeds 42 and 43 gave identical runs")
	}
	if st1.OOMs == 0 || st1.Restarts < 2 || st1.LockTimeouts == 0 || ps1[0].Reclaimed == 0 || ps1[0].Resets == 0 {
		t.Errorf("the world did not exercise every path: %+v, pool a %+v", st1, ps1[0])
	}
	if (check > 0) != (st1.DeadlockChecks > 0) || (check > 0) != (st1.DeadlockWork > 0) {
		t.Errorf("deadlock check %v: %d checks of work %g", check, st1.DeadlockChecks, st1.DeadlockWork)
	}
}

// TestDeadlockCheckOffUnchanged: with DeadlockCheck 0 the busy world runs
// exactly as it did before deadlock checks existed: the same sequence of
// callback times and outcomes (the hash, recorded from the model before
// the checks were added) and the same counts. A deliberate change to the
// model's behaviour must record them again.
func TestDeadlockCheckOffUnchanged(t *testing.T) {
	st, _, h := busyWorld(t, 42, 0)
	if h != 0xc24d23cca630210b {
		t.Errorf("outcome hash %#x, want 0xc24d23cca630210b as before deadlock checks", h)
	}
	got := []int64{st.Queries, st.Completed, st.Failed, st.LockRequests, st.LockGrants, st.LockWaits, st.LockTimeouts, st.LockFailures, int64(st.PeakExecuting), int64(st.PeakLockWait)}
	want := []int64{16246, 14806, 1440, 5229, 4392, 812, 222, 615, 35, 11}
	if !slices.Equal(got, want) || st.DeadlockChecks != 0 || st.DeadlockWork != 0 {
		t.Errorf("queries, completed, failed, lock requests, grants, waits, timeouts, failures, peak executing, peak waiters %v, want %v as before (and no check: %d, %g)",
			got, want, st.DeadlockChecks, st.DeadlockWork)
	}
}

// TestConfigErrors: every invalid field is reported, named, with its
// expected range, wrapping ErrConfig.
func TestConfigErrors(t *testing.T) {
	good := baseConfig()
	good.MemoryLimit = 1e9
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	nan := func() float64 { var z float64; return z / z }()
	cases := []struct {
		field, want string
		edit        func(*Config)
	}{
		{"Cores", "above 0", func(c *Config) { c.Cores = 0 }},
		{"Cores", "above 0", func(c *Config) { c.Cores = nan }},
		{"Speed", "above 0", func(c *Config) { c.Speed = -1 }},
		{"Knee", "at least 1", func(c *Config) { c.Knee = 0 }},
		{"Thrash", "at least 0", func(c *Config) { c.Thrash = -0.1 }},
		{"MaxConnections", "at least 1", func(c *Config) { c.MaxConnections = 0 }},
		{"MemoryBase", "at least 0", func(c *Config) { c.MemoryBase = -1 }},
		{"MemoryPerConnection", "at least 0", func(c *Config) { c.MemoryPerConnection = -1; c.MemoryPerConnectionMax = -1 }},
		{"MemoryGrowth", "at least 0", func(c *Config) { c.MemoryGrowth = nan }},
		{"MemoryPerConnectionMax", "at least MemoryPerConnection", func(c *Config) { c.MemoryPerConnectionMax = c.MemoryPerConnection / 2 }},
		{"MemoryLimit", "above MemoryBase", func(c *Config) { c.MemoryBase = 2e9 }},
		{"MemoryLimit", "0 (no limit)", func(c *Config) { c.MemoryLimit = -1 }},
		{"RestartTime", "above 0", func(c *Config) { c.RestartTime = 0 }},
		{"DeadlockCheck", "at least 0", func(c *Config) { c.DeadlockCheck = -time.Nanosecond }},
	}
	for _, tc := range cases {
		c := good
		tc.edit(&c)
		err := c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field+" ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one wrapping ErrConfig naming %s and %q", tc.field, err, tc.field, tc.want)
		}
		if _, err := New(newKernel(1), "db", c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New accepted it (%v)", tc.field, err)
		}
	}
	all := Config{Cores: -1, Speed: 0, Knee: 0, Thrash: -1, MaxConnections: 0, RestartTime: -1, MemoryLimit: -1, DeadlockCheck: -1}
	if n := strings.Count(all.Validate().Error(), "invalid database configuration"); n != 8 {
		t.Errorf("a config wrong in 8 fields gave %d errors: %v", n, all.Validate())
	}

	goodPool := PoolConfig{Min: 1, Max: 2, AcquireTimeout: time.Second, Reconnect: AutoReconnect, ReconnectDelay: time.Second}
	if err := goodPool.Validate(); err != nil {
		t.Fatalf("good pool config: %v", err)
	}
	pcases := []struct {
		field, want string
		edit        func(*PoolConfig)
	}{
		{"Max", "at least 1", func(c *PoolConfig) { c.Max, c.Min = 0, 0 }},
		{"Min", "from 0 to Max", func(c *PoolConfig) { c.Min = 3 }},
		{"Min", "from 0 to Max", func(c *PoolConfig) { c.Min = -1 }},
		{"AcquireTimeout", "above 0", func(c *PoolConfig) { c.AcquireTimeout = 0 }},
		{"IdleTimeout", "at least 0", func(c *PoolConfig) { c.IdleTimeout = -1 }},
		{"LeakDetection", "at least 0", func(c *PoolConfig) { c.LeakDetection = -1 }},
		{"Reconnect", "none or auto", func(c *PoolConfig) { c.Reconnect = 7 }},
		{"ReconnectDelay", "above 0 with auto", func(c *PoolConfig) { c.ReconnectDelay = 0 }},
		{"ReconnectDelay", "at least 0", func(c *PoolConfig) { c.Reconnect, c.ReconnectDelay = NoReconnect, -1 }},
	}
	k := newKernel(1)
	d := mustNew(t, k, baseConfig())
	for _, tc := range pcases {
		c := goodPool
		tc.edit(&c)
		err := c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "pool "+tc.field+" ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one wrapping ErrConfig naming %s and %q", tc.field, err, tc.field, tc.want)
		}
		if _, err := NewPool(k, "p", d, c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: NewPool accepted it (%v)", tc.field, err)
		}
	}
	if _, err := NewPool(k, "p", nil, goodPool); !errors.Is(err, ErrConfig) {
		t.Errorf("NewPool without an instance: %v", err)
	}

	for _, s := range []string{"none", "auto"} {
		r, err := ParseReconnect(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseReconnect(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseReconnect("sometimes"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "none or auto") {
		t.Errorf("ParseReconnect(sometimes): %v", err)
	}
}
