package wsfleet

import (
	"time"

	"stormglass/realtime/heartbeat"
)

// ---- heartbeats ----
//
// Each server connection runs a heartbeat.Machine. In the steady state a
// ping costs one event: when the machine's next deadline is its next ping,
// the fleet draws the ping's trip and its pong's now and schedules one
// event at the pong's arrival; the ping is asked of the machine at its
// due time (later if a GC pause covers it), by that event or by any
// earlier call to the machine that catches up past it. Other deadlines
// (a pong timeout) get a timer event.

func (f *Fleet) startHB(ci int32) {
	c := &f.conns[ci]
	m := f.hbProto
	c.hb = &m
	now := f.k.Now()
	f.hbOutput(ci, c.hb.Start(f.wall(now)), now)
}

// hbOutput acts on what the machine asked at time at.
func (f *Fleet) hbOutput(ci int32, out heartbeat.Output, at time.Duration) {
	c := &f.conns[ci]
	if out.Close {
		f.closeServer(ci, rHeartbeat)
		return
	}
	if c.state != csOpen || c.hb == nil {
		return
	}
	if out.SendPing {
		f.asked(ci, out, at)
		f.schedulePing(ci, at, true)
		return
	}
	f.armHB(ci)
}

// asked records the ping the machine asked for at at.
func (f *Fleet) asked(ci int32, out heartbeat.Output, at time.Duration) {
	c := &f.conns[ci]
	n := f.nodes[c.node]
	c.pingSeq, c.pingDone = out.Seq, true
	c.pingAsk, c.lastAsk = at, at
	c.pingDeadline = out.WriteDeadline.Sub(f.k.Epoch())
	f.m.Add(sPings, 1)
	f.alloc(n, f.cfg.Memory.AllocPerPing)
	n.fluid += f.cfg.Gateway.PingCPU.Seconds()
}

// schedulePing schedules the event of a ping asked (or due) at a. A ping
// travels behind the frames written before it on the stream (those
// written between now and a, for a ping due later, are not waited for).
func (f *Fleet) schedulePing(ci int32, a time.Duration, done bool) {
	c := &f.conns[ci]
	c.pingAsk, c.pingDue, c.pingDone = a, a, done
	c.pingT1 = max(a+f.cfg.Gateway.WriteLatency+f.down(), c.lastDown)
	if done {
		c.lastDown = c.pingT1
	}
	c.hbAt = c.pingT1 + f.up()
	c.hbTok++
	c.hbKind = hbPing
	f.k.At(max(c.hbAt, f.k.Now()), f, evPing, int64(ci)<<32|int64(c.hbTok))
}

// armHB schedules the machine's next deadline, when no event is pending.
func (f *Fleet) armHB(ci int32) {
	c := &f.conns[ci]
	if c.hb == nil || c.state != csOpen || c.hbKind == hbPing {
		return
	}
	next, ok := c.hb.NextDeadline()
	if !ok {
		return
	}
	at := next.Sub(f.k.Epoch())
	if at == c.lastAsk+f.hbCfg.PingInterval && c.hb.State() != heartbeat.Idle {
		f.schedulePing(ci, at, false)
		return
	}
	if c.hbKind == hbTimer && c.hbAt == at {
		return
	}
	c.hbTok++
	c.hbKind, c.hbAt = hbTimer, at
	f.k.At(max(at, f.k.Now()), f, evHB, int64(ci)<<32|int64(c.hbTok))
}

// pauseAdjust is when a timer of node n due at a fires: at the end of any
// pause that covers a.
func (f *Fleet) pauseAdjust(n *node, a time.Duration) time.Duration {
	first := max(0, n.npause-len(n.pauses))
	for i := first; i < n.npause; i++ {
		if p := n.pauses[i%len(n.pauses)]; p.start <= a && a < p.end {
			a = p.end
		}
	}
	return a
}

// catchUp asks the pending ping if it fell due at or before x, before
// the machine hears of anything at x.
func (f *Fleet) catchUp(ci int32, x time.Duration) {
	c := &f.conns[ci]
	if c.hbKind != hbPing || c.pingDone || c.pingAsk > x {
		return
	}
	a := f.pauseAdjust(f.nodes[c.node], c.pingAsk)
	if a > x {
		return
	}
	f.shiftPing(c, a-c.pingAsk)
	f.doAsk(ci, a)
}

