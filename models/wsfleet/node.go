package wsfleet

import (
	"fmt"
	"time"

	"stormglass/models/gc"
	"stormglass/realtime/admission"
	"stormglass/realtime/heartbeat"
	"stormglass/sim"
)

// ---- nodes ----

// boot starts node n's process: a fresh collector, CPU and degrader.
func (f *Fleet) boot(n *node) {
	now := f.k.Now()
	n.up = true
	n.gen++
	gen := n.gen
	rt := f.cfg.GC.Runtime
	rt.Bursts = nil
	for _, b := range f.cfg.nightJobs() {
		tod := b.At
		for _, at := range f.occurrences(tod) {
			if at >= now {
				b.At = at
				rt.Bursts = append(rt.Bursts, b)
			}
		}
	}
	col, err := gc.New(f.k, rt, n)
	if err != nil {
		panic(err) // Validate checked the runtime
	}
	col.OnPause(func(p gc.Pause) { f.onPause(n, gen, p) })
	n.col = col
	n.lastAssist = 0
	n.cpu = sim.NewCPU(f.k, fmt.Sprintf("node%d", n.idx), float64(f.cfg.Cores), 1)
	n.cpu.OnDone = func(id int64, _ time.Duration) { f.handshakeDone(n, gen, int32(id)) }
	n.lastHsArea = 0
	n.dg, err = admission.NewDegrader(f.cfg.Degradation.Config)
	if err != nil {
		panic(err)
	}
	n.pausedTo, n.npause, n.loadShare, n.fluid, n.sweeping = now, 0, 0, 0, false
}

func (f *Fleet) paused(n *node) (time.Duration, bool) {
	return n.pausedTo, n.up && n.pausedTo > f.k.Now()
}

// defer_ reschedules an event of node n's process to the end of the
// pause under way; it reports false when the world runs.
func (f *Fleet) defer_(n *node, kind int32, arg int64) bool {
	if until, p := f.paused(n); p {
		f.k.At(until, f, kind, arg)
		return true
	}
	return false
}

func (f *Fleet) alloc(n *node, bytes float64) {
	if n.up {
		n.col.Allocate(bytes)
	}
}

func (f *Fleet) pooled(bytes float64) float64 {
	if f.cfg.GC.BufferPools {
		return bytes * PooledShare
	}
	return bytes
}

func (f *Fleet) onPause(n *node, gen uint32, p gc.Pause) {
	if gen != n.gen || !n.up {
		return
	}
	end := p.Start + p.Length
	n.pausedTo = max(n.pausedTo, end)
	n.pauses[n.npause%len(n.pauses)] = pauseRec{start: p.Start, end: end}
	n.npause++
	n.ivPauseMax = max(n.ivPauseMax, p.Length)
	f.pauseMax = max(f.pauseMax, p.Length)
	if p.Length > f.l1 {
		f.longPauses++
		f.m.Add(sLongPauses, 1)
	}
	n.cpu.SetCapacity(0, 1)
	f.k.At(end, f, evPauseEnd, pack(n.idx, gen))
}

func (f *Fleet) pauseEnd(n *node, gen uint32) {
	if gen != n.gen || !n.up {
		return
	}
	now := f.k.Now()
	for i := range min(n.npause, len(n.pauses)) {
		p := &n.pauses[i]
		if !p.observed && p.end <= now {
			p.observed = true
			n.dg.ObservePause(f.wall(p.end), p.end-p.start)
		}
	}
	if n.pausedTo > now {
		return // another pause runs on
	}
	n.cpu.SetCapacity(float64(f.cfg.Cores)*(1-n.loadShare), 1)
	f.maybeSweep(n)
}

// departure is when a write begun at t, taking w, is on the wire: a pause
// that begins meanwhile holds it back.
func (f *Fleet) departure(n *node, t, w time.Duration) time.Duration {
	d := t + w
	first := max(0, n.npause-len(n.pauses))
	for i := first; i < n.npause; i++ {
		p := n.pauses[i%len(n.pauses)]
		if p.start > t && p.start <= d {
			d += p.end - p.start
		}
	}
	return d
}

func (f *Fleet) maybeSweep(n *node) {
	if !f.degOn || n.sweeping || !n.up || n.dg.Level(f.wall(f.k.Now())) != admission.L2CloseIdle {
		return
	}
	n.sweeping = true
	f.sweep(n)
}

