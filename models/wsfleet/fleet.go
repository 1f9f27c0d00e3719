package wsfleet

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"stormglass/models/gc"
	"stormglass/models/metric"
	"stormglass/realtime/admission"
	"stormglass/realtime/backoff"
	"stormglass/realtime/heartbeat"
	"stormglass/sim"
	"stormglass/sim/stats"
)

// Event kinds.
const (
	evSend int32 = iota + 1
	evAttempt
	evSleep
	evWake
	evPush
	evWrite
	evDown
	evStrayWrite
	evStray
	evClose
	evUp
	evRST
	evHB
	evPing
	evAccept
	evConnected
	evRefused
	evTimeout
	evDeathCheck
	evPauseEnd
	evSweep
	evRestart
	evTick
	evSample
	evBroadcast
)

// Pending heartbeat events.
const (
	hbNone uint8 = iota
	hbTimer
	hbPing
)

// loadTick is how often each node's background allocation and CPU load
// are brought up to date.
const loadTick = 100 * time.Millisecond

// Client kinds.
type kind uint8

const (
	kDesktop kind = iota
	kBackground
	kMobile
	nKinds
)

// Client states.
const (
	cOnline     uint8 = iota // holds a connection (which may be dead)
	cWaiting                 // waiting for the reconnect timer
	cConnecting              // an attempt is under way
	cGaveUp                  // the backoff gave up
)

// Connection states, server side.
const (
	csHandshake uint8 = iota // accepted, handshake queued or running
	csOpen
	csClosed
	csAborted // the handshake never opened
)

// Why a server connection closed.
type reason uint8

const (
	rReset reason = iota
	rHeartbeat
	rIdle
	rKill
	rTakeover
)

var reasonSeries = [...]int{rReset: sDiscReset, rHeartbeat: sDiscHeartbeat, rIdle: sDiscIdle, rKill: sDiscKill, rTakeover: sDiscTakeover}

var reasonNames = [...]string{rReset: "connection reset by peer", rHeartbeat: "heartbeat", rIdle: "idle at L2", rKill: "process killed", rTakeover: "superseded"}

// Why an attempt was refused.
const (
	refDegraded = iota
	refBacklog
	refLimit
	refNoNode
	nRefusals
)

// Backoff reasons.
const (
	boReset   = "reset"
	boClosed  = "closed"
	boRefused = "refused"
)

var errWriteDeadline = errors.New("write deadline exceeded (GC pause)")

// pmsg is a message of a session not yet known delivered.
type pmsg struct {
	seq     uint64
	at      time.Duration // when it was written, or produced for a session offline
	written bool          // written to a connection
	failed  bool          // its connection failed to deliver it
}

type client struct {
	kind         kind
	state        uint8
	asleep       bool
	dueSend      bool // the send timer fell due while asleep
	dueAttempt   bool // the attempt timer fell due while asleep
	learnPending bool // the connection ended while asleep: learnt on waking
	learnReason  string
	sleepAt      time.Duration // when asleep last changed
	conn         int32         // the connection the client holds (cOnline)
	attemptGen   uint32
	attemptConn  int32 // the server connection of the attempt, once accepted
	attemptNode  int16 // the node the LB chose, while the node is paused
	sendTok      uint32
	attemptTok   uint32
	mobileTok    uint32        // the sleep and wake chain
	learnedAt    time.Duration // start of the recovery under way; -1 if none
	phase        time.Duration // alignment of throttled timers
	bo           *backoff.Backoff

	// The session, as the service keeps it.
	cur       int32  // the session's current server connection; -1
	seq       uint64 // last message produced
	delivered uint64 // last message the client has, in sequence
	pending   []pmsg
}

