package service

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"stormglass/models/cache"
	"stormglass/models/db"
	"stormglass/models/metric"
	"stormglass/sim"
)

// run builds cfg, runs it to horizon and returns the system.
func run(t *testing.T, cfg Config, seed uint64, sample, horizon time.Duration) *System {
	t.Helper()
	k := sim.NewKernel(sim.Config{Seed: seed})
	s, err := New(k, sim.NewStreams(seed), cfg, sample, horizon)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if err := k.RunUntil(context.Background(), horizon); err != nil {
		t.Fatal(err)
	}
	return s
}

func figure(t *testing.T, s *System, name string) metric.Figure {
	t.Helper()
	for _, f := range s.Summary() {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no figure %q", name)
	return metric.Figure{}
}

func cpuOnly(rate float64, mean time.Duration, cv float64, cores float64) Config {
	return Config{Services: []Service{{
		Name: "web", Pods: 1, Cores: cores, Speed: 1,
		Endpoints: []Endpoint{{Name: "page", Arrivals: []RatePoint{{At: 0, Rate: rate}},
			Steps: []Step{{Kind: StepCPU, Cost: Cost{Mean: mean, CV: cv}}}}},
	}}}
}

// A pod's CPU is processor sharing: with Poisson arrivals the mean
// response is E[S]/(1−ρ) whatever the cost's distribution (M/G/1-PS).
func TestCPUStepIsProcessorSharing(t *testing.T) {
	if testing.Short() {
		t.Skip("a statistical validation (24 two-hour runs): it runs in make test's full pass, not under -race")
	}
	const rate, mean = 80.0, 10 * time.Millisecond // ρ = 0.8
	want := mean.Seconds() / (1 - rate*mean.Seconds())
	for _, cv := range []float64{0, 1, 2} {
		var sum, sum2 float64
		const reps = 8
		for r := range reps {
			s := run(t, cpuOnly(rate, mean, cv, 1), uint64(100+r), time.Minute, 2*time.Hour)
			m := figure(t, s, "latency").Value
			sum += m
			sum2 += m * m
		}
		mean := sum / reps
		half := 2.365 * math.Sqrt((sum2/reps-mean*mean)/(reps-1)) // t(0.975, 7)
		if math.Abs(mean-want) > half+0.02*want {
			t.Errorf("cv %g: mean response %.4f s ± %.4f, want %.4f (M/G/1-PS)", cv, mean, half, want)
		}
	}
}

func series(t *testing.T, s *System, name string) []float64 {
	t.Helper()
	for i, in := range s.SeriesInfo() {
		if in.Name == name {
			return s.Series()[i]
		}
	}
	t.Fatalf("no series %q", name)
	return nil
}

func window(xs []float64, from, to int) float64 { return metric.Mean(xs[from:to]) }

// A token bucket at the edge admits its rate and refuses the rest at once.
func TestRateLimitAdmitsTheBucketRate(t *testing.T) {
	cfg := cpuOnly(2000, time.Millisecond, 0, 8)
	cfg.Services[0].RateLimit = 1000
	s := run(t, cfg, 7, time.Second, 2*time.Minute)
	good, refused := window(series(t, s, "goodput"), 10, 120), window(series(t, s, "refused"), 10, 120)
	if math.Abs(good-1000) > 15 {
		t.Errorf("goodput %.1f/s, want the bucket's 1000/s", good)
	}
	if math.Abs(refused-1000) > 40 {
		t.Errorf("refused %.1f/s, want the other 1000/s", refused)
	}
}

// A background job with b threads on n cores slows a request alone to
// n/(1+b) of a core: 10 ms of work beside 7 threads on 2 cores takes 40 ms.
func TestJobHogsTheCPU(t *testing.T) {
	cfg := cpuOnly(1, 10*time.Millisecond, 0, 2)
	cfg.Services[0].Jobs = []Job{{Name: "sync", At: 10 * time.Minute, For: 5 * time.Minute, Threads: 7}}
	s := run(t, cfg, 3, time.Minute, 20*time.Minute)
	p50 := series(t, s, "latency_p50")
	if got := p50[5]; math.Abs(got-0.010) > 0.0005 {
		t.Errorf("before the job: median %.4f s, want 0.010", got)
	}
	if got := p50[12]; math.Abs(got-0.040) > 0.002 {
		t.Errorf("during the job: median %.4f s, want 0.040 = 10 ms × (1+7)/2", got)
	}
	if got := p50[17]; math.Abs(got-0.010) > 0.0005 {
		t.Errorf("after the job: median %.4f s, want 0.010 again", got)
	}
	if cpu := series(t, s, "web.cpu")[12]; cpu < 0.999 {
		t.Errorf("CPU during the job %.3f, want 1: the hog keeps every core busy", cpu)
	}
}

func withDB(rate float64, steps ...Step) Config {
	return Config{
		Databases: []Database{{Name: "db", Config: dbConfig()}},
		Services: []Service{{
			Name: "api", Pods: 2, Cores: 4, Speed: 1,
			Pools:     []Pool{{Database: "db", PoolConfig: poolConfig(20)}},
			Endpoints: []Endpoint{{Name: "get", Arrivals: []RatePoint{{At: 0, Rate: rate}}, Steps: steps}},
		}},
	}
}

// Per-id reads make Rows queries; one batched IN (…) query makes one.
func TestBatchedQueryMakesOneQuery(t *testing.T) {
	perID := withDB(50, Step{Kind: StepQuery, Database: "db", Query: Cost{Mean: time.Millisecond}, Rows: 10})
	batched := withDB(50, Step{Kind: StepQuery, Database: "db", Query: Cost{Mean: time.Millisecond}, Rows: 10, Batched: true, RowCost: 100 * time.Microsecond})
	a := run(t, perID, 5, time.Second, 2*time.Minute)
	b := run(t, batched, 5, time.Second, 2*time.Minute)
	qa, qb := window(series(t, a, "db.queries"), 5, 115), window(series(t, b, "db.queries"), 5, 115)
	ra := window(series(t, a, "requests"), 5, 115)
	if math.Abs(qa/ra-10) > 0.3 || math.Abs(qb/ra-1) > 0.05 {
		t.Errorf("queries per request: per id %.2f (want 10), batched %.2f (want 1)", qa/ra, qb/ra)
	}
	// Ten round trips, each borrowing a connection, against one: the
	// per-id page is slower.
	if la, lb := figure(t, a, "latency").Value, figure(t, b, "latency").Value; la <= lb {
		t.Errorf("mean latency per id %.4f s, batched %.4f s: per id should be slower", la, lb)
	}
}

// A page whose tabs prefetch multiplies the requests by 1 + count × share.
func TestFollowupsMultiplyRequests(t *testing.T) {
	cfg := cpuOnly(2, time.Millisecond, 0, 4)
	ep := &cfg.Services[0].Endpoints[0]
	cfg.Services[0].Endpoints = append(cfg.Services[0].Endpoints, Endpoint{Name: "tab", Steps: []Step{{Kind: StepCPU, Cost: Cost{Mean: time.Millisecond}}}})
	ep = &cfg.Services[0].Endpoints[0]
	ep.Followups = []Followup{{Endpoint: "tab", Count: 8, After: 30 * time.Second, Share: 0.9}}
	s := run(t, cfg, 11, time.Minute, 2*time.Hour)
	total := figure(t, s, "requests_total").Value
	want := 2 * 7200 * (1 + 8*0.9)
	if math.Abs(total-want)/want > 0.05 {
		t.Errorf("requests %.0f, want about %.0f = pages × (1 + 8 × 0.9)", total, want)
	}
	cfg.Services[0].Endpoints[0].Followups[0].Share = 0
	s = run(t, cfg, 11, time.Minute, 2*time.Hour)
	if got := figure(t, s, "requests_total").Value; math.Abs(got-2*7200)/(2*7200) > 0.05 {
		t.Errorf("prefetch off: requests %.0f, want about %d", got, 2*7200)
	}
}

// Broadcast sends to every connection the pod holds; publish/subscribe to
// the group. CPU = rate × per-recipient cost × recipients / cores.
func TestFanoutCPUFollowsRecipients(t *testing.T) {
	fan := func(mode FanoutMode) Config {
		cfg := cpuOnly(30, 0, 0, 8)
		v := &cfg.Services[0]
		v.Connections, v.ConnectionLimit = 30_000, 30_000
		v.Endpoints[0].Steps = []Step{{Kind: StepFanout, Fanout: mode, GroupSize: 50, PerRecipient: 8 * time.Microsecond}}
		return cfg
	}
	b := run(t, fan(Broadcast), 13, time.Minute, time.Hour)
	p := run(t, fan(PubSub), 13, time.Minute, time.Hour)
	ub, up := window(series(t, b, "web.cpu"), 1, 60), window(series(t, p, "web.cpu"), 1, 60)
	wantB := 30 * 8e-6 * 30_000 / 8 // 0.9
	if math.Abs(ub-wantB) > 0.03 {
		t.Errorf("broadcast CPU %.3f, want %.3f", ub, wantB)
	}
	if wantP := 30 * 8e-6 * 50 / 8; math.Abs(up-wantP) > 0.001 {
		t.Errorf("pub/sub CPU %.4f, want %.4f", up, wantP)
	}
	// At 90 % busy the deliveries queue: latency grows far above the 0.24 s
	// of work one message needs.
	if lb := figure(t, b, "latency").P99; lb < 1 {
		t.Errorf("broadcast p99 %.2f s, want above 1 s at 90 %% CPU", lb)
	}
}

// Same seed, same series.
func TestSameSeedSameSeries(t *testing.T) {
	cfg := withDB(100, Step{Kind: StepCPU, Cost: Cost{Mean: time.Millisecond, CV: 1}},
		Step{Kind: StepQuery, Database: "db", Query: Cost{Mean: 2 * time.Millisecond, CV: 1}, Rows: 3})
	cfg.Services[0].Endpoints[0].Timeout = time.Second
	cfg.Services[0].Endpoints[0].Retry = 0.3
	a := run(t, cfg, 21, time.Second, 10*time.Minute)
	b := run(t, cfg, 21, time.Second, 10*time.Minute)
	sa, sb := a.Series(), b.Series()
	for i := range sa {
		for j := range sa[i] {
			if sa[i][j] != sb[i][j] {
				t.Fatalf("series %s differs at %d: %v vs %v", a.SeriesInfo()[i].Name, j, sa[i][j], sb[i][j])
			}
		}
	}
}

// Requests that leak their connection exhaust a pod's pool after
// Max / (rate × leak share) seconds; from then on every borrower times
// out. Leak detection gives the connections back and the pool never runs
// dry.
func TestLeakExhaustsThePoolUnlessDetected(t *testing.T) {
	cfg := withDB(20, Step{Kind: StepQuery, Database: "db", Query: Cost{Mean: time.Millisecond}, Rows: 1})
	cfg.Services[0].Pods = 1
	cfg.Services[0].Pools[0].Max = 50
	cfg.Services[0].Endpoints[0].Leak = 0.05 // one per second
	s := run(t, cfg, 17, time.Second, 3*time.Minute)
	inUse := series(t, s, "api.pool_in_use")
	// 50 leaks at one per second: exhausted after about 50 s.
	full := -1
	for i, n := range inUse {
		if n >= 50 {
			full = i
			break
		}
	}
	if full < 30 || full > 75 {
		t.Errorf("pool full after %d s, want about 50 s (50 connections / 1 leak per second)", full)
	}
	if pt := figure(t, s, "errors_pool_timeout").Value; pt < 0.9*20*(180-float64(full)-10) {
		t.Errorf("%.0f acquire timeouts: once exhausted nearly every request should time out", pt)
	}
	cfg.Services[0].Pools[0].LeakDetection = 5 * time.Second
	s = run(t, cfg, 17, time.Second, 3*time.Minute)
	if peak := metric.Max(series(t, s, "api.pool_in_use")); peak > 15 {
		t.Errorf("with leak detection at 5 s the pool peaked at %.0f in use, want about 5 (one leak a second held 5 s)", peak)
	}
	if pt := figure(t, s, "errors_pool_timeout").Value; pt != 0 {
		t.Errorf("with leak detection: %.0f acquire timeouts, want none", pt)
	}
}

// After a database restart, a pool without reconnect fails every call
// with ECONNRESET until its service is restarted by hand; one with
// reconnect recovers by itself within seconds of the database.
func TestReconnectPolicyAfterARestart(t *testing.T) {
	for _, rc := range []db.Reconnect{db.NoReconnect, db.AutoReconnect} {
		cfg := withDB(20, Step{Kind: StepQuery, Database: "db", Query: Cost{Mean: time.Millisecond}, Rows: 1})
		cfg.Services[0].Pools[0].Min = 5
		cfg.Services[0].Pools[0].Reconnect = rc
		k := sim.NewKernel(sim.Config{Seed: 4})
		s, err := New(k, sim.NewStreams(4), cfg, time.Second, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		k.AtFunc(5*time.Minute, func() { _ = s.RestartDatabase("db", time.Minute) })
		k.AtFunc(20*time.Minute, func() { _ = s.RestartService("api") })
		if err := k.RunUntil(context.Background(), 30*time.Minute); err != nil {
			t.Fatal(err)
		}
		errs := series(t, s, "errors")
		during := window(errs, 7*60, 19*60) // the database is back from 6 min
		after := window(errs, 21*60, 29*60)
		switch rc {
		case db.NoReconnect:
			if during < 19 {
				t.Errorf("no reconnect: %.1f errors/s while the service is not restarted, want every request (20/s) failing", during)
			}
			if resets := figure(t, s, "errors_reset").Value; resets < 0.9*20*13*60 {
				t.Errorf("no reconnect: %.0f ECONNRESET errors, want nearly every request from 5 to 20 min", resets)
			}
		case db.AutoReconnect:
			if during > 0.01 {
				t.Errorf("reconnect: %.2f errors/s after the database is back, want none", during)
			}
		}
		if after > 0.01 {
			t.Errorf("%v: %.2f errors/s after the manual restart, want none", rc, after)
		}
	}
}

// An asynchronous hand-off answers at once; the consumers drain the
// backlog at their own pace: the queue grows at arrivals − capacity.
func TestQueueTurnsABurstIntoABacklog(t *testing.T) {
	cfg := Config{
		Queues: []Queue{{Name: "payments", Service: "shop", Endpoint: "fulfil", Consumers: 10}},
		Services: []Service{{Name: "shop", Pods: 1, Cores: 4, Speed: 1, Endpoints: []Endpoint{
			{Name: "order", Arrivals: []RatePoint{{At: 0, Rate: 300}, {At: time.Minute, Rate: 0}},
				Steps: []Step{{Kind: StepEnqueue, Queue: "payments"}}},
			// 10 consumers × 1 / 50 ms = 200 messages/s.
			{Name: "fulfil", Steps: []Step{{Kind: StepWait, Cost: Cost{Mean: 50 * time.Millisecond}}}},
		}}},
	}
	s := run(t, cfg, 9, time.Second, 3*time.Minute)
	depth := series(t, s, "payments.depth")
	if got, want := depth[59], 100.0*60; math.Abs(got-want) > 0.05*want {
		t.Errorf("backlog after 60 s %.0f, want about %.0f = (300 − 200)/s × 60 s", got, want)
	}
	if got := depth[len(depth)-1]; got != 0 {
		t.Errorf("backlog at the end %.0f, want drained (6000 / 200 per second = 30 s)", got)
	}
	if p99 := figure(t, s, "latency").P99; p99 > 0.001 {
		t.Errorf("users waited %.4f s at p99, want at once: the order is only queued", p99)
	}
}

// A hot row locked per order serves 1/hold orders per second; beyond it
// the waiters hold their pooled connections and the pool runs dry. An
// atomic decrement in the cache has no such ceiling. Either way exactly
// the stock is sold.
func TestHotRowLockCapsOrders(t *testing.T) {
	stock := func(mode StockMode) Config {
		cfg := withDB(400, Step{Kind: StepStock, Mode: mode, Database: "db", Query: Cost{Mean: time.Millisecond},
			Hold: Cost{Mean: 4 * time.Millisecond}, Stock: 20_000, LockTimeout: 50 * time.Second})
		cfg.Services[0].Endpoints[0].Timeout = 10 * time.Second
		return cfg
	}
	p := run(t, stock(Pessimistic), 31, time.Second, 2*time.Minute)
	a := run(t, stock(Atomic), 31, time.Second, 2*time.Minute)
	op := window(series(t, p, "orders"), 10, 40)
	if op > 210 || op < 150 {
		t.Errorf("pessimistic: %.0f orders/s, want about 1/(1 ms + 4 ms) = 200/s", op)
	}
	if w := figure(t, p, "db.lock_waiters_peak").Value; w < 35 {
		t.Errorf("pessimistic: at most %.0f lock waiters, want the pools' 40 connections piled on the row", w)
	}
	if oa := window(series(t, a, "orders"), 10, 40); math.Abs(oa-400) > 20 {
		t.Errorf("atomic: %.0f orders/s, want every one of the 400/s", oa)
	}
	for _, s := range []*System{p, a} {
		if sold := figure(t, s, "orders").Value; sold != 20_000 {
			t.Errorf("sold %.0f, want exactly the stock of 20000", sold)
		}
	}
}

// Keys loaded together with a fixed TTL expire together: the database
// sees a spike of misses every TTL. A randomised TTL spreads them.
func TestCacheAvalancheAndRandomisedTTL(t *testing.T) {
	cached := func(spread time.Duration) Config {
		cfg := withDB(2000, Step{Kind: StepQuery, Database: "db", Query: Cost{Mean: 100 * time.Microsecond}, Rows: 1, Cache: "c"})
		cfg.Caches = []Cache{{Name: "c", Config: cache.Config{TTL: 300 * time.Second, TTLSpread: spread}, Keys: 2000, Warm: true}}
		return cfg
	}
	fixed := run(t, cached(0), 41, time.Second, 20*time.Minute)
	spread := run(t, cached(120*time.Second), 41, time.Second, 20*time.Minute)
	pf, ps := figure(t, fixed, "c.misses_peak").Value, figure(t, spread, "c.misses_peak").Value
	if pf < 1000 {
		t.Errorf("fixed TTL: worst second %.0f misses, want most of the 2000 keys at once", pf)
	}
	if ps > pf/3 {
		t.Errorf("TTL 300–420 s: worst second %.0f misses against %.0f with a fixed TTL, want a third at most", ps, pf)
	}
}

// Every invalid field is named with what was expected.
func TestValidateNamesTheField(t *testing.T) {
	cfg := withDB(1, Step{Kind: StepQuery, Database: "nope", Query: Cost{Mean: time.Millisecond}, Rows: 0})
	cfg.Services[0].Endpoints[0].Retry = 1
	cfg.Queues = []Queue{{Name: "q", Service: "api", Endpoint: "missing", Consumers: 1}}
	err := cfg.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("error %v does not wrap ErrConfig", err)
	}
	for _, want := range []string{`database "nope", expected one of the databases`, "rows 0", "retry share 1, expected in [0, 1)", "consumer endpoint api.missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	loop := withDB(1, Step{Kind: StepCall, Service: "api", Endpoint: "b"})
	loop.Services[0].Endpoints = append(loop.Services[0].Endpoints, Endpoint{Name: "b", Steps: []Step{{Kind: StepCall, Service: "api", Endpoint: "get"}}})
	k := sim.NewKernel(sim.Config{})
	if _, err := New(k, sim.NewStreams(1), loop, time.Second, time.Minute); err == nil || !strings.Contains(err.Error(), "form a cycle") {
		t.Errorf("a cycle of calls: error %v, want one naming the cycle", err)
	}
}

// Lookups of ids that do not exist go to the database every time
// (penetration) unless the miss itself is cached for a while.
func TestCachingMissesStopsPenetration(t *testing.T) {
	lookups := func(negative time.Duration) Config {
		cfg := withDB(1000, Step{Kind: StepQuery, Database: "db", Query: Cost{Mean: 100 * time.Microsecond}, Rows: 1, Cache: "c"})
		cfg.Caches = []Cache{{Name: "c", Config: cache.Config{TTL: time.Hour, NegativeTTL: negative}, Keys: 1000, Missing: 0.5, Warm: true}}
		return cfg
	}
	open := run(t, lookups(0), 43, time.Second, 5*time.Minute)
	cached := run(t, lookups(time.Minute), 43, time.Second, 5*time.Minute)
	// Without negative caching every missing-id lookup (500/s) reaches the
	// database; with it, each of the 1000 missing ids does once a minute,
	// about 17/s.
	if m := window(series(t, open, "c.misses"), 60, 300); m < 480 {
		t.Errorf("no negative caching: %.0f misses/s, want the 500/s of missing ids", m)
	}
	if m := window(series(t, cached, "c.misses"), 60, 300); m > 40 {
		t.Errorf("misses cached for a minute: %.0f misses/s, want about 1000/60", m)
	}
}

// A consumer whose database keeps failing does not spin: its message
// comes back a second later, and simulated time goes on.
func TestFailingConsumerRedeliversLater(t *testing.T) {
	cfg := withDB(0, Step{Kind: StepEnqueue, Queue: "q"})
	cfg.Services[0].Endpoints[0].Arrivals = []RatePoint{{At: 0, Rate: 10}, {At: time.Minute, Rate: 0}}
	cfg.Services[0].Endpoints = append(cfg.Services[0].Endpoints, Endpoint{Name: "work",
		Steps: []Step{{Kind: StepQuery, Database: "db", Query: Cost{Mean: time.Millisecond}, Rows: 1}}})
	cfg.Services[0].Pools[0].Min = 2
	cfg.Services[0].Pools[0].Reconnect = db.NoReconnect
	cfg.Queues = []Queue{{Name: "q", Service: "api", Endpoint: "work", Consumers: 2}}
	k := sim.NewKernel(sim.Config{Seed: 8})
	s, err := New(k, sim.NewStreams(8), cfg, time.Second, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	// The restart breaks the pools' connections for good (no reconnect):
	// every consumer fails at once from then on.
	k.AtFunc(30*time.Second, func() { _ = s.RestartDatabase("db", time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := k.RunUntil(ctx, 3*time.Minute); err != nil {
		t.Fatalf("the run did not reach its horizon: %v", err)
	}
	// Each waiting message is tried about once a second per consumer
	// slot, not thousands of times an instant.
	if ev := k.Events(); ev > 200_000 {
		t.Errorf("%d events in 3 minutes, want a few thousand: failing messages spin", ev)
	}
	// Nothing is processed after the restart, and no message is lost:
	// each is redelivered again and again.
	consumed := series(t, s, "q.consumed")
	if after := window(consumed, 35, 180); after != 0 {
		t.Errorf("%.2f messages/s processed after the restart, want none", after)
	}
}
