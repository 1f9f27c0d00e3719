package wsfleet

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"stormglass/models/gc"
	"stormglass/realtime/admission"
	"stormglass/realtime/backoff"
	"stormglass/realtime/heartbeat"
)

// ErrConfig is wrapped by every error about a Config's values.
var ErrConfig = errors.New("invalid WebSocket fleet configuration")

// Day is 24 hours: times of day lie in [0, Day).
const Day = 24 * time.Hour

// Limits of the fleet's size.
const (
	MaxNodes   = 256
	MaxCores   = 256
	MaxClients = 1_000_000
)

// Config describes a fleet of WebSocket gateways, its clients and the
// network between them. Every field is explicit (no zero-value defaults):
// start from Incident or Remediated and change what a scenario varies. The
// field comments give the unit, the range, and the preset values.
type Config struct {
	// Nodes is how many gateway processes serve behind the load balancer.
	// 1 to MaxNodes. Presets: 4.
	Nodes int
	// Cores is each node's cores, which is also its GOMAXPROCS. 1 to
	// MaxCores. Presets: 4.
	Cores int
	// LB is how the load balancer picks a node for a connection attempt.
	// Presets: LeastConnections.
	LB LB
	// Clients is how many clients the run holds, each with one session.
	// 1 to MaxClients. Presets: 20,000 (5,000 per node).
	Clients int
	// Mix is the share of each kind of client.
	Mix Mix

	Gateway     Gateway
	Memory      Memory
	GC          GC
	Network     Network
	Traffic     Traffic
	Mobile      Mobile
	Throttle    Throttle
	Heartbeat   Heartbeat
	Degradation Degradation
	Reconnect   Reconnect
	Resume      Resume
}

// LB is a load-balancing policy.
type LB uint8

const (
	// LeastConnections sends an attempt to the live node holding the
	// fewest connections and handshakes (zombies count: the node cannot
	// tell them from live ones); ties go round-robin.
	LeastConnections LB = iota
	// Random sends it to a live node drawn uniformly.
	Random
)

func (l LB) String() string {
	switch l {
	case LeastConnections:
		return "least-connections"
	case Random:
		return "random"
	}
	return fmt.Sprintf("LB(%d)", uint8(l))
}

// Mix is the share of each kind of client; the shares lie in [0, 1] and
// sum to 1 (within 1e-9). Presets: 0.5 desktop, 0.2 background, 0.3 mobile.
type Mix struct {
	// Desktop clients run in a visible tab or a desktop app: timers run
	// on time, pongs are answered.
	Desktop float64
	// Background clients run in a hidden browser tab: the browser still
	// answers pings (the network stack does, not the page), but the
	// page's timers are throttled (Throttle).
	Background float64
	// Mobile clients alternate between awake and asleep (Mobile): asleep,
	// the app is frozen, sends nothing, answers no ping and its timers do
	// not run; its phone's network stack still receives.
	Mobile float64
}

// Gateway is what each node does per connection.
type Gateway struct {
	// HandshakeCost is the CPU of one connection's handshake (TLS with
	// session resumption, HTTP upgrade, authentication) on one core.
	// (0, 1 s]. Presets: 500 µs.
	HandshakeCost time.Duration
	// Backlog is how many handshakes a node holds at once, in progress or
	// waiting for a core; an attempt beyond it is refused. 1 to
	// 10,000,000. Presets: 1,024.
	Backlog int
	// ConnectionLimit is how many connections (open, zombies included, and
	// handshaking) a node holds at most: its file-descriptor and memory
	// budget. An attempt beyond it is refused. 1 to 10,000,000. Presets:
	// 6,000: a node's share of the clients and a fifth more; not N+1
	// (three nodes do not hold 20,000 connections), which at night the
	// heartbeats make up for by closing the connections of sleeping
	// phones.
	ConnectionLimit int
	// CloseSuperseded makes a session's new connection close the
	// session's older connection still open on the server (a takeover).
	// Without it the older connection stays until a write to it fails:
	// the naive hub. Incident: false; Remediated: true.
	CloseSuperseded bool
	// WriteLatency is how long a write takes before its frame is on the
	// wire; a GC pause that begins meanwhile holds it back. [0, 1 s].
	// Presets: 20 µs.
	WriteLatency time.Duration
	// MessageCPU and PingCPU are the CPU of handling one message (either
	// way) and one ping with its pong, on one core. [0, 1 s]. Presets:
	// 20 µs and 5 µs.
	MessageCPU, PingCPU time.Duration
}