type conn struct {
	// The fields a ping touches come first, to share cache lines.
	//
	// The heartbeat: one pending event at a time, a timer (hbTimer) for
	// a deadline other than a ping, or a ping (hbPing) decided when its
	// pong would arrive (hbAt), the ping itself asked at pingAsk.
	hb           *heartbeat.Machine
	hbTok        uint32
	client       int32
	node         int16
	state        uint8
	kind         kind // the client's, kept here for the heartbeat's hot path
	hbKind       uint8
	pingDone     bool // the pending ping was asked
	held         bool // the client holds it
	gone         bool // the client gave it up (or the attempt): it will never use it
	flowDead     bool
	hbAt         time.Duration
	pingAsk      time.Duration
	pingT1       time.Duration // when the ping crosses the client's NAT
	pingDeadline time.Duration
	pingSeq      uint64
	lastAsk      time.Duration
	flowLast     time.Duration
	lastHeard    time.Duration
	lastDown     time.Duration

	zombie   bool // counted in Fleet.zombies
	stranded bool // counted in Fleet.stranded
	resync   bool // opened without resume: the client re-syncs
	deathChk bool // a death check is pending
	closed   reason
	death    heartbeat.Cause
	attempt  uint32
	pos      int32         // index in the node's open or handshaking list
	closedAt time.Duration // when the server closed it
	pingDue  time.Duration // when the pending ping fell due
	lastUp   time.Duration
	wFirst   uint64 // seq of the first message written on it
	wCount   uint32 // messages written
	aCount   uint32 // and resolved at the client
	resumeTo uint64
}

type pauseRec struct {
	start, end time.Duration
	observed   bool
}

type node struct {
	f     *Fleet
	idx   int
	up    bool
	gen   uint32
	col   *gc.Collector
	cpu   *sim.CPU
	dg    *admission.Degrader
	open  []int32 // open connections
	shake []int32 // connections in handshake
	queue []int32 // handshakes waiting for a core
	head  int
	run   int // handshakes on a core

	pausedTo   time.Duration
	pauses     [8]pauseRec
	npause     int
	loadShare  float64 // share of the cores taken by everything but handshakes
	fluid      float64 // core-seconds of message and ping work since the last tick
	lastAssist float64
	sweeping   bool

	// Per sample interval.
	ivPauseMax time.Duration
	ivBusy     float64 // core-seconds busy without handshakes
	ivAssist   float64
	lastHsArea float64
}

// LiveHeap is the node's live heap for its collector.
func (n *node) LiveHeap() float64 {
	m := &n.f.cfg.Memory
	return m.HeapBase + float64(len(n.open)+len(n.shake))*m.HeapPerConn
}

// Goroutines is the node's goroutine count for its collector.
func (n *node) Goroutines() int {
	m := &n.f.cfg.Memory
	return m.GoroutinesBase + (len(n.open)+len(n.shake))*m.GoroutinesPerConn
}

// Fleet is a fleet of WebSocket gateways and their clients on one
// simulation kernel. Like the kernel it is driven from one goroutine.
type Fleet struct {
	k       *sim.Kernel
	cfg     Config
	hbCfg   heartbeat.Config
	hbProto heartbeat.Machine
	tod0    time.Duration // time of day at virtual time 0
	horizon time.Duration

	nodes   []*node
	clients []client
	conns   []conn

	pop, traffic, net, mobile, lb *rand.Rand
	boSrc                         rand.Source

	// Live settings.
	hbOn, degOn, resumeOn bool
	injected, jitter      time.Duration
	lbNext                int

	// Counts kept as things change.
	holding, stranded, zombies, openConns int
	zombiePeak, strandedPeak              int
	discWin, resetWin                     window
	refused                               [nRefusals]float64
	timeouts, gaveUp, offline, expired    float64
	longPauses                            float64
	pauseMax                              time.Duration
	assistTotal, busyTotal, capTotal      float64

	l1    time.Duration // the long-pause threshold: degradation's L1
	onAsk func(ci int32, due, at time.Duration)

	recovery [nKinds + 1]*stats.Histogram // by kind, then all
	m        *metric.Meter
	connMin  float64
	connSum  float64
	samples  int
	started  bool
}

// window counts events within the last minute and keeps the most seen.
type window struct {
	times []time.Duration
	head  int
	peak  int
}

func (w *window) add(now time.Duration) {
	w.times = append(w.times, now)
	for w.times[w.head] <= now-time.Minute {
		w.head++
	}
	w.peak = max(w.peak, len(w.times)-w.head)
	if w.head > 4096 && w.head > len(w.times)/2 {
		w.times = append(w.times[:0], w.times[w.head:]...)
		w.head = 0
	}
}

