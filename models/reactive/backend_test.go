package reactive

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"stormglass/models/hardware"
	"stormglass/realtime/backoff"
	"stormglass/realtime/invalidation"
	"stormglass/sim"
)

var pro = hardware.Tier{Name: "pro", Cores: 16, Speed: 1, MemoryGiB: 32}

// smallConfig is a small app: a few thousand tabs, a search flush a
// minute, the pre-2025 engine and client.
func smallConfig() Config {
	return Config{
		Tier:         pro,
		Instances:    1,
		Gateway:      GatewayConfig{HandshakeCost: 40 * time.Millisecond, Threads: 64, Backlog: 1024, ConnectionLimit: 100_000, Heartbeat: 15 * time.Second},
		Workers:      WorkerConfig{Concurrency: 16, Search: Cost{100 * time.Millisecond, 1}, Range: Cost{4 * time.Millisecond, 0.5}},
		Invalidation: invalidation.Config{QueueLimit: 10_000, LegacyMetadataReads: true},
		Search: SearchConfig{FlushDocs: 100_000, FlushInterval: time.Minute, Compaction: true,
			CompactionSegments: 4, CompactionMaxSegments: 10, CompactionTime: 30 * time.Second},
		Clients: ClientConfig{
			InitialBackground: 1500, InitialForeground: 300, InitialVersion: "before",
			Arrivals: []RatePoint{{0, 1}},
			Session:  15 * time.Minute, KeepOpen: 0.1, ReloadForeground: 2 * time.Hour, ReloadBackground: 72 * time.Hour,
			RangeQueries: 4, SearchShare: 0.8, SearchQueries: 2, MessageInterval: 5 * time.Minute,
			Versions: []Version{{"before", backoff.Reactive2025Before(), 30 * time.Second}, {"after", backoff.Reactive2025After(), 60 * time.Second}},
			Release:  "before",
		},
	}
}

// run builds a backend, lets setup schedule changes, and runs it to horizon.
func runBackend(t *testing.T, cfg Config, seed uint64, horizon time.Duration, setup func(*sim.Kernel, *Backend)) *Backend {
	t.Helper()
	k := sim.NewKernel(sim.Config{})
	b, err := New(k, sim.NewStreams(seed), cfg, time.Second, horizon)
	if err != nil {
		t.Fatal(err)
	}
	b.Start()
	if setup != nil {
		setup(k, b)
	}
	if err := k.RunUntil(context.Background(), horizon); err != nil {
		t.Fatal(err)
	}
	return b
}

func figures(b *Backend) map[string]Figure {
	out := map[string]Figure{}
	for _, f := range b.Summary() {
		out[f.Name] = f
	}
	return out
}

