package heartbeat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC)

const sec = time.Second

func newTestMachine(t *testing.T, cfg Config) *Machine {
	t.Helper()
	m, err := NewMachine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mustBe fails when a setup step changed the state unexpectedly.
func mustBe(t *testing.T, m *Machine, want State, step string) {
	t.Helper()
	if got := m.State(); got != want {
		t.Fatalf("setup %s: state %v, want %v", step, got, want)
	}
}

// setup puts a default machine (10 s / 5 s / 2 s / 3) into a state, with
// its latest ping asked for at base and reported written, so that every
// event of the table applies. seq is the latest ping's number.
type setup struct {
	name  string
	build func(t *testing.T) (m *Machine, base time.Time, seq uint64)
}

var setups = []setup{
	{"Idle", func(t *testing.T) (*Machine, time.Time, uint64) {
		return newTestMachine(t, Config{}), t0, 1
	}},
	{"Handshaking", func(t *testing.T) (*Machine, time.Time, uint64) {
		m := newTestMachine(t, Config{})
		m.Start(t0)
		m.PingWritten(t0)
		mustBe(t, m, Handshaking, "start")
		return m, t0, 1
	}},
	{"Active", func(t *testing.T) (*Machine, time.Time, uint64) {
		m := newTestMachine(t, Config{})
		m.Start(t0)
		m.PingWritten(t0)
		m.PongReceived(t0.Add(100*time.Millisecond), 1)
		m.Advance(t0.Add(10 * sec))
		m.PingWritten(t0.Add(10 * sec))
		mustBe(t, m, Active, "pong")
		return m, t0.Add(10 * sec), 2
	}},
	{"Suspect1", func(t *testing.T) (*Machine, time.Time, uint64) {
		m := missedPongs(t, 1)
		m.PingWritten(t0.Add(10 * sec))
		mustBe(t, m, Suspect, "one timeout")
		return m, t0.Add(10 * sec), 2
	}},
	{"Suspect2", func(t *testing.T) (*Machine, time.Time, uint64) {
		m := missedPongs(t, 2)
		m.PingWritten(t0.Add(20 * sec))
		mustBe(t, m, Suspect, "two timeouts")
		return m, t0.Add(20 * sec), 3
	}},
	{"Dead", func(t *testing.T) (*Machine, time.Time, uint64) {
		m := missedPongs(t, 3)
		mustBe(t, m, Dead, "three timeouts")
		return m, t0.Add(30 * sec), 3
	}},
}

// missedPongs starts a default machine at t0 and lets n pings in a row go
// unanswered: each is written, times out at +5 s, and the next is asked
// for at +10 s.
func missedPongs(t *testing.T, n int) *Machine {
	m := newTestMachine(t, Config{})
	m.Start(t0)
	for i := range n {
		at := t0.Add(time.Duration(i) * 10 * sec)
		m.PingWritten(at)
		m.Advance(at.Add(5 * sec))
		m.Advance(at.Add(10 * sec))
	}
	return m
}

// want is the expected outcome of one event in one state. trans lists the
// transitions as From>To(cause); delta lists the counters that change
// (every other must stay put), as name=value.
type want struct {
	state State
	trans string
	ping  uint64 // the ping asked for; 0 for none
	close bool
	delta string
}

type event struct {
	name string
	do   func(m *Machine, base time.Time, seq uint64) []Output
	want [6]want // indexed like setups
}

func at(base time.Time, d time.Duration) time.Time { return base.Add(d) }

var errWrite = errors.New("write: broken pipe")

// events is every event the machine knows, each applied in every state.
var events = []event{
	{"Start", func(m *Machine, b time.Time, _ uint64) []Output { return []Output{m.Start(at(b, sec))} },
		[6]want{
			{Handshaking, "Idle>Handshaking(start)", 1, false, "sent=1 H=1"},
			{Handshaking, "", 0, false, "ignored=1"},
			{Active, "", 0, false, "ignored=1"},
			{Suspect, "", 0, false, "ignored=1"},
			{Suspect, "", 0, false, "ignored=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"PingWritten with no write pending", func(m *Machine, b time.Time, _ uint64) []Output {
		return []Output{m.PingWritten(at(b, sec))}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Handshaking, "", 0, false, "ignored=1"},
			{Active, "", 0, false, "ignored=1"},
			{Suspect, "", 0, false, "ignored=1"},
			{Suspect, "", 0, false, "ignored=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"Advance with nothing due", func(m *Machine, b time.Time, _ uint64) []Output { return []Output{m.Advance(at(b, sec))} },
		[6]want{
			{Idle, "", 0, false, ""},
			{Handshaking, "", 0, false, ""},
			{Active, "", 0, false, ""},
			{Suspect, "", 0, false, ""},
			{Suspect, "", 0, false, ""},
			{Dead, "", 0, false, ""},
		}},
	{"Advance to the pong timeout", func(m *Machine, b time.Time, _ uint64) []Output { return []Output{m.Advance(at(b, 5*sec))} },
		[6]want{
			{Idle, "", 0, false, ""},
			{Suspect, "Handshaking>Suspect(pong timeout)", 0, false, "timeouts=1 missed=1 S=1"},
			{Suspect, "Active>Suspect(pong timeout)", 0, false, "timeouts=1 missed=1 S=1"},
			{Suspect, "", 0, false, "timeouts=1 missed=1"},
			{Dead, "Suspect>Dead(pong timeout)", 0, true, "timeouts=1 missed=1 D=1"},
			{Dead, "", 0, false, ""},
		}},
	{"Advance to the next ping", func(m *Machine, b time.Time, _ uint64) []Output { return []Output{m.Advance(at(b, 10*sec))} },
		[6]want{
			{Idle, "", 0, false, ""},
			{Suspect, "Handshaking>Suspect(pong timeout)", 2, false, "timeouts=1 missed=1 S=1 sent=1"},
			{Suspect, "Active>Suspect(pong timeout)", 3, false, "timeouts=1 missed=1 S=1 sent=1"},
			{Suspect, "", 3, false, "timeouts=1 missed=1 sent=1"},
			{Dead, "Suspect>Dead(pong timeout)", 0, true, "timeouts=1 missed=1 D=1"},
			{Dead, "", 0, false, ""},
		}},
	{"Pong in time", func(m *Machine, b time.Time, seq uint64) []Output {
		return []Output{m.PongReceived(at(b, sec), seq)}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Active, "Handshaking>Active(pong)", 0, false, "pongs=1 A=1"},
			{Active, "", 0, false, "pongs=1"},
			{Active, "Suspect>Active(pong)", 0, false, "pongs=1 missed=-1 A=1"},
			{Active, "Suspect>Active(pong)", 0, false, "pongs=1 missed=-2 A=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"Pong after its timeout", func(m *Machine, b time.Time, seq uint64) []Output {
		return []Output{m.PongReceived(at(b, 6*sec), seq)}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Active, "Handshaking>Suspect(pong timeout),Suspect>Active(late pong)", 0, false, "timeouts=1 late=1 S=1 A=1"},
			{Active, "Active>Suspect(pong timeout),Suspect>Active(late pong)", 0, false, "timeouts=1 late=1 S=1 A=1"},
			{Active, "Suspect>Active(late pong)", 0, false, "timeouts=1 late=1 missed=-1 A=1"},
			{Dead, "Suspect>Dead(pong timeout)", 0, true, "timeouts=1 missed=1 D=1 ignored=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"Pong repeated", func(m *Machine, b time.Time, seq uint64) []Output {
		return []Output{m.PongReceived(at(b, sec), seq), m.PongReceived(at(b, 2*sec), seq)}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=2"},
			{Active, "Handshaking>Active(pong)", 0, false, "pongs=1 late=1 A=1"},
			{Active, "", 0, false, "pongs=1 late=1"},
			{Active, "Suspect>Active(pong)", 0, false, "pongs=1 late=1 missed=-1 A=1"},
			{Active, "Suspect>Active(pong)", 0, false, "pongs=1 late=1 missed=-2 A=1"},
			{Dead, "", 0, false, "ignored=2"},
		}},
	// A data frame answers the ping awaited; its pong, coming after the
	// frame but before the timeout, is still in time.
	{"Message, then the pong", func(m *Machine, b time.Time, seq uint64) []Output {
		return []Output{m.MessageReceived(at(b, sec)), m.PongReceived(at(b, 2*sec), seq)}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=2"},
			{Active, "Handshaking>Active(traffic)", 0, false, "msgs=1 pongs=1 A=1"},
			{Active, "", 0, false, "msgs=1 pongs=1"},
			{Active, "Suspect>Active(traffic)", 0, false, "msgs=1 pongs=1 missed=-1 A=1"},
			{Active, "Suspect>Active(traffic)", 0, false, "msgs=1 pongs=1 missed=-2 A=1"},
			{Dead, "", 0, false, "ignored=2"},
		}},
	{"Pong naming no ping sent", func(m *Machine, b time.Time, _ uint64) []Output {
		return []Output{m.PongReceived(at(b, sec), 99)}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Active, "Handshaking>Active(traffic)", 0, false, "unmatched=1 A=1"},
			{Active, "", 0, false, "unmatched=1"},
			{Active, "Suspect>Active(traffic)", 0, false, "unmatched=1 missed=-1 A=1"},
			{Active, "Suspect>Active(traffic)", 0, false, "unmatched=1 missed=-2 A=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"Message", func(m *Machine, b time.Time, _ uint64) []Output { return []Output{m.MessageReceived(at(b, sec))} },
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Active, "Handshaking>Active(traffic)", 0, false, "msgs=1 A=1"},
			{Active, "", 0, false, "msgs=1"},
			{Active, "Suspect>Active(traffic)", 0, false, "msgs=1 missed=-1 A=1"},
			{Active, "Suspect>Active(traffic)", 0, false, "msgs=1 missed=-2 A=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"PingFailed", func(m *Machine, b time.Time, _ uint64) []Output {
		return []Output{m.PingFailed(at(b, sec), errWrite)}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Dead, "Handshaking>Dead(ping write failed)", 0, true, "writefail=1 D=1"},
			{Dead, "Active>Dead(ping write failed)", 0, true, "writefail=1 D=1"},
			{Dead, "Suspect>Dead(ping write failed)", 0, true, "writefail=1 D=1"},
			{Dead, "Suspect>Dead(ping write failed)", 0, true, "writefail=1 D=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"Closed", func(m *Machine, b time.Time, _ uint64) []Output {
		return []Output{m.Closed(at(b, sec), "peer went away")}
	},
		[6]want{
			{Dead, "Idle>Dead(closed)", 0, false, "D=1"},
			{Dead, "Handshaking>Dead(closed)", 0, false, "D=1"},
			{Dead, "Active>Dead(closed)", 0, false, "D=1"},
			{Dead, "Suspect>Dead(closed)", 0, false, "D=1"},
			{Dead, "Suspect>Dead(closed)", 0, false, "D=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"Next ping written in time", func(m *Machine, b time.Time, _ uint64) []Output {
		return []Output{m.Advance(at(b, 10*sec)), m.PingWritten(at(b, 11*sec))}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Suspect, "Handshaking>Suspect(pong timeout)", 2, false, "timeouts=1 missed=1 S=1 sent=1 written=1"},
			{Suspect, "Active>Suspect(pong timeout)", 3, false, "timeouts=1 missed=1 S=1 sent=1 written=1"},
			{Suspect, "", 3, false, "timeouts=1 missed=1 sent=1 written=1"},
			{Dead, "Suspect>Dead(pong timeout)", 0, true, "timeouts=1 missed=1 D=1 ignored=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	{"Next ping write fails", func(m *Machine, b time.Time, _ uint64) []Output {
		return []Output{m.Advance(at(b, 10*sec)), m.PingFailed(at(b, 12*sec), os.ErrDeadlineExceeded)}
	},
		[6]want{
			{Idle, "", 0, false, "ignored=1"},
			{Dead, "Handshaking>Suspect(pong timeout),Suspect>Dead(ping write failed)", 2, true, "timeouts=1 missed=1 S=1 sent=1 writefail=1 D=1"},
			{Dead, "Active>Suspect(pong timeout),Suspect>Dead(ping write failed)", 3, true, "timeouts=1 missed=1 S=1 sent=1 writefail=1 D=1"},
			{Dead, "Suspect>Dead(ping write failed)", 3, true, "timeouts=1 missed=1 sent=1 writefail=1 D=1"},
			{Dead, "Suspect>Dead(pong timeout)", 0, true, "timeouts=1 missed=1 D=1 ignored=1"},
			{Dead, "", 0, false, "ignored=1"},
		}},
	// The write deadline is the writer's to judge: time passing it with no
	// report changes nothing (the pong timeout covers a ping never written).
	{"Next ping write never reported", func(m *Machine, b time.Time, _ uint64) []Output {
		return []Output{m.Advance(at(b, 10*sec)), m.Advance(at(b, 13*sec))}
	},
		[6]want{
			{Idle, "", 0, false, ""},
			{Suspect, "Handshaking>Suspect(pong timeout)", 2, false, "timeouts=1 missed=1 S=1 sent=1"},
			{Suspect, "Active>Suspect(pong timeout)", 3, false, "timeouts=1 missed=1 S=1 sent=1"},
			{Suspect, "", 3, false, "timeouts=1 missed=1 sent=1"},
			{Dead, "Suspect>Dead(pong timeout)", 0, true, "timeouts=1 missed=1 D=1"},
			{Dead, "", 0, false, ""},
		}},
}

// counters flattens the numeric stats the table checks.
func counters(st Stats) map[string]int64 {
	return map[string]int64{
		"sent": int64(st.PingsSent), "written": int64(st.PingsWritten),
		"pongs": int64(st.PongsReceived), "late": int64(st.LatePongs), "unmatched": int64(st.UnmatchedPongs),
		"msgs": int64(st.MessagesReceived), "timeouts": int64(st.Timeouts), "missed": int64(st.MissedInARow),
		"writefail": int64(st.WriteFailures), "ignored": int64(st.Ignored),
		"H": int64(st.Entered[Handshaking]), "A": int64(st.Entered[Active]),
		"S": int64(st.Entered[Suspect]), "D": int64(st.Entered[Dead]),
	}
}

func parseDelta(t *testing.T, s string) map[string]int64 {
	t.Helper()
	d := map[string]int64{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			t.Fatalf("bad delta %q", f)
		}
		d[k] = n
	}
	return d
}

func TestEveryEventInEveryState(t *testing.T) {
	for _, ev := range events {
		for i, su := range setups {
			t.Run(ev.name+"/"+su.name, func(t *testing.T) {
				w := ev.want[i]
				m, base, seq := su.build(t)
				before := m.Stats()
				outs := ev.do(m, base, seq)

				var trans []string
				var all []Transition
				var ping uint64
				var closeReason string
				closed := false
				for _, out := range outs {
					for _, tr := range out.Transitions {
						trans = append(trans, fmt.Sprintf("%v>%v(%v)", tr.From, tr.To, tr.Cause))
						all = append(all, tr)
					}
					if out.SendPing {
						if out.Seq == 0 || !out.WriteDeadline.After(at(base, 0)) {
							t.Errorf("ping %d with write deadline %v", out.Seq, out.WriteDeadline)
						}
						ping = out.Seq
					}
					if out.Close {
						closed, closeReason = true, out.CloseReason
						if out.SendPing {
							t.Error("one output asks for a ping and a close")
						}
					}
				}
				if got := strings.Join(trans, ","); got != w.trans {
					t.Errorf("transitions %q, want %q", got, w.trans)
				}
				if m.State() != w.state {
					t.Errorf("state %v, want %v", m.State(), w.state)
				}
				if ping != w.ping {
					t.Errorf("ping asked for %d, want %d", ping, w.ping)
				}
				if closed != w.close {
					t.Errorf("close %v (%q), want %v", closed, closeReason, w.close)
				}
				if closed && !strings.HasPrefix(closeReason, "heartbeat: ") {
					t.Errorf("close reason %q", closeReason)
				}
				after := m.Stats()
				b, a, d := counters(before), counters(after), parseDelta(t, w.delta)
				for k := range a {
					if a[k]-b[k] != d[k] {
						t.Errorf("%s changed by %d, want %d", k, a[k]-b[k], d[k])
					}
				}
				// Invariants: only a live machine has deadlines; a dead
				// one says when and why it died, consistently.
				_, hasDeadline := m.NextDeadline()
				if hasDeadline != (w.state != Idle && w.state != Dead) {
					t.Errorf("NextDeadline reported %v in %v", hasDeadline, w.state)
				}
				if after.State != m.State() {
					t.Errorf("Stats.State %v, State() %v", after.State, m.State())
				}
				if w.state == Dead && before.State != Dead && len(all) > 0 {
					died := all[len(all)-1]
					if after.DiedAt != died.At || after.DeathCause != died.Cause || after.DeathReason == "" {
						t.Errorf("death recorded at %v cause %v reason %q; transition %v at %v",
							after.DiedAt, after.DeathCause, after.DeathReason, died, died.At)
					}
				}
			})
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	m := newTestMachine(t, Config{})
	want := Config{PingInterval: 10 * sec, PongTimeout: 5 * sec, WriteTimeout: 2 * sec, MissedPongs: 3}
	if m.Config() != want {
		t.Fatalf("defaults %+v, want %+v", m.Config(), want)
	}
	if DefaultPongTimeout != want.PongTimeout {
		t.Fatalf("DefaultPongTimeout %v, want %v", DefaultPongTimeout, want.PongTimeout)
	}
	// Defaults follow a shorter interval instead of making it invalid.
	short := Config{PingInterval: time.Second}.WithDefaults()
	if short.PongTimeout != 500*time.Millisecond || short.WriteTimeout != 500*time.Millisecond {
		t.Fatalf("defaults at a 1 s interval: %+v", short)
	}
	if err := (Config{PingInterval: MinPingInterval}).Validate(); err != nil {
		t.Fatalf("the shortest interval with its defaults: %v", err)
	}
}

func TestZeroMachineRunsOnDefaults(t *testing.T) {
	var m Machine
	if m.State() != Idle || m.Config() != (Config{}).WithDefaults() {
		t.Fatalf("zero machine: %v, %+v", m.State(), m.Config())
	}
	out := m.Start(t0)
	if next, _ := m.NextDeadline(); !out.SendPing || !next.Equal(t0.Add(5*sec)) || !out.WriteDeadline.Equal(t0.Add(2*sec)) {
		t.Fatalf("zero machine after Start: %+v, next deadline %v", out, next)
	}
}

func TestConfigValidation(t *testing.T) {
	valid := []Config{
		{PingInterval: MinPingInterval},
		{PingInterval: MaxPingInterval},
		{PongTimeout: 10 * sec},         // equal to the interval
		{PongTimeout: 2 * sec},          // equal to the write timeout
		{WriteTimeout: time.Nanosecond}, // any positive write deadline
		{MissedPongs: 1}, {MissedPongs: MaxMissedPongs},
	}
	for _, c := range valid {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	invalid := []struct {
		cfg   Config
		field string
	}{
		{Config{PingInterval: -sec}, "PingInterval"},
		{Config{PingInterval: MinPingInterval - 1}, "PingInterval"},
		{Config{PingInterval: MaxPingInterval + 1}, "PingInterval"},
		{Config{PongTimeout: -1}, "PongTimeout"},
		{Config{PongTimeout: 10*sec + 1}, "PongTimeout"},
		{Config{PingInterval: 2 * sec, PongTimeout: 3 * sec}, "PongTimeout"},
		{Config{WriteTimeout: -1}, "WriteTimeout"},
		{Config{WriteTimeout: 5*sec + 1}, "WriteTimeout"},
		{Config{PongTimeout: sec, WriteTimeout: 2 * sec}, "WriteTimeout"},
		{Config{MissedPongs: -1}, "MissedPongs"},
		{Config{MissedPongs: MaxMissedPongs + 1}, "MissedPongs"},
	}
	for _, c := range invalid {
		err := c.cfg.Validate()
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "want") {
			t.Errorf("%+v: error %v, want one naming %s and the range, wrapping ErrInvalidConfig", c.cfg, err, c.field)
		}
		if _, err := NewMachine(c.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewMachine(%+v) accepted it: %v", c.cfg, err)
		}
	}
}

func TestDetectionWindow(t *testing.T) {
	lo, hi := Config{}.DetectionWindow()
	if lo != 25*sec || hi != 35*sec {
		t.Fatalf("default window [%v, %v), want [25s, 35s)", lo, hi)
	}
	lo, hi = Config{PingInterval: 30 * sec, PongTimeout: 30 * sec, MissedPongs: 1}.DetectionWindow()
	if lo != 30*sec || hi != 60*sec {
		t.Fatalf("window [%v, %v), want [30s, 60s)", lo, hi)
	}
}

// A process frozen for minutes (a suspended laptop, a throttled background
// app) must count one missed pong on waking, send one ping, and recover on
// its answer, not declare the connection dead for the intervals it slept.
func TestFrozenProcessCountsOneMissPerPing(t *testing.T) {
	m := newTestMachine(t, Config{})
	m.Start(t0)
	m.PingWritten(t0.Add(time.Millisecond))
	wake := t0.Add(10 * time.Minute)
	out := m.Advance(wake)
	if m.State() != Suspect || m.Stats().Timeouts != 1 {
		t.Fatalf("after a 10-minute freeze: %v with %d timeouts, want Suspect with 1", m.State(), m.Stats().Timeouts)
	}
	if !out.SendPing || out.Seq != 2 || m.Stats().PingsSent != 2 {
		t.Fatalf("on waking: %+v, want exactly one new ping (2)", out)
	}
	if next, _ := m.NextDeadline(); !next.Equal(wake.Add(5 * sec)) {
		t.Fatalf("next deadline %v, want the new ping's pong timeout %v", next, wake.Add(5*sec))
	}
	m.PingWritten(wake)
	m.PongReceived(wake.Add(80*time.Millisecond), 2)
	if m.State() != Active || m.Stats().LastRTT != 80*time.Millisecond {
		t.Fatalf("after the answer: %v, RTT %v", m.State(), m.Stats().LastRTT)
	}
}

func TestTimeNeverGoesBackwards(t *testing.T) {
	m := newTestMachine(t, Config{})
	m.Start(t0)
	m.PingWritten(t0)
	m.Advance(t0.Add(6 * sec)) // ping 1 timed out: Suspect
	out := m.PongReceived(t0.Add(1*sec), 1)
	if m.State() != Active || m.Stats().LatePongs != 1 || m.Stats().PongsReceived != 0 {
		t.Fatalf("a pong reported with an earlier time must be judged at the latest time seen: %v, %+v", m.State(), m.Stats())
	}
	if got := out.Transitions[0].At; !got.Equal(t0.Add(6 * sec)) {
		t.Fatalf("transition at %v, want the latest time seen", got)
	}
	if rtt := m.Stats().LastRTT; rtt != 6*sec {
		t.Fatalf("RTT %v, want 6s", rtt)
	}
}

// With PongTimeout equal to PingInterval the timeout and the next ping fall
// on one instant: the timeout comes first, and a pong at that instant is
// late whichever is reported first.
func TestDeadlinesAreExclusiveAndOrdered(t *testing.T) {
	for _, pongFirst := range []bool{false, true} {
		m := newTestMachine(t, Config{PongTimeout: 10 * sec})
		m.Start(t0)
		m.PingWritten(t0)
		edge := t0.Add(10 * sec)
		var outs []Output
		if pongFirst {
			outs = append(outs, m.PongReceived(edge, 1))
		} else {
			outs = append(outs, m.Advance(edge), m.PongReceived(edge, 1))
		}
		st := m.Stats()
		if st.Timeouts != 1 || st.LatePongs != 1 || st.PongsReceived != 0 || st.PingsSent != 2 {
			t.Fatalf("pong first %v: %+v, want ping 1 timed out, its pong late, ping 2 sent", pongFirst, st)
		}
		tr := outs[0].Transitions
		if len(tr) == 0 || tr[0].To != Suspect {
			t.Fatalf("pong first %v: transitions %v, want the timeout first", pongFirst, tr)
		}
		if m.State() != Active {
			t.Fatalf("pong first %v: %v, want Active again", pongFirst, m.State())
		}
	}
}

func TestOneMissedPongIsDeath(t *testing.T) {
	m := newTestMachine(t, Config{MissedPongs: 1})
	m.Start(t0)
	m.PingWritten(t0)
	out := m.Advance(t0.Add(5 * sec))
	if len(out.Transitions) != 1 || out.Transitions[0].From != Handshaking || out.Transitions[0].To != Dead ||
		!out.Close || m.Stats().DeathReason != "1 pong missed" || out.CloseReason != "heartbeat: 1 pong missed" {
		t.Fatalf("%+v, %+v", out, m.Stats())
	}
}

func TestLatePongRoundTripNeedsARecentPing(t *testing.T) {
	m := newTestMachine(t, Config{})
	m.Start(t0)
	m.PingWritten(t0)
	for i := 1; i <= pingMemory; i++ {
		at := t0.Add(time.Duration(i) * 10 * sec)
		m.MessageReceived(at.Add(-sec)) // keeps it alive without pongs
		m.Advance(at)
		m.PingWritten(at)
	}
	now := t0.Add(time.Duration(pingMemory)*10*sec + sec)
	m.PongReceived(now, 2) // the oldest of the last pingMemory pings: remembered
	if got, want := m.Stats().LastRTT, now.Sub(t0.Add(10*sec)); got != want {
		t.Fatalf("RTT %v, want %v", got, want)
	}
	m.PongReceived(now, 1) // too old to remember its send time
	if st := m.Stats(); st.LastRTT != now.Sub(t0.Add(10*sec)) || st.LatePongs != 2 {
		t.Fatalf("a pong of a forgotten ping must count as late and leave the RTT alone: %+v", st)
	}
}

func TestWriteFailureReason(t *testing.T) {
	m := newTestMachine(t, Config{})
	m.Start(t0)
	out := m.PingFailed(t0.Add(sec), errWrite)
	st := m.Stats()
	if !out.Close || out.CloseReason != "heartbeat: ping write failed" ||
		st.DeathReason != "ping write failed: write: broken pipe" || st.DeathCause != CauseWriteFailed {
		t.Fatalf("%+v %+v", out, st)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	for _, seq := range []uint64{1, 255, 1 << 40, ^uint64(0)} {
		p := PingPayload(seq)
		if len(p) > 125 {
			t.Fatalf("payload of %d bytes exceeds a WebSocket control frame", len(p))
		}
		if got, ok := ParsePongPayload(p); !ok || got != seq {
			t.Fatalf("seq %d came back as %d, %v", seq, got, ok)
		}
	}
	if _, ok := ParsePongPayload([]byte("hello")); ok {
		t.Fatal("a foreign payload must not parse")
	}
}

func TestStringsNameEveryValue(t *testing.T) {
	for s := Idle; s <= Dead; s++ {
		if strings.HasPrefix(s.String(), "State(") {
			t.Errorf("state %d has no name", s)
		}
	}
	for c := CauseStart; c <= CauseClosed; c++ {
		if strings.HasPrefix(c.String(), "Cause(") {
			t.Errorf("cause %d has no name", c)
		}
	}
	if State(9).String() != "State(9)" || Cause(0).String() != "none" {
		t.Error("out-of-range values must print their number")
	}
}
