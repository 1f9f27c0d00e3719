package heartbeat_test

import (
	"fmt"
	"net"
	"sync"
	"time"

	"stormglass/realtime/clock"
	"stormglass/realtime/heartbeat"
)

// The machine driven by hand, with explicit times: a client answers the
// first ping, then the NAT between them drops the flow. The timers alone
// find out, 35 s after the last answered ping (3 intervals and a pong
// timeout).
func ExampleMachine() {
	m, err := heartbeat.NewMachine(heartbeat.Config{}) // ping every 10 s, pong timeout 5 s, 3 misses
	if err != nil {
		panic(err)
	}
	start := time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC)
	show := func(now time.Time, out heartbeat.Output) {
		for _, tr := range out.Transitions {
			fmt.Printf("%-6v %v\n", now.Sub(start), tr)
		}
		if out.SendPing {
			fmt.Printf("%-6v send ping %d\n", now.Sub(start), out.Seq)
			m.PingWritten(now) // the write is instant here
		}
		if out.Close {
			fmt.Printf("%-6v close: %s\n", now.Sub(start), out.CloseReason)
		}
	}
	show(start, m.Start(start))
	pong := start.Add(80 * time.Millisecond)
	show(pong, m.PongReceived(pong, 1))
	// The flow is gone: nothing more arrives. A driver would wake at each
	// NextDeadline; stepping a second at a time does the same here, as
	// every deadline falls on a whole second.
	for now := start.Add(time.Second); now.Before(start.Add(time.Minute)); now = now.Add(time.Second) {
		show(now, m.Advance(now))
	}
	st := m.Stats()
	fmt.Printf("dead at %v: %s, after %d pings and %d timeouts\n", st.DiedAt.Sub(start), st.DeathReason, st.PingsSent, st.Timeouts)
	// Output:
	// 0s     Idle→Handshaking (start)
	// 0s     send ping 1
	// 80ms   Handshaking→Active (pong)
	// 10s    send ping 2
	// 15s    Active→Suspect (pong timeout)
	// 20s    send ping 3
	// 30s    send ping 4
	// 35s    Suspect→Dead (pong timeout)
	// 35s    close: heartbeat: 3 pongs missed in a row
	// dead at 35s: 3 pongs missed in a row, after 4 pings and 3 timeouts
}

// frame is what a WebSocket read returns: a pong or a data message.
type frame struct {
	pong bool
	data []byte
}

// socket stands in for a WebSocket connection (a *websocket.Conn in a real
// server). Read returns the client's frames. The client answers a ping with
// a pong echoing its payload, as browsers and WebSocket libraries do, for
// as long as its network is there: here, for its first few pings.
type socket struct {
	frames chan frame
	done   chan struct{}

	mu          sync.Mutex
	answers     int // pings the client will still answer
	closeReason string
}

func newSocket(answers int) *socket {
	return &socket{frames: make(chan frame, 16), done: make(chan struct{}), answers: answers}
}

func (s *socket) WritePing(payload []byte, deadline time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return net.ErrClosed
	default:
	}
	if s.answers > 0 {
		s.answers--
		s.frames <- frame{pong: true, data: payload}
	}
	return nil
}

func (s *socket) Read() (frame, error) {
	select {
	case f := <-s.frames:
		return f, nil
	case <-s.done:
		return frame{}, net.ErrClosed
	}
}

func (s *socket) CloseWithReason(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
	default:
		s.closeReason = reason
		close(s.done)
	}
}

// wsConn lets the heartbeat ping and close a socket.
type wsConn struct{ ws *socket }

func (c wsConn) SendPing(seq uint64, deadline time.Time) error {
	return c.ws.WritePing(heartbeat.PingPayload(seq), deadline)
}

func (c wsConn) Close(reason string) { c.ws.CloseWithReason(reason) }

// serve is a server's handler for one connection: the heartbeat runs on
// the real clock beside the read loop, which reports every frame to it.
// When the heartbeat declares the connection dead it closes the socket,
// which ends the read loop, and onDead raises the alert.
func serve(ws *socket, cfg heartbeat.Config, onDead func(heartbeat.Stats)) (handled []string, err error) {
	var mon *heartbeat.SyncMonitor
	mon, err = heartbeat.NewSyncMonitor(cfg, clock.Real{}, wsConn{ws}, func(t heartbeat.Transition) {
		if t.To == heartbeat.Dead {
			onDead(mon.Stats())
		}
	})
	if err != nil {
		return nil, err
	}
	mon.Start()
	for {
		f, err := ws.Read()
		if err != nil {
			mon.Closed(err.Error()) // ignored when the heartbeat closed it
			return handled, err
		}
		if f.pong {
			seq, _ := heartbeat.ParsePongPayload(f.data)
			mon.PongReceived(seq)
			continue
		}
		mon.MessageReceived()
		handled = append(handled, string(f.data))
	}
}

// A WebSocket server on the real clock, with the intervals shortened from
// seconds to milliseconds. The client subscribes, answers three pings and
// then vanishes without a word, as behind a NAT that dropped its flow.
func ExampleSyncMonitor() {
	ws := newSocket(3)
	ws.frames <- frame{data: []byte("subscribe #general")}
	alerts := make(chan heartbeat.Stats, 1)
	handled, err := serve(ws, heartbeat.Config{PingInterval: 50 * time.Millisecond}, func(st heartbeat.Stats) { alerts <- st })
	st := <-alerts

	ws.mu.Lock()
	fmt.Println("socket closed:", ws.closeReason)
	ws.mu.Unlock()
	fmt.Println("read loop ended:", err)
	fmt.Println("handled:", handled)
	fmt.Printf("alert: %s; the client answered %d pings\n", st.DeathReason, st.PongsReceived+st.LatePongs)
	// Output:
	// socket closed: heartbeat: 3 pongs missed in a row
	// read loop ended: use of closed network connection
	// handled: [subscribe #general]
	// alert: 3 pongs missed in a row; the client answered 3 pings
}
