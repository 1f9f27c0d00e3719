package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"stormglass/knob"
	"stormglass/models/gc"
	"stormglass/models/wsfleet"
	"stormglass/realtime/admission"
	"stormglass/realtime/backoff"
	"stormglass/realtime/heartbeat"
)

// KindWebSocketFleet is the component kind of a fleet of WebSocket
// gateways with their clients and the network between (models/wsfleet).
const KindWebSocketFleet = "websocket-fleet"

// NaiveReconnect is the reconnect policy of a client that retries every
// second without jitter: wsfleet.NaiveReconnect, beside backoff's presets.
const NaiveReconnect = "naive"

// FleetSpec is a websocket-fleet component. Every field is optional: an
// unset one takes the value of wsfleet.Incident, the fleet as commonly
// deployed (and as it ran in incident 2). Every number may read a knob.
type FleetSpec struct {
	Name string
	Pos  Pos

	Nodes, Cores, Clients Param // integers
	LoadBalancer          Param // choice: least-connections, random
	Desktop, Background   Param // shares of the clients
	Mobile                Param

	HandshakeCost, WriteLatency, MessageCPU, PingCPU Param // durations
	Backlog, ConnectionLimit                         Param // integers
	CloseSuperseded                                  Param // bool, live

	HeapBase, HeapPerConnection                      Param // MiB, KiB
	GoroutinesBase, GoroutinesPerConnection          Param // integers
	AllocPerMessage, AllocPerHandshake, AllocPerPing Param // KiB
	AllocBase                                        Param // MiB per second
	GOGC                                             Param // integer, live: -1 off or 1 to 10,000
	BufferPools                                      Param // bool
	NightJobs                                        []NightJobSpec
	nightJobsGiven                                   bool
	Latency, NATIdle                                 Param // durations
	HandshakeRTTs                                    Param // integer
	InjectBothWays                                   Param // bool
	PushInterval, SendInterval                       Param // durations
	Day                                              []DayPointSpec
	Broadcasts                                       []time.Duration // times of day
	broadcastsGiven                                  bool
	dayGiven                                         bool
	Awake, Asleep                                    Param // durations
	ThrottleMin, ThrottleAlign                       Param // durations
	Heartbeat                                        Param // bool, live
	PingInterval, PongTimeout, WriteTimeout          Param // durations
	MissedPongs                                      Param // integer
	Degradation                                      Param // bool, live
	L1Pause, L2Pause, IdleClose, QuietPeriod, Sweep  Param // durations
	Reconnect                                        Param // choice: naive or a backoff preset
	Immediate                                        Param // bool, live
	ConnectTimeout                                   Param // duration
	Resume                                           Param // bool, live
	ResumeWindow                                     Param // duration
}

// NightJobSpec is a background allocation burst at a time of every night.
type NightJobSpec struct {
	Pos                    Pos
	At                     time.Duration // time of day
	Over                   Param         // duration
	Allocates, Live, Chunk Param         // MiB
}

// DayPointSpec is the activity factor at a time of day.
type DayPointSpec struct {
	Pos    Pos
	At     time.Duration // time of day
	Factor Param         // number ≥ 0
}

var loadBalancers = []string{wsfleet.LeastConnections.String(), wsfleet.Random.String()}

// reconnectPolicies are the policies a fleet's clients may use.
func reconnectPolicies() []string { return append([]string{NaiveReconnect}, backoffPresets()...) }

