package heartbeat_test

// These tests run the production Monitor on the simulator's virtual clock,
// against a simulated NAT and peer, as Stormglass's replays do.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"stormglass/realtime/heartbeat"
	"stormglass/sim"
)

const natIdleTimeout = 300 * time.Second // incident 2: NAT / load balancer idle timeout

// nat is one flow's entry in a NAT or load balancer: it forwards packets
// while the flow is busy, and silently forgets a flow idle for idle (when
// positive) or when it loses its table. A forgotten flow is gone for good:
// neither end is told.
type nat struct {
	idle   time.Duration
	last   time.Duration // when the latest packet crossed
	lost   bool
	maxGap time.Duration // the longest idle gap the flow survived
}

// cross reports whether a packet crossing at now gets through.
func (n *nat) cross(now time.Duration) bool {
	if n.lost {
		return false
	}
	gap := now - n.last
	if n.idle > 0 && gap >= n.idle {
		n.lost = true
		return false
	}
	n.maxGap = max(n.maxGap, gap)
	n.last = now
	return true
}

// loseTable drops the flow (a NAT reboot, a load-balancer failover).
func (n *nat) loseTable() { n.lost = true }

type pingRecord struct {
	seq      uint64
	sent     time.Duration
	answered bool // the peer answered; its pong is on the way
}

// link is one connection seen from the end that runs the heartbeat. A ping
// travels a one-way delay to the peer, crossing the NAT (which sits at the
// peer's edge) as it arrives; a live peer answers at once, and the pong
// travels back another one-way delay. It implements heartbeat.Conn.
type link struct {
	k        *sim.Kernel
	nat      *nat
	delay    func() time.Duration // one-way delay of each packet
	peerGone time.Duration        // pings reaching the peer at or after this go unanswered; 0: never
	mon      *heartbeat.Monitor
	failPing uint64 // writing this ping fails; 0: never

	pings  []pingRecord
	closes []string
	log    []string // transitions and closes, in the order the monitor reported them
}

func (l *link) SendPing(seq uint64, deadline time.Time) error {
	if len(l.closes) > 0 {
		return net.ErrClosed
	}
	if seq == l.failPing {
		return errors.New("write: connection reset by peer")
	}
	i := len(l.pings)
	l.pings = append(l.pings, pingRecord{seq: seq, sent: l.k.Now()})
	l.k.AfterFunc(l.delay(), func() {
		now := l.k.Now()
		if !l.nat.cross(now) || (l.peerGone > 0 && now >= l.peerGone) {
			return
		}
		l.pings[i].answered = true
		l.k.AfterFunc(l.delay(), func() {
			if len(l.closes) == 0 { // a closed socket reads nothing
				l.mon.PongReceived(seq)
			}
		})
	})
	return nil
}

func (l *link) Close(reason string) {
	l.closes = append(l.closes, reason)
	l.log = append(l.log, fmt.Sprintf("%v close %q", l.k.Now(), reason))
}

func (l *link) onChange(t heartbeat.Transition) {
	l.log = append(l.log, fmt.Sprintf("%v %v", t.At.Sub(l.k.Epoch()), t))
}

func newLink(t *testing.T, k *sim.Kernel, cfg heartbeat.Config, n *nat, delay func() time.Duration) *link {
	t.Helper()
	l := &link{k: k, nat: n, delay: delay}
	mon, err := heartbeat.NewMonitor(cfg, k.Clock(), l, l.onChange)
	if err != nil {
		t.Fatal(err)
	}
	l.mon = mon
	return l
}

// newKernel returns a kernel that fails a run gone into a loop of events
// (a timer re-armed for the instant it fired at) instead of hanging.
func newKernel(seed uint64) *sim.Kernel {
	return sim.NewKernel(sim.Config{Seed: seed, Limits: sim.Limits{MaxEvents: 5_000_000}})
}

func fixed(d time.Duration) func() time.Duration { return func() time.Duration { return d } }

