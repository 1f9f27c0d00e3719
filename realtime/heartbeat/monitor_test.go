package heartbeat_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"stormglass/realtime/clock"
	"stormglass/realtime/heartbeat"
)

// The client side: the same heartbeat towards the server, and a new
// connection when it reports Dead. The pause before dialling stands in for
// a backoff policy.
func TestClientReconnectsWhenDead(t *testing.T) {
	k := newKernel(3)
	const pause = time.Second
	var conns []*link
	var dial func()
	dial = func() {
		n := len(conns)
		l := &link{k: k, nat: &nat{idle: natIdleTimeout, last: k.Now()}, delay: fixed(40 * time.Millisecond)}
		mon, err := heartbeat.NewMonitor(heartbeat.Config{}, k.Clock(), l, func(tr heartbeat.Transition) {
			l.onChange(tr)
			if tr.To != heartbeat.Dead {
				return
			}
			if len(l.closes) != 1 {
				t.Errorf("conn %d reported Dead with closes %q: it must be closed first", n, l.closes)
			}
			k.AfterFunc(pause, dial)
		})
		if err != nil {
			t.Fatal(err)
		}
		l.mon = mon
		conns = append(conns, l)
		mon.Start()
	}
	k.AfterFunc(0, dial)
	loseCurrent := func() { conns[len(conns)-1].nat.loseTable() }
	k.AfterFunc(100*time.Second, loseCurrent)
	k.AfterFunc(2000*time.Second, loseCurrent)
	run(t, k, time.Hour)

	if len(conns) != 3 {
		t.Fatalf("%d connections, want 3 (two losses, two reconnects)", len(conns))
	}
	for i, l := range conns[:2] {
		st := l.mon.Stats()
		answered, _ := lastAnswered(t, l.pings)
		if want := answered + 35*time.Second; st.State != heartbeat.Dead || virtual(k, st.DiedAt) != want {
			t.Fatalf("conn %d: %v at %v, want Dead at %v", i, st.State, virtual(k, st.DiedAt), want)
		}
		next := conns[i+1]
		if started := next.pings[0].sent; started != virtual(k, st.DiedAt)+pause {
			t.Fatalf("conn %d started at %v, want %v after conn %d died", i+1, started, pause, i)
		}
		if !strings.Contains(next.log[1], "Handshaking→Active") {
			t.Fatalf("conn %d: %q", i+1, next.log)
		}
	}
	if st := conns[2].mon.Stats(); st.State != heartbeat.Active || st.Timeouts != 0 {
		t.Fatalf("the last connection: %+v", st)
	}
}

// After a failed ping write the connection is Dead, closed once, and the
// monitor leaves nothing scheduled: no further pings, no timer.
func TestMonitorStopsAfterAWriteFailure(t *testing.T) {
	k := newKernel(0)
	l := newLink(t, k, heartbeat.Config{}, &nat{}, fixed(40*time.Millisecond))
	l.failPing = 3
	l.mon.Start()
	run(t, k, 10*time.Minute)
	st := l.mon.Stats()
	if st.State != heartbeat.Dead || st.DeathCause != heartbeat.CauseWriteFailed || virtual(k, st.DiedAt) != 20*time.Second ||
		!strings.Contains(st.DeathReason, "connection reset by peer") {
		t.Fatalf("%+v", st)
	}
	if st.PingsSent != 3 || len(l.pings) != 2 || len(l.closes) != 1 || l.closes[0] != "heartbeat: ping write failed" {
		t.Fatalf("pings asked %d, written %d, closes %q", st.PingsSent, len(l.pings), l.closes)
	}
	if k.Pending() != 0 {
		t.Fatalf("%d events still scheduled after Dead", k.Pending())
	}
}

// Closed ends the heartbeat without a Close of its own; a pong still in
// flight is then ignored.
func TestMonitorClosedByThePeer(t *testing.T) {
	k := newKernel(0)
	l := newLink(t, k, heartbeat.Config{}, &nat{}, fixed(40*time.Millisecond))
	l.mon.Start()
	k.AfterFunc(10*time.Second+time.Millisecond, func() {
		before := k.Pending() // the pong timeout, and ping 2 on its way
		l.mon.Closed("close frame 1001")
		if k.Pending() != before-1 {
			t.Errorf("Closed left %d of %d events pending: the timer must stop", k.Pending(), before)
		}
	})
	run(t, k, 10*time.Minute)
	st := l.mon.Stats()
	if st.State != heartbeat.Dead || st.DeathCause != heartbeat.CauseClosed || st.DeathReason != "closed: close frame 1001" {
		t.Fatalf("%+v", st)
	}
	if len(l.closes) != 0 || st.PingsSent != 2 || st.Ignored != 1 || k.Pending() != 0 {
		t.Fatalf("closes %q, pings %d, ignored %d, pending %d", l.closes, st.PingsSent, st.Ignored, k.Pending())
	}
}