// fleet decodes a websocket-fleet component; n is its mapping, whose kind
// the caller has read.
func (d *decoder) fleet(n *yaml.Node, path string, x *FleetSpec) {
	set := d.setter
	share := num(0, 1, false)
	flag := paramSpec{kind: knob.Bool}
	live := paramSpec{kind: knob.Bool, live: true}
	short := dur(0, 1, false)    // up to a second, 0 allowed
	period := dur(0, 3600, true) // above 0, up to an hour
	kib := num(0, 1<<20, false)
	mib := num(0, 1<<20, false)
	d.mapping(n, path, []field{
		{"name", true, func(v *yaml.Node, p string) { d.name(v, p, &x.Name) }},
		{"kind", true, func(*yaml.Node, string) {}}, // read by component
		{"nodes", false, set(&x.Nodes, integer(1, wsfleet.MaxNodes, false))},
		{"cores", false, set(&x.Cores, integer(1, wsfleet.MaxCores, false))},
		{"clients", false, set(&x.Clients, integer(1, wsfleet.MaxClients, false))},
		{"load_balancer", false, set(&x.LoadBalancer, paramSpec{kind: knob.Choice, choices: loadBalancers})},
		{"mix", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"desktop", true, set(&x.Desktop, share)},
				{"background", true, set(&x.Background, share)},
				{"mobile", true, set(&x.Mobile, share)},
			})
		}},
		{"gateway", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"handshake_cost", false, set(&x.HandshakeCost, dur(0, 1, true))},
				{"backlog", false, set(&x.Backlog, integer(1, 10_000_000, false))},
				{"connection_limit", false, set(&x.ConnectionLimit, integer(1, 10_000_000, false))},
				{"close_superseded", false, set(&x.CloseSuperseded, live)},
				{"write_latency", false, set(&x.WriteLatency, short)},
				{"message_cpu", false, set(&x.MessageCPU, short)},
				{"ping_cpu", false, set(&x.PingCPU, short)},
			})
		}},
		{"memory", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"heap_base", false, set(&x.HeapBase, mib)},
				{"heap_per_connection", false, set(&x.HeapPerConnection, kib)},
				{"goroutines_base", false, set(&x.GoroutinesBase, integer(0, 100_000_000, false))},
				{"goroutines_per_connection", false, set(&x.GoroutinesPerConnection, integer(0, 1000, false))},
				{"alloc_per_message", false, set(&x.AllocPerMessage, kib)},
				{"alloc_per_handshake", false, set(&x.AllocPerHandshake, kib)},
				{"alloc_per_ping", false, set(&x.AllocPerPing, kib)},
				{"alloc_base", false, set(&x.AllocBase, mib)},
			})
		}},
		{"gc", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"gogc", false, func(v *yaml.Node, p string) {
					x.GOGC = d.param(v, p, integer(-1, 10_000, true))
					if x.GOGC.Knob == "" && x.GOGC.Value.IsSet() && x.GOGC.Value.Int() == 0 {
						d.errorf(v, p, "0 is not a GOGC: expected -1 (collector off) or 1 to 10000")
					}
				}},
				{"buffer_pools", false, set(&x.BufferPools, flag)},
				{"night_jobs", false, func(v *yaml.Node, p string) {
					x.nightJobsGiven = true
					d.sequence(v, p, "night jobs", func(i int, v *yaml.Node, p string) {
						j := NightJobSpec{Pos: posOf(d.deref(v))}
						d.mapping(v, p, []field{
							{"at", true, func(v *yaml.Node, p string) { d.timeOfDay(v, p, &j.At) }},
							{"over", false, set(&j.Over, dur(0, 86400, true))},
							{"allocates", false, set(&j.Allocates, mib)},
							{"live", false, set(&j.Live, mib)},
							{"chunk", false, set(&j.Chunk, mib)},
						})
						x.NightJobs = append(x.NightJobs, j)
					})
				}},
			})
		}},
		{"network", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"latency", false, set(&x.Latency, dur(0, 10, false))},
				{"nat_idle", false, set(&x.NATIdle, dur(0, 86400, false))},
				{"handshake_rtts", false, set(&x.HandshakeRTTs, integer(1, 10, false))},
				{"inject_both_ways", false, set(&x.InjectBothWays, flag)},
			})
		}},
		{"traffic", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"push_interval", false, set(&x.PushInterval, dur(0, 86400, false))},
				{"send_interval", false, set(&x.SendInterval, dur(0, 86400, false))},
				{"day", false, func(v *yaml.Node, p string) {
					x.dayGiven = true
					d.sequence(v, p, "points of the day", func(i int, v *yaml.Node, p string) {
						pt := DayPointSpec{Pos: posOf(d.deref(v))}
						var atNode *yaml.Node
						d.mapping(v, p, []field{
							{"at", true, func(v *yaml.Node, p string) { atNode = v; d.timeOfDay(v, p, &pt.At) }},
							{"factor", true, set(&pt.Factor, num(0, 1000, false))},
						})
						if atNode != nil && i > 0 && pt.At <= x.Day[i-1].At {
							d.errorf(atNode, p+".at", "%s is not after the previous point's %s: points must be in time order within the day", clockText(pt.At), clockText(x.Day[i-1].At))
						}
						x.Day = append(x.Day, pt)
					})
				}},
				{"broadcasts", false, func(v *yaml.Node, p string) {
					x.broadcastsGiven = true
					d.sequence(v, p, "times of day", func(i int, v *yaml.Node, p string) {
						var at time.Duration
						if d.timeOfDay(v, p, &at) {
							x.Broadcasts = append(x.Broadcasts, at)
						}
					})
				}},
			})
		}},
		{"mobile", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"awake", false, set(&x.Awake, dur(0, 86400, true))},
				{"asleep", false, set(&x.Asleep, dur(0, 86400, true))},
			})
		}},
		{"throttle", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"min", false, set(&x.ThrottleMin, dur(0, 3600, false))},
				{"align", false, set(&x.ThrottleAlign, dur(0, 3600, false))},
			})
		}},
		{"heartbeat", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"enabled", true, set(&x.Heartbeat, live)},
				{"interval", false, set(&x.PingInterval, period)},
				{"pong_timeout", false, set(&x.PongTimeout, period)},
				{"write_timeout", false, set(&x.WriteTimeout, period)},
				{"missed_pongs", false, set(&x.MissedPongs, integer(1, 100, false))},
			})
		}},
		{"degradation", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"enabled", true, set(&x.Degradation, live)},
				{"l1_pause", false, set(&x.L1Pause, dur(0, 10, true))},
				{"l2_pause", false, set(&x.L2Pause, dur(0, 10, true))},
				{"idle_close", false, set(&x.IdleClose, period)},
				{"quiet_period", false, set(&x.QuietPeriod, period)},
				{"sweep_interval", false, set(&x.Sweep, period)},
			})
		}},
		{"reconnect", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"policy", false, set(&x.Reconnect, paramSpec{kind: knob.Choice, choices: reconnectPolicies()})},
				{"immediate", false, set(&x.Immediate, live)},
				{"connect_timeout", false, set(&x.ConnectTimeout, dur(0, 600, false))},
			})
		}},
		{"resume", false, func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"enabled", true, set(&x.Resume, live)},
				{"window", false, set(&x.ResumeWindow, dur(0, 86400, true))},
			})
		}},
	})
	d.fleetLimits(x, path)
}