// Memory is what each node holds and allocates, for its collector.
type Memory struct {
	// HeapBase and HeapPerConn are the live heap of a node with no
	// connection and per open connection or handshake, in bytes (≥ 0).
	// Presets: 20 MiB and 40 KiB (the calibration's WebSocket service).
	HeapBase, HeapPerConn float64
	// GoroutinesBase and GoroutinesPerConn count a node's goroutines
	// (≥ 0). Presets: 2,000 and 2 (a reader and a writer).
	GoroutinesBase, GoroutinesPerConn int
	// AllocPerMessage, AllocPerHandshake and AllocPerPing are the bytes
	// allocated per message (either way), per handshake and per ping
	// (≥ 0); AllocBase is what a node allocates per second whatever it
	// serves (logging, metrics). Presets: 11 KiB, 64 KiB, 256 B, 20 MiB/s.
	// Buffer pools (GC.BufferPools) cut the per-message and per-handshake
	// bytes to PooledShare of them.
	AllocPerMessage, AllocPerHandshake, AllocPerPing, AllocBase float64
}

// PooledShare is the share of the per-message and per-handshake
// allocation that remains with buffer pools: the same quarter as
// gc.Burst.Pooled.
const PooledShare = 0.25

// GC is each node's garbage collector.
type GC struct {
	// Runtime is the collector; the fleet sets its GOMAXPROCS to Cores and
	// its Bursts from NightJobs. Presets: gc.Default with GOGC 100
	// (Incident) or 50 (Remediated).
	Runtime gc.Config
	// NightJobs run on every node every day: each Burst's At is a time of
	// day in [0, Day). Presets: gc.NightBurst at 03:00 (log rotation and
	// metric aggregation).
	NightJobs []gc.Burst
	// BufferPools takes buffers from sync.Pool: night jobs run as
	// gc.Burst.Pooled and the gateway's own allocation per message and
	// handshake shrinks to PooledShare. Incident: false; Remediated: true.
	BufferPools bool
}

// Network is the path between clients and nodes.
type Network struct {
	// Latency is the one-way delay of every packet, each way. [0, 10 s].
	// Presets: 10 ms.
	Latency time.Duration
	// Injected and Jitter are chaos: each packet leaving a node is delayed
	// by a further uniform draw in [Injected − Jitter, Injected + Jitter],
	// as tc netem or Chaos Mesh do on a pod's egress (both directions with
	// InjectBothWays). 0 ≤ Jitter ≤ Injected ≤ 10 s. Presets: none; the
	// game day sets 100 ms ± 20 ms (SetLatency).
	Injected, Jitter time.Duration
	InjectBothWays   bool
	// NATIdle is how long a flow may carry no packet before the NAT or
	// load balancer on its path silently drops it; 0 never. [0, 24 h].
	// Presets: 300 s.
	NATIdle time.Duration
	// HandshakeRTTs is how many round trips a connection takes to open
	// (TCP, TLS 1.3, the upgrade, which carries the resume request). 1 to
	// 10. Presets: 3.
	HandshakeRTTs int
}

// Traffic is what flows over the connections.
type Traffic struct {
	// PushInterval is the mean time between messages the service pushes
	// to a session at the day's peak (a day factor of 1): a Poisson
	// stream whose rate follows Day. 0 pushes nothing. [0, 24 h]. Presets:
	// 1 min (every 20 min at 3 a.m.).
	PushInterval time.Duration
	// SendInterval is the mean time between messages an awake client
	// sends at the day's peak, likewise. 0 sends nothing (mobile clients
	// still send on waking). [0, 24 h]. Presets: 2 min.
	SendInterval time.Duration
	// Day is the activity curve: factors at times of day, interpolated
	// linearly and wrapping at midnight. Times in [0, Day), increasing;
	// factors ≥ 0, at least one positive. Empty means a factor of 1.
	// Presets: DefaultDay.
	Day []DayPoint
	// Broadcasts are times of day at which the service pushes one message
	// to every session, written to every connection the hub holds
	// (superseded ones too), every day. Presets: 03:00 (a nightly digest).
	Broadcasts []time.Duration
}

// DayPoint is the activity factor at a time of day.
type DayPoint struct {
	At     time.Duration
	Factor float64
}

// DefaultDay is a consumer app's day: busiest from noon to late evening,
// a twentieth of that from 3 to 5 a.m.
func DefaultDay() []DayPoint {
	h := time.Hour
	return []DayPoint{{0, 0.25}, {2 * h, 0.08}, {3 * h, 0.05}, {5 * h, 0.05}, {7 * h, 0.3},
		{9 * h, 0.8}, {12 * h, 1}, {18 * h, 0.9}, {21 * h, 1}}
}

