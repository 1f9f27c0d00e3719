// Package heartbeat decides whether a long-lived connection (a WebSocket,
// or any stream with ping and pong frames) is still alive, and declares it
// dead within a known bound when it is not. A server uses it to close
// connections whose peer is gone; a client uses it to notice that its own
// connection is gone and reconnect. A real Go service imports it; the
// Stormglass simulator runs the same code on a virtual clock.
//
// # The failure it prevents
//
// Incident 2 of Stormglass's INCIDENTS.md, the Go WebSocket service that
// dies at 3 a.m.: NAT gateways and cloud load balancers silently drop a
// flow that has carried no packet for about 300 s. Neither end is told: no
// FIN, no RST. Mobile networks and browsers throttle timers in the
// background (clamped to a second or more, or paused in a frozen tab), so a
// client cannot be relied on to keep the flow busy. A server without
// ping/pong keeps every such dead connection: its read blocks forever and
// the client still counts as connected. When many expire together, their
// clients reconnect at once, the traffic lands on the few instances still
// up, and those fall over in turn: a cascade. The remedy the incident
// prescribes is this state machine, with a ping every 10 s, a 2 s write
// deadline, and a connection declared dead after 3 pongs missed in a row.
//
// # The model
//
// A connection is in one of five states:
//
//	Idle         made, not started: no ping, no timer
//	Handshaking  the first ping is out; nothing has come back yet
//	Active       the peer answered, and no ping has timed out since
//	Suspect      the latest pings timed out, fewer than MissedPongs in a row
//	Dead         terminal: the connection is to be closed (or already was)
//
// and moves between them like this:
//
//	Idle        --Start (first ping)--------------------> Handshaking
//	Handshaking --frame from the peer-------------------> Active
//	Handshaking --pong timeout--------------------------> Suspect
//	Active      --pong timeout--------------------------> Suspect
//	Suspect     --frame from the peer-------------------> Active
//	Suspect     --MissedPongs-th timeout in a row-------> Dead (close, alert)
//	any live    --ping write failed or missed deadline--> Dead (close, alert)
//	any but Dead--Closed (ended by other means)---------> Dead
//
// With MissedPongs = 1 the first timeout goes straight to Dead.
//
// Four settings (Config) drive the deadlines, all counted from the instant
// a ping is asked for:
//
//   - PingInterval (10 s): a ping goes out every interval from Start on,
//     whatever else the connection carries. Pings are numbered from 1; the
//     number travels in the ping's payload (PingPayload), which a WebSocket
//     peer echoes in its pong, so each pong names its ping.
//   - WriteTimeout (2 s): the ping frame must be written by then. The
//     writer judges this deadline, as only it can (a WebSocket library
//     hands it to the socket), and reports the outcome. A write that
//     fails, or misses the deadline, kills the connection at once: the
//     send buffer is full because the peer stopped reading, and a
//     WebSocket whose write timed out is unusable anyway. A ping whose
//     outcome is never reported is still covered by its pong timeout.
//   - PongTimeout (5 s, half the interval): a ping is answered when any
//     frame from the peer arrives before it; otherwise one pong is missed.
//   - MissedPongs (3): that many missed in a row make the connection Dead.
//
// Because WriteTimeout ≤ PongTimeout ≤ PingInterval, each ping is written,
// then answered or timed out, before the next one goes out: at most one
// ping is awaited at a time, every timeout belongs to exactly one ping, and
// "three in a row" means three consecutive pings unanswered.
//
// Rules for the cases in between, each covered by a test:
//
//   - Any frame from the peer is evidence of life: a pong (matched, late
//     or unmatched) and a data message alike answer the ping awaited, end
//     a run of missed pongs, and bring a Handshaking or Suspect connection
//     to Active. A dropped flow carries nothing, so this costs no
//     detection; but over TCP a pong queues behind the data the peer wrote
//     before it, and a peer busy sending a large message would otherwise
//     be killed for pongs stuck behind its own traffic.
//   - A late pong (one arriving after its ping timed out) does not undo
//     the timeout, which stays counted, but like any frame it revives the
//     connection. Its round trip is recorded. So a round trip longer than
//     PongTimeout but shorter than PingInterval shows as a Suspect episode
//     per ping, never as Dead; one longer than PongTimeout plus
//     (MissedPongs−1)·PingInterval (25 s) means Dead before the pong
//     arrives, and the pong is then ignored.
//   - A deadline is exclusive: a frame arriving at the very instant of its
//     ping's timeout is late, whichever of the two is reported first.
//   - One timeout per ping, however late the timer fires: a process that
//     was frozen for minutes (a suspended laptop, a throttled background
//     app) counts one missed pong on waking and pings again; it does not
//     declare its connection dead for the intervals it slept through. For
//     the same reason the next ping is counted from when a ping was
//     actually sent, so a late timer never sends a burst.
//   - Calls that mean nothing in the state they come in are ignored and
//     counted (Stats.Ignored), never a panic: a second Start, a frame or
//     a write outcome before Start or after Dead, a write outcome with no
//     write pending. Dead is terminal; a new connection gets a new Machine.
//   - Time never goes backwards: a call with an earlier time than the
//     latest seen is taken at the latest seen.
//
// Stats counts what happened: pings asked for and written, pongs in time,
// late and unmatched, other frames, timeouts, write failures, ignored
// calls and transitions into each state; it keeps the round trip of the
// last matched pong, when the peer was last heard, and when and why the
// connection died.
//
// # The detection bound
//
// Say frames from the peer stop arriving: the NAT lost the flow, the
// peer's host vanished. Let q be the first ping sent after the last frame
// received. Pings q, q+PingInterval, …, q+(MissedPongs−1)·PingInterval all
// go unanswered, and the last of them times out PongTimeout later, so the
// connection becomes Dead at exactly
//
//	q + (MissedPongs−1)·PingInterval + PongTimeout
//
// and q falls within one interval of the last frame, after it. Seen from
// the instant D at which the path died, with pings crossing the point of
// loss as they are sent: the last ping answered went out before D and the
// next one at or after D, less than an interval later, so Dead comes
//
//	at least (MissedPongs−1)·PingInterval + PongTimeout after D   (D just before a ping)
//	less than  MissedPongs ·PingInterval + PongTimeout after D    (D just after a ping)
//
// which Config.DetectionWindow returns. With the defaults that is 25 s to
// 35 s, not the "3 missed pongs × 10 s = 30 s" one might quote: the last
// ping's own timeout comes on top of the intervals, and a path that dies
// just after a ping wastes most of an interval before the first ping that
// goes unanswered. Where the point of loss is a one-way delay d away, both
// ends of the window move d earlier. It is not detected sooner, since
// MissedPongs timeouts are needed; nor later, whatever the traffic before.
//
// # Choosing the pong timeout
//
// PongTimeout must be at most PingInterval so that a single ping is ever
// awaited (above). Within that, the default is half the interval, 5 s:
// long enough that a healthy connection never looks Suspect (the 2 s write
// deadline fits inside it with 3 s to spare for the answer, far above the
// 100 ± 20 ms delay of the incident's game day, a GC pause of 50–120 ms at
// either end, or a slow mobile round trip of a second or two), and short
// enough to take 5 s off the worst-case detection compared with a timeout
// equal to the interval (35 s instead of 40 s), and to flag a silent
// connection as Suspect half an interval before the next ping.
//
// # Driving it
//
// Machine is the state machine itself: a plain struct that reads no clock,
// starts no goroutine and takes the time as an argument, in the style of
// golang.org/x/time/rate. Each call returns an Output saying what to do; a
// model in the simulator, or a test, drives it directly:
//
//	m, _ := heartbeat.NewMachine(heartbeat.Config{})
//	out := m.Start(now)                  // Idle → Handshaking; out.SendPing, out.Seq == 1
//	out = m.PingWritten(now)             // the frame is on the wire
//	out = m.PongReceived(now.Add(rtt), 1) // → Active
//	at, _ := m.NextDeadline()            // call m.Advance(at) then
//
// Monitor drives a Machine on a clock.Clock: it arms one timer for the
// machine's next deadline, writes pings and closes the connection through a
// Conn, and reports every transition to a callback, in order, the close
// before the Dead it explains. It is single-goroutine, for the simulator,
// whose clock (sim.Kernel.Clock) runs the timer callbacks as kernel events.
// SyncMonitor is the same driver around the same Machine with a mutex, for
// services on clock.Real, where timer callbacks run on their own
// goroutines. A WebSocket server's connection handler then looks like this:
//
//	mon, _ := heartbeat.NewSyncMonitor(heartbeat.Config{}, clock.Real{}, pinger{ws}, func(t heartbeat.Transition) {
//		if t.To == heartbeat.Dead {
//			metrics.DeadConnections.Inc() // the alert; the socket is already closed
//		}
//	})
//	ws.SetPongHandler(func(data string) error {
//		seq, _ := heartbeat.ParsePongPayload([]byte(data))
//		mon.PongReceived(seq)
//		return nil
//	})
//	mon.Start()
//	for {
//		msg, err := ws.Read()
//		if err != nil {
//			mon.Closed(err.Error()) // stops the timers
//			return
//		}
//		mon.MessageReceived()
//		handle(msg)
//	}
//
// where pinger.SendPing writes a ping frame with PingPayload(seq) by the
// deadline and pinger.Close writes a close frame and closes the socket. A
// client uses the same code and, when the callback reports Dead, dials
// again (after a backoff with jitter: reconnecting at once is how a
// cascade starts) with a new monitor. ExampleSyncMonitor is a runnable
// server of this kind.
package heartbeat