// fleetLimits checks the limits that join two literal fields; through
// knobs, the plan checks them with the knobs' values.
func (d *decoder) fleetLimits(x *FleetSpec, path string) {
	lit := literal
	if a, ok := lit(x.Desktop); ok {
		b, okB := lit(x.Background)
		c, okC := lit(x.Mobile)
		if okB && okC && (a+b+c < 1-1e-9 || a+b+c > 1+1e-9) {
			d.errorAt(x.Desktop.Pos, path+".mix", "the shares add up to %.6g: expected desktop + background + mobile = 1", a+b+c)
		}
	}
	// The heartbeat's and the degrader's timers, with their defaults where
	// unset; a knob leaves the check to the plan.
	known := func(p Param, def time.Duration) (time.Duration, bool) {
		if !p.IsSet() {
			return def, true
		}
		if x, ok := lit(p); ok {
			return time.Duration(x * float64(time.Second)), true
		}
		return 0, false
	}
	interval, okI := known(x.PingInterval, heartbeat.DefaultPingInterval)
	pong, okP := known(x.PongTimeout, interval/2)
	write, okW := known(x.WriteTimeout, min(heartbeat.DefaultWriteTimeout, pong))
	if okI && okP && pong > interval {
		d.errorAt(posOr(x.PongTimeout.Pos, x.PingInterval.Pos), path+".heartbeat.pong_timeout", "%v is longer than the interval (%v): each ping is answered or timed out before the next", knob.DurationValue(pong), knob.DurationValue(interval))
	} else if okP && okW && write > pong {
		d.errorAt(posOr(x.WriteTimeout.Pos, x.PongTimeout.Pos), path+".heartbeat.write_timeout", "%v is longer than the pong timeout (%v): a ping is on the wire before its pong is due", knob.DurationValue(write), knob.DurationValue(pong))
	}
	l1, ok1 := known(x.L1Pause, admission.DefaultL1Pause)
	l2, ok2 := known(x.L2Pause, admission.DefaultL2Pause)
	if ok1 && ok2 && l2 <= l1 {
		d.errorAt(posOr(x.L2Pause.Pos, x.L1Pause.Pos), path+".degradation.l2_pause", "%v is not above l1_pause (%v): level 2 is for longer pauses than level 1", knob.DurationValue(l2), knob.DurationValue(l1))
	}
	if len(x.Day) > 0 {
		allZero := true
		for _, pt := range x.Day {
			if f, ok := lit(pt.Factor); !ok || f > 0 {
				allZero = false
			}
		}
		if allZero {
			d.errorAt(x.Day[0].Pos, path+".traffic.day", "every factor is 0: expected at least one above 0 (an empty day means a factor of 1)")
		}
	}
}

