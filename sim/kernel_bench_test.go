package sim

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// holdTimer is the classic hold-model participant: each time it fires it
// re-arms itself at now + Exp(1) seconds, so the number of pending events
// stays constant and every operation is one dispatch plus one schedule.
type holdTimer struct {
	k   *Kernel
	rng *rand.Rand
}

func (h *holdTimer) Handle(Event) {
	h.k.After(time.Duration(h.rng.ExpFloat64()*1e9), h, 0, 0)
}

// BenchmarkHold reports ns per hold operation with p pending events.
func BenchmarkHold(b *testing.B) {
	for _, p := range []int{1_000, 1_000_000} {
		b.Run("pending="+strconv.Itoa(p), func(b *testing.B) {
			k := NewKernel(Config{Seed: 1})
			h := &holdTimer{k: k, rng: k.Rand("hold")}
			for range p {
				k.After(time.Duration(h.rng.ExpFloat64()*1e9), h, 0, 0)
			}
			b.ReportAllocs()
			b.ResetTimer()
			_ = k.RunEvents(context.Background(), uint64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
		})
	}
}

// BenchmarkScheduleCancel measures a timer that is armed and disarmed
// without firing, as heartbeat and request timeouts mostly are.
func BenchmarkScheduleCancel(b *testing.B) {
	k := NewKernel(Config{})
	h := handlerFunc(func(Event) {})
	rng := rand.New(rand.NewPCG(1, 1))
	for range 10_000 {
		k.After(time.Duration(rng.Int64N(1e12)), h, 0, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		id := k.After(time.Duration(rng.Int64N(1e12)), h, 0, 0)
		k.Cancel(id)
	}
}

// BenchmarkScheduleDispatch fills the queue with b.N events and drains it.
func BenchmarkScheduleDispatch(b *testing.B) {
	k := NewKernel(Config{})
	h := handlerFunc(func(Event) {})
	rng := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	for range b.N {
		k.After(time.Duration(rng.Int64N(1e12)), h, 0, 0)
	}
	_ = k.Run(context.Background())
}

// BenchmarkVirtualClockTimer measures production-style timers through the
// clock.Clock interface (one allocation per AfterFunc, as with the real one).
func BenchmarkVirtualClockTimer(b *testing.B) {
	k := NewKernel(Config{})
	c := k.Clock()
	var rearm func()
	rearm = func() { c.AfterFunc(time.Second, rearm) }
	for range 1000 {
		c.AfterFunc(time.Duration(rand.N(1000))*time.Millisecond, rearm)
	}
	b.ReportAllocs()
	b.ResetTimer()
	_ = k.RunEvents(context.Background(), uint64(b.N))
}
