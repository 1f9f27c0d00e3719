package heartbeat_test

// SyncMonitor on the real clock, where timer callbacks, the reader and the
// callers of Stats all run on goroutines of their own. Run with -race.
// Timing is never asserted tightly: the tests wait for events with a
// generous limit and check their order and counts.

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stormglass/realtime/clock"
	"stormglass/realtime/heartbeat"
)

// fastConfig keeps the tests short. PongTimeout equals the interval so
// that a scheduling hiccup needs to last a whole interval to cost a pong.
var fastConfig = heartbeat.Config{PingInterval: 30 * time.Millisecond, PongTimeout: 30 * time.Millisecond}

// realPeer is a connection on the real clock whose peer answers each ping
// from its own goroutine, as a socket reader would, until it vanishes.
type realPeer struct {
	mon    *heartbeat.SyncMonitor
	pings  chan uint64
	gone   atomic.Bool
	closed atomic.Bool
	writes atomic.Int64

	mu     sync.Mutex
	events []string // closes and transitions, in the order performed
}

func (p *realPeer) SendPing(seq uint64, _ time.Time) error {
	if p.closed.Load() {
		return net.ErrClosed
	}
	p.writes.Add(1)
	select {
	case p.pings <- seq:
	default: // the peer is far behind; this ping is lost
	}
	return nil
}

func (p *realPeer) Close(string) {
	p.closed.Store(true)
	p.mu.Lock()
	p.events = append(p.events, "close")
	p.mu.Unlock()
}

func (p *realPeer) answer() {
	for seq := range p.pings {
		if !p.gone.Load() {
			p.mon.PongReceived(seq)
		}
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestSyncMonitorOnTheRealClock(t *testing.T) {
	p := &realPeer{pings: make(chan uint64, 16)}
	var transitions []heartbeat.Transition
	var inCallback atomic.Int32
	concurrent := false
	active, dead := make(chan struct{}), make(chan struct{})
	var activeOnce sync.Once
	mon, err := heartbeat.NewSyncMonitor(fastConfig, clock.Real{}, p, func(tr heartbeat.Transition) {
		if inCallback.Add(1) > 1 {
			concurrent = true
		}
		defer inCallback.Add(-1)
		_ = p.mon.Stats() // calling back must not deadlock
		p.mu.Lock()
		p.events = append(p.events, tr.To.String())
		p.mu.Unlock()
		transitions = append(transitions, tr) // callbacks never overlap: no lock needed
		switch tr.To {
		case heartbeat.Active:
			activeOnce.Do(func() { close(active) })
		case heartbeat.Dead:
			close(dead)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	p.mon = mon
	go p.answer()
	defer close(p.pings)

	// Readers report traffic and callers read stats while timers fire.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
					mon.MessageReceived()
					_ = mon.Stats()
					_ = mon.State()
				}
			}
		}()
	}
	mon.Start()
	mon.Start() // a second Start is ignored
	waitFor(t, active, "the first answer")
	time.Sleep(5 * fastConfig.PingInterval)
	close(stop)
	wg.Wait()

	// The peer vanishes: the heartbeat alone must find out.
	p.gone.Store(true)
	waitFor(t, dead, "Dead after the peer vanished")
	writes := p.writes.Load()
	time.Sleep(4 * fastConfig.PingInterval)

	if concurrent {
		t.Error("two callbacks ran at once")
	}
	if len(transitions) == 0 || transitions[0].From != heartbeat.Idle {
		t.Fatalf("transitions %v", transitions)
	}
	for i := 1; i < len(transitions); i++ {
		if transitions[i].From != transitions[i-1].To || transitions[i].At.Before(transitions[i-1].At) {
			t.Fatalf("transitions out of order: %v then %v", transitions[i-1], transitions[i])
		}
	}
	if last := transitions[len(transitions)-1]; last.To != heartbeat.Dead || last.Cause != heartbeat.CauseTimeout {
		t.Fatalf("last transition %v", last)
	}
	p.mu.Lock()
	events := p.events
	p.mu.Unlock()
	if n := len(events); n < 2 || events[n-2] != "close" || events[n-1] != "Dead" {
		t.Fatalf("events end with %q: want the close, then Dead", events)
	}
	if p.writes.Load() != writes {
		t.Fatalf("%d pings written after Dead", p.writes.Load()-writes)
	}
	st := mon.Stats()
	if st.State != heartbeat.Dead || st.Ignored < 1 || st.MessagesReceived == 0 || st.PingsWritten == 0 || st.MissedInARow != 3 {
		t.Fatalf("%+v", st)
	}
}

// Closed from the reader's goroutine while the timers run: Dead, with no
// Close of the monitor's own, and no ping after.
func TestSyncMonitorClosedByTheReader(t *testing.T) {
	p := &realPeer{pings: make(chan uint64, 16)}
	dead := make(chan struct{})
	mon, err := heartbeat.NewSyncMonitor(fastConfig, clock.Real{}, p, func(tr heartbeat.Transition) {
		if tr.To == heartbeat.Dead {
			close(dead)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	p.mon = mon
	go p.answer()
	defer close(p.pings)
	mon.Start()
	go func() {
		time.Sleep(2 * fastConfig.PingInterval)
		mon.Closed("read: connection reset by peer")
	}()
	waitFor(t, dead, "Dead after Closed")
	writes := p.writes.Load()
	time.Sleep(3 * fastConfig.PingInterval)
	st := mon.Stats()
	if st.DeathCause != heartbeat.CauseClosed || p.writes.Load() != writes {
		t.Fatalf("%+v; %d writes after Dead", st, p.writes.Load()-writes)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.events {
		if e == "close" {
			t.Fatal("the monitor closed a connection that was already closed")
		}
	}
}
