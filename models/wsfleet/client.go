package wsfleet

import (
	"time"

	"stormglass/realtime/backoff"
	"stormglass/sim"
)

// ---- messages ----

// write produces the session's next message and writes it to the
// session's current connection, if any.
func (f *Fleet) write(ci int) {
	cl := &f.clients[ci]
	now := f.k.Now()
	if cl.cur < 0 {
		cl.seq++
		f.offline++
		if f.resumeOn {
			cl.pending = append(cl.pending, pmsg{seq: cl.seq, at: now})
		}
		return
	}
	c := &f.conns[cl.cur]
	n := f.nodes[c.node]
	if f.defer_(n, evWrite, int64(ci)) {
		return
	}
	cl.seq++
	if c.wCount == 0 {
		c.wFirst = cl.seq
	}
	c.wCount++
	cl.pending = append(cl.pending, pmsg{seq: cl.seq, at: now, written: true})
	f.m.Add(sSent, 1)
	f.alloc(n, f.pooled(f.cfg.Memory.AllocPerMessage))
	n.fluid += f.cfg.Gateway.MessageCPU.Seconds()
	arr := max(now+f.cfg.Gateway.WriteLatency+f.down(), c.lastDown)
	c.lastDown = arr
	f.k.At(arr, f, evDown, int64(cl.cur))
}

// arrive is a message reaching the client side of connection ci.
func (f *Fleet) arrive(ci int32) {
	c := &f.conns[ci]
	seq := c.wFirst + uint64(c.aCount)
	c.aCount++
	cl := &f.clients[c.client]
	if !f.cross(ci, f.k.Now()) || !c.held {
		f.fail(cl, seq)
		f.k.After(f.up(), f, evRST, int64(ci))
		return
	}
	cl.delivered = max(cl.delivered, seq)
	i := 0
	for i < len(cl.pending) && cl.pending[i].seq <= cl.delivered {
		i++
	}
	cl.pending = cl.pending[i:]
	if cl.state == cOnline && !cl.asleep {
		cl.bo.MessageReceived()
	}
}

// fail records a message its connection did not deliver: lost at once
// without resume; kept for a replay with it.
func (f *Fleet) fail(cl *client, seq uint64) {
	for i := range cl.pending {
		if p := &cl.pending[i]; p.seq == seq {
			if f.resumeOn {
				p.failed = true
				return
			}
			f.m.Add(sLost, 1)
			cl.pending = append(cl.pending[:i], cl.pending[i+1:]...)
			return
		}
	}
}

func (f *Fleet) broadcast() {
	for ci := range f.clients {
		f.write(ci)
	}
	for _, n := range f.nodes {
		for _, ci := range n.open {
			if f.clients[f.conns[ci].client].cur != ci {
				f.strayWrite(ci)
			}
		}
	}
}

// strayWrite writes a broadcast to a superseded connection the hub still
// holds: nobody reads it, but it finds out whether the peer is there.
func (f *Fleet) strayWrite(ci int32) {
	c := &f.conns[ci]
	if c.state != csOpen {
		return
	}
	n := f.nodes[c.node]
	if f.defer_(n, evStrayWrite, int64(ci)) {
		return
	}
	now := f.k.Now()
	f.alloc(n, f.pooled(f.cfg.Memory.AllocPerMessage))
	n.fluid += f.cfg.Gateway.MessageCPU.Seconds()
	arr := max(now+f.cfg.Gateway.WriteLatency+f.down(), c.lastDown)
	c.lastDown = arr
	f.k.At(arr, f, evStray, int64(ci))
}

// ---- clients ----

// at returns when a client timer set now for d fires, by the client's
// kind: a hidden tab's timers are clamped and aligned (Throttle); others
// fire on time (a sleeping app's fire on waking, see the handlers).
func (f *Fleet) at(cl *client, d time.Duration) time.Duration {
	now := f.k.Now()
	if cl.kind != kBackground {
		return now + d
	}
	t := now + max(d, f.cfg.Throttle.Min)
	if a := f.cfg.Throttle.Align; a > 0 {
		if x := t - cl.phase; x <= 0 {
			t = cl.phase
		} else {
			t = cl.phase + (x+a-1)/a*a
		}
	}
	return t
}