// New builds a fleet on kernel k, drawing randomness from streams; sample
// is the interval of its time series and horizon the run's length. The
// kernel's epoch, read in its own location, sets the time of day at
// virtual time zero. Call Start before running the kernel.
func New(k *sim.Kernel, streams sim.Streams, cfg Config, sample, horizon time.Duration) (*Fleet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sample <= 0 {
		return nil, fmt.Errorf("wsfleet: sample interval %v: want above 0: %w", sample, ErrConfig)
	}
	if horizon <= 0 {
		return nil, fmt.Errorf("wsfleet: horizon %v: want above 0: %w", horizon, ErrConfig)
	}
	proto, err := heartbeat.NewMachine(cfg.Heartbeat.Config)
	if err != nil {
		return nil, fmt.Errorf("wsfleet: Heartbeat.Config: %w: %w", err, ErrConfig)
	}
	ep := k.Epoch()
	f := &Fleet{
		k: k, cfg: cfg, hbCfg: cfg.Heartbeat.Config.WithDefaults(), hbProto: *proto,
		tod0:    time.Duration(ep.Hour())*time.Hour + time.Duration(ep.Minute())*time.Minute + time.Duration(ep.Second())*time.Second + time.Duration(ep.Nanosecond()),
		horizon: horizon,
		pop:     streams.Rand("wsfleet.population"), traffic: streams.Rand("wsfleet.traffic"),
		net: streams.Rand("wsfleet.network"), mobile: streams.Rand("wsfleet.mobile"), lb: streams.Rand("wsfleet.lb"),
		boSrc: streams.Source("wsfleet.backoff"),
		hbOn:  cfg.Heartbeat.Enabled, degOn: cfg.Degradation.Enabled, resumeOn: cfg.Resume.Enabled,
		injected: cfg.Network.Injected, jitter: cfg.Network.Jitter,
		m: metric.NewMeter(sample, seriesInfo[:]), connMin: math.Inf(1),
	}
	for i := range f.recovery {
		f.recovery[i] = stats.NewHistogram(0.005)
	}
	dg, err := cfg.Degradation.Config.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("wsfleet: Degradation.Config: %w: %w", err, ErrConfig)
	}
	f.l1 = dg.L1Pause
	f.cfg.GC.Runtime.GOMAXPROCS = cfg.Cores
	// The fleet keeps its own copies of the lists a caller might change.
	f.cfg.GC.NightJobs = slices.Clone(cfg.GC.NightJobs)
	f.cfg.Traffic.Day = slices.Clone(cfg.Traffic.Day)
	f.cfg.Traffic.Broadcasts = slices.Clone(cfg.Traffic.Broadcasts)
	for i := range cfg.Nodes {
		n := &node{f: f, idx: i}
		f.nodes = append(f.nodes, n)
	}
	return f, nil
}

// ---- time ----

// occurrences returns the virtual times in [0, horizon] at which a daily
// time of day falls.
func (f *Fleet) occurrences(tod time.Duration) []time.Duration {
	first := ((tod-f.tod0)%Day + Day) % Day
	var out []time.Duration
	for t := first; t <= f.horizon; t += Day {
		out = append(out, t)
	}
	return out
}

// factor is the day curve's activity factor at virtual time t.
func (f *Fleet) factor(t time.Duration) float64 {
	pts := f.cfg.Traffic.Day
	switch len(pts) {
	case 0:
		return 1
	case 1:
		return pts[0].Factor
	}
	tod := (f.tod0 + t) % Day
	n := len(pts)
	i := 0
	for i < n && pts[i].At <= tod {
		i++
	}
	var a, b DayPoint
	switch i {
	case 0:
		a, b = pts[n-1], pts[0]
		a.At -= Day
	case n:
		a, b = pts[n-1], pts[0]
		b.At += Day
	default:
		a, b = pts[i-1], pts[i]
	}
	w := float64(tod-a.At) / float64(b.At-a.At)
	return a.Factor + w*(b.Factor-a.Factor)
}