// uniform returns a sampler of delays uniform in [lo, hi], in nanoseconds.
func uniform(r *rand.Rand, lo, hi time.Duration) func() time.Duration {
	return func() time.Duration { return lo + time.Duration(r.Int64N(int64(hi-lo)+1)) }
}

func run(t *testing.T, k *sim.Kernel, until time.Duration) {
	t.Helper()
	if err := k.RunUntil(context.Background(), until); err != nil {
		t.Fatal(err)
	}
}

// virtual converts a time from the monitor's clock to virtual time.
func virtual(k *sim.Kernel, at time.Time) time.Duration { return at.Sub(k.Epoch()) }

// (1) At the default interval the flow is never idle long enough for the
// NAT to drop it, over hours; a heartbeat slower than the NAT's idle
// timeout does not keep it, and the drop is then detected.
func TestHeartbeatKeepsTheNATFlowOpen(t *testing.T) {
	k := newKernel(1)
	flow := &nat{idle: natIdleTimeout}
	// The game day's injected delay: 100 ms ± 20 ms round trip.
	l := newLink(t, k, heartbeat.Config{}, flow, uniform(k.Rand("delay"), 40*time.Millisecond, 60*time.Millisecond))
	l.mon.Start()
	const hours = 6
	run(t, k, hours*time.Hour)

	st := l.mon.Stats()
	if flow.lost || flow.maxGap > 10*time.Second+40*time.Millisecond {
		t.Fatalf("NAT lost the flow: %v (longest idle gap %v)", flow.lost, flow.maxGap)
	}
	if st.State != heartbeat.Active || st.Timeouts != 0 || len(l.closes) != 0 {
		t.Fatalf("after %d h: %v, %d timeouts, closes %v", hours, st.State, st.Timeouts, l.closes)
	}
	// Pings at 0, 10 s, …, 6 h; the last one's pong is still on its way.
	wantPings := uint64(hours*time.Hour/(10*time.Second)) + 1
	if st.PingsSent != wantPings || st.PongsReceived != wantPings-1 {
		t.Fatalf("pings %d, pongs %d; want %d and %d", st.PingsSent, st.PongsReceived, wantPings, wantPings-1)
	}

	// Pinging less often than the NAT's idle timeout: the flow dies on the
	// second ping and the heartbeat finds out.
	k = newKernel(1)
	flow = &nat{idle: natIdleTimeout}
	slow := heartbeat.Config{PingInterval: natIdleTimeout + time.Second}
	l = newLink(t, k, slow, flow, fixed(50*time.Millisecond))
	l.mon.Start()
	run(t, k, time.Hour)
	if !flow.lost || l.mon.State() != heartbeat.Dead || len(l.closes) != 1 {
		t.Fatalf("slow heartbeat: NAT lost the flow %v, state %v, closes %v", flow.lost, l.mon.State(), l.closes)
	}
}

// lastAnswered returns the send time of the last ping the peer answered
// and of the first it did not.
func lastAnswered(t *testing.T, pings []pingRecord) (answered, unanswered time.Duration) {
	t.Helper()
	j := -1
	for i, p := range pings {
		if p.answered {
			j = i
		}
	}
	if j < 0 || j+1 >= len(pings) {
		t.Fatalf("no answered ping followed by an unanswered one in %v", pings)
	}
	for _, p := range pings[j+1:] {
		if p.answered {
			t.Fatalf("a ping after the path died was answered: %v", pings)
		}
	}
	return pings[j].sent, pings[j+1].sent
}