func series(b *Backend, name string) []float64 {
	for i, m := range SeriesInfo() {
		if m.Name == name {
			return b.Series()[i]
		}
	}
	panic("no series " + name)
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := smallConfig()
	cfg.Instances = 0
	cfg.Gateway.Backlog = 1 // below its threads
	cfg.Clients.Release = "later"
	cfg.Clients.RangeQueries, cfg.Clients.SearchQueries = 6, 3
	_, err := New(sim.NewKernel(sim.Config{}), sim.NewStreams(1), cfg, time.Second, time.Hour)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err %v, want ErrConfig", err)
	}
	for _, want := range []string{"instances 0", "backlog ≥ threads", `version "later" is not declared`, "6 range and 3 search queries"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestSameSeedSameRun(t *testing.T) {
	a := runBackend(t, smallConfig(), 7, 20*time.Minute, nil)
	b := runBackend(t, smallConfig(), 7, 20*time.Minute, nil)
	c := runBackend(t, smallConfig(), 8, 20*time.Minute, nil)
	for i := range SeriesInfo() {
		if !slices.Equal(a.Series()[i], b.Series()[i]) {
			t.Fatalf("series %s differs between two runs of one seed", SeriesInfo()[i].Name)
		}
	}
	if !slices.Equal(a.Summary(), b.Summary()) {
		t.Fatal("summary differs between two runs of one seed")
	}
	if slices.Equal(series(a, "queries"), series(c, "queries")) {
		t.Fatal("two seeds gave the same query series")
	}
}

// The counts the sampler reads are kept as tabs change; they must equal a
// count of the tabs at any moment, storm or not.
func TestKeptCountsMatchTheTabs(t *testing.T) {
	cfg := smallConfig()
	cfg.Invalidation.QueueLimit = 500 // overflows at every flush
	var checks int
	runBackend(t, cfg, 3, 30*time.Minute, func(k *sim.Kernel, b *Backend) {
		k.AtFunc(12*time.Minute, func() { _ = b.Deploy(pro, 1, 20*time.Second) })
		for at := 17 * time.Second; at < 30*time.Minute; at += 37 * time.Second {
			k.AtFunc(at, func() {
				checks++
				fg, inSync, connected := 0, 0, 0
				open := make([]int, len(cfg.Clients.Versions))
				for i := range b.clients {
					c := &b.clients[i]
					if c.state == stGone {
						continue
					}
					open[c.version]++
					if c.fg {
						fg++
					}
					if synced(c) {
						inSync++
					}
					if c.state == stConnected {
						connected++
					}
				}
				if fg != b.foreground || inSync != b.inSync || connected != b.connected || !slices.Equal(open, b.versionOpen) {
					t.Errorf("at %v: kept fg %d in-sync %d connected %d versions %v; counted %d %d %d %v",
						k.Now(), b.foreground, b.inSync, b.connected, b.versionOpen, fg, inSync, connected, open)
				}
				if b.connected != b.eng.Connections() && b.eng.Pending() == 0 {
					// Every connected tab holds subscriptions, so the engine
					// knows each connection.
					t.Errorf("at %v: %d connected tabs, engine holds %d connections", k.Now(), b.connected, b.eng.Connections())
				}
			})
		}
	})
	if checks < 40 {
		t.Fatalf("only %d checks ran", checks)
	}
}

// A search flush with the metadata bug invalidates every search at once;
// more than the queue holds closes connections as overloaded. Without the
// bug the same flushes invalidate nothing.
func TestFlushesInvalidateEverySearchOnlyWithTheBug(t *testing.T) {
	cfg := smallConfig()
	cfg.Invalidation.QueueLimit = 1000
	buggy := figures(runBackend(t, cfg, 5, 15*time.Minute, nil))
	cfg.Invalidation.LegacyMetadataReads = false
	fixed := runBackend(t, cfg, 5, 15*time.Minute, nil)
	if buggy["disconnects_overloaded"].Value == 0 || buggy["queries_peak"].Value < 1000 {
		t.Fatalf("with the bug: %v overload disconnects, worst second %v queries; want a burst that overflows",
			buggy["disconnects_overloaded"].Value, buggy["queries_peak"].Value)
	}
	f := figures(fixed)
	if f["disconnects_overloaded"].Value != 0 || f["queries_peak"].Value > 200 {
		t.Fatalf("without the bug: %v overload disconnects, worst second %v queries; want none and no burst",
			f["disconnects_overloaded"].Value, f["queries_peak"].Value)
	}
	if sum(series(fixed, "search.flushes")) < 10 {
		t.Fatalf("%v flushes in 15 minutes, want one a minute", sum(series(fixed, "search.flushes")))
	}
}

// The pre-2025 client comes back at once after every overload close; the
// fixed one backs off, so the same bursts cost far fewer connects.
func TestTheOldClientHerdsAndTheFixedOneBacksOff(t *testing.T) {
	cfg := smallConfig()
	cfg.Invalidation.QueueLimit = 1000
	old := figures(runBackend(t, cfg, 9, 20*time.Minute, nil))
	cfg.Clients.InitialVersion, cfg.Clients.Release = "after", "after"
	fixed := figures(runBackend(t, cfg, 9, 20*time.Minute, nil))
	perClose := func(f map[string]Figure) float64 {
		return f["connects"].Value / max(1, f["disconnects_overloaded"].Value)
	}
	if old["disconnects_overloaded"].Value == 0 || fixed["disconnects_overloaded"].Value == 0 {
		t.Fatalf("overload disconnects: old %v, fixed %v; want both clients closed by the bursts",
			old["disconnects_overloaded"].Value, fixed["disconnects_overloaded"].Value)
	}
	if old["connects"].Value < 3*fixed["connects"].Value {
		t.Fatalf("connects: old client %v, fixed client %v (%.2f and %.2f per overload close); want the old one to herd",
			old["connects"].Value, fixed["connects"].Value, perClose(old), perClose(fixed))
	}
}

// A deploy drops every connection silently: tabs notice within their
// inactivity timeout, attempts are refused during the gap, and the tabs
// come back on the new tier.
func TestDeployDropsEveryConnectionForTheGap(t *testing.T) {
	cfg := smallConfig()
	cfg.Invalidation.LegacyMetadataReads = false
	var before int
	b := runBackend(t, cfg, 11, 10*time.Minute, func(k *sim.Kernel, b *Backend) {
		k.AtFunc(5*time.Minute, func() {
			before = b.connected
			if err := b.Deploy(hardware.Tier{Name: "free", Cores: 2, Speed: 0.6, MemoryGiB: 1}, 1, time.Minute); err != nil {
				t.Fatal(err)
			}
			if b.connected != 0 {
				t.Errorf("%d connections survive the deploy", b.connected)
			}
		})
	})
	gone := series(b, "disconnects.inactivity")
	noticed := sum(gone[300:331])
	if before < 1000 || noticed < 0.95*float64(before) || sum(gone[:300]) != 0 {
		t.Fatalf("%d tabs connected before the deploy; %v noticed within 31 s (%v before it)", before, noticed, sum(gone[:300]))
	}
	if c := sum(series(b, "connects")[300:360]); c != 0 {
		t.Fatalf("%v connects during the gap", c)
	}
	if tier, _ := b.Tier(); tier.Name != "free" {
		t.Fatalf("serving on %s after the deploy", tier.Name)
	}
	if c := series(b, "clients.connected")[599]; c < 0.9*float64(before) {
		t.Fatalf("%v tabs connected at the end, %d before the deploy", c, before)
	}
}

// A release reaches tabs only as they load: new and reloading tabs take
// it, background tabs keep what they run.
func TestReleaseReachesTabsAsTheyLoad(t *testing.T) {
	cfg := smallConfig()
	cfg.Invalidation.LegacyMetadataReads = false
	b := runBackend(t, cfg, 13, time.Hour, func(k *sim.Kernel, b *Backend) {
		k.AtFunc(time.Minute, func() {
			if err := b.SetRelease("after"); err != nil {
				t.Fatal(err)
			}
		})
	})
	share := series(b, "clients.release_share")
	if share[30] != 1 || share[90] > 0.05 {
		t.Fatalf("share on the released version: %v before the release, %v just after; want 1 then near 0", share[30], share[90])
	}
	if end := share[len(share)-1]; end < 0.2 || end > 0.8 {
		t.Fatalf("share after an hour: %v, want partial adoption (background tabs keep the old client)", end)
	}
}

// Little's law, L = λW, on the queries the service holds (queued in the
// engine or running): the time-average number, against the completion
// rate times the mean time from queueing to the end of the run. A calm day
// (no overflow, so only the rare query of a closing tab leaves unrun) must
// satisfy it to within 2 %, or the model loses or invents work.
func TestLittlesLawOnTheQueriesInFlight(t *testing.T) {
	for _, c := range []struct {
		name  string
		bug   bool
		queue int
	}{
		{"busy workers, no bursts", false, 10_000},
		{"every search re-run at each flush, queued", true, 100_000},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Invalidation.LegacyMetadataReads, cfg.Invalidation.QueueLimit = c.bug, c.queue
			cfg.Clients.MessageInterval = 20 * time.Second
			horizon := 30 * time.Minute
			b := runBackend(t, cfg, 17, horizon, nil)
			if f := figures(b); f["disconnects_overloaded"].Value != 0 {
				t.Fatalf("%v overload disconnects: the case needs a queue that never overflows", f["disconnects_overloaded"].Value)
			}
			l := b.inFlight.Mean(horizon)
			lambda := float64(b.runsDone) / horizon.Seconds()
			w := b.runTime / float64(b.runsDone)
			if rel := math.Abs(l-lambda*w) / (lambda * w); rel > 0.02 || b.runsDone < 50_000 {
				t.Fatalf("L = %.4f queries in flight, λW = %.1f/s × %.4f s = %.4f over %d runs: off by %.2f %%",
					l, lambda, w, lambda*w, b.runsDone, 100*rel)
			}
			t.Logf("L = %.4f, λW = %.4f (λ %.1f/s, W %.1f ms)", l, lambda*w, lambda, 1000*w)
		})
	}
}