// Mobile is how mobile clients sleep.
type Mobile struct {
	// Awake and Asleep are the mean lengths of a mobile client's awake and
	// asleep spells (exponential). (0, 24 h]. Presets: 90 s and 15 min.
	Awake, Asleep time.Duration
}

// Throttle is what a hidden tab's browser does to its timers.
type Throttle struct {
	// Min clamps a hidden tab's timer delays: a timer set for d fires no
	// earlier than max(d, Min) later. [0, 1 h]. Presets: 1 s.
	Min time.Duration
	// Align, when positive, also rounds each firing up to the tab's next
	// wake-up, every Align from a random phase (Chrome's intensive
	// throttling wakes hidden pages once a minute). [0, 1 h]. Presets: 0.
	Align time.Duration
}

// Heartbeat is the server's ping/pong (realtime/heartbeat).
type Heartbeat struct {
	// Enabled runs a heartbeat.Machine on every new server connection.
	// Incident: false; Remediated: true.
	Enabled bool
	// Config is the machine's timers (zero fields take heartbeat's
	// defaults: ping every 10 s, pong timeout 5 s, write deadline 2 s,
	// dead after 3 missed pongs).
	Config heartbeat.Config
}

// Degradation is the GC-aware degradation of realtime/admission.
type Degradation struct {
	// Enabled makes each node's Degrader refuse new connections at L1 and
	// close idle connections at L2. Pauses are observed either way.
	// Incident: false; Remediated: true.
	Enabled bool
	// Config is the Degrader's thresholds (zero fields take admission's
	// defaults: L1 over 50 ms, L2 over 120 ms, idle close 30 s, quiet
	// period 1 min).
	Config admission.DegradationConfig
	// SweepInterval is how often a node at L2 looks for idle connections
	// to close. (0, 1 h]. Presets: 1 s.
	SweepInterval time.Duration
}

// Reconnect is how clients come back.
type Reconnect struct {
	// Policy is every client's backoff. Incident: NaiveReconnect;
	// Remediated: backoff.AWSFullJitter.
	Policy backoff.Policy
	// ConnectTimeout is how long a client waits for an attempt to open
	// before it gives up on it; 0 waits for ever. [0, 10 min]. Presets:
	// 10 s.
	ConnectTimeout time.Duration
	// Immediate makes a client that loses a connection it had open try
	// again at once, from the close handler: no timer, so a hidden tab's
	// throttling does not delay it. The backoff still counts the loss, and
	// its delays (on timers) apply from the first failed attempt on.
	// Incident: false (the naive client waits its second); Remediated:
	// true.
	Immediate bool
}

// Resume is session resumption.
type Resume struct {
	// Enabled keeps every session's messages for Window in a store shared
	// by the nodes; a client reconnecting sends its last sequence number
	// and gets the rest replayed with the upgrade's response. Without it
	// the client re-syncs its state (one more round trip) and the messages
	// its old connection did not deliver are lost. Incident: false;
	// Remediated: true.
	Enabled bool
	// Window is how long a message is kept for replay. (0, 24 h]. Presets:
	// 2 min.
	Window time.Duration
}

// NaiveReconnect is the client of the incident: it retries every second,
// without jitter, for ever, so clients cut off together come back
// together. A Policy value of this package, not a backoff preset.
func NaiveReconnect() backoff.Policy {
	return backoff.Policy{Name: "naive", Initial: time.Second, Multiplier: 1, Cap: time.Second,
		Jitter: backoff.NoJitter, Reset: backoff.ResetOnConnect}
}

// Incident is the fleet of incident 2 as it ran before the fix: no
// heartbeats, a 300 s NAT idle timeout, GOGC 100 without buffer pools,
// the nightly job, no degradation, no session resume, the naive reconnect
// and a hub that keeps superseded connections.
func Incident() Config {
	rt := gc.Default(4)
	return Config{
		Nodes: 4, Cores: 4, LB: LeastConnections, Clients: 20_000,
		Mix: Mix{Desktop: 0.5, Background: 0.2, Mobile: 0.3},
		Gateway: Gateway{HandshakeCost: 500 * time.Microsecond, Backlog: 1024, ConnectionLimit: 6000,
			WriteLatency: 20 * time.Microsecond, MessageCPU: 20 * time.Microsecond, PingCPU: 5 * time.Microsecond},
		Memory: Memory{HeapBase: 20 * gc.MiB, HeapPerConn: 40 * 1024, GoroutinesBase: 2000, GoroutinesPerConn: 2,
			AllocPerMessage: 11 * 1024, AllocPerHandshake: 64 * 1024, AllocPerPing: 256, AllocBase: 20 * gc.MiB},
		GC:          GC{Runtime: rt, NightJobs: []gc.Burst{gc.NightBurst(3 * time.Hour)}},
		Network:     Network{Latency: 10 * time.Millisecond, NATIdle: 300 * time.Second, HandshakeRTTs: 3},
		Traffic:     Traffic{PushInterval: time.Minute, SendInterval: 2 * time.Minute, Day: DefaultDay(), Broadcasts: []time.Duration{3 * time.Hour}},
		Mobile:      Mobile{Awake: 90 * time.Second, Asleep: 15 * time.Minute},
		Throttle:    Throttle{Min: time.Second},
		Degradation: Degradation{SweepInterval: time.Second},
		Reconnect:   Reconnect{Policy: NaiveReconnect(), ConnectTimeout: 10 * time.Second},
		Resume:      Resume{Window: 2 * time.Minute},
	}
}