// (2) When the flow dies anyway (the NAT loses its table, or the peer
// vanishes) at a random instant D, the connection is Dead exactly
// (MissedPongs−1)·PingInterval + PongTimeout after the first unanswered
// ping, which puts it within the window of Config.DetectionWindow after D
// (less the one-way delay to the point of loss), and never sooner.
func TestDeadWithinTheDerivedBound(t *testing.T) {
	const runs = 400
	const maxOneWay = 60 * time.Millisecond
	var lo, hi time.Duration // over the default-config runs: the extremes of Dead − D
	lo = time.Hour
	for i := range runs {
		k := newKernel(uint64(i) + 1)
		r := k.Rand("scenario")
		cfg := heartbeat.Config{}
		if i%2 == 1 { // any valid timers, not just the defaults
			interval := time.Duration(2+r.IntN(29)) * time.Second
			cfg = heartbeat.Config{
				PingInterval: interval,
				PongTimeout:  time.Second + time.Duration(r.Int64N(int64(interval-time.Second)+1)),
				MissedPongs:  1 + r.IntN(5),
			}
		}
		c := cfg.WithDefaults()
		earliest, latest := cfg.DetectionWindow()

		flow := &nat{idle: natIdleTimeout}
		l := newLink(t, k, cfg, flow, uniform(k.Rand("delay"), 40*time.Millisecond, maxOneWay))
		l.mon.Start()
		drop := 30*time.Second + time.Duration(r.Int64N(int64(300*time.Second)))
		vanish := i%4 >= 2
		if vanish {
			l.peerGone = drop
		} else {
			k.AfterFunc(drop, func() { flow.loseTable() })
		}
		run(t, k, drop+latest+time.Second)

		st := l.mon.Stats()
		died := virtual(k, st.DiedAt)
		answered, q := lastAnswered(t, l.pings)
		what := fmt.Sprintf("run %d (%+v, vanish %v): drop at %v, last answered ping %v, first unanswered %v, dead at %v",
			i, c, vanish, drop, answered, q, died)
		if st.State != heartbeat.Dead || st.DeathCause != heartbeat.CauseTimeout {
			t.Fatalf("%s: state %v cause %v", what, st.State, st.DeathCause)
		}
		// Exact: MissedPongs timeouts, the first one PongTimeout after q.
		if want := q + time.Duration(c.MissedPongs-1)*c.PingInterval + c.PongTimeout; died != want {
			t.Fatalf("%s: want dead at %v", what, want)
		}
		if want := answered + time.Duration(c.MissedPongs)*c.PingInterval + c.PongTimeout; died != want {
			t.Fatalf("%s: want dead at %v (MissedPongs intervals and a pong timeout after the last answered ping)", what, want)
		}
		if st.Timeouts != uint64(c.MissedPongs) || st.MissedInARow != c.MissedPongs {
			t.Fatalf("%s: %d timeouts (%d in a row), want exactly %d", what, st.Timeouts, st.MissedInARow, c.MissedPongs)
		}
		// The window, seen from the drop.
		if d := died - drop; d < earliest-maxOneWay || d >= latest {
			t.Fatalf("%s: detected %v after the drop, outside [%v − one-way delay, %v)", what, d, earliest, latest)
		}
		if len(l.closes) != 1 || !strings.Contains(l.closes[0], "missed") {
			t.Fatalf("%s: closes %q", what, l.closes)
		}
		// The path before the drop was healthy: start, answer, one
		// Suspect episode (unless one miss is fatal), close, Dead.
		want := []string{"Idle→Handshaking (start)", "Handshaking→Active (pong)", "Active→Suspect (pong timeout)",
			"close", "→Dead (pong timeout)"}
		if c.MissedPongs == 1 {
			want = slices.Delete(want, 2, 3)
		}
		ok := len(l.log) == len(want)
		for j := 0; ok && j < len(want); j++ {
			ok = strings.Contains(l.log[j], want[j])
		}
		if !ok {
			t.Fatalf("%s: log %q, want %q", what, l.log, want)
		}
		if i%2 == 0 {
			lo, hi = min(lo, died-drop), max(hi, died-drop)
		}
	}
	// The drops covered the window: the bound is tight at both ends.
	earliest, latest := heartbeat.Config{}.DetectionWindow()
	t.Logf("default config: detected %v to %v after the drop; window [%v, %v)", lo, hi, earliest, latest)
	if lo > earliest+500*time.Millisecond || hi < latest-500*time.Millisecond {
		t.Fatalf("detections spanned [%v, %v]: not spread over the window [%v, %v)", lo, hi, earliest, latest)
	}
}