// A compaction that finds the CPU saturated fails and the compactor backs
// off (60 s, doubling to 600 s, as in the 2025 engine): in a storm
// compaction all but stops, while flushes go on.
func TestStarvedCompactionsFailAndBackOff(t *testing.T) {
	cfg := smallConfig()
	cfg.Search.CompactionSegments = 2
	cfg.Search.CompactionStarved = 0.95
	cfg.Search.CompactionRetry, cfg.Search.CompactionRetryCap = time.Minute, 10*time.Minute
	calm := runBackend(t, cfg, 21, 20*time.Minute, nil)
	if f := sum(series(calm, "search.compaction_failures")); f != 0 || sum(series(calm, "search.compactions")) < 5 {
		t.Fatalf("calm day: %v compactions, %v failed; want several, none failed", sum(series(calm, "search.compactions")), f)
	}
	cfg.Tier = hardware.Tier{Name: "free", Cores: 2, Speed: 0.6, MemoryGiB: 1} // saturated all day
	starved := runBackend(t, cfg, 21, 40*time.Minute, nil)
	fails := series(starved, "search.compaction_failures")
	var at []int
	for i, f := range fails {
		if f > 0 {
			at = append(at, i)
		}
	}
	if sum(series(starved, "search.compactions")) != 0 || len(at) < 3 {
		t.Fatalf("saturated CPU: %v compactions done, failures at %v s; want none done and several failed", sum(series(starved, "search.compactions")), at)
	}
	// Each wait is the compaction time plus the backoff: 1, 2, 4 minutes...
	for i := 1; i < len(at); i++ {
		gap := time.Duration(at[i]-at[i-1]) * time.Second
		want := cfg.Search.CompactionTime + min(cfg.Search.CompactionRetryCap, time.Minute<<(i-1))
		if gap < want-time.Second || gap > want+time.Second {
			t.Fatalf("failures at %v s: gap %d is %v, want %v", at, i, gap, want)
		}
	}
	if sum(series(starved, "search.flushes")) < 20 {
		t.Fatalf("%v flushes while compaction was failing, want one a minute", sum(series(starved, "search.flushes")))
	}
}