// Remediated is the fleet after the write-up's fixes: heartbeats every
// 10 s, GOGC 50 with buffer pools, GC-aware degradation (idle close after
// 30 s at L2), takeover of superseded connections, an immediate first
// reconnect then full-jitter backoff, and session resume. Everything else
// is as in Incident.
func Remediated() Config {
	c := Incident()
	c.Heartbeat.Enabled = true
	c.GC.Runtime.GOGC = 50
	c.GC.BufferPools = true
	c.Degradation.Enabled = true
	c.Gateway.CloseSuperseded = true
	c.Reconnect.Policy = backoff.AWSFullJitter()
	c.Reconnect.Immediate = true
	c.Resume.Enabled = true
	return c
}

// Validate reports every value the model cannot run with, each naming
// the field and the range expected, joined; every error wraps ErrConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, got any, want string) {
		errs = append(errs, fmt.Errorf("wsfleet: %s = %v: want %s: %w", field, got, want, ErrConfig))
	}
	dur := func(field string, d, lo, hi time.Duration, open bool) {
		if d < lo || d > hi || (open && d == lo) {
			if open {
				bad(field, d, fmt.Sprintf("in (%v, %v]", lo, hi))
			} else {
				bad(field, d, fmt.Sprintf("in [%v, %v]", lo, hi))
			}
		}
	}
	num := func(field string, x float64) {
		if !(x >= 0) || math.IsInf(x, 0) {
			bad(field, x, "a finite number ≥ 0")
		}
	}
	if c.Nodes < 1 || c.Nodes > MaxNodes {
		bad("Nodes", c.Nodes, fmt.Sprintf("1 to %d", MaxNodes))
	}
	if c.Cores < 1 || c.Cores > MaxCores {
		bad("Cores", c.Cores, fmt.Sprintf("1 to %d", MaxCores))
	}
	if c.LB > Random {
		bad("LB", c.LB, "LeastConnections or Random")
	}
	if c.Clients < 1 || c.Clients > MaxClients {
		bad("Clients", c.Clients, fmt.Sprintf("1 to %d", MaxClients))
	}
	m := c.Mix
	for _, s := range []struct {
		name string
		v    float64
	}{{"Mix.Desktop", m.Desktop}, {"Mix.Background", m.Background}, {"Mix.Mobile", m.Mobile}} {
		if !(s.v >= 0 && s.v <= 1) {
			bad(s.name, s.v, "a share in [0, 1]")
		}
	}
	if sum := m.Desktop + m.Background + m.Mobile; math.Abs(sum-1) > 1e-9 {
		bad("Mix", fmt.Sprintf("%g + %g + %g = %g", m.Desktop, m.Background, m.Mobile, sum), "shares summing to 1")
	}
	g := c.Gateway
	dur("Gateway.HandshakeCost", g.HandshakeCost, 0, time.Second, true)
	if g.Backlog < 1 || g.Backlog > 10_000_000 {
		bad("Gateway.Backlog", g.Backlog, "1 to 10,000,000")
	}
	if g.ConnectionLimit < 1 || g.ConnectionLimit > 10_000_000 {
		bad("Gateway.ConnectionLimit", g.ConnectionLimit, "1 to 10,000,000")
	}
	dur("Gateway.WriteLatency", g.WriteLatency, 0, time.Second, false)
	dur("Gateway.MessageCPU", g.MessageCPU, 0, time.Second, false)
	dur("Gateway.PingCPU", g.PingCPU, 0, time.Second, false)
	mem := c.Memory
	num("Memory.HeapBase", mem.HeapBase)
	num("Memory.HeapPerConn", mem.HeapPerConn)
	num("Memory.AllocPerMessage", mem.AllocPerMessage)
	num("Memory.AllocPerHandshake", mem.AllocPerHandshake)
	num("Memory.AllocPerPing", mem.AllocPerPing)
	num("Memory.AllocBase", mem.AllocBase)
	if mem.GoroutinesBase < 0 || mem.GoroutinesPerConn < 0 {
		bad("Memory.Goroutines", fmt.Sprintf("%d + %d per connection", mem.GoroutinesBase, mem.GoroutinesPerConn), "counts ≥ 0")
	}
	rt := c.GC.Runtime
	rt.GOMAXPROCS = max(1, c.Cores)
	rt.Bursts = nil
	if err := rt.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("wsfleet: GC.Runtime: %w: %w", err, ErrConfig))
	}
	for i, b := range c.GC.NightJobs {
		if b.At < 0 || b.At >= Day {
			bad(fmt.Sprintf("GC.NightJobs[%d].At", i), b.At, "a time of day in [0, 24h)")
		}
		if b.Over <= 0 || b.Over > Day || !(b.Bytes >= 0) || !(b.Live >= 0) || !(b.Chunk >= 0) {
			bad(fmt.Sprintf("GC.NightJobs[%d]", i), fmt.Sprintf("%+v", b), "a length in (0, 24h] and bytes, live and chunk ≥ 0")
		}
		if b.Chunk > 0 && !(rt.ZeroRate > 0) {
			bad("GC.Runtime.ZeroRate", rt.ZeroRate, fmt.Sprintf("above 0, for NightJobs[%d]'s chunk", i))
		}
	}
	n := c.Network
	dur("Network.Latency", n.Latency, 0, 10*time.Second, false)
	dur("Network.Injected", n.Injected, 0, 10*time.Second, false)
	dur("Network.Jitter", n.Jitter, 0, n.Injected, false)
	dur("Network.NATIdle", n.NATIdle, 0, Day, false)
	if n.HandshakeRTTs < 1 || n.HandshakeRTTs > 10 {
		bad("Network.HandshakeRTTs", n.HandshakeRTTs, "1 to 10")
	}
	t := c.Traffic
	dur("Traffic.PushInterval", t.PushInterval, 0, Day, false)
	dur("Traffic.SendInterval", t.SendInterval, 0, Day, false)
	positive := len(t.Day) == 0
	for i, p := range t.Day {
		if p.At < 0 || p.At >= Day || (i > 0 && p.At <= t.Day[i-1].At) {
			bad(fmt.Sprintf("Traffic.Day[%d].At", i), p.At, "times of day in [0, 24h), increasing")
		}
		if !(p.Factor >= 0) || math.IsInf(p.Factor, 0) {
			bad(fmt.Sprintf("Traffic.Day[%d].Factor", i), p.Factor, "a finite factor ≥ 0")
		}
		positive = positive || p.Factor > 0
	}
	if !positive {
		bad("Traffic.Day", "all factors 0", "at least one positive factor")
	}
	for i, b := range t.Broadcasts {
		if b < 0 || b >= Day {
			bad(fmt.Sprintf("Traffic.Broadcasts[%d]", i), b, "a time of day in [0, 24h)")
		}
	}
	dur("Mobile.Awake", c.Mobile.Awake, 0, Day, true)
	dur("Mobile.Asleep", c.Mobile.Asleep, 0, Day, true)
	dur("Throttle.Min", c.Throttle.Min, 0, time.Hour, false)
	dur("Throttle.Align", c.Throttle.Align, 0, time.Hour, false)
	if err := c.Heartbeat.Config.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("wsfleet: Heartbeat.Config: %w: %w", err, ErrConfig))
	}
	if err := c.Degradation.Config.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("wsfleet: Degradation.Config: %w: %w", err, ErrConfig))
	}
	dur("Degradation.SweepInterval", c.Degradation.SweepInterval, 0, time.Hour, true)
	if err := c.Reconnect.Policy.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("wsfleet: Reconnect.Policy: %w: %w", err, ErrConfig))
	}
	dur("Reconnect.ConnectTimeout", c.Reconnect.ConnectTimeout, 0, 10*time.Minute, false)
	dur("Resume.Window", c.Resume.Window, 0, Day, true)
	return errors.Join(errs...)
}

// nightJobs returns the night jobs as they run, pooled or not.
func (c Config) nightJobs() []gc.Burst {
	jobs := slices.Clone(c.GC.NightJobs)
	if c.GC.BufferPools {
		for i := range jobs {
			jobs[i] = jobs[i].Pooled()
		}
	}
	return jobs
}