// (3) Incident 2 at night. Without ping/pong (the incident's
// configuration) every idle flow is dropped by the NAT 300 s after its
// connection opened, and the server keeps every one of those dead
// connections for as long as it runs. With the heartbeat no flow is ever
// idle long enough; when the NAT then reboots and drops them all at once,
// every connection is found dead within the window and closed.
func TestNATAtNightWithAndWithoutHeartbeats(t *testing.T) {
	const conns = 100
	const reboot = 2 * time.Hour
	for _, heartbeats := range []bool{true, false} {
		k := newKernel(42)
		r := k.Rand("arrivals")
		delay := uniform(k.Rand("delay"), 40*time.Millisecond, 60*time.Millisecond)
		links := make([]*link, conns)
		for i := range links {
			flow := &nat{idle: natIdleTimeout}
			links[i] = newLink(t, k, heartbeat.Config{}, flow, delay)
			opened := time.Duration(r.Int64N(int64(time.Hour)))
			k.AfterFunc(opened, func() {
				flow.last = k.Now() // the upgrade's packets
				if heartbeats {
					links[i].mon.Start()
				}
			})
		}
		idleDropped := 0
		k.AfterFunc(reboot-time.Nanosecond, func() {
			for _, l := range links {
				// A packet now, from the server's side: does it get through?
				if l.nat.lost || !l.nat.cross(k.Now()) {
					idleDropped++
				}
			}
		})
		k.AfterFunc(reboot, func() {
			for _, l := range links {
				l.nat.loseTable()
			}
		})
		run(t, k, 24*time.Hour)

		earliest, latest := heartbeat.Config{}.DetectionWindow()
		held, detected := 0, 0
		for _, l := range links {
			if len(l.closes) == 0 {
				held++
			}
			if st := l.mon.Stats(); st.State == heartbeat.Dead {
				detected++
				if d := virtual(k, st.DiedAt) - reboot; d < earliest-60*time.Millisecond || d >= latest {
					t.Fatalf("detected %v after the reboot, outside the window", d)
				}
			}
		}
		switch {
		case heartbeats && (idleDropped != 0 || detected != conns || held != 0):
			t.Fatalf("with heartbeats: %d flows dropped idle, %d of %d detected after the reboot, %d still held",
				idleDropped, detected, conns, held)
		case !heartbeats && (idleDropped != conns || detected != 0 || held != conns):
			t.Fatalf("without heartbeats: %d of %d flows dropped idle, %d detected, %d held",
				idleDropped, conns, detected, held)
		}
		if !heartbeats {
			for _, l := range links {
				if st := l.mon.Stats(); st.State != heartbeat.Idle || st.PingsSent != 0 || len(l.log) != 0 {
					t.Fatalf("an unstarted monitor acted: %+v, %q", st, l.log)
				}
			}
		}
	}
}