// Under the reject policy a full queue fails single queries instead of
// closing connections: after a redeploy every tab reconnects at once and
// its queries overflow a small queue, yet no tab is disconnected as
// overloaded, the failed queries are retried, and tabs end up in sync.
func TestRejectPolicyFailsQueriesNotConnections(t *testing.T) {
	cfg := smallConfig()
	cfg.Invalidation.LegacyMetadataReads = false
	cfg.Invalidation.QueueLimit = 500
	cfg.Invalidation.Overflow = invalidation.RejectSubscription
	b := runBackend(t, cfg, 23, 8*time.Minute, func(k *sim.Kernel, b *Backend) {
		k.AtFunc(2*time.Minute, func() { _ = b.Deploy(pro, 1, 10*time.Second) })
	})
	f := figures(b)
	refused := b.EngineStats().Rejected + b.EngineStats().RefusedSubscribes
	if f["disconnects_overloaded"].Value != 0 || refused < 100 {
		t.Fatalf("%v overload disconnects, %d queries refused; want none disconnected and many refused", f["disconnects_overloaded"].Value, refused)
	}
	if slo := series(b, "slo.attainment"); slo[len(slo)-1] < 0.95 {
		t.Fatalf("share of tabs in sync at the end: %v, want the refused queries retried and answered", slo[len(slo)-1])
	}
}