// The callback may call back into the monitor: here a policy that gives
// up on a connection as soon as it looks Suspect. Its Dead is reported
// after the Suspect that caused it.
func TestCallbackMayCallBack(t *testing.T) {
	k := newKernel(0)
	l := &link{k: k, nat: &nat{}, delay: fixed(40 * time.Millisecond), peerGone: time.Minute}
	var seen []string
	mon, err := heartbeat.NewMonitor(heartbeat.Config{}, k.Clock(), l, func(tr heartbeat.Transition) {
		seen = append(seen, tr.String())
		if tr.To == heartbeat.Suspect {
			l.mon.Closed("suspect connections are dropped")
			if s := l.mon.State(); s != heartbeat.Dead {
				t.Errorf("state after Closed in the callback: %v", s)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	l.mon = mon
	mon.Start()
	run(t, k, 10*time.Minute)
	want := "Idle→Handshaking (start),Handshaking→Active (pong),Active→Suspect (pong timeout),Suspect→Dead (closed)"
	if got := strings.Join(seen, ","); got != want {
		t.Fatalf("callbacks %s, want %s", got, want)
	}
}

// A callback that changes the state (here: Closed as soon as the heartbeat
// starts) is not re-entered for the change it caused, and the ping queued
// behind it is not written to a connection already dead.
func TestCallbackIsNeverReentered(t *testing.T) {
	k := newKernel(0)
	l := &link{k: k, nat: &nat{}, delay: fixed(40 * time.Millisecond)}
	depth := 0
	var seen []string
	mon, err := heartbeat.NewMonitor(heartbeat.Config{}, k.Clock(), l, func(tr heartbeat.Transition) {
		depth++
		defer func() { depth-- }()
		if depth > 1 {
			t.Errorf("callback re-entered with %v", tr)
		}
		seen = append(seen, tr.String())
		if tr.To == heartbeat.Handshaking {
			l.mon.Closed("shutting down")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	l.mon = mon
	mon.Start()
	run(t, k, time.Minute)
	if got := strings.Join(seen, ","); got != "Idle→Handshaking (start),Handshaking→Dead (closed)" {
		t.Fatalf("callbacks %s", got)
	}
	if len(l.pings) != 0 || k.Pending() != 0 {
		t.Fatalf("%d pings written after Dead, %d events pending", len(l.pings), k.Pending())
	}
}

// echoConn answers every ping before SendPing returns, as a loopback or an
// in-process peer might: the pong reaches the monitor before the write is
// reported, and both must count.
type echoConn struct{ mon *heartbeat.Monitor }

func (c *echoConn) SendPing(seq uint64, _ time.Time) error { c.mon.PongReceived(seq); return nil }
func (c *echoConn) Close(string)                           {}

func TestPongBeforeTheWriteIsReported(t *testing.T) {
	k := newKernel(0)
	c := &echoConn{}
	mon, err := heartbeat.NewMonitor(heartbeat.Config{}, k.Clock(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.mon = mon
	mon.Start()
	run(t, k, time.Minute)
	st := mon.Stats()
	if st.State != heartbeat.Active || st.PingsSent != 7 || st.PingsWritten != 7 || st.PongsReceived != 7 ||
		st.Ignored != 0 || st.LastRTT != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestNewMonitorRejectsBadArguments(t *testing.T) {
	k := newKernel(0)
	c := &echoConn{}
	for _, bad := range []struct {
		name string
		clk  clock.Clock
		conn heartbeat.Conn
		cfg  heartbeat.Config
	}{
		{"nil clock", nil, c, heartbeat.Config{}},
		{"nil connection", k.Clock(), nil, heartbeat.Config{}},
		{"bad config", k.Clock(), c, heartbeat.Config{MissedPongs: -3}},
	} {
		if _, err := heartbeat.NewMonitor(bad.cfg, bad.clk, bad.conn, nil); !errors.Is(err, heartbeat.ErrInvalidConfig) {
			t.Errorf("NewMonitor with %s: %v", bad.name, err)
		}
		if _, err := heartbeat.NewSyncMonitor(bad.cfg, bad.clk, bad.conn, nil); !errors.Is(err, heartbeat.ErrInvalidConfig) {
			t.Errorf("NewSyncMonitor with %s: %v", bad.name, err)
		}
	}
}

// A panicking callback must not wedge the monitor: later transitions are
// still reported.
func TestMonitorSurvivesAPanickingCallback(t *testing.T) {
	k := newKernel(0)
	l := &link{k: k, nat: &nat{}, delay: fixed(40 * time.Millisecond), peerGone: 15 * time.Second}
	var seen []string
	mon, err := heartbeat.NewMonitor(heartbeat.Config{}, k.Clock(), l, func(tr heartbeat.Transition) {
		seen = append(seen, fmt.Sprint(tr.To))
		if tr.To == heartbeat.Handshaking {
			panic("callback bug")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	l.mon = mon
	func() {
		defer func() { _ = recover() }()
		mon.Start()
	}()
	// The first ping was lost with the panic; the next ones go out and
	// are answered until the peer vanishes, and its death is reported.
	run(t, k, time.Minute)
	if got := strings.Join(seen, ","); got != "Handshaking,Suspect,Active,Suspect,Dead" {
		t.Fatalf("callbacks %s", got)
	}
	if st := mon.Stats(); st.DeathCause != heartbeat.CauseTimeout || len(l.closes) != 1 {
		t.Fatalf("%+v, closes %q", st, l.closes)
	}
}