func (f *Fleet) exp(mean time.Duration, factor float64) (time.Duration, bool) {
	if mean <= 0 || factor <= 0 {
		return 0, false
	}
	return sim.DurationOf(f.traffic.ExpFloat64() * mean.Seconds() / factor), true
}

func (f *Fleet) scheduleSend(ci int) {
	cl := &f.clients[ci]
	d, ok := f.exp(f.cfg.Traffic.SendInterval, f.factor(f.k.Now()))
	if !ok {
		if f.cfg.Traffic.SendInterval > 0 { // a night with no activity: look again later
			cl.sendTok++
			f.k.After(time.Minute, f, evSend, pack(ci, cl.sendTok))
		}
		return
	}
	cl.sendTok++
	f.k.At(f.at(cl, d), f, evSend, pack(ci, cl.sendTok))
}

func (f *Fleet) schedulePush(ci int) {
	d, ok := f.exp(f.cfg.Traffic.PushInterval, f.factor(f.k.Now()))
	if !ok {
		if f.cfg.Traffic.PushInterval > 0 {
			f.k.After(time.Minute, f, evPush, int64(ci))
		}
		return
	}
	f.k.After(d, f, evPush, int64(ci))
}

// send is the client sending a message on the connection it holds; a
// dropped flow answers with a reset, and the client learns at once.
func (f *Fleet) send(ci int) {
	cl := &f.clients[ci]
	if cl.state != cOnline {
		return
	}
	c := &f.conns[cl.conn]
	now := f.k.Now()
	if !f.cross(cl.conn, now) {
		f.learn(ci, boReset)
		return
	}
	arr := max(now+f.up(), c.lastUp)
	c.lastUp = arr
	f.k.At(arr, f, evUp, int64(cl.conn))
}

// received is the server reading a client's message.
func (f *Fleet) received(ci int32) {
	c := &f.conns[ci]
	if c.state != csOpen {
		return
	}
	n := f.nodes[c.node]
	if f.defer_(n, evUp, int64(ci)) {
		return
	}
	now := f.k.Now()
	c.lastHeard = now
	f.alloc(n, f.pooled(f.cfg.Memory.AllocPerMessage))
	n.fluid += f.cfg.Gateway.MessageCPU.Seconds()
	if c.hb != nil {
		f.catchUp(ci, now)
		if c.hb != nil && c.state == csOpen {
			f.hbOutput(ci, c.hb.MessageReceived(f.wall(now)), now)
		}
	}
}

// learn is the client finding out its connection is gone: it starts a
// recovery and asks its backoff when to try again. An app asleep learns
// on waking.
func (f *Fleet) learn(ci int, why string) {
	cl := &f.clients[ci]
	if cl.state != cOnline {
		return
	}
	if cl.asleep {
		cl.learnPending, cl.learnReason = true, why
		return
	}
	c := &f.conns[cl.conn]
	c.held, c.gone = false, true
	f.holding--
	f.refresh(cl.conn)
	cl.conn = -1
	if cl.learnedAt < 0 {
		cl.learnedAt = f.k.Now()
	}
	if f.cfg.Reconnect.Immediate {
		if _, err := cl.bo.Next(why); err != nil {
			cl.state = cGaveUp
			f.gaveUp++
			return
		}
		cl.state = cWaiting
		f.attempt(ci)
		return
	}
	f.retry(ci, why)
}

func (f *Fleet) retry(ci int, why string) {
	cl := &f.clients[ci]
	d, err := cl.bo.Next(why)
	if err != nil {
		cl.state = cGaveUp
		f.gaveUp++
		return
	}
	cl.state = cWaiting
	cl.attemptTok++
	f.k.At(f.at(cl, d), f, evAttempt, pack(ci, cl.attemptTok))
}

