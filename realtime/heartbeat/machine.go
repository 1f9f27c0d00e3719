package heartbeat

import (
	"fmt"
	"time"
)

// State is where a connection stands in the heartbeat's view.
type State uint8

const (
	// Idle: made, not started; no ping sent, no timer running.
	Idle State = iota
	// Handshaking: the first ping is out and no frame has come back yet.
	Handshaking
	// Active: the peer answered, and no ping has timed out since.
	Active
	// Suspect: the latest pings timed out, fewer than MissedPongs in a row.
	Suspect
	// Dead: terminal. MissedPongs pings in a row timed out, a ping write
	// failed or overran its deadline, or the connection was closed.
	Dead
)

var stateNames = [...]string{"Idle", "Handshaking", "Active", "Suspect", "Dead"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// live reports whether the heartbeat is running: started and not dead.
func (s State) live() bool { return s == Handshaking || s == Active || s == Suspect }

// Cause is what made a transition happen. The zero Cause means none.
type Cause uint8

const (
	_ Cause = iota
	// CauseStart: Start sent the first ping.
	CauseStart
	// CausePong: the pong of the latest ping arrived before its timeout.
	CausePong
	// CauseLatePong: a pong for a ping no longer awaited (it timed out, or
	// was answered already) arrived; it still proves the peer is there.
	CauseLatePong
	// CauseTraffic: another frame arrived from the peer: a data message, or
	// a pong answering no ping this end sent.
	CauseTraffic
	// CauseTimeout: a ping went unanswered for PongTimeout.
	CauseTimeout
	// CauseWriteFailed: writing a ping failed or missed its deadline.
	CauseWriteFailed
	// CauseClosed: the connection was closed by other means (the peer
	// closed it, a read failed, the service shut down).
	CauseClosed
)

var causeNames = [...]string{"none", "start", "pong", "late pong", "traffic", "pong timeout",
	"ping write failed", "closed"}

func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return fmt.Sprintf("Cause(%d)", uint8(c))
}

// Transition is a change of state.
type Transition struct {
	From, To State
	Cause    Cause
	// At is the time given with the call that made the change.
	At time.Time
}

func (t Transition) String() string {
	return fmt.Sprintf("%v→%v (%v)", t.From, t.To, t.Cause)
}

// Output is what the machine asks of whoever drives it after a call.
// SendPing and Close never come together.
type Output struct {
	// Transitions made by the call, oldest first: none, one, or two (a
	// timeout that was due and a frame that then revived the connection).
	Transitions []Transition
	// SendPing asks for ping Seq to be written now, done by WriteDeadline;
	// report the outcome with PingWritten or PingFailed. PingPayload(Seq)
	// is the payload a WebSocket peer echoes in its pong.
	SendPing      bool
	Seq           uint64
	WriteDeadline time.Time
	// Close asks for the connection to be closed with CloseReason (short
	// enough for a WebSocket close frame): the heartbeat declared it dead.
	Close       bool
	CloseReason string
}

// Stats are a machine's counters and last observations.
type Stats struct {
	State State
	// PingsSent counts the pings the machine asked for; PingsWritten those
	// reported written with PingWritten.
	PingsSent, PingsWritten uint64
	// PongsReceived counts pongs of the latest ping, in time. LatePongs
	// counts pongs of pings no longer awaited (after their timeout, or a
	// repeat), UnmatchedPongs pongs naming no ping sent.
	PongsReceived, LatePongs, UnmatchedPongs uint64
	// MessagesReceived counts other frames reported by MessageReceived.
	MessagesReceived uint64
	// Timeouts counts pings that went unanswered for PongTimeout;
	// MissedInARow is the current run of them, reset by any frame.
	Timeouts     uint64
	MissedInARow int
	// WriteFailures counts ping writes that failed or missed their deadline.
	WriteFailures uint64
	// Ignored counts calls that mean nothing in the state they came in: a
	// second Start, a frame or write outcome before Start or after Dead, a
	// write outcome with no write pending, a Closed after Dead.
	Ignored uint64
	// Entered counts the transitions into each state, indexed by State.
	Entered [Dead + 1]uint64
	// LastRTT is the round trip of the last pong matched to its ping (late
	// ones included); zero before any.
	LastRTT time.Duration
	// LastPingAt is when the latest ping was asked for; LastHeard when the
	// latest frame from the peer arrived. Zero before any.
	LastPingAt, LastHeard time.Time
	// DiedAt, DeathCause and DeathReason say when and why the connection
	// became Dead; zero before.
	DiedAt      time.Time
	DeathCause  Cause
	DeathReason string
}