// posOr returns p, or else when p is unset (the field took its default).
func posOr(p, other Pos) Pos {
	if p.Line == 0 {
		return other
	}
	return p
}

// timeOfDay reads a time of day written HH:MM or HH:MM:SS, 00:00 to
// 23:59:59.
func (d *decoder) timeOfDay(n *yaml.Node, path string, out *time.Duration) bool {
	s, ok := d.scalar(n, path, `a time of day such as "03:00"`)
	if !ok {
		return false
	}
	t, err := parseClock(s)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return false
	}
	*out = t
	return true
}

// parseClock parses HH:MM or HH:MM:SS as a time since midnight.
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	bad := fmt.Errorf("%q is not a time of day: expected HH:MM or HH:MM:SS, from 00:00 to 23:59:59", s)
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	limits := []int{23, 59, 59}
	var t time.Duration
	for i, part := range parts {
		if len(part) != 2 || part[0] < '0' || part[0] > '9' || part[1] < '0' || part[1] > '9' {
			return 0, bad // two digits: no sign, no space
		}
		x, _ := strconv.Atoi(part)
		if x > limits[i] {
			return 0, bad
		}
		t += time.Duration(x) * []time.Duration{time.Hour, time.Minute, time.Second}[i]
	}
	return t, nil
}

// clockText writes a time of day as HH:MM, or HH:MM:SS when it has seconds.
func clockText(t time.Duration) string {
	h, m, s := int(t/time.Hour), int(t%time.Hour/time.Minute), int(t%time.Minute/time.Second)
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

// fleetConfig builds the model's configuration from the spec and the
// knobs' values, from wsfleet.Incident for what the spec leaves unset.
func fleetConfig(x *FleetSpec, v knob.Values) (wsfleet.Config, error) {
	c := wsfleet.Incident()
	integer := func(p Param, out *int) {
		if p.IsSet() {
			*out = int(p.Resolve(v).Int())
		}
	}
	number := func(p Param, scale float64, out *float64) {
		if p.IsSet() {
			*out = p.Resolve(v).Float() * scale
		}
	}
	duration := func(p Param, out *time.Duration) {
		if p.IsSet() {
			*out = p.Resolve(v).Duration()
		}
	}
	flag := func(p Param, out *bool) {
		if p.IsSet() {
			*out = p.Resolve(v).Bool()
		}
	}
	integer(x.Nodes, &c.Nodes)
	integer(x.Cores, &c.Cores)
	integer(x.Clients, &c.Clients)
	if x.LoadBalancer.IsSet() && x.LoadBalancer.Resolve(v).Word() == wsfleet.Random.String() {
		c.LB = wsfleet.Random
	}
	number(x.Desktop, 1, &c.Mix.Desktop)
	number(x.Background, 1, &c.Mix.Background)
	number(x.Mobile, 1, &c.Mix.Mobile)

	g := &c.Gateway
	duration(x.HandshakeCost, &g.HandshakeCost)
	integer(x.Backlog, &g.Backlog)
	integer(x.ConnectionLimit, &g.ConnectionLimit)
	flag(x.CloseSuperseded, &g.CloseSuperseded)
	duration(x.WriteLatency, &g.WriteLatency)
	duration(x.MessageCPU, &g.MessageCPU)
	duration(x.PingCPU, &g.PingCPU)

	m := &c.Memory
	number(x.HeapBase, gc.MiB, &m.HeapBase)
	number(x.HeapPerConnection, 1024, &m.HeapPerConn)
	integer(x.GoroutinesBase, &m.GoroutinesBase)
	integer(x.GoroutinesPerConnection, &m.GoroutinesPerConn)
	number(x.AllocPerMessage, 1024, &m.AllocPerMessage)
	number(x.AllocPerHandshake, 1024, &m.AllocPerHandshake)
	number(x.AllocPerPing, 1024, &m.AllocPerPing)
	number(x.AllocBase, gc.MiB, &m.AllocBase)

	integer(x.GOGC, &c.GC.Runtime.GOGC)
	flag(x.BufferPools, &c.GC.BufferPools)
	if x.nightJobsGiven {
		c.GC.NightJobs = nil
		for _, j := range x.NightJobs {
			b := gc.NightBurst(j.At)
			duration(j.Over, &b.Over)
			number(j.Allocates, gc.MiB, &b.Bytes)
			number(j.Live, gc.MiB, &b.Live)
			number(j.Chunk, gc.MiB, &b.Chunk)
			c.GC.NightJobs = append(c.GC.NightJobs, b)
		}
	}

	n := &c.Network
	duration(x.Latency, &n.Latency)
	duration(x.NATIdle, &n.NATIdle)
	integer(x.HandshakeRTTs, &n.HandshakeRTTs)
	flag(x.InjectBothWays, &n.InjectBothWays)

	t := &c.Traffic
	duration(x.PushInterval, &t.PushInterval)
	duration(x.SendInterval, &t.SendInterval)
	if x.dayGiven {
		t.Day = nil // empty: a factor of 1 all day
		for _, pt := range x.Day {
			t.Day = append(t.Day, wsfleet.DayPoint{At: pt.At, Factor: pt.Factor.Resolve(v).Float()})
		}
	}
	if x.broadcastsGiven {
		t.Broadcasts = slices.Clone(x.Broadcasts)
	}

	duration(x.Awake, &c.Mobile.Awake)
	duration(x.Asleep, &c.Mobile.Asleep)
	duration(x.ThrottleMin, &c.Throttle.Min)
	duration(x.ThrottleAlign, &c.Throttle.Align)

	flag(x.Heartbeat, &c.Heartbeat.Enabled)
	duration(x.PingInterval, &c.Heartbeat.Config.PingInterval)
	duration(x.PongTimeout, &c.Heartbeat.Config.PongTimeout)
	duration(x.WriteTimeout, &c.Heartbeat.Config.WriteTimeout)
	integer(x.MissedPongs, &c.Heartbeat.Config.MissedPongs)

	flag(x.Degradation, &c.Degradation.Enabled)
	duration(x.L1Pause, &c.Degradation.Config.L1Pause)
	duration(x.L2Pause, &c.Degradation.Config.L2Pause)
	duration(x.IdleClose, &c.Degradation.Config.IdleClose)
	duration(x.QuietPeriod, &c.Degradation.Config.QuietPeriod)
	duration(x.Sweep, &c.Degradation.SweepInterval)

	if x.Reconnect.IsSet() {
		if name := x.Reconnect.Resolve(v).Word(); name != NaiveReconnect {
			p, err := backoff.Preset(name)
			if err != nil {
				return wsfleet.Config{}, fmt.Errorf("component %s: reconnect.policy: %w", x.Name, err)
			}
			c.Reconnect.Policy = p
		}
	}
	flag(x.Immediate, &c.Reconnect.Immediate)
	duration(x.ConnectTimeout, &c.Reconnect.ConnectTimeout)
	flag(x.Resume, &c.Resume.Enabled)
	duration(x.ResumeWindow, &c.Resume.Window)
	if c.GC.Runtime.GOGC == 0 {
		// Go reads GOGC=0 as collect without pause; the model has no such
		// mode, and 0 is most often meant as "off", which is -1.
		return wsfleet.Config{}, fmt.Errorf("component %s: gc.gogc is 0: expected -1 (collector off) or 1 to 10000", x.Name)
	}
	if err := c.Validate(); err != nil {
		return wsfleet.Config{}, fmt.Errorf("component %s: %w", x.Name, err)
	}
	return c, nil
}

// fleetMetrics are a fleet's summary figures as metrics.
func fleetMetrics() []MetricInfo {
	var out []MetricInfo
	for _, m := range wsfleet.SummaryInfo() {
		out = append(out, MetricInfo{Name: m.Name, Unit: unitOf(m.Unit), Distribution: m.Distribution, Help: m.Help})
	}
	return out
}
