// Package wsfleet models a fleet of Go WebSocket gateways behind a load
// balancer, their clients and the network between them, on the simulation
// kernel, running the production heartbeat state machine
// (realtime/heartbeat), reconnect policies (realtime/backoff) and GC-aware
// degradation (realtime/admission), with each process's garbage collector
// from models/gc. It is the model behind incident 2 of Stormglass's
// INCIDENTS.md: the Go WebSocket service that dies at 3 a.m.
//
// # The facts it encodes
//
// From the incident's write-up: NAT gateways and cloud load balancers
// silently drop a flow that carried no packet for about 300 s; browsers
// throttle a hidden tab's timers (clamped to 1 s or more) and mobile
// systems freeze apps in the background; without server ping/pong the
// server keeps dead connections, and when many time out together the
// traffic lands on the few instances still able to take it; the heartbeat
// (ping every 10 s, write deadline 2 s, dead after 3 missed pongs) is the
// remedy; at night log rotation and metric aggregation allocate large
// objects, stop-the-world pauses exceed 50 ms and mark assist steals CPU
// (calibrated in models/gc); GC-aware degradation refuses new connections
// after a pause over 50 ms (L1) and closes connections idle over 30 s
// after one over 120 ms (L2); GOGC=50 and buffer pools mitigate; the game
// day's targets are reconnect success ≥ 99.95 %, message loss ≤ 0.01 % and
// session recovery p99 ≤ 800 ms under 100 ms ± 20 ms of injected delay
// and process kills. The symptom to reproduce: mass disconnects at night
// ("connection reset by peer") while CPU and memory look calm. Every
// other magnitude below is an assumption of this model, stated where it
// is used; Incident and Remediated hold the values the tests use.
//
// # Nodes
//
// Nodes gateway processes each run on Cores cores (GOMAXPROCS = Cores).
// A node holds its open connections (zombies included) and its handshakes
// under way. Its collector (gc.Collector, Config.GC.Runtime) sees a live
// heap of HeapBase plus HeapPerConn per connection or handshake and
// GoroutinesBase plus GoroutinesPerConn goroutines per connection, so
// zombies hold heap and goroutines and lengthen pauses. The node
// allocates AllocPerMessage per message either way, AllocPerHandshake per
// handshake, AllocPerPing per ping and AllocBase per second whatever it
// serves; buffer pools cut the first two to PooledShare. Night jobs
// (gc.Burst at a time of day, every day; pooled with BufferPools) run on
// every node at once, as cron does.
//
// A node's CPU (a sim.CPU) runs handshakes, HandshakeCost each, at most
// Cores at a time, the rest waiting in order (a Go server's goroutines,
// each a millisecond or less, run first come first served within the
// scheduler's 10 ms slices). Everything else the node does is a load
// measured every 100 ms and taken off the handshakes' capacity: message
// and ping handling (MessageCPU, PingCPU), mark assist, and the
// background mark workers (a quarter of the cores while marking). The
// cpu.utilization series is the sum over the cores.
//
// A GC pause stops the node's process: the CPU runs nothing, and every
// timer-driven action of the node due during the pause (a ping, a push's
// write, a pong or message read, a handshake's accept, a sweep) happens
// when it ends. A write takes WriteLatency; a pause that begins meanwhile
// holds it back, and a ping whose write ends past its deadline (2 s) fails,
// killing the connection, as a WebSocket write past its deadline does.
// Each pause is reported, when it ends, to the node's admission.Degrader.
// Pauses begin when the collector says: a node's own allocation keeps
// them at a couple of hundred microseconds, the night job's large
// allocations make them 62.5 ms (GOGC 100 or 50 alike) or 1 ms with pools.
//
// Kill stops a node's process: its connections close (the operating
// system sends each client a FIN one one-way delay later, which a client
// whose NAT flow is gone never sees), its handshakes fail, its collector
// stops. It restarts downtime later as a fresh process (empty heap, no
// connection, and no night job whose time is past).
//
// # The network
//
// Every packet takes Latency one way. Chaos adds to every packet leaving
// a node a uniform draw in [Injected − Jitter, Injected + Jitter]
// (SetLatency), as tc netem or Chaos Mesh do on a pod's egress, or to
// both directions with InjectBothWays. Frames of a connection arrive in
// the order they were written (TCP); pings and pongs are the exception
// noted below.
//
// Each connection crosses its client's NAT, modelled where the client
// sits. A flow idle (no packet either way) for NATIdle or more is dropped
// silently; a packet crossing a dropped flow, either way, is answered with
// a reset. So a server writing to such a connection reads "connection
// reset by peer" one round trip later and closes it; a client sending on
// it learns at once and reconnects; the flow never comes back. A
// connection opens after HandshakeRTTs round trips (TCP, TLS 1.3, the
// upgrade, which carries the resume request) plus its handshake's CPU.
//
// # Clients
//
// Each of Clients clients has one session and at most one connection, and
// is of a kind (Mix):
//
//   - desktop: timers fire on time; the browser or app answers pings.
//   - background: a hidden browser tab. The browser still answers pings
//     (its network stack does), but the page's timers are throttled: a
//     timer set for d fires after max(d, Throttle.Min), rounded up to the
//     tab's next wake-up every Throttle.Align (from a random phase) when
//     that is set. Its sends and reconnect retries are such timers.
//   - mobile: an app that is awake for Mobile.Awake on average, then
//     asleep for Mobile.Asleep (both exponential). Asleep, the app is
//     frozen: it sends nothing, answers no ping, and its timers fire only
//     when it wakes; the phone's network stack still takes packets (which
//     keeps the NAT flow alive) and holds what arrives. A close that
//     arrives while asleep is learnt on waking. On waking the app syncs:
//     it sends at once, which finds a dead flow if there is one.
//
// Awake clients send messages at random (Poisson, mean SendInterval over
// the day factor); the service pushes messages to each session likewise
// (PushInterval), the rates following the day curve (Traffic.Day, by the
// time of day of the kernel's epoch plus the virtual time; the rate is
// read when each interval is drawn). At each time of day in Broadcasts the
// service pushes one message to every session; the hub writes it to every
// connection it holds, superseded ones too.
//
// # Sessions, zombies and stranded clients
//
// The service keeps each session's current connection: the newest it
// accepted for the client. Pushes go to it. With CloseSuperseded a new
// connection closes the session's older one still open (takeover);
// without it (the naive hub) the older one stays open until a write to it
// fails, which only broadcasts attempt. A zombie is an open server
// connection whose client can no longer be reached on it: its flow was
// dropped, or the client gave it up. It holds heap, goroutines and a slot
// of the node's ConnectionLimit, and the least-connections load balancer
// counts it. A stranded client believes it is connected on a connection
// that can no longer carry anything (its flow was dropped, or the server
// closed it and the close has not reached it): it misses every push until
// it next sends or wakes.
//
// # Heartbeats
//
// With heartbeats on, each new server connection runs a
// heartbeat.Machine (Heartbeat.Config, defaults 10 s, 5 s, 2 s, 3), driven
// as a heartbeat.Monitor would drive it, but on the fleet's own events: a
// ping costs one event in the steady state. When the machine's next
// deadline is its next ping, the fleet draws the ping's trip and its
// pong's and schedules one event at the pong's arrival; the ping is asked
// of the machine at its due time (at the end of a GC pause that covers
// it), by that event or by any earlier call to the machine that catches up
// past it (a message read). The event then judges the write (a pause
// during it), crosses the ping through the NAT at its arrival time (a
// dropped flow, or a client that gave the connection up, resets the
// connection), and reports a pong if the client answers: desktop and
// background clients always, mobile ones when awake at that instant. Any
// message read from the client is evidence of life (MessageReceived). A
// ping scheduled ahead does not wait for frames written after it was
// scheduled (pings may overtake data by a few milliseconds). Pong
// timeouts and the other deadlines get their own timer events. Pings
// every 10 s keep every NAT flow alive; a client that stops answering (a
// phone falling asleep) is closed within Config.DetectionWindow, shifted
// earlier by the ping's one-way trip, exactly as the heartbeat package
// derives. Initial connections start their heartbeat within the first
// interval.
//
// # Degradation
//
// With degradation on, a node's Degrader refuses every new connection at
// L1 or L2 and, at L2, the node closes every connection from which
// nothing (message or pong) has been heard for longer than IdleClose (30
// s), looking again every SweepInterval while at L2. With heartbeats, a
// connection idle for 30 s is one whose client stopped answering; without
// them, it is any quiet connection, and L2 closes healthy ones.
//
// # Reconnecting
//
// A client learns its connection is gone when a send is reset, when a
// close reaches it, or on waking after either. It then asks its Backoff
// (Reconnect.Policy) for a delay, reporting the reason, and tries again on
// a timer (throttled for hidden tabs, frozen for sleeping apps); with
// Reconnect.Immediate the first attempt after losing an open connection
// goes out at once from the close handler, and only retries wait. An
// attempt reaches the load balancer, which picks a live node (the one
// with fewest connections and handshakes, or at random): a node that is
// degraded, whose handshake backlog is full, or that is at its connection
// limit refuses it (the client learns one one-way trip later), and with
// no node alive the attempt is refused too. Accepted, the handshake runs
// on the node's CPU; the client gives up after ConnectTimeout. On
// success the client reports Connected, MessageReceived and Synced to its
// backoff. NaiveReconnect, the incident's client, retries every second
// without jitter: clients cut off together come back together, each
// second.
//
// # Messages and their loss
//
// Every message of a session has the next sequence number. A message is
// sent when the server writes it to the session's current connection. It
// is delivered when it arrives at the client on a connection the client
// holds through a live flow (a sleeping phone's network stack receives it
// too), or when a resume replays it. It is lost when it is sent and
// neither happens: without resume, as soon as its connection fails to
// deliver it (a dropped flow, a client that moved on); with resume, when
// it has left the resume window before the client resumes, found when the
// client resumes, or at the end of the run. message_loss is lost over
// sent. Messages for a session with no connection are not sent: with
// resume they wait in the session's buffer for the window (replayed on a
// resume in time; counted as expired otherwise); without, the client
// re-syncs its state when it comes back. Stray copies of a broadcast
// written to superseded connections are neither sent nor lost. Messages
// still in flight, or failed but within the window, at the end of the run
// are unresolved.
//
// With resume, the service keeps every message for Window (2 min, as
// Socket.IO's and Ably's connection-state recovery do) in a store all
// nodes share. A reconnecting client sends its last sequence number in
// the upgrade request; the node replays what is missing and still kept,
// with the upgrade's response. Without resume, the client re-syncs its
// state, which takes one more round trip.
//
// # Measures
//
// Session recovery is the time from a client learning its connection is
// gone to its session resumed (the upgrade's response with the replay) or
// re-synced (one round trip after it); a recovery that includes a sleep
// includes the sleep. Reconnect success is the share of the attempts
// decided in the run (opened, refused or timed out) that opened. The
// series (SeriesInfo) are sampled every sample interval; the summary
// (SummaryInfo) adds exact counts, peaks kept as things change
// (zombie_peak; mass_disconnect_peak and reset_peak, the most server
// connections closed in any sliding minute), and the recovery
// distributions, overall and by kind.
//
// # Starting state
//
// Start connects every client to a node in turn, its flow alive with a
// last packet uniformly up to NATIdle ago (up to a ping interval ago with
// heartbeats). The incident's zombies pile up from there: a run that
// should show a night's pile-up starts early enough (the tests run from
// 02:00 to 03:30).
//
// # What is left out
//
// TCP keepalives (some browsers send one every 45 s, which keeps a flow
// alive), a health-check delay at the load balancer (it knows at once
// that a node is down), TLS session-ticket keys (every handshake costs
// the same), out-of-memory kills, a ping-flood limiter, the client's own
// heartbeat, packet loss and retransmission, and per-message write
// failures from pauses (only pings are judged against their deadline).
//
// A Fleet is driven from the kernel's goroutine, like every model.
package wsfleet