// sweep closes, at L2, the node's connections idle (nothing heard from the
// client) for longer than IdleClose, and comes back every SweepInterval
// while the node stays at L2.
func (f *Fleet) sweep(n *node) {
	now := f.k.Now()
	at := f.wall(now)
	if !f.degOn || n.dg.Level(at) != admission.L2CloseIdle {
		n.sweeping = false
		return
	}
	for i := len(n.open) - 1; i >= 0; i-- {
		if i >= len(n.open) {
			continue
		}
		ci := n.open[i]
		if n.dg.ShouldClose(at, f.wall(f.conns[ci].lastHeard)) {
			f.closeServer(ci, rIdle)
		}
	}
	f.k.After(f.cfg.Degradation.SweepInterval, f, evSweep, pack(n.idx, n.gen))
}

func (f *Fleet) tick() {
	dt := loadTick.Seconds()
	for _, n := range f.nodes {
		if !n.up {
			continue
		}
		f.alloc(n, f.cfg.Memory.AllocBase*dt)
		st := n.col.Stats()
		assist := st.AssistCPU - n.lastAssist
		n.lastAssist = st.AssistCPU
		bg := 0.0
		if n.col.Marking() {
			bg = f.cfg.GC.Runtime.BackgroundShare * float64(f.cfg.Cores) * dt
		}
		busy := n.fluid + assist + bg
		n.fluid = 0
		n.ivBusy += busy
		n.ivAssist += assist
		n.loadShare = min(0.95, busy/(float64(f.cfg.Cores)*dt))
		if _, p := f.paused(n); !p {
			n.cpu.SetCapacity(float64(f.cfg.Cores)*(1-n.loadShare), 1)
		}
	}
	if next := f.k.Now() + loadTick; next <= f.horizon {
		f.k.At(next, f, evTick, 0)
	}
}

// ---- the load balancer and handshakes ----

// pick is the load balancer's choice among the live nodes, or nil.
func (f *Fleet) pick() *node {
	live := 0
	for _, n := range f.nodes {
		if n.up {
			live++
		}
	}
	if live == 0 {
		return nil
	}
	if f.cfg.LB == Random {
		j := f.lb.IntN(live)
		for _, n := range f.nodes {
			if n.up {
				if j == 0 {
					return n
				}
				j--
			}
		}
	}
	// Least connections, ties going round-robin.
	var best *node
	f.lbNext++
	for j := range f.nodes {
		n := f.nodes[(j+f.lbNext)%len(f.nodes)]
		if n.up && (best == nil || len(n.open)+len(n.shake) < len(best.open)+len(best.shake)) {
			best = n
		}
	}
	return best
}

func (f *Fleet) accept(ci int, gen uint32) {
	cl := &f.clients[ci]
	if cl.attemptGen != gen || cl.state != cConnecting {
		return
	}
	var n *node
	if cl.attemptNode >= 0 && f.nodes[cl.attemptNode].up {
		n = f.nodes[cl.attemptNode]
	} else {
		n = f.pick()
	}
	if n == nil {
		f.refuse(ci, refNoNode)
		return
	}
	cl.attemptNode = int16(n.idx)
	if f.defer_(n, evAccept, pack(ci, gen)) {
		return
	}
	cl.attemptNode = -1
	g := &f.cfg.Gateway
	switch {
	case f.degOn && !n.dg.AdmitConnection(f.wall(f.k.Now())):
		f.refuse(ci, refDegraded)
		return
	case len(n.shake) >= g.Backlog:
		f.refuse(ci, refBacklog)
		return
	case len(n.open)+len(n.shake) >= g.ConnectionLimit:
		f.refuse(ci, refLimit)
		return
	}
	idx := int32(len(f.conns))
	// The flow through the client's NAT carries the handshake from now.
	f.conns = append(f.conns, conn{client: int32(ci), node: int16(n.idx), attempt: gen, kind: cl.kind,
		state: csHandshake, pos: int32(len(n.shake)), flowLast: f.k.Now()})
	n.shake = append(n.shake, idx)
	cl.attemptConn = idx
	f.alloc(n, f.pooled(f.cfg.Memory.AllocPerHandshake))
	n.queue = append(n.queue, idx)
	f.pump(n)
}

func (f *Fleet) refuse(ci int, why int) {
	f.refused[why]++
	f.k.After(f.down(), f, evRefused, pack(ci, f.clients[ci].attemptGen))
}

func (f *Fleet) pump(n *node) {
	for n.run < f.cfg.Cores && n.head < len(n.queue) {
		ci := n.queue[n.head]
		n.head++
		if f.conns[ci].state != csHandshake {
			continue
		}
		n.run++
		n.cpu.Submit(int64(ci), f.cfg.Gateway.HandshakeCost.Seconds())
	}
	if n.head > 1024 && n.head > len(n.queue)/2 {
		n.queue = append(n.queue[:0], n.queue[n.head:]...)
		n.head = 0
	}
}

func removeAt(list []int32, conns []conn, ci int32) []int32 {
	c := &conns[ci]
	last := list[len(list)-1]
	list[c.pos] = last
	conns[last].pos = c.pos
	return list[:len(list)-1]
}

