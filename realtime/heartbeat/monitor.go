package heartbeat

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"stormglass/realtime/clock"
)

// Conn is the connection a Monitor watches: the two things the heartbeat
// needs to do to it.
type Conn interface {
	// SendPing writes ping number seq (PingPayload(seq) is the payload to
	// put in a WebSocket ping frame) and returns by deadline: nil once the
	// frame is written, an error if the write failed or the deadline
	// passed. Any error kills the connection.
	SendPing(seq uint64, deadline time.Time) error
	// Close closes the connection, which the heartbeat declared dead.
	// reason fits in a WebSocket close frame.
	Close(reason string)
}

// PingPayload returns the payload of ping number seq: 8 bytes, big-endian.
// A WebSocket peer echoes a ping's payload in its pong (RFC 6455, 5.5.3),
// so ParsePongPayload recovers seq from the pong.
func PingPayload(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// ParsePongPayload returns the ping number in a pong's payload, or false
// when the payload is not one made by PingPayload. Passing the resulting 0
// to PongReceived is fine: the pong still counts as a frame from the peer.
func ParsePongPayload(p []byte) (seq uint64, ok bool) {
	if len(p) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(p), true
}

// Monitor drives a Machine on a clock.Clock: it arms one timer for the
// machine's next deadline, writes pings and closes the connection through a
// Conn, and reports every transition to a callback, in order. A server
// closes dead connections this way; a client reconnects when the callback
// reports Dead.
//
// A Monitor is for one goroutine: the simulator's, where the kernel's clock
// runs timer callbacks on the simulation goroutine, or a service's own
// event loop. On clock.Real, whose callbacks run on goroutines of their
// own, use SyncMonitor.
type Monitor struct{ d driver }

// NewMonitor returns an Idle monitor of conn; nothing happens before Start.
// onChange, if not nil, is called with every transition. cfg's zero fields
// take their defaults; an invalid cfg, or a nil clk or conn, gives an error
// wrapping ErrInvalidConfig.
func NewMonitor(cfg Config, clk clock.Clock, conn Conn, onChange func(Transition)) (*Monitor, error) {
	mon := &Monitor{}
	if err := mon.d.init(cfg, clk, conn, onChange, noLock{}); err != nil {
		return nil, err
	}
	return mon, nil
}

// Start sends the first ping and starts the timers (Machine.Start).
func (mon *Monitor) Start() { mon.d.start() }

// PongReceived reports a pong carrying ping number seq (Machine.PongReceived).
func (mon *Monitor) PongReceived(seq uint64) { mon.d.pongReceived(seq) }

// MessageReceived reports any other frame from the peer (Machine.MessageReceived).
func (mon *Monitor) MessageReceived() { mon.d.messageReceived() }

// Closed reports that the connection ended by other means and stops the
// timers (Machine.Closed).
func (mon *Monitor) Closed(reason string) { mon.d.closed(reason) }

// State returns the current state.
func (mon *Monitor) State() State { return mon.d.state() }

// Stats returns a copy of the machine's counters.
func (mon *Monitor) Stats() Stats { return mon.d.stats() }

// Config returns the configuration in force, defaults filled in.
func (mon *Monitor) Config() Config { return mon.d.m.Config() }

// SyncMonitor is a Monitor safe for concurrent use, for services on the
// real clock: timer callbacks, the connection's reader and anyone reading
// Stats may call in from their own goroutines. A mutex guards the same
// single-threaded Machine the simulator drives. It is never held while
// calling the Conn or the callback, which therefore may call back into the
// monitor; those calls are made one at a time, in the order the machine
// asked for them.
type SyncMonitor struct {
	mu sync.Mutex
	d  driver
}

// NewSyncMonitor is NewMonitor for a SyncMonitor.
func NewSyncMonitor(cfg Config, clk clock.Clock, conn Conn, onChange func(Transition)) (*SyncMonitor, error) {
	mon := &SyncMonitor{}
	if err := mon.d.init(cfg, clk, conn, onChange, &mon.mu); err != nil {
		return nil, err
	}
	return mon, nil
}

// Start sends the first ping and starts the timers (Machine.Start).
func (mon *SyncMonitor) Start() { mon.d.start() }

// PongReceived reports a pong carrying ping number seq (Machine.PongReceived).
func (mon *SyncMonitor) PongReceived(seq uint64) { mon.d.pongReceived(seq) }

// MessageReceived reports any other frame from the peer (Machine.MessageReceived).
func (mon *SyncMonitor) MessageReceived() { mon.d.messageReceived() }

// Closed reports that the connection ended by other means and stops the
// timers (Machine.Closed).
func (mon *SyncMonitor) Closed(reason string) { mon.d.closed(reason) }

// State returns the current state.
func (mon *SyncMonitor) State() State { return mon.d.state() }

// Stats returns a copy of the machine's counters.
func (mon *SyncMonitor) Stats() Stats { return mon.d.stats() }

// Config returns the configuration in force, defaults filled in.
func (mon *SyncMonitor) Config() Config { return mon.d.m.Config() } // immutable: no lock needed

// noLock is the lock of a single-goroutine Monitor.
type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}

type effectKind uint8

const (
	effectNotify effectKind = iota
	effectPing
	effectClose
)