// pingMemory is how many recent pings keep their send time, to measure the
// round trip of a late pong.
const pingMemory = 8

// Machine is the heartbeat state machine of one connection. It reads no
// clock and starts no goroutine: every call takes the current time as an
// argument, and the returned Output says what to do. Time never goes
// backwards: a call with an earlier time than the latest seen is taken at
// the latest seen. The zero Machine is Idle with the default Config. A
// Machine is not safe for concurrent use.
type Machine struct {
	cfg   Config
	state State
	now   time.Time // latest time seen

	seq      uint64 // number of the latest ping; 0 before Start
	sentAt   [pingMemory]time.Time
	pongDue  time.Time // timeout of ping seq
	awaiting bool      // ping seq is neither answered nor timed out
	pongSeen bool      // the pong of ping seq arrived
	writing  bool      // the write of ping seq has no reported outcome yet
	nextPing time.Time

	stats Stats
}

// NewMachine returns an Idle machine with cfg's timers (zero fields take
// their defaults), or an error wrapping ErrInvalidConfig.
func NewMachine(cfg Config) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Machine{cfg: cfg.WithDefaults()}, nil
}

// Config returns the configuration in force, defaults filled in.
func (m *Machine) Config() Config { return m.cfg.WithDefaults() }

// State returns the current state.
func (m *Machine) State() State { return m.state }

// Stats returns a copy of the counters.
func (m *Machine) Stats() Stats {
	st := m.stats
	st.State = m.state
	return st
}

// NextDeadline returns the next instant at which Advance has work: a pong
// timeout or the next ping. It reports false when the machine is Idle or
// Dead.
func (m *Machine) NextDeadline() (time.Time, bool) {
	if !m.state.live() {
		return time.Time{}, false
	}
	t := m.nextPing
	if m.awaiting && m.pongDue.Before(t) {
		t = m.pongDue
	}
	return t, true
}

// Start begins the heartbeat: Idle → Handshaking, and the first ping is due
// at once. In any other state it is ignored.
func (m *Machine) Start(now time.Time) Output {
	now = m.observe(now)
	var out Output
	if m.state != Idle {
		m.stats.Ignored++
		return out
	}
	m.cfg = m.cfg.WithDefaults() // a zero Machine runs on the defaults
	m.enter(&out, now, Handshaking, CauseStart)
	m.ping(&out, now)
	return out
}

// Advance does whatever fell due at or before now, in order: the pong
// timeout, then the next ping. A driver calls it when the
// time from NextDeadline comes; the event methods call it first, so that a
// late timer cannot change how an event is judged.
func (m *Machine) Advance(now time.Time) Output {
	_, out := m.catchUp(now)
	return out
}

// PingWritten reports that the latest ping was written by its deadline.
// Ignored unless the machine is live and waiting for that report.
func (m *Machine) PingWritten(now time.Time) Output {
	now, out := m.catchUp(now)
	if !m.state.live() || !m.writing {
		m.stats.Ignored++
		return out
	}
	m.writing = false
	m.stats.PingsWritten++
	return out
}

// PingFailed reports that writing a ping failed or missed its deadline
// (Output.WriteDeadline). The writer judges the deadline, as only it can:
// a WebSocket library passes it to the socket. The stream can no longer be
// trusted, so a live connection becomes Dead and is closed. Ignored before
// Start and after Dead.
func (m *Machine) PingFailed(now time.Time, err error) Output {
	now, out := m.catchUp(now)
	if !m.state.live() {
		m.stats.Ignored++
		return out
	}
	m.stats.WriteFailures++
	m.writing = false
	m.die(&out, now, CauseWriteFailed, fmt.Sprintf("ping write failed: %v", err), "heartbeat: ping write failed")
	return out
}

// PongReceived reports a pong carrying ping number seq (see
// ParsePongPayload; 0 when unknown). It answers the latest ping if that is
// still awaited, and like any frame resets the run of missed pongs and
// brings a Handshaking or Suspect connection to Active. Ignored before
// Start and after Dead.
func (m *Machine) PongReceived(now time.Time, seq uint64) Output {
	now, out := m.catchUp(now)
	if !m.state.live() {
		m.stats.Ignored++
		return out
	}
	cause := CauseTraffic
	switch {
	case seq == 0 || seq > m.seq:
		m.stats.UnmatchedPongs++
	case seq == m.seq && !m.pongSeen && now.Before(m.pongDue):
		m.stats.PongsReceived++
		m.stats.LastRTT = now.Sub(m.sentAt[seq%pingMemory])
		cause = CausePong
	default:
		m.stats.LatePongs++
		if m.seq-seq < pingMemory {
			m.stats.LastRTT = now.Sub(m.sentAt[seq%pingMemory])
		}
		cause = CauseLatePong
	}
	if seq != 0 && seq == m.seq {
		m.pongSeen = true
	}
	m.heard(&out, now, cause)
	return out
}

