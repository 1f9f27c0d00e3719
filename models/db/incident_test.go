package db

import (
	"errors"
	"testing"
	"time"

	"stormglass/sim"
)

// TestIncident4PodsDoubled replays incident 4's shape. Every pod opens its
// own pool of 20; each connection's buffers grow with the queries it runs.
// With the daily 8 pods the instance's memory levels off under its limit;
// with the pod count doubled the connections double, memory crosses the
// limit, and the instance is killed. Half the pods (the Node layer, an ORM
// without reconnect) then fail every query with ECONNRESET until their
// processes are restarted by hand; the other half reconnect by themselves
// within RestartTime + ReconnectDelay + one query.
func TestIncident4PodsDoubled(t *testing.T) {
	const mib = 1 << 20
	cfg := Config{Cores: 32, Speed: 1, Knee: 256, Thrash: 0.01, MaxConnections: 1000,
		MemoryBase: 4096 * mib, MemoryPerConnection: 4 * mib, MemoryGrowth: mib / 4, MemoryPerConnectionMax: 16 * mib,
		MemoryLimit: 8192 * mib, RestartTime: 30 * time.Second}
	const perPod, query = 20, 0.01
	think := 100 * time.Millisecond
	type world struct {
		k      *sim.Kernel
		d      *Instance
		pools  []*Pool
		logs   []*[]outcome
		oomAt  time.Duration
		causes []string
	}
	build := func(pods int) *world {
		w := &world{k: newKernel(4), oomAt: -1}
		w.d = mustNew(t, w.k, cfg)
		w.d.OnRestart(func(c string) {
			w.causes = append(w.causes, c)
			if w.oomAt < 0 {
				w.oomAt = w.k.Now()
			}
		})
		for i := range pods {
			rc := NoReconnect // the Node layer
			if i%2 == 1 {
				rc = AutoReconnect
			}
			p := mustPool(t, w.k, w.d, "pod", PoolConfig{Min: perPod, Max: perPod, AcquireTimeout: 3 * time.Second,
				Reconnect: rc, ReconnectDelay: time.Second})
			var log []outcome
			for range perPod {
				(&worker{k: w.k, d: w.d, p: p, cost: query, think: think, log: &log}).start()
			}
			w.pools = append(w.pools, p)
			w.logs = append(w.logs, &log)
		}
		return w
	}

	daily := build(8)
	run(t, daily.k, 60*time.Second)
	st := daily.d.Stats()
	t.Logf("8 pods: %d connections, memory %.0f MiB (peak %.0f) of %.0f MiB; OOMs %d",
		daily.d.Connections(), daily.d.Memory()/mib, st.PeakMemory/mib, cfg.MemoryLimit/mib, st.OOMs)
	if st.OOMs != 0 || daily.d.Connections() != 8*perPod {
		t.Fatalf("daily level: %d OOMs, %d connections; want none and %d", st.OOMs, daily.d.Connections(), 8*perPod)
	}
	if want := cfg.MemoryBase + 8*perPod*cfg.MemoryPerConnectionMax; daily.d.Memory() != want {
		t.Errorf("daily memory %.0f MiB, want every connection at its cap: %.0f MiB", daily.d.Memory()/mib, want/mib)
	}

	event := build(16)
	fix := 120 * time.Second
	for i, p := range event.pools {
		if i%2 == 0 {
			event.k.AtFunc(fix, p.RestartProcess)
		}
	}
	run(t, event.k, fix+time.Second)
	st = event.d.Stats()
	if event.oomAt < 0 || len(event.causes) == 0 || event.causes[0] != CauseOOM {
		t.Fatalf("16 pods: no OOM (causes %v, peak memory %.0f MiB)", event.causes, st.PeakMemory/mib)
	}
	t.Logf("16 pods: %d connections at the start, OOM at %v with peak memory %.2f MiB over the limit; restarts %v",
		16*perPod, event.oomAt, (st.PeakMemory-cfg.MemoryLimit)/mib, event.causes)
	if over := st.PeakMemory - cfg.MemoryLimit; over <= 0 || over > cfg.MemoryGrowth {
		t.Errorf("peak memory %.0f bytes over the limit: the OOM should come with the first growth across it", over)
	}
	up := event.oomAt + cfg.RestartTime
	for i, log := range event.logs {
		var okBetween, resetsBetween, okAfterFix int
		first := time.Duration(-1)
		for _, o := range *log {
			switch {
			case o.at <= event.oomAt:
			case o.at < fix:
				if o.err == nil {
					okBetween++
					if first < 0 {
						first = o.at
					}
				} else if errors.Is(o.err, ErrReset) {
					resetsBetween++
				}
			default:
				if o.err == nil {
					okAfterFix++
				}
			}
		}
		if i%2 == 0 { // Node, no reconnect
			if okBetween != 0 || resetsBetween == 0 || okAfterFix == 0 {
				t.Errorf("pod %d (no reconnect): %d ok and %d ECONNRESET between the OOM and the manual fix, %d ok after; want 0, some, some",
					i, okBetween, resetsBetween, okAfterFix)
			}
			continue
		}
		if first < up || first > up+time.Second+secs(query)+think {
			t.Errorf("pod %d (auto reconnect): first success after the OOM at %v, want within [%v, %v]",
				i, first, up, up+time.Second+secs(query)+think)
		}
	}
	if n := len(event.causes); n != 1 {
		t.Errorf("%d restarts, want 1: with the Node pods stuck, the reconnecting half fits in memory", n)
	}
}