func (f *Fleet) wall(t time.Duration) time.Time { return f.k.Epoch().Add(t) }

// ---- network ----

func (f *Fleet) inject() time.Duration {
	if f.injected == 0 {
		return 0
	}
	return f.injected - f.jitter + time.Duration(f.net.Float64()*float64(2*f.jitter))
}

// down is a packet's one-way delay from a node to a client.
func (f *Fleet) down() time.Duration { return f.cfg.Network.Latency + f.inject() }

// up is a packet's one-way delay from a client to a node.
func (f *Fleet) up() time.Duration {
	if f.cfg.Network.InjectBothWays {
		return f.cfg.Network.Latency + f.inject()
	}
	return f.cfg.Network.Latency
}

// cross reports whether a packet crossing the connection's NAT flow at t
// gets through, and refreshes the flow if so. A flow idle for NATIdle is
// dropped for good, silently.
func (f *Fleet) cross(ci int32, t time.Duration) bool {
	c := &f.conns[ci]
	if c.flowDead {
		return false
	}
	if idle := f.cfg.Network.NATIdle; idle > 0 && t-c.flowLast >= idle {
		f.dropFlow(ci)
		return false
	}
	c.flowLast = max(c.flowLast, t)
	return true
}

func (f *Fleet) dropFlow(ci int32) {
	c := &f.conns[ci]
	if c.flowDead {
		return
	}
	c.flowDead = true
	f.m.Add(sFlowsDropped, 1)
	f.refresh(ci)
}

// armDeath schedules the check that finds the flow dropped when it idles
// out, so zombies are counted when they appear.
func (f *Fleet) armDeath(ci int32) {
	c := &f.conns[ci]
	idle := f.cfg.Network.NATIdle
	if idle == 0 || c.deathChk || c.flowDead || c.state != csOpen {
		return
	}
	c.deathChk = true
	f.k.At(max(f.k.Now(), c.flowLast+idle), f, evDeathCheck, int64(ci))
}

func (f *Fleet) deathCheck(ci int32) {
	c := &f.conns[ci]
	c.deathChk = false
	if c.flowDead || c.state != csOpen {
		return
	}
	now, idle := f.k.Now(), f.cfg.Network.NATIdle
	// A ping whose fate is decided later crossed (or will) at pingT1.
	if c.hbKind == hbPing && c.pingT1 <= now && c.pingT1-c.flowLast < idle {
		c.flowLast = max(c.flowLast, c.pingT1)
	}
	if now-c.flowLast >= idle {
		f.dropFlow(ci)
		return
	}
	f.armDeath(ci)
}

// refresh recounts a connection's zombie and stranded flags.
func (f *Fleet) refresh(ci int32) {
	c := &f.conns[ci]
	z := c.state == csOpen && (c.flowDead || c.gone)
	s := c.held && (c.flowDead || c.state != csOpen)
	if z != c.zombie {
		c.zombie = z
		if z {
			f.zombies++
			f.zombiePeak = max(f.zombiePeak, f.zombies)
		} else {
			f.zombies--
		}
	}
	if s != c.stranded {
		c.stranded = s
		if s {
			f.stranded++
			f.strandedPeak = max(f.strandedPeak, f.stranded)
		} else {
			f.stranded--
		}
	}
}

// ---- running ----