func (f *Fleet) attempt(ci int) {
	cl := &f.clients[ci]
	if cl.state != cWaiting {
		return
	}
	now := f.k.Now()
	cl.state = cConnecting
	cl.attemptGen++
	cl.attemptConn, cl.attemptNode = -1, -1
	f.m.Add(sAttempted, 1)
	// The upgrade request reaches the node after the handshake's earlier
	// round trips (TCP, TLS) and its own one-way trip.
	rtts := f.cfg.Network.HandshakeRTTs
	arr := now
	for i := range rtts {
		arr += f.up()
		if i > 0 {
			arr += f.down()
		}
	}
	f.k.At(arr, f, evAccept, pack(ci, cl.attemptGen))
	if to := f.cfg.Reconnect.ConnectTimeout; to > 0 {
		f.k.After(to, f, evTimeout, pack(ci, cl.attemptGen))
	}
}

// attemptFailed is an attempt refused (or cut by a kill) or timed out.
func (f *Fleet) attemptFailed(ci int, gen uint32, why string) {
	cl := &f.clients[ci]
	if cl.attemptGen != gen || cl.state != cConnecting {
		return
	}
	f.m.Add(sFailed, 1)
	if why == backoff.ReasonTimeout {
		f.timeouts++
		if a := cl.attemptConn; a >= 0 {
			c := &f.conns[a]
			c.gone = true
			f.refresh(a)
			if c.state == csOpen {
				// The client's host resets the connection it gave up on.
				f.k.After(f.up(), f, evRST, int64(a))
			}
		}
	}
	cl.attemptGen++ // whatever comes of the attempt now is ignored
	cl.attemptConn = -1
	f.retry(ci, why)
}

func (f *Fleet) connected(ci int32) {
	c := &f.conns[ci]
	cl := &f.clients[c.client]
	now := f.k.Now()
	if cl.attemptGen != c.attempt || cl.state != cConnecting {
		// The client gave up on the attempt: its host resets the stream.
		c.gone = true
		f.refresh(ci)
		f.k.After(f.up(), f, evRST, int64(ci))
		return
	}
	c.flowLast, c.flowDead = now, false
	c.held = true
	cl.state, cl.conn, cl.attemptConn = cOnline, ci, -1
	f.holding++
	f.refresh(ci)
	f.armDeath(ci)
	cl.bo.Connected()
	cl.bo.MessageReceived()
	cl.bo.Synced()
	f.m.Add(sSucceeded, 1)
	end := now
	if c.resync {
		end += f.up() + f.down() // a re-sync: one more round trip
	}
	if cl.learnedAt >= 0 {
		r := (end - cl.learnedAt).Seconds()
		f.recovery[cl.kind].Record(r)
		f.recovery[nKinds].Record(r)
		cl.learnedAt = -1
	}
	// The replay came with the response.
	i, replayed := 0, 0
	for i < len(cl.pending) && cl.pending[i].seq <= c.resumeTo {
		if !c.resync {
			replayed++
		}
		i++
	}
	cl.pending = cl.pending[i:]
	f.m.Add(sReplayed, float64(replayed))
	cl.delivered = max(cl.delivered, c.resumeTo)
}

// sleep freezes a mobile app; its next waking is drawn when chain is set.
func (f *Fleet) sleep(ci int, chain bool) {
	cl := &f.clients[ci]
	cl.asleep, cl.sleepAt = true, f.k.Now()
	cl.mobileTok++
	if chain {
		f.k.After(sim.DurationOf(f.mobile.ExpFloat64()*f.cfg.Mobile.Asleep.Seconds()), f, evWake, pack(ci, cl.mobileTok))
	}
}

// wake brings a mobile app back; its next sleep is drawn when chain is
// set. Whatever it missed asleep happens now, and it syncs.
func (f *Fleet) wake(ci int, chain bool) {
	cl := &f.clients[ci]
	cl.asleep, cl.sleepAt = false, f.k.Now()
	cl.mobileTok++
	if chain {
		f.k.After(sim.DurationOf(f.mobile.ExpFloat64()*f.cfg.Mobile.Awake.Seconds()), f, evSleep, pack(ci, cl.mobileTok))
	}
	if cl.learnPending {
		cl.learnPending = false
		f.learn(ci, cl.learnReason)
	}
	if cl.dueAttempt {
		cl.dueAttempt = false
		f.attempt(ci)
	}
	// Coming to the foreground, the app syncs: it sends at once.
	f.send(ci)
	if cl.dueSend {
		cl.dueSend = false
		f.scheduleSend(ci)
	}
}