func (f *Fleet) handshakeDone(n *node, gen uint32, ci int32) {
	if gen != n.gen || !n.up {
		return
	}
	n.run--
	defer f.pump(n)
	c := &f.conns[ci]
	if c.state != csHandshake {
		return
	}
	n.shake = removeAt(n.shake, f.conns, ci)
	cl := &f.clients[c.client]
	if c.gone || cl.attemptGen != c.attempt || cl.state != cConnecting {
		c.state = csAborted // the client gave up on it
		return
	}
	f.open(n, ci)
	now := f.k.Now()
	// The session: the new connection is current; the old one goes, or
	// stays as a zombie in the naive hub.
	if prev := cl.cur; prev >= 0 && f.conns[prev].state == csOpen {
		if f.cfg.Gateway.CloseSuperseded {
			f.closeServer(prev, rTakeover)
		}
	}
	cl.cur = ci
	c.resumeTo = cl.seq
	if f.resumeOn {
		// Replay what the client lacks from the shared store; what has
		// left the window is lost if it was written, or never was.
		keep := cl.pending[:0]
		for _, p := range cl.pending {
			if p.seq > cl.delivered && p.at < now-f.cfg.Resume.Window {
				if p.written {
					f.m.Add(sLost, 1)
				} else {
					f.expired++
				}
				continue
			}
			keep = append(keep, p)
		}
		cl.pending = keep
	} else {
		c.resync = true
	}
	// The upgrade's response (and the replay) goes first, then the
	// heartbeat's first ping.
	arr := max(now+f.down(), c.lastDown)
	c.lastDown = arr
	f.k.At(arr, f, evConnected, int64(ci))
	if f.hbOn {
		f.startHB(ci)
	}
}

// open makes a handshaken connection open on node n.
func (f *Fleet) open(n *node, ci int32) {
	c := &f.conns[ci]
	c.state = csOpen
	c.pos = int32(len(n.open))
	n.open = append(n.open, ci)
	f.openConns++
	c.lastHeard = f.k.Now()
	f.refresh(ci)
}

// closeServer closes a connection on the server.
func (f *Fleet) closeServer(ci int32, why reason) {
	c := &f.conns[ci]
	if c.state != csOpen {
		return
	}
	now := f.k.Now()
	n := f.nodes[c.node]
	c.state = csClosed
	c.closed, c.closedAt = why, now
	n.open = removeAt(n.open, f.conns, ci)
	f.openConns--
	if c.hb != nil {
		c.death = c.hb.Stats().DeathCause
		if c.hb.State() != heartbeat.Dead {
			c.hb.Closed(f.wall(now), reasonNames[why])
		}
		c.hb = nil
		c.hbTok++
		c.hbKind = hbNone
	}
	cl := &f.clients[c.client]
	if cl.cur == ci {
		cl.cur = -1
	}
	f.refresh(ci)
	f.m.Add(reasonSeries[why], 1)
	f.discWin.add(now)
	if why == rReset {
		f.resetWin.add(now)
		return
	}
	// A close frame, or the FIN of a killed process, goes to the client.
	arr := max(now+f.down(), c.lastDown)
	c.lastDown = arr
	f.k.At(arr, f, evClose, int64(ci))
}

// Kill kills node's process now: the OS closes its sockets, so every
// client of the node sees its connection close one one-way delay later
// (those whose NAT flow is gone see nothing); handshakes under way fail.
// The load balancer sends nothing to the node until it is back, downtime
// later, as a fresh process.
func (f *Fleet) Kill(node int, downtime time.Duration) error {
	if node < 0 || node >= len(f.nodes) {
		return fmt.Errorf("wsfleet: Kill: node %d: want 0 to %d: %w", node, len(f.nodes)-1, ErrConfig)
	}
	if downtime <= 0 {
		return fmt.Errorf("wsfleet: Kill: downtime %v: want above 0: %w", downtime, ErrConfig)
	}
	n := f.nodes[node]
	if !n.up {
		return fmt.Errorf("wsfleet: Kill: node %d is down already: %w", node, ErrConfig)
	}
	for len(n.open) > 0 {
		f.closeServer(n.open[len(n.open)-1], rKill)
	}
	for _, ci := range n.shake {
		c := &f.conns[ci]
		c.state = csAborted
		if cl := &f.clients[c.client]; cl.attemptGen == c.attempt && cl.state == cConnecting {
			f.k.After(f.down(), f, evRefused, pack(int(c.client), c.attempt))
		}
	}
	n.shake, n.queue, n.head, n.run = nil, nil, 0, 0
	n.col.Stop()
	n.up = false
	n.gen++
	n.pausedTo = f.k.Now()
	f.k.After(downtime, f, evRestart, pack(node, n.gen))
	return nil
}