// effect is one thing the machine asked for, waiting to be done outside
// the lock.
type effect struct {
	kind       effectKind
	transition Transition
	seq        uint64
	deadline   time.Time
	reason     string
}

// driver is the code shared by Monitor and SyncMonitor; mu is a no-op lock
// for the former. Every entry point takes mu, feeds the machine, queues
// what the output asks for and then drains the queue with mu released.
type driver struct {
	mu       sync.Locker
	m        Machine
	clk      clock.Clock
	conn     Conn
	onChange func(Transition)

	timer clock.Timer
	armed time.Time // the deadline the timer is set for; zero when none

	// pending effects, performed in order by one goroutine at a time (the
	// one that finds draining false); spare is the buffer of the previous
	// batch, reused so that a steady heartbeat allocates nothing.
	pending, spare []effect
	draining       bool
}

func (d *driver) init(cfg Config, clk clock.Clock, conn Conn, onChange func(Transition), mu sync.Locker) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if clk == nil {
		return fmt.Errorf("heartbeat: monitor clock is nil: want a clock.Clock: %w", ErrInvalidConfig)
	}
	if conn == nil {
		return fmt.Errorf("heartbeat: monitor connection is nil: want a Conn: %w", ErrInvalidConfig)
	}
	d.m = Machine{cfg: cfg.WithDefaults()}
	d.clk, d.conn, d.onChange, d.mu = clk, conn, onChange, mu
	return nil
}

func (d *driver) start() {
	d.mu.Lock()
	d.absorb(d.m.Start(d.clk.Now()))
	d.drain()
}

func (d *driver) pongReceived(seq uint64) {
	d.mu.Lock()
	d.absorb(d.m.PongReceived(d.clk.Now(), seq))
	d.drain()
}

func (d *driver) messageReceived() {
	d.mu.Lock()
	d.absorb(d.m.MessageReceived(d.clk.Now()))
	d.drain()
}

func (d *driver) closed(reason string) {
	d.mu.Lock()
	d.absorb(d.m.Closed(d.clk.Now(), reason))
	d.drain()
}

// fire is the timer callback. On the real clock it may run after the timer
// was re-armed for a later deadline; Advance then finds nothing due and
// the timer is simply re-armed.
func (d *driver) fire() {
	d.mu.Lock()
	d.armed = time.Time{}
	d.absorb(d.m.Advance(d.clk.Now()))
	d.drain()
}

func (d *driver) state() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m.State()
}

func (d *driver) stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m.Stats()
}

// absorb queues what out asks for and re-arms the timer; mu is held. The
// close goes before the transitions so that whoever reacts to Dead (a
// client about to reconnect) finds the old connection already closed.
func (d *driver) absorb(out Output) {
	if out.Close {
		d.pending = append(d.pending, effect{kind: effectClose, reason: out.CloseReason})
	}
	for _, t := range out.Transitions {
		d.pending = append(d.pending, effect{kind: effectNotify, transition: t})
	}
	if out.SendPing {
		d.pending = append(d.pending, effect{kind: effectPing, seq: out.Seq, deadline: out.WriteDeadline})
	}
	d.rearm()
}

// rearm points the single timer at the machine's next deadline, or stops
// it when there is none; mu is held.
func (d *driver) rearm() {
	at, ok := d.m.NextDeadline()
	if !ok {
		if d.timer != nil {
			d.timer.Stop()
		}
		d.armed = time.Time{}
		return
	}
	if !d.armed.IsZero() && at.Equal(d.armed) {
		return
	}
	wait := at.Sub(d.clk.Now())
	if d.timer == nil {
		d.timer = d.clk.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
	d.armed = at
}

// drain performs the pending effects; it is called with mu held and
// returns with mu released. If another call is already draining, it leaves
// the new effects to that call: effects are then never performed
// concurrently nor out of order, and a reader goroutine reporting a pong
// does not wait on a ping write in progress.
func (d *driver) drain() {
	if d.draining {
		d.mu.Unlock()
		return
	}
	d.draining = true
	done := false
	defer func() {
		if !done { // a Conn method or the callback panicked: keep the monitor usable
			d.mu.Lock()
			d.draining, d.pending = false, nil
			d.mu.Unlock()
		}
	}()
	for len(d.pending) > 0 {
		batch := d.pending
		d.pending, d.spare = d.spare[:0], nil
		d.mu.Unlock()
		for i := range batch {
			d.perform(batch[i])
		}
		d.mu.Lock()
		clear(batch)
		d.spare = batch[:0]
	}
	d.draining, done = false, true
	d.mu.Unlock()
}

// perform does one effect; mu is not held.
func (d *driver) perform(e effect) {
	switch e.kind {
	case effectNotify:
		if d.onChange != nil {
			d.onChange(e.transition)
		}
	case effectClose:
		d.conn.Close(e.reason)
	case effectPing:
		d.mu.Lock()
		stale := !d.m.State().live() // a callback just before closed it
		d.mu.Unlock()
		if stale {
			return
		}
		err := d.conn.SendPing(e.seq, e.deadline)
		d.mu.Lock()
		if err != nil {
			d.absorb(d.m.PingFailed(d.clk.Now(), err))
		} else {
			d.absorb(d.m.PingWritten(d.clk.Now()))
		}
		d.mu.Unlock()
	}
}