// Start connects every client (each to a node in turn, its NAT flow alive
// with a last packet up to NATIdle ago, or up to a ping interval ago with
// heartbeats), starts the traffic, the mobile clients' sleep, the night
// jobs, the broadcasts and the sampling. Call it once, before running the
// kernel.
func (f *Fleet) Start() {
	if f.started {
		return
	}
	f.started = true
	for _, n := range f.nodes {
		f.boot(n)
	}
	mix := f.cfg.Mix
	f.clients = make([]client, f.cfg.Clients)
	f.conns = make([]conn, 0, f.cfg.Clients*2)
	age := f.cfg.Network.NATIdle
	if f.hbOn && (age == 0 || f.hbCfg.PingInterval < age) {
		age = f.hbCfg.PingInterval
	}
	for i := range f.clients {
		cl := &f.clients[i]
		u := f.pop.Float64()
		switch {
		case u < mix.Desktop:
			cl.kind = kDesktop
		case u < mix.Desktop+mix.Background:
			cl.kind = kBackground
		default:
			cl.kind = kMobile
		}
		if a := f.cfg.Throttle.Align; a > 0 {
			cl.phase = time.Duration(f.pop.Int64N(int64(a)))
		}
		cl.learnedAt, cl.attemptConn, cl.attemptNode = -1, -1, -1
		bo, err := backoff.New(f.cfg.Reconnect.Policy, f.k.Clock(), f.boSrc)
		if err != nil {
			panic(err) // Validate checked the policy
		}
		cl.bo = bo
		n := f.nodes[i%len(f.nodes)]
		ci := int32(len(f.conns))
		last := time.Duration(0)
		if age > 0 {
			last = -time.Duration(f.pop.Int64N(int64(age)))
		}
		f.conns = append(f.conns, conn{client: int32(i), node: int16(n.idx), state: csHandshake, kind: cl.kind,
			held: true, flowLast: last, lastDown: 0, lastUp: 0})
		f.open(n, ci)
		f.conns[ci].lastHeard = last
		cl.state, cl.conn, cl.cur = cOnline, ci, ci
		f.holding++
		f.refresh(ci)
		f.armDeath(ci)
		bo.Connected()
		if f.hbOn {
			// The heartbeat starts within its first interval.
			c := &f.conns[ci]
			m := f.hbProto
			c.hb = &m
			f.schedulePing(ci, time.Duration(f.pop.Int64N(int64(f.hbCfg.PingInterval))), false)
		}
		if cl.kind == kMobile {
			m := f.cfg.Mobile
			if f.mobile.Float64() < m.Asleep.Seconds()/(m.Asleep+m.Awake).Seconds() {
				f.sleep(i, true)
			} else {
				f.wake(i, true)
			}
		}
		f.scheduleSend(i)
		f.schedulePush(i)
	}
	for _, b := range f.cfg.Traffic.Broadcasts {
		for _, at := range f.occurrences(b) {
			f.k.At(at, f, evBroadcast, 0)
		}
	}
	f.k.At(0, f, evTick, 0)
	f.k.After(f.m.Interval(), f, evSample, 0)
}

// Handle dispatches the fleet's events.
func (f *Fleet) Handle(ev sim.Event) {
	switch ev.Kind {
	case evSend:
		ci, tok := unpack(ev.Arg)
		cl := &f.clients[ci]
		if tok != cl.sendTok {
			return
		}
		if cl.kind == kMobile && cl.asleep {
			cl.dueSend = true
			return
		}
		f.send(ci)
		f.scheduleSend(ci)
	case evAttempt:
		ci, tok := unpack(ev.Arg)
		cl := &f.clients[ci]
		if tok != cl.attemptTok {
			return
		}
		if cl.kind == kMobile && cl.asleep {
			cl.dueAttempt = true
			return
		}
		f.attempt(ci)
	case evSleep:
		if ci, tok := unpack(ev.Arg); tok == f.clients[ci].mobileTok {
			f.sleep(ci, true)
		}
	case evWake:
		if ci, tok := unpack(ev.Arg); tok == f.clients[ci].mobileTok {
			f.wake(ci, true)
		}
	case evPush:
		f.write(int(ev.Arg))
		f.schedulePush(int(ev.Arg))
	case evWrite:
		f.write(int(ev.Arg))
	case evDown:
		f.arrive(int32(ev.Arg))
	case evStrayWrite:
		f.strayWrite(int32(ev.Arg))
	case evStray:
		ci := int32(ev.Arg)
		if !f.cross(ci, f.k.Now()) || !f.conns[ci].held {
			f.k.After(f.up(), f, evRST, ev.Arg)
		}
	case evClose:
		ci := int32(ev.Arg)
		c := &f.conns[ci]
		if f.cross(ci, f.k.Now()) && c.held {
			f.learn(int(c.client), boClosed)
		}
	case evUp:
		f.received(int32(ev.Arg))
	case evRST:
		ci := int32(ev.Arg)
		c := &f.conns[ci]
		if c.state == csOpen && !f.defer_(f.nodes[c.node], evRST, ev.Arg) {
			f.closeServer(ci, rReset)
		}
	case evHB:
		f.heartbeatDue(int32(ev.Arg>>32), uint32(ev.Arg))
	case evPing:
		f.ping(int32(ev.Arg>>32), uint32(ev.Arg))
	case evAccept:
		ci, gen := unpack(ev.Arg)
		f.accept(ci, gen)
	case evConnected:
		f.connected(int32(ev.Arg))
	case evRefused:
		ci, gen := unpack(ev.Arg)
		f.attemptFailed(ci, gen, boRefused)
	case evTimeout:
		ci, gen := unpack(ev.Arg)
		f.attemptFailed(ci, gen, backoff.ReasonTimeout)
	case evDeathCheck:
		f.deathCheck(int32(ev.Arg))
	case evPauseEnd:
		ni, gen := unpack(ev.Arg)
		f.pauseEnd(f.nodes[ni], gen)
	case evSweep:
		ni, gen := unpack(ev.Arg)
		if n := f.nodes[ni]; gen == n.gen && n.up {
			if !f.defer_(n, evSweep, ev.Arg) {
				f.sweep(n)
			}
		}
	case evRestart:
		ni, gen := unpack(ev.Arg)
		if n := f.nodes[ni]; gen == n.gen && !n.up {
			f.boot(n)
		}
	case evTick:
		f.tick()
	case evSample:
		f.sampleNow()
	case evBroadcast:
		f.broadcast()
	}
}