// MessageReceived reports any other frame from the peer. It is evidence of
// life like a pong (see the package doc for why). Ignored before Start and
// after Dead.
func (m *Machine) MessageReceived(now time.Time) Output {
	now, out := m.catchUp(now)
	if !m.state.live() {
		m.stats.Ignored++
		return out
	}
	m.stats.MessagesReceived++
	m.heard(&out, now, CauseTraffic)
	return out
}

// Closed reports that the connection ended by other means: the peer closed
// it, a read failed, or the service is shutting down. Any state but Dead
// becomes Dead, without asking for a Close; a Closed after Dead is ignored.
func (m *Machine) Closed(now time.Time, reason string) Output {
	now, out := m.catchUp(now)
	if m.state == Dead {
		m.stats.Ignored++
		return out
	}
	m.die(&out, now, CauseClosed, "closed: "+reason, "")
	return out
}

// observe makes time monotonic: an earlier now is taken as the latest seen.
func (m *Machine) observe(now time.Time) time.Time {
	if now.Before(m.now) {
		return m.now
	}
	m.now = now
	return now
}

// catchUp starts every event: it takes the event's time (monotonic) and
// first handles whatever deadlines fell due before it.
func (m *Machine) catchUp(now time.Time) (time.Time, Output) {
	now = m.observe(now)
	var out Output
	m.advance(&out, now)
	return now, out
}

// advance handles the deadlines due at or before now. The pong timeout
// never comes after the next ping (PongTimeout ≤ PingInterval, both counted
// from the same ping), so one pass in that order handles them all: once a
// ping is sent, its own deadlines lie after now.
func (m *Machine) advance(out *Output, now time.Time) {
	if !m.state.live() {
		return
	}
	if m.awaiting && !now.Before(m.pongDue) {
		// One timeout per ping, however late the call: a process that was
		// frozen for minutes counts one missed pong on waking, not one per
		// interval it slept through.
		m.awaiting = false
		m.stats.Timeouts++
		m.stats.MissedInARow++
		if m.stats.MissedInARow >= m.cfg.MissedPongs {
			reason := "1 pong missed"
			if m.stats.MissedInARow > 1 {
				reason = fmt.Sprintf("%d pongs missed in a row", m.stats.MissedInARow)
			}
			m.die(out, now, CauseTimeout, reason, "heartbeat: "+reason)
			return
		}
		if m.state != Suspect {
			m.enter(out, now, Suspect, CauseTimeout)
		}
	}
	if !now.Before(m.nextPing) {
		m.ping(out, now)
	}
}

// ping asks for the next ping and starts its deadlines. The next one is
// counted from now rather than from when this one was due, so a late call
// (a throttled timer) sends one ping, not a burst to catch up.
func (m *Machine) ping(out *Output, now time.Time) {
	m.seq++
	m.sentAt[m.seq%pingMemory] = now
	m.pongDue = now.Add(m.cfg.PongTimeout)
	m.awaiting, m.pongSeen = true, false
	m.writing = true
	m.nextPing = now.Add(m.cfg.PingInterval)
	m.stats.PingsSent++
	m.stats.LastPingAt = now
	out.SendPing, out.Seq, out.WriteDeadline = true, m.seq, now.Add(m.cfg.WriteTimeout)
}

// heard records a frame from the peer: it answers the ping awaited, if
// any, ends a run of missed pongs, and revives a connection not yet Active.
func (m *Machine) heard(out *Output, now time.Time, cause Cause) {
	m.stats.LastHeard = now
	m.stats.MissedInARow = 0
	m.awaiting = false
	if m.state == Handshaking || m.state == Suspect {
		m.enter(out, now, Active, cause)
	}
}

func (m *Machine) enter(out *Output, now time.Time, to State, cause Cause) {
	out.Transitions = append(out.Transitions, Transition{From: m.state, To: to, Cause: cause, At: now})
	m.state = to
	m.stats.Entered[to]++
}

// die makes the machine Dead; a non-empty closeReason asks for a Close.
func (m *Machine) die(out *Output, now time.Time, cause Cause, reason, closeReason string) {
	m.enter(out, now, Dead, cause)
	m.awaiting, m.writing = false, false
	m.stats.DiedAt, m.stats.DeathCause, m.stats.DeathReason = now, cause, reason
	if closeReason != "" {
		out.Close, out.CloseReason = true, closeReason
	}
}
