package admission

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stormglass/realtime/clock"
)

// tickingClock is safe for concurrent use and moves forward 100µs per
// reading, so a hammering test sees time pass without the wall clock.
type tickingClock struct{ ticks atomic.Int64 }

func (c *tickingClock) Now() time.Time {
	return t0.Add(time.Duration(c.ticks.Add(1)) * 100 * time.Microsecond)
}

func (c *tickingClock) AfterFunc(time.Duration, func()) clock.Timer {
	panic("admission.Service must not arrange calls")
}

// TestServiceHammer calls a Service from several goroutines at once —
// admissions, releases, pauses, idle sweeps, live rate changes, stats —
// and checks the invariants that must hold under any interleaving: in
// flight never above the limit, every snapshot of the counts adds up, and
// at the end every admission was released and counted once. Run it with
// -race. On the ticking clock the run must also have admitted and hit
// each limit; on the real clock how often it does depends on the machine,
// so only the invariants are checked there.
func TestServiceHammer(t *testing.T) {
	for name, clk := range map[string]clock.Clock{"ticking": &tickingClock{}, "real": clock.Real{}} {
		t.Run(name, func(t *testing.T) {
			const workers, perWorker = 8, 2000
			const maxRequests, maxConns = 5, 3
			svc, err := NewService(Config{
				Requests:    Limits{Concurrency: ConcurrencyConfig{Max: maxRequests}, Rate: RateConfig{PerSecond: 10_000}},
				Connections: Limits{Concurrency: ConcurrencyConfig{Max: maxConns}, Rate: RateConfig{PerSecond: 5_000, Burst: 10}},
				Degradation: DegradationConfig{QuietPeriod: time.Millisecond},
			}, clk)
			if err != nil {
				t.Fatal(err)
			}
			var inFlight [numKinds]atomic.Int64
			var asked [numKinds]atomic.Uint64
			limit := [numKinds]int64{Request: maxRequests, Connection: maxConns}
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 0x5AFE))
					var held []Ticket
					release := func() {
						tk := held[len(held)-1]
						held = held[:len(held)-1]
						inFlight[tk.Kind()].Add(-1) // before the service frees the slot
						if err := svc.Release(tk); err != nil {
							t.Error(err)
						}
					}
					for range perWorker {
						switch op := rng.IntN(100); {
						case op < 2:
							svc.ObservePause(time.Duration(rng.Int64N(int64(200 * time.Millisecond))))
						case op < 4:
							svc.IdleToClose([]time.Time{t0, t0.Add(time.Hour)})
							svc.ShouldClose(t0)
						case op < 5:
							if err := svc.SetRate(Kind(rng.IntN(2)), 1_000+10_000*rng.Float64()); err != nil {
								t.Error(err)
							}
							if err := svc.SetBurst(Kind(rng.IntN(2)), rng.IntN(20)); err != nil {
								t.Error(err)
							}
						case op < 8:
							st := svc.Stats()
							for k := range numKinds {
								if ks := st.Kind(k); ks.Asked != ks.Admitted+ks.Refused() || ks.InFlight > int(limit[k]) {
									t.Errorf("%v snapshot %+v", k, ks)
								}
							}
							_ = svc.Level()
						case op < 45 && len(held) > 0:
							release()
						default:
							k := Kind(rng.IntN(2))
							asked[k].Add(1)
							var d Decision
							if k == Connection {
								d = svc.AdmitConnection()
							} else {
								d = svc.AdmitRequest()
							}
							if d.Admitted {
								if n := inFlight[k].Add(1); n > limit[k] {
									t.Errorf("%d %vs in flight, limit %d", n, k, limit[k])
								}
								held = append(held, d.Ticket)
							}
						}
					}
					for len(held) > 0 {
						release()
					}
				}()
			}
			wg.Wait()
			st := svc.Stats()
			for k := range numKinds {
				ks := st.Kind(k)
				if ks.Asked != asked[k].Load() || ks.Asked != ks.Admitted+ks.Refused() ||
					ks.Released != ks.Admitted || ks.InFlight != 0 || ks.BadReleases != 0 || ks.PeakInFlight > int(limit[k]) {
					t.Errorf("%v: final stats %+v, asked %d", k, ks, asked[k].Load())
				}
				if _, ticking := clk.(*tickingClock); ticking && (ks.Admitted == 0 || ks.RefusedConcurrency == 0) {
					t.Errorf("%v: the hammer never admitted or never hit the limit: %+v", k, ks)
				}
			}
			if st.Degradation.RefusedConnections != st.Connections.RefusedDegraded {
				t.Errorf("degrader refused %d connections, gate counted %d", st.Degradation.RefusedConnections, st.Connections.RefusedDegraded)
			}
		})
	}
}