func pack(i int, tag uint32) int64 { return int64(i)<<32 | int64(tag) }
func unpack(arg int64) (int, uint32) {
	return int(uint64(arg) >> 32), uint32(arg)
}

// ---- live settings ----

// SetLatency sets the injected delay of packets leaving the nodes (both
// ways with Network.InjectBothWays): uniform in [mean − jitter, mean +
// jitter], for packets sent from now on.
func (f *Fleet) SetLatency(mean, jitter time.Duration) error {
	if mean < 0 || mean > 10*time.Second || jitter < 0 || jitter > mean {
		return fmt.Errorf("wsfleet: SetLatency(%v, %v): want 0 ≤ jitter ≤ mean ≤ 10s: %w", mean, jitter, ErrConfig)
	}
	f.injected, f.jitter = mean, jitter
	return nil
}

// SetHeartbeat turns the server's heartbeat on or off for connections
// opened from now on.
func (f *Fleet) SetHeartbeat(on bool) { f.hbOn = on }

// SetDegradation turns GC-aware degradation on or off on every node; the
// degraders keep observing pauses either way.
func (f *Fleet) SetDegradation(on bool) {
	f.degOn = on
	for _, n := range f.nodes {
		if _, p := f.paused(n); !p {
			f.maybeSweep(n)
		}
	}
}

// SetCloseSuperseded turns takeover on or off: from now on, a session's
// new connection closes its older one still open on the server, or leaves
// it to fail on a write.
func (f *Fleet) SetCloseSuperseded(on bool) { f.cfg.Gateway.CloseSuperseded = on }

// SetImmediate sets whether a client that loses an open connection tries
// again at once (Reconnect.Immediate), for losses learnt from now on.
func (f *Fleet) SetImmediate(on bool) { f.cfg.Reconnect.Immediate = on }

// SetResume turns session resume on or off for reconnections from now on.
func (f *Fleet) SetResume(on bool) { f.resumeOn = on }

// SetGOGC sets GOGC on every running node and on those restarted later:
// -1 (off) or 1 to 10,000.
func (f *Fleet) SetGOGC(gogc int) error {
	if gogc != -1 && (gogc < 1 || gogc > 10_000) {
		return fmt.Errorf("wsfleet: SetGOGC(%d): want -1 (off) or 1 to 10000: %w", gogc, ErrConfig)
	}
	f.cfg.GC.Runtime.GOGC = gogc
	for _, n := range f.nodes {
		if n.up {
			n.col.SetGOGC(gogc)
		}
	}
	return nil
}