// A pong's round trip against the pong timeout (5 s) and the interval
// (10 s): in time; late but before the next ping (a Suspect episode per
// ping, never Dead); later than the next ping (it answers that one); longer
// than the pong timeout and two intervals (Dead first).
func TestNetworkDelay(t *testing.T) {
	cases := []struct {
		rtt      time.Duration
		first    []string // the transitions of the first 30 s
		final    heartbeat.State
		timeouts uint64 // over 10 minutes
		late     bool
	}{
		{100 * time.Millisecond, []string{"0s Idle→Handshaking (start)", "100ms Handshaking→Active (pong)"},
			heartbeat.Active, 0, false},
		{7 * time.Second, []string{"0s Idle→Handshaking (start)", "5s Handshaking→Suspect (pong timeout)",
			"7s Suspect→Active (late pong)", "15s Active→Suspect (pong timeout)", "17s Suspect→Active (late pong)",
			"25s Active→Suspect (pong timeout)", "27s Suspect→Active (late pong)"},
			heartbeat.Active, 60, true},
		{12 * time.Second, []string{"0s Idle→Handshaking (start)", "5s Handshaking→Suspect (pong timeout)",
			"12s Suspect→Active (late pong)"},
			heartbeat.Active, 1, true},
		{40 * time.Second, []string{"0s Idle→Handshaking (start)", "5s Handshaking→Suspect (pong timeout)",
			`25s close "heartbeat: 3 pongs missed in a row"`, "25s Suspect→Dead (pong timeout)"},
			heartbeat.Dead, 3, false},
	}
	for _, c := range cases {
		t.Run(c.rtt.String(), func(t *testing.T) {
			k := newKernel(0)
			l := newLink(t, k, heartbeat.Config{}, &nat{}, fixed(c.rtt/2))
			l.mon.Start()
			run(t, k, 30*time.Second-time.Nanosecond)
			if got := strings.Join(l.log, "\n"); got != strings.Join(c.first, "\n") {
				t.Fatalf("first 30 s:\n%s\nwant:\n%s", got, strings.Join(c.first, "\n"))
			}
			run(t, k, 10*time.Minute-time.Nanosecond)
			st := l.mon.Stats()
			if st.State != c.final || st.Timeouts != c.timeouts {
				t.Fatalf("after 10 min: %v with %d timeouts, want %v with %d", st.State, st.Timeouts, c.final, c.timeouts)
			}
			if st.State == heartbeat.Dead {
				return
			}
			if st.LastRTT != c.rtt {
				t.Fatalf("last RTT %v, want %v", st.LastRTT, c.rtt)
			}
			var back uint64 // pongs that made it back within the 10 minutes
			for _, p := range l.pings {
				if p.sent+c.rtt < 10*time.Minute {
					back++
				}
			}
			if c.late != (st.LatePongs > 0) || c.late == (st.PongsReceived > 0) || st.PongsReceived+st.LatePongs != back {
				t.Fatalf("%d pongs in time, %d late; want all %d back %s", st.PongsReceived, st.LatePongs, back,
					map[bool]string{true: "late", false: "in time"}[c.late])
			}
		})
	}
}

// The same seed gives the same transitions, to the nanosecond; another
// seed gives others. The scenario has random delays (some pongs late),
// random NAT losses and vanishing peers.
func TestSameSeedSameTransitions(t *testing.T) {
	a, b, c := traceOf(t, 7), traceOf(t, 7), traceOf(t, 8)
	if a != b {
		t.Fatalf("same seed, different transitions:\n%s\n---\n%s", a, b)
	}
	if a == c {
		t.Fatal("different seeds gave identical transitions: the seed is not used")
	}
	for _, want := range []string{"late pong", "Suspect→Dead (pong timeout)", "close"} {
		if !strings.Contains(a, want) {
			t.Fatalf("trace has no %q: the scenario does not exercise the machine:\n%s", want, a)
		}
	}
}

// traceOf runs 20 connections for 3 hours and returns every transition and
// close, in order, with its virtual time.
func traceOf(t *testing.T, seed uint64) string {
	t.Helper()
	k := newKernel(seed)
	r := k.Rand("faults")
	delay := uniform(k.Rand("delay"), 10*time.Millisecond, 3*time.Second)
	links := make([]*link, 20)
	for i := range links {
		flow := &nat{idle: natIdleTimeout}
		l := newLink(t, k, heartbeat.Config{}, flow, delay)
		l.peerGone = time.Duration(r.Int64N(int64(4 * time.Hour)))
		k.AfterFunc(time.Duration(r.Int64N(int64(2*time.Hour))), func() { flow.loseTable() })
		k.AfterFunc(time.Duration(r.Int64N(int64(time.Minute))), l.mon.Start)
		links[i] = l
	}
	run(t, k, 3*time.Hour)
	var b strings.Builder
	for i, l := range links {
		for _, line := range l.log {
			fmt.Fprintf(&b, "conn %d: %s\n", i, line)
		}
	}
	return b.String()
}