func (f *Fleet) shiftPing(c *conn, d time.Duration) {
	c.pingAsk += d
	c.pingT1 += d
	c.hbAt += d
}

// doAsk asks the machine for the pending ping at a.
func (f *Fleet) doAsk(ci int32, a time.Duration) {
	c := &f.conns[ci]
	if f.onAsk != nil {
		f.onAsk(ci, c.pingDue, a)
	}
	var out heartbeat.Output
	if c.hb.State() == heartbeat.Idle {
		out = c.hb.Start(f.wall(a))
	} else {
		out = c.hb.Advance(f.wall(a))
	}
	switch {
	case out.Close:
		f.closeServer(ci, rHeartbeat)
	case out.SendPing:
		f.asked(ci, out, a)
	default:
		c.hbKind = hbNone
		f.armHB(ci)
	}
}

// heartbeatDue is a timer: a pong timeout, or any deadline but a ping.
func (f *Fleet) heartbeatDue(ci int32, tok uint32) {
	c := &f.conns[ci]
	if tok != c.hbTok || c.hbKind != hbTimer || c.hb == nil || c.state != csOpen {
		return
	}
	if f.defer_(f.nodes[c.node], evHB, int64(ci)<<32|int64(tok)) {
		return
	}
	c.hbKind = hbNone
	now := f.k.Now()
	var out heartbeat.Output
	if c.hb.State() == heartbeat.Idle {
		out = c.hb.Start(f.wall(now))
	} else {
		out = c.hb.Advance(f.wall(now))
	}
	f.hbOutput(ci, out, now)
}

// ping decides a ping at its pong's arrival: asked when due (after any
// pause), written unless a pause held the write past its deadline, and
// answered if it crossed the client's NAT to a client that answers.
func (f *Fleet) ping(ci int32, tok uint32) {
	c := &f.conns[ci]
	if tok != c.hbTok || c.hbKind != hbPing || c.hb == nil || c.state != csOpen {
		return
	}
	n := f.nodes[c.node]
	if f.defer_(n, evPing, int64(ci)<<32|int64(tok)) {
		return
	}
	now := f.k.Now()
	if !c.pingDone {
		a := f.pauseAdjust(n, c.pingAsk)
		f.shiftPing(c, a-c.pingAsk)
		if c.hbAt > now {
			f.k.At(c.hbAt, f, evPing, int64(ci)<<32|int64(tok))
			return
		}
		f.doAsk(ci, a)
		if c.hbKind != hbPing || c.state != csOpen {
			return
		}
	}
	if c.hbAt > now { // moved by a catch-up after a pause
		f.k.At(c.hbAt, f, evPing, int64(ci)<<32|int64(tok))
		return
	}
	w := f.cfg.Gateway.WriteLatency
	dep := f.departure(n, c.pingAsk, w)
	if dep > c.pingDeadline {
		// A pause held the write past its deadline.
		c.hbKind = hbNone
		f.hbOutput(ci, c.hb.PingFailed(f.wall(min(dep, now)), errWriteDeadline), now)
		return
	}
	if d := dep - (c.pingAsk + w); d > 0 {
		f.shiftPing(c, d)
		if c.hbAt > now {
			f.k.At(c.hbAt, f, evPing, int64(ci)<<32|int64(tok))
			return
		}
	}
	c.hbKind = hbNone
	if out := c.hb.PingWritten(f.wall(dep)); out.Close {
		f.hbOutput(ci, out, now)
		return
	}
	t1 := c.pingT1
	switch {
	case !f.cross(ci, t1), c.gone:
		// The NAT, or the client's host, answers with a reset.
		f.closeServer(ci, rReset)
	case c.kind == kMobile && f.asleepAt(&f.clients[c.client], t1):
		// A frozen app answers nothing; its phone took the ping.
		f.armHB(ci)
	default:
		c.lastHeard = now
		n.fluid += f.cfg.Gateway.PingCPU.Seconds()
		f.hbOutput(ci, c.hb.PongReceived(f.wall(now), c.pingSeq), now)
	}
}

func (f *Fleet) asleepAt(cl *client, t time.Duration) bool {
	if t >= cl.sleepAt {
		return cl.asleep
	}
	return !cl.asleep
}
